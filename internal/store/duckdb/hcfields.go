package duckdb

import (
	"fmt"
	"slices"
	"strings"

	"lookout/internal/query"
	"lookout/internal/telemetry"
)

// How a resolved field (query.Field) reads from the stored columns: standard fields from the
// spans and annotations tables' own columns, attributes from attribute columns, the span's
// list of values and its resource.

// fieldSQL is a field's expressions on one kind of row: text and kind always, num when the
// field is numeric by nature (else the text is cast), raw for duration_ms: the integer
// nanoseconds it is made of, which DuckDB sorts faster for percentiles. group is what to
// group by when not the text (see attrJoins.stored).
type fieldSQL struct {
	text, num, kind, raw, group string
}

// number is the field's number: its own, or its text read as one.
func (f fieldSQL) number() string {
	if f.num != "" {
		return f.num
	}
	return "TRY_CAST(" + f.text + " AS DOUBLE)"
}

// kindSQL is a value kind as an SQL literal.
func kindSQL(k telemetry.ValueKind) string { return fmt.Sprint(uint8(k)) }

var nullField = fieldSQL{text: "CAST(NULL AS VARCHAR)", num: "CAST(NULL AS DOUBLE)", kind: "CAST(NULL AS UTINYINT)"}

// standardSQL makes a standard field's expressions from its text (and number, for numeric
// fields). Its kind is the field's type, where the text is not NULL when the field is
// optional.
func standardSQL(sf *query.StandardField, text, num string, optional bool) fieldSQL {
	if text == "" {
		return nullField
	}
	f := fieldSQL{text: text, num: num, kind: kindSQL(sf.Type)}
	if optional {
		f.kind = fmt.Sprintf("CASE WHEN %s IS NOT NULL THEN %s END", text, f.kind)
	}
	return f
}

// numberSQL is the text and number of a numeric expression.
func numberSQL(expr string) (text, num string) { return "CAST(" + expr + " AS VARCHAR)", expr }

// hexID renders a stored 64-bit id as 16 hex digits.
func hexID(col string) string { return "lpad(lower(hex(" + col + ")), 16, '0')" }

// hexTraceID renders a trace id as Honeycomb does: 16 hex digits when its high half is zero.
func hexTraceID(a string) string {
	return fmt.Sprintf("CASE WHEN %[1]s.trace_hi = 0 THEN %[2]s ELSE %[3]s || %[2]s END", a, hexID(a+".trace_lo"), hexID(a+".trace_hi"))
}

const spanKindText = "CASE %s.kind WHEN 1 THEN 'internal' WHEN 2 THEN 'server' WHEN 3 THEN 'client' WHEN 4 THEN 'producer' WHEN 5 THEN 'consumer' ELSE 'unspecified' END"

// spanStandard is a standard field on the spans table under alias a.
func spanStandard(a string, sf *query.StandardField) fieldSQL {
	var text, num string
	switch sf.Std {
	case query.StdName:
		text = a + ".name"
	case query.StdService:
		text = a + ".service"
	case query.StdDuration:
		text, num = numberSQL("CAST(" + a + ".duration_ns AS DOUBLE) / 1e6")
	case query.StdTraceID:
		text = hexTraceID(a)
	case query.StdSpanID:
		text = hexID(a + ".span_id")
	case query.StdParentID:
		text = fmt.Sprintf("CASE WHEN %[1]s.parent_id <> 0 THEN %[2]s END", a, hexID(a+".parent_id"))
	case query.StdKind:
		text = fmt.Sprintf(spanKindText, a)
	case query.StdStatusCode:
		text, num = numberSQL(a + ".status_code")
	case query.StdStatusMessage:
		text = a + ".status_message"
	case query.StdError:
		text = fmt.Sprintf("CASE WHEN %s.status_code = %d THEN 'true' END", a, telemetry.StatusError)
	case query.StdSignalType:
		text = "'trace'"
	case query.StdTraceState:
		text = a + ".trace_state"
	case query.StdLibraryName:
		text = "NULLIF(" + a + ".scope_name, '')"
	case query.StdLibraryVersion:
		text = "NULLIF(" + a + ".scope_version, '')"
	case query.StdNumEvents:
		text, num = numberSQL(fmt.Sprintf("coalesce(json_array_length(%s.extra, '$.ev'), 0)", a))
	case query.StdNumLinks:
		text, num = numberSQL(fmt.Sprintf("coalesce(json_array_length(%s.extra, '$.ln'), 0)", a))
	case query.StdSampleRate:
		text, num = numberSQL(fmt.Sprintf("CASE WHEN %[1]s.sample_rate > 1 THEN %[1]s.sample_rate END", a))
	}
	f := standardSQL(sf, text, num, sf.Optional)
	if sf.Std == query.StdDuration {
		f.raw = a + ".duration_ns"
	}
	return f
}

