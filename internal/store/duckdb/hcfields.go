package duckdb

import (
	"fmt"
	"strings"

	"lookout/internal/telemetry"
)

// How a Honeycomb field reads from the stored columns. Spans have the standard fields of
// Honeycomb's OTLP mapping; any other name is an attribute: the span's own (or the span
// event's, or the link's), else its resource's.

// Value kinds as SQL literals.
var (
	kindString = fmt.Sprint(uint8(telemetry.KindString))
	kindBool   = fmt.Sprint(uint8(telemetry.KindBool))
	kindInt    = fmt.Sprint(uint8(telemetry.KindInt))
	kindDouble = fmt.Sprint(uint8(telemetry.KindDouble))
)

// fieldSQL is a field's expressions: text and kind always, num when the field is numeric
// by nature (else the text is cast), and for duration_ms the integer nanoseconds it is made
// of (raw), which DuckDB sorts faster for percentiles.
type fieldSQL struct {
	text, num, kind, raw string
	group                string // what to group by, when not the text: see attrJoins.spanAttr
	fixedKind            string // the kind of every value, when that is known ahead
}

func textField(expr string) fieldSQL {
	return fieldSQL{text: expr, kind: kindString, fixedKind: kindString}
}

func numField(expr, kind string) fieldSQL {
	return fieldSQL{text: "CAST(" + expr + " AS VARCHAR)", num: expr, kind: kind, fixedKind: kind}
}

// hexID renders a stored 64-bit id as 16 hex digits.
func hexID(col string) string { return "lpad(lower(hex(" + col + ")), 16, '0')" }

// hexTraceID renders a trace id as Honeycomb does: 16 hex digits when its high half is zero.
func hexTraceID(a string) string {
	return fmt.Sprintf("CASE WHEN %[1]s.trace_hi = 0 THEN %[2]s ELSE %[3]s || %[2]s END", a, hexID(a+".trace_lo"), hexID(a+".trace_hi"))
}

const spanKindText = "CASE %s.kind WHEN 1 THEN 'internal' WHEN 2 THEN 'server' WHEN 3 THEN 'client' WHEN 4 THEN 'producer' WHEN 5 THEN 'consumer' ELSE 'unspecified' END"

// spanOnlyFields are standard fields span events and links never have.
var spanOnlyFields = map[string]bool{
	"duration_ms": true, "span.kind": true, "type": true, "status_code": true, "status_message": true,
	"trace.span_id": true, "trace.trace_state": true, "library.name": true, "library.version": true,
	"span.num_events": true, "span.num_links": true,
}

// spanStandard returns the expression of a standard span field, for the spans table under
// alias a.
func spanStandard(a, name string) (fieldSQL, bool) {
	switch name {
	case "name":
		return textField(a + ".name"), true
	case "service.name", "service_name":
		return textField(a + ".service"), true
	case "duration_ms":
		f := numField("CAST("+a+".duration_ns AS DOUBLE) / 1e6", kindDouble)
		f.raw = a + ".duration_ns"
		return f, true
	case "trace.trace_id":
		return textField(hexTraceID(a)), true
	case "trace.span_id":
		return textField(hexID(a + ".span_id")), true
	case "trace.parent_id":
		return textField(fmt.Sprintf("CASE WHEN %[1]s.parent_id <> 0 THEN %[2]s END", a, hexID(a+".parent_id"))), true
	case "span.kind", "type":
		return textField(fmt.Sprintf(spanKindText, a)), true
	case "status_code":
		return numField(a+".status_code", kindInt), true
	case "status_message":
		return textField(a + ".status_message"), true
	case "meta.signal_type":
		return textField("'trace'"), true
	case "meta.annotation_type", "parent_name":
		return textField("CAST(NULL AS VARCHAR)"), true
	case "trace.trace_state":
		return textField(a + ".trace_state"), true
	case "library.name":
		return textField(a + ".scope_name"), true
	case "library.version":
		return textField(a + ".scope_version"), true
	case "span.num_events":
		return numField(fmt.Sprintf("coalesce(json_array_length(%s.extra, '$.ev'), 0)", a), kindInt), true
	case "span.num_links":
		return numField(fmt.Sprintf("coalesce(json_array_length(%s.extra, '$.ln'), 0)", a), kindInt), true
	}
	return fieldSQL{}, false
}

