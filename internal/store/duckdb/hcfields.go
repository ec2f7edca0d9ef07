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
// by nature (else the text is cast).
type fieldSQL struct {
	text, num, kind string
}

func textField(expr string) fieldSQL { return fieldSQL{text: expr, kind: kindString} }

func numField(expr, kind string) fieldSQL {
	return fieldSQL{text: "CAST(" + expr + " AS VARCHAR)", num: expr, kind: kind}
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
		return numField(a+".duration_ns / 1e6", kindDouble), true
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

// attrJoins collects the attribute keys a source reads and joins the small key-set and
// resource tables once for all of them: per key set, where the key stands; per resource,
// the key's value.
type attrJoins struct {
	c     *compiler
	alias string
	keys  []string
	index map[string]int
	spans bool // join key sets too (span rows); annotations carry their own keys
}

func (j *attrJoins) slot(key string) int {
	if j.index == nil {
		j.index = map[string]int{}
	}
	i, ok := j.index[key]
	if !ok {
		i = len(j.keys)
		j.index[key] = i
		j.keys = append(j.keys, key)
	}
	return i
}

// resource returns the text and kind of a resource attribute.
func (j *attrJoins) resource(key string) (text, kind string) {
	i := j.slot(key)
	return fmt.Sprintf("rs_%s.r%d", j.alias, i), fmt.Sprintf("rs_%s.rk%d", j.alias, i)
}

// spanAttr returns the text and kind of a span attribute, falling back to the resource.
func (j *attrJoins) spanAttr(key string) fieldSQL {
	i := j.slot(key)
	rt, rk := j.resource(key)
	return fieldSQL{
		text: fmt.Sprintf("coalesce(%[1]s.attr_values[ks_%[1]s.p%[2]d], %[3]s)", j.alias, i, rt),
		kind: fmt.Sprintf("coalesce(ks_%[1]s.k%[2]d, %[3]s)", j.alias, i, rk),
	}
}

func (j *attrJoins) sql() string {
	if j == nil || len(j.keys) == 0 {
		return ""
	}
	var ks, rs []string
	for i, k := range j.keys {
		p := j.c.arg(k)
		ks = append(ks, fmt.Sprintf("list_position(keys, %[1]s) AS p%[2]d, kinds[list_position(keys, %[1]s)] AS k%[2]d", p, i))
		rs = append(rs, fmt.Sprintf("attr_values[list_position(attr_keys, %[1]s)] AS r%[2]d, attr_kinds[list_position(attr_keys, %[1]s)] AS rk%[2]d", p, i))
	}
	var b strings.Builder
	if j.spans {
		fmt.Fprintf(&b, " JOIN (SELECT id, %[2]s FROM keysets) ks_%[1]s ON ks_%[1]s.id = %[1]s.keyset_id", j.alias, strings.Join(ks, ", "))
	}
	fmt.Fprintf(&b, " JOIN (SELECT id, %[2]s FROM resources) rs_%[1]s ON rs_%[1]s.id = %[1]s.resource_id", j.alias, strings.Join(rs, ", "))
	return b.String()
}

// spanSource reads fields from the spans table under an alias.
type spanSource struct {
	alias string
	c     *compiler
	attrs *attrJoins
}

func (src *spanSource) expr(name string) fieldSQL {
	if src.attrs == nil {
		src.attrs = &attrJoins{c: src.c, alias: src.alias, spans: true}
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
		events := fmt.Sprintf("CAST(json_extract(%s.extra, '$.ev') AS %s)", src.alias, eventStruct)
		first := fmt.Sprintf("list_filter(list_filter(%s, lambda e: e.n = 'exception')[1].a, lambda x: x.k = %s)[1]", events, src.c.arg(name))
		a.text = fmt.Sprintf("coalesce(%s, %s.v)", a.text, first)
		a.kind = fmt.Sprintf("coalesce(%s, %s.t)", a.kind, first)
	}
	return a
}

// selectList returns ", expr AS col, ..." for the forms the fields need. Fields of related
// spans (joined by the caller) are left out when skipRelated.
func (src *spanSource) selectList(fields []*evField, skipRelated bool) string {
	return formList(fields, skipRelated, src.expr)
}

func (src *spanSource) joins() string {
	if src.attrs == nil {
		return ""
	}
	return src.attrs.sql()
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
	}
	return b.String()
}

// annotationSource reads fields of span events ("span_event") or links ("link"): rows of a
// subquery aliased s that has the parent span's columns and the event or link as struct e.
type annotationSource struct {
	kind  string
	c     *compiler
	attrs *attrJoins
}

func (src *annotationSource) expr(name string) fieldSQL {
	if src.attrs == nil {
		src.attrs = &attrJoins{c: src.c, alias: "s"}
	}
	event := src.kind == "span_event"
	switch name {
	case "name":
		if event {
			return textField("s.e.n")
		}
		return textField("CAST(NULL AS VARCHAR)")
	case "service.name", "service_name":
		return textField("s.service")
	case "trace.trace_id":
		return textField(hexTraceID("s"))
	case "trace.parent_id":
		return textField(hexID("s.span_id"))
	case "parent_name":
		return textField("s.parent_name")
	case "meta.annotation_type":
		return textField("'" + src.kind + "'")
	case "meta.signal_type":
		return textField("'trace'")
	case "error":
		if event {
			return fieldSQL{text: "CASE WHEN s.status_code = 2 THEN 'true' END", kind: kindBool}
		}
	case "meta.time_since_span_start_ms":
		if event {
			return numField("(s.e.t - s.span_start) / 1e6", kindDouble)
		}
	case "trace.link.trace_id":
		if !event {
			return textField("s.e.tr")
		}
	case "trace.link.span_id":
		if !event {
			return textField("s.e.sp")
		}
	}
	if spanOnlyFields[name] {
		return fieldSQL{text: "CAST(NULL AS VARCHAR)", num: "CAST(NULL AS DOUBLE)", kind: "CAST(NULL AS UTINYINT)"}
	}
	rt, rk := src.attrs.resource(name)
	p := src.c.arg(name)
	own := fmt.Sprintf("list_filter(s.e.a, lambda x: x.k = %s)[1]", p)
	return fieldSQL{text: fmt.Sprintf("coalesce(%s.v, %s)", own, rt), kind: fmt.Sprintf("coalesce(%s.t, %s)", own, rk)}
}

const (
	eventStruct = "STRUCT(t BIGINT, n VARCHAR, a STRUCT(k VARCHAR, t UTINYINT, v VARCHAR)[])[]"
	linkStruct  = "STRUCT(tr VARCHAR, sp VARCHAR, a STRUCT(k VARCHAR, t UTINYINT, v VARCHAR)[])[]"
)

// from returns the subquery that unnests the annotations of spans matching where.
func (src *annotationSource) from(where string) string {
	path, typ := "$.ev", eventStruct
	if src.kind == "link" {
		path, typ = "$.ln", linkStruct
	}
	return fmt.Sprintf("(SELECT s.trace_hi, s.trace_lo, s.span_id, s.start_ns AS span_start, s.name AS parent_name, s.service,"+
		" s.status_code, s.sample_rate, s.resource_id, unnest(CAST(json_extract(s.extra, '%s') AS %s)) AS e"+
		" FROM spans s WHERE s.extra IS NOT NULL AND %s) s", path, typ, where)
}