// annotationStandard is a standard field on the annotations table under alias a.
func annotationStandard(a string, sf *query.StandardField) fieldSQL {
	isEvent := fmt.Sprintf("%s.type = %d", a, annotationEvent)
	var text, num string
	switch sf.Std {
	case query.StdName:
		text = a + ".name"
	case query.StdService:
		text = a + ".service"
	case query.StdTraceID:
		text = hexTraceID(a)
	case query.StdParentID:
		text = hexID(a + ".span_id")
	case query.StdError:
		text = fmt.Sprintf("CASE WHEN %s.error AND %s THEN 'true' END", a, isEvent)
	case query.StdSignalType:
		text = "'trace'"
	case query.StdSampleRate:
		text, num = numberSQL(fmt.Sprintf("CASE WHEN %[1]s.sample_rate > 1 THEN %[1]s.sample_rate END", a))
	case query.StdAnnotationType:
		text = fmt.Sprintf("CASE WHEN %s THEN 'span_event' ELSE 'link' END", isEvent)
	case query.StdParentName:
		text = a + ".parent_name"
	case query.StdTimeSinceSpanStart:
		text, num = numberSQL(fmt.Sprintf("CASE WHEN %[2]s THEN CAST(%[1]s.time_ns - %[1]s.span_start AS DOUBLE) / 1e6 END", a, isEvent))
	case query.StdLinkTraceID:
		text = a + ".link_trace"
	case query.StdLinkSpanID:
		text = a + ".link_span"
	}
	return standardSQL(sf, text, num, true) // links have no name, span events no link ids
}

// orAttribute is a standard field on a span, with the span's attribute standing in where the
// span lacks the field.
func orAttribute(std, attr fieldSQL) fieldSQL {
	return fieldSQL{
		text: "coalesce(" + std.text + ", " + attr.text + ")",
		kind: fmt.Sprintf("CASE WHEN %s IS NOT NULL THEN %s ELSE %s END", std.text, std.kind, attr.kind),
	}
}

// mapValue reads a value inside a map attribute whose stored text is outer, following path:
// maps are stored as {"m":[{"k":..,"v":..}]}, scalars inside them as {"st":"text"},
// {"in":"3"}, ...
func mapValue(arg func(any) string, outer string, path []string) fieldSQL {
	cur := fmt.Sprintf("CASE WHEN starts_with(%[1]s, '{\"m\":') THEN CAST(%[1]s AS JSON) END", outer)
	for _, key := range path {
		cur = fmt.Sprintf("list_filter(CAST(json_extract(%s, '$.m') AS STRUCT(k VARCHAR, v JSON)[]), lambda e: e.k = %s)[1].v", cur, arg(key))
	}
	var texts, kinds []string
	for _, tag := range []struct {
		name string
		kind telemetry.ValueKind
	}{{"st", telemetry.KindString}, {"bo", telemetry.KindBool}, {"in", telemetry.KindInt}, {"do", telemetry.KindDouble}, {"by", telemetry.KindBytes}} {
		texts = append(texts, fmt.Sprintf("(%s ->> '$.%s')", cur, tag.name))
		kinds = append(kinds, fmt.Sprintf("WHEN (%s ->> '$.%s') IS NOT NULL THEN %d", cur, tag.name, uint8(tag.kind)))
	}
	return fieldSQL{text: coalesceOr(texts, "VARCHAR"), kind: "CASE " + strings.Join(kinds, " ") + " END"}
}