// attrJoins reads attributes for one source under an alias: from attribute columns, from
// the attr_values list (through the small key-set table) and from resources, each only where
// the catalogue says some value may be (attrMeta). The key-set and resource tables are joined
// once for all the keys that need them.
type attrJoins struct {
	arg     func(any) string
	meta    *attrMeta
	alias   string
	spans   bool // span rows: attribute columns and the list; else only resources
	list    []string
	listIdx map[string]int
	res     []string
	resIdx  map[string]int
}

func slotOf(keys *[]string, index *map[string]int, key string) int {
	if *index == nil {
		*index = map[string]int{}
	}
	i, ok := (*index)[key]
	if !ok {
		i = len(*keys)
		(*index)[key] = i
		*keys = append(*keys, key)
	}
	return i
}

func coalesceOr(exprs []string, typ string) string {
	switch len(exprs) {
	case 0:
		return "CAST(NULL AS " + typ + ")"
	case 1:
		return exprs[0]
	}
	return "coalesce(" + strings.Join(exprs, ", ") + ")"
}

// resource returns the text and kind of a resource attribute, if any resource has the key.
func (j *attrJoins) resource(key string) (text, kind string, ok bool) {
	if !j.meta.resource[key] {
		return "", "", false
	}
	i := slotOf(&j.res, &j.resIdx, key)
	return fmt.Sprintf("rs_%s.r%d", j.alias, i), fmt.Sprintf("rs_%s.rk%d", j.alias, i), true
}

// spanAttr returns the text and kind of a span attribute, falling back to the resource's.
// A key read only from its attribute column is grouped by the column itself (” for spans
// without it), which DuckDB groups much faster than an expression with NULLs.
func (j *attrJoins) spanAttr(key string) fieldSQL {
	if f, ok := j.nested(key); ok {
		return f
	}
	var texts, kinds []string
	var col string
	if s, ok := j.meta.slots[key]; ok {
		col = fmt.Sprintf("%s.c%d", j.alias, s.slot)
		texts = append(texts, "NULLIF("+col+", '')")
		kinds = append(kinds, fmt.Sprintf("CASE WHEN %s <> '' THEN %d END", col, uint8(s.kind)))
	}
	if j.meta.inList[key] {
		i := slotOf(&j.list, &j.listIdx, key)
		texts = append(texts, fmt.Sprintf("%[1]s.attr_values[ks_%[1]s.p%[2]d]", j.alias, i))
		kinds = append(kinds, fmt.Sprintf("ks_%s.k%d", j.alias, i))
	}
	if rt, rk, ok := j.resource(key); ok {
		texts = append(texts, rt)
		kinds = append(kinds, rk)
	}
	f := fieldSQL{text: coalesceOr(texts, "VARCHAR"), kind: coalesceOr(kinds, "UTINYINT")}
	if col != "" && len(texts) == 1 {
		f.group = col
		f.fixedKind = fmt.Sprint(uint8(j.meta.slots[key].kind))
	}
	return f
}

// known reports whether some span or resource has the key.
func (j *attrJoins) known(key string) bool {
	_, slot := j.meta.slots[key]
	return slot || j.meta.inList[key] || j.meta.resource[key]
}

