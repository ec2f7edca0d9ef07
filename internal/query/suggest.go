package query

import (
	"cmp"
	"slices"
	"strings"
)

// maxSuggestions is how many known names an unknown-field error offers.
const maxSuggestions = 3

// unknown is the error for a field that no event has: one sentence naming it and the
// nearest known names ("unknown column "duration"; did you mean duration_ms?").
func (r *resolver) unknown(name string) error {
	prefix, inner := Relation(name)
	names, err := r.cat.Names(r.ctx)
	if err != nil {
		return err
	}
	for _, f := range StandardFields() {
		names = append(names, f.Name)
	}
	near := nearest(inner, names)
	if len(near) == 0 {
		return invalid("unknown column %q: no span, span event or link has it", name)
	}
	for i := range near {
		near[i] = prefix + near[i]
	}
	list := near[0]
	if n := len(near); n > 1 {
		list = strings.Join(near[:n-1], ", ") + " or " + near[n-1]
	}
	return invalid("unknown column %q; did you mean %s?", name, list)
}

// nearest returns up to maxSuggestions of names close to name, closest first: within an
// edit distance of about a third of its length, ignoring case, or one containing the other.
func nearest(name string, names []string) []string {
	want := strings.ToLower(name)
	limit := max(1, (len([]rune(want))+2)/3)
	type candidate struct {
		name     string
		distance int
	}
	var found []candidate
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] || n == name {
			continue
		}
		seen[n] = true
		lower := strings.ToLower(n)
		d := editDistance(want, lower)
		contains := len(want) >= 3 && strings.Contains(lower, want) || len(lower) >= 3 && strings.Contains(want, lower)
		if d <= limit || contains {
			found = append(found, candidate{n, d})
		}
	}
	slices.SortFunc(found, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.distance, b.distance), cmp.Compare(a.name, b.name))
	})
	var out []string
	for _, c := range found[:min(len(found), maxSuggestions)] {
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := range ra {
		cur[0] = i + 1
		for j := range rb {
			cost := 1
			if ra[i] == rb[j] {
				cost = 0
			}
			cur[j+1] = min(prev[j+1]+1, cur[j]+1, prev[j]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