// attrJoins reads attributes for one source under an alias: from attribute columns, from
// the attr_values list (through the small key-set table) and from resources, each only where
// the catalogue says some value may be (attrMeta). The key-set and resource tables are joined
// once for all the keys that need them.
type attrJoins struct {
	arg     func(any) string
	meta    *attrMeta
	alias   string
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

// spanAttr returns the text and kind of a span attribute, falling back to the resource's. A
// key that no span or resource has is looked for inside the longest map attribute it starts
// with ("user.geo.lat" in "user"), as Jaeger's tag search wants it; Honeycomb queries have
// their fields resolved already (query.Field) and read stored.
func (j *attrJoins) spanAttr(key string) fieldSQL {
	if !j.meta.known(key) {
		parts := strings.Split(key, ".")
		for n := len(parts) - 1; n > 0; n-- {
			if outer := strings.Join(parts[:n], "."); j.meta.known(outer) {
				return mapValue(j.arg, j.stored(outer).text, parts[n:])
			}
		}
	}
	return j.stored(key)
}

// stored returns the text and kind of a span attribute, falling back to the resource's.
// A key read only from its attribute column is grouped by the column itself (” for spans
// without it), which DuckDB groups much faster than an expression with NULLs.
func (j *attrJoins) stored(key string) fieldSQL {
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
	}
	return f
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

// source reads fields from the rows of one table under an alias: the spans table, or span
// events and links (the annotations table).
type source struct {
	t     *translation
	alias string
	spans bool
	attrs *attrJoins
	// since and until bound the spans read, for the exception events joined to them.
	since, until int64
	exceptions   []string // CTEs of exception attributes to join
}

func (t *translation) source(alias string, spans bool, since, until int64) *source {
	return &source{t: t, alias: alias, spans: spans, since: since, until: until,
		attrs: &attrJoins{arg: t.arg, meta: t.meta, alias: alias}}
}

// field returns a field's expressions on the source's rows.
func (src *source) field(f *query.Field) fieldSQL {
	switch {
	case f.Standard != nil && src.spans:
		std := nullField
		if f.Standard.On&query.Spans != 0 {
			std = spanStandard(src.alias, f.Standard)
		}
		if f.Attribute == "" {
			return std
		}
		return orAttribute(std, src.attrs.stored(f.Attribute))
	case f.Standard != nil:
		if f.Standard.On&query.Annotations == 0 {
			return nullField
		}
		return annotationStandard(src.alias, f.Standard)
	case f.Path != nil:
		return mapValue(src.t.arg, src.attribute(f.Attribute).text, f.Path)
	}
	a := src.attribute(f.Attribute)
	if f.Exception && src.spans {
		cte := src.t.exceptionCTE(f.Attribute, src.since, src.until)
		a = fieldSQL{text: fmt.Sprintf("coalesce(%s, %s.v)", a.text, cte), kind: fmt.Sprintf("coalesce(%s, %s.k)", a.kind, cte)}
		if !slices.Contains(src.exceptions, cte) {
			src.exceptions = append(src.exceptions, cte)
		}
	}
	return a
}

// attribute reads an attribute: the span's own else its resource's, or the span event's or
// link's own else its resource's.
func (src *source) attribute(key string) fieldSQL {
	if src.spans {
		return src.attrs.stored(key)
	}
	p := src.t.arg(key)
	texts := []string{fmt.Sprintf("%[1]s.attr_values[list_position(%[1]s.attr_keys, %[2]s)]", src.alias, p)}
	kinds := []string{fmt.Sprintf("%[1]s.attr_kinds[list_position(%[1]s.attr_keys, %[2]s)]", src.alias, p)}
	if rt, rk, ok := src.attrs.resource(key); ok {
		texts, kinds = append(texts, rt), append(kinds, rk)
	}
	return fieldSQL{text: coalesceOr(texts, "VARCHAR"), kind: coalesceOr(kinds, "UTINYINT")}
}

// joins returns the source's joins: attribute tables, exception attributes.
func (src *source) joins() string {
	var b strings.Builder
	b.WriteString(src.attrs.sql())
	for _, cte := range src.exceptions {
		fmt.Fprintf(&b, " LEFT JOIN %[1]s ON %[1]s.trace_hi = %[2]s.trace_hi AND %[1]s.trace_lo = %[2]s.trace_lo AND %[1]s.span_id = %[2]s.span_id", cte, src.alias)
	}
	return b.String()
}