// nested reads a field no span or resource has by that name, such as "user.geo.lat", from
// inside a map attribute ("user" or "user.geo"): Honeycomb flattens maps into dotted fields,
// while lookout keeps them whole.
func (j *attrJoins) nested(key string) (fieldSQL, bool) {
	if j.known(key) {
		return fieldSQL{}, false
	}
	parts := strings.Split(key, ".")
	for n := len(parts) - 1; n > 0; n-- {
		outer := strings.Join(parts[:n], ".")
		if !j.known(outer) {
			continue
		}
		text := j.spanAttr(outer).text
		// Maps are stored as {"m":[{"k":..,"v":..}]}, scalars inside as {"st":"text"}, {"in":"3"}...
		cur := fmt.Sprintf("CASE WHEN starts_with(%[1]s, '{\"m\":') THEN CAST(%[1]s AS JSON) END", text)
		for _, seg := range parts[n:] {
			cur = fmt.Sprintf("list_filter(CAST(json_extract(%s, '$.m') AS STRUCT(k VARCHAR, v JSON)[]), lambda e: e.k = %s)[1].v", cur, j.arg(seg))
		}
		var texts, kinds []string
		for _, tag := range []struct {
			name string
			kind telemetry.ValueKind
		}{{"st", telemetry.KindString}, {"bo", telemetry.KindBool}, {"in", telemetry.KindInt}, {"do", telemetry.KindDouble}, {"by", telemetry.KindBytes}} {
			texts = append(texts, fmt.Sprintf("(%s ->> '$.%s')", cur, tag.name))
			kinds = append(kinds, fmt.Sprintf("WHEN (%s ->> '$.%s') IS NOT NULL THEN %d", cur, tag.name, uint8(tag.kind)))
		}
		return fieldSQL{text: coalesceOr(texts, "VARCHAR"), kind: "CASE " + strings.Join(kinds, " ") + " END"}, true
	}
	return fieldSQL{}, false
}

func (j *attrJoins) sql() string {
	if j == nil {
		return ""
	}
	var b strings.Builder
	if len(j.list) > 0 {
		var ks []string
		for i, k := range j.list {
			p := j.arg(k)
			ks = append(ks, fmt.Sprintf("list_position(list_keys, %[1]s) AS p%[2]d, list_kinds[list_position(list_keys, %[1]s)] AS k%[2]d", p, i))
		}
		fmt.Fprintf(&b, " JOIN (SELECT id, %[2]s FROM keysets) ks_%[1]s ON ks_%[1]s.id = %[1]s.keyset_id", j.alias, strings.Join(ks, ", "))
	}
	if len(j.res) > 0 {
		var rs []string
		for i, k := range j.res {
			p := j.arg(k)
			rs = append(rs, fmt.Sprintf("attr_values[list_position(attr_keys, %[1]s)] AS r%[2]d, attr_kinds[list_position(attr_keys, %[1]s)] AS rk%[2]d", p, i))
		}
		fmt.Fprintf(&b, " JOIN (SELECT id, %[2]s FROM resources) rs_%[1]s ON rs_%[1]s.id = %[1]s.resource_id", j.alias, strings.Join(rs, ", "))
	}
	return b.String()
}

// spanSource reads fields from the spans table under an alias.
type spanSource struct {
	alias      string
	c          *compiler
	attrs      *attrJoins
	exceptions []string // CTEs of exception attributes to join
}

func (src *spanSource) expr(name string) fieldSQL {
	if src.attrs == nil {
		src.attrs = &attrJoins{arg: src.c.arg, meta: src.c.meta, alias: src.alias, spans: true}
	}
	if name == "error" {
		a := src.attrs.spanAttr("error")
		return fieldSQL{
			text: fmt.Sprintf("CASE WHEN %s.status_code = 2 THEN 'true' ELSE %s END", src.alias, a.text),
			kind: fmt.Sprintf("CASE WHEN %s.status_code = 2 THEN %s ELSE %s END", src.alias, kindBool, a.kind),
		}
	}
	if f, ok := spanStandard(src.alias, name); ok {
		return f
	}
	a := src.attrs.spanAttr(name)
	if strings.HasPrefix(name, "exception.") {
		// Honeycomb copies the first exception event's attributes onto its span.
		cte := src.c.exceptionCTE(name)
		a.text = fmt.Sprintf("coalesce(%s, %s.v)", a.text, cte)
		a.kind = fmt.Sprintf("coalesce(%s, %s.k)", a.kind, cte)
		src.exceptions = append(src.exceptions, cte)
	}
	return a
}

// selectList returns ", expr AS col, ..." for the forms the fields need. Fields of related
// spans (joined by the caller) are left out when skipRelated.
func (src *spanSource) selectList(fields []*evField, skipRelated bool) string {
	return formList(fields, skipRelated, src.expr)
}

