package query

import "time"

// Result is what a query returns, in the shape of Honeycomb's query results: one row per
// group for the whole time range (Results, ordered and limited) and one per time bucket and
// group (Series, for the groups in Results). A row's Data holds the breakdown values under
// the breakdown names and each calculation's value under Calculation.Key.
type Result struct {
	Series  []Row `json:"series"`
	Results []Row `json:"results"`
}

// Row is one line of a result. Time is set on series rows only.
type Row struct {
	Time *time.Time     `json:"time,omitempty"`
	Data map[string]any `json:"data"`
}

// Histogram is the value of a HEATMAP calculation: the weighted count of events per value
// bucket. Every row of a result uses the same bucket bounds; empty buckets are left out.
type Histogram struct {
	Buckets []Bucket `json:"buckets"`
}

// Bucket is a value range [Lower, Upper) (the last one includes Upper) and its count.
type Bucket struct {
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
	Count float64 `json:"count"`
}

// Selection picks the events BubbleUp explains among a query's events: those matching every
// filter and, when set, starting within [Start, End). The query's other events are the
// baseline.
type Selection struct {
	Filters    []Filter  `json:"filters,omitempty"`
	Start, End time.Time `json:"-"`
}

// Validate checks the selection's filters.
func (s Selection) Validate() error {
	for _, f := range s.Filters {
		if err := f.check(false); err != nil {
			return err
		}
	}
	if !s.Start.IsZero() && !s.End.IsZero() && !s.End.After(s.Start) {
		return invalid("the selection's end must be after its start")
	}
	return nil
}

// BubbleUp compares the selection with the baseline, field by field.
type BubbleUp struct {
	Selected float64     `json:"selected"` // weighted event counts
	Baseline float64     `json:"baseline"`
	Fields   []FieldDiff `json:"fields"` // most different first
}

// FieldDiff is one field's distribution in the selection and the baseline.
type FieldDiff struct {
	Field   string `json:"field"`
	Numeric bool   `json:"numeric"` // compared in value ranges, not values
	// Score is the largest difference, over the field's values, between the share of the
	// selection and the share of the baseline having that value (0 to 1).
	Score  float64      `json:"score"`
	Values []ValueShare `json:"values"`
}

// ValueShare is one value (or, for fields compared in ranges, one range) of a field.
type ValueShare struct {
	Value    string   `json:"value"`
	Lower    *float64 `json:"lower,omitempty"` // ranges: [Lower, Upper)
	Upper    *float64 `json:"upper,omitempty"`
	Selected float64  `json:"selected"` // share of the selection's events, 0 to 1
	Baseline float64  `json:"baseline"` // share of the baseline's events
}