func (src *spanSource) joins() string {
	var b strings.Builder
	b.WriteString(src.attrs.sql())
	for _, cte := range src.exceptions {
		fmt.Fprintf(&b, " LEFT JOIN %[1]s ON %[1]s.trace_hi = %[2]s.trace_hi AND %[1]s.trace_lo = %[2]s.trace_lo AND %[1]s.span_id = %[2]s.span_id", cte, src.alias)
	}
	return b.String()
}

func formList(fields []*evField, skipRelated bool, expr func(string) fieldSQL) string {
	var b strings.Builder
	for _, f := range fields {
		if f.relatedCTE != "" {
			if !skipRelated {
				panic("related field in a related source")
			}
			continue
		}
		e := expr(f.name)
		if f.text {
			fmt.Fprintf(&b, ", %s AS %s", e.text, f.t())
		}
		if f.num {
			n := e.num
			if n == "" {
				n = "TRY_CAST(" + e.text + " AS DOUBLE)"
			}
			fmt.Fprintf(&b, ", %s AS %s", n, f.n())
		}
		if f.kind {
			fmt.Fprintf(&b, ", %s AS %s", e.kind, f.k())
		}
		// A kind is fixed only if every source of rows agrees on it.
		if !f.kindSeen {
			f.kindSeen, f.fixedKind = true, e.fixedKind
		} else if f.fixedKind != e.fixedKind {
			f.fixedKind = ""
		}
		if f.group {
			g := e.group
			if g == "" {
				g = e.text
			}
			fmt.Fprintf(&b, ", %s AS %s", g, f.g())
		}
		if f.num && f.name == "duration_ms" {
			raw := e.raw
			if raw == "" {
				raw = "CAST(NULL AS BIGINT)"
			}
			fmt.Fprintf(&b, ", %s AS %s", raw, f.r())
		}
	}
	return b.String()
}

// annotationSource reads fields of span events and links: rows of the annotations table
// under alias s.
type annotationSource struct {
	c     *compiler
	attrs *attrJoins
}

func (src *annotationSource) expr(name string) fieldSQL {
	if src.attrs == nil {
		src.attrs = &attrJoins{arg: src.c.arg, meta: src.c.meta, alias: "s"}
	}
	switch name {
	case "name":
		return textField("s.name")
	case "service.name", "service_name":
		return textField("s.service")
	case "trace.trace_id":
		return textField(hexTraceID("s"))
	case "trace.parent_id":
		return textField(hexID("s.span_id"))
	case "parent_name":
		return textField("s.parent_name")
	case "meta.annotation_type":
		return textField(fmt.Sprintf("CASE s.type WHEN %d THEN 'span_event' ELSE 'link' END", annotationEvent))
	case "meta.signal_type":
		return textField("'trace'")
	case "error":
		return fieldSQL{text: fmt.Sprintf("CASE WHEN s.error AND s.type = %d THEN 'true' END", annotationEvent), kind: kindBool}
	case "meta.time_since_span_start_ms":
		return numField(fmt.Sprintf("CASE WHEN s.type = %d THEN CAST(s.time_ns - s.span_start AS DOUBLE) / 1e6 END", annotationEvent), kindDouble)
	case "trace.link.trace_id":
		return textField("s.link_trace")
	case "trace.link.span_id":
		return textField("s.link_span")
	}
	if spanOnlyFields[name] {
		return fieldSQL{text: "CAST(NULL AS VARCHAR)", num: "CAST(NULL AS DOUBLE)", kind: "CAST(NULL AS UTINYINT)", raw: "CAST(NULL AS BIGINT)"}
	}
	p := src.c.arg(name)
	texts := []string{fmt.Sprintf("s.attr_values[list_position(s.attr_keys, %s)]", p)}
	kinds := []string{fmt.Sprintf("s.attr_kinds[list_position(s.attr_keys, %s)]", p)}
	if rt, rk, ok := src.attrs.resource(name); ok {
		texts, kinds = append(texts, rt), append(kinds, rk)
	}
	return fieldSQL{text: coalesceOr(texts, "VARCHAR"), kind: coalesceOr(kinds, "UTINYINT")}
}
