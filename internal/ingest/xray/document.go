package xray

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"lookout/internal/telemetry"
)

// SegmentDocument is one segment of a trace as BatchGetTraces returns it.
type SegmentDocument struct {
	Id       string
	Document string
}

// Segments rebuilds the segment documents of a trace's spans, whichever client sent them.
// An X-Ray (sub)segment is its document as the SDK sent it; subsegments that came on their
// own are nested in their parent as if they had come embedded (without their type, trace_id
// and parent_id). Other spans become documents as the OpenTelemetry Collector's X-Ray
// exporter makes them: a server span, or one without a parent in the trace, is a segment
// named after its service; any other span is a subsegment of its parent.
func Segments(spans []telemetry.Span) []SegmentDocument {
	byID := make(map[telemetry.SpanID]*telemetry.Span, len(spans))
	for i := range spans {
		byID[spans[i].SpanID] = &spans[i]
	}
	children := map[telemetry.SpanID][]*telemetry.Span{}
	var tops []*telemetry.Span
	for i := range spans {
		sp := &spans[i]
		if _, hasParent := byID[sp.ParentSpanID]; hasParent && !isSegment(sp) {
			children[sp.ParentSpanID] = append(children[sp.ParentSpanID], sp)
			continue
		}
		tops = append(tops, sp)
	}
	out := make([]SegmentDocument, 0, len(tops))
	for _, sp := range tops {
		doc := document(sp, children, true, 0)
		b, _ := json.Marshal(doc) // values from JSON and strings: cannot fail
		out = append(out, SegmentDocument{Id: sp.SpanID.String(), Document: string(b)})
	}
	return out
}

// isSegment reports whether a span is a segment of its own: an X-Ray segment, or a span of
// another origin that the exporter would make one.
func isSegment(sp *telemetry.Span) bool {
	if t, ok := sp.Attributes.Get(AttrType); ok && sp.Ingest.Protocol == Protocol {
		return t.Str() == TypeSegment
	}
	return sp.Kind == telemetry.SpanKindServer || sp.ParentSpanID.IsZero()
}

// document is a span's document with its subsegments nested.
func document(sp *telemetry.Span, children map[telemetry.SpanID][]*telemetry.Span, top bool, depth int) map[string]any {
	doc := sentDocument(sp)
	if doc == nil {
		doc = exported(sp, top)
	} else if !top {
		delete(doc, "type")
		delete(doc, "trace_id")
		delete(doc, "parent_id")
	}
	if kids := children[sp.SpanID]; len(kids) > 0 && depth < maxDepth {
		subs := make([]any, 0, len(kids))
		for _, k := range kids {
			subs = append(subs, document(k, children, false, depth+1))
		}
		doc["subsegments"] = subs
	}
	return doc
}

// SentDocument returns the JSON of the document an X-Ray span was sent with, as
// BatchGetTraces gives it back, for views that show AttrDocument: the attribute holds only
// what the span's other fields do not (members.go).
func SentDocument(sp *telemetry.Span) (string, bool) {
	doc := sentDocument(sp)
	if doc == nil {
		return "", false
	}
	b, err := json.Marshal(doc)
	return string(b), err == nil
}

// MetadataTags are an X-Ray span's metadata, a tag a namespace (aws.xray.metadata.<namespace>)
// holding its JSON, so that views list them beside the span's annotations. A span's fields
// never hold metadata, so it is all in AttrDocument.
func MetadataTags(sp *telemetry.Span) []telemetry.KeyValue {
	if sp.Ingest.Protocol != Protocol {
		return nil
	}
	v, _ := sp.Attributes.Get(AttrDocument)
	_, rest, ok := strings.Cut(v.Str(), "{")
	// Most entities have none, and need no second parse (the decoder's keys fold case).
	if !ok || !strings.Contains(strings.ToLower(rest), `"metadata"`) {
		return nil
	}
	var doc struct{ Metadata map[string]json.RawMessage }
	if json.Unmarshal([]byte("{"+rest), &doc) != nil {
		return nil
	}
	tags := make([]telemetry.KeyValue, 0, len(doc.Metadata))
	for _, ns := range slices.Sorted(maps.Keys(doc.Metadata)) {
		tags = append(tags, telemetry.KeyValue{Key: "aws.xray.metadata." + ns, Value: telemetry.StringValue(string(doc.Metadata[ns]))})
	}
	return tags
}

// sentDocument is the document an X-Ray span was sent with, or nil: what AttrDocument kept
// of it, with the members the span holds put back (members.go).
func sentDocument(sp *telemetry.Span) map[string]any {
	if sp.Ingest.Protocol != Protocol {
		return nil
	}
	v, ok := sp.Attributes.Get(AttrDocument)
	if !ok {
		return nil
	}
	letters, rest, ok := strings.Cut(v.Str(), "{")
	if !ok {
		return nil
	}
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader("{" + rest))
	dec.UseNumber() // numbers as sent
	if dec.Decode(&doc) != nil {
		return nil // cut to the value limit: rebuilt from the span instead
	}
	_, cut := sp.Attributes.Get(telemetry.TruncatedKey)
	for i := range len(letters) {
		m := memberLettered(letters[i])
		if m == nil || m.object != nil && cut || !m.put(doc, sp) {
			return nil // an attribute cut to the value limit does not give its member back
		}
	}
	return doc
}

// exported makes the document of a span that did not come as X-Ray's.
func exported(sp *telemetry.Span, top bool) map[string]any {
	segment := top && isSegment(sp)
	doc := map[string]any{
		"id":         sp.SpanID.String(),
		"start_time": secondsNumber(sp.StartUnixNano),
	}
	if sp.InProgress {
		doc["in_progress"] = true
	} else {
		doc["end_time"] = secondsNumber(sp.EndUnixNano)
	}
	if top {
		doc["trace_id"] = FormatTraceID(sp.TraceID)
		if !sp.ParentSpanID.IsZero() {
			doc["parent_id"] = sp.ParentSpanID.String()
		}
	}
	name := sp.Name
	if segment {
		name = sp.Service()
	} else {
		if top {
			doc["type"] = TypeSubsegment
		}
		if sys, _ := sp.Attributes.Get("rpc.system"); sys.Str() == "aws-api" {
			doc["namespace"] = "aws"
		} else if sp.Kind == telemetry.SpanKindClient || sp.Kind == telemetry.SpanKindProducer {
			doc["namespace"] = "remote"
		}
		if peer, ok := sp.Attributes.Get("peer.service"); ok && peer.Str() != "" {
			name = peer.Str()
		}
	}
	doc["name"] = entityName(name)
	status := httpStatus(sp)
	req := map[string]any{}
	for k, attr := range map[string]string{"method": "http.method", "url": "http.url", "user_agent": "http.user_agent", "client_ip": "http.client_ip"} {
		if v, ok := httpAttr(sp, attr); ok {
			req[k] = v
		}
	}
	if len(req) > 0 || status > 0 {
		h := map[string]any{"request": req}
		if status > 0 {
			h["response"] = map[string]any{"status": status}
		}
		doc["http"] = h
	}
	switch {
	case status == 429:
		doc["error"], doc["throttle"] = true, true
	case status >= 400 && status < 500:
		doc["error"] = true
	case status >= 500 || status == 0 && sp.Status.Code == telemetry.StatusError:
		doc["fault"] = true
	}
	if exc := exceptions(sp); len(exc) > 0 {
		doc["cause"] = map[string]any{"exceptions": exc}
	}
	if user, ok := sp.Attributes.Get("enduser.id"); ok {
		doc["user"] = user.AsString()
	}
	meta := map[string]any{}
	for _, kv := range sp.Attributes {
		meta[kv.Key] = kv.Value.Plain()
	}
	if segment && sp.Resource != nil {
		for _, kv := range sp.Resource.Attributes {
			meta["otel.resource."+kv.Key] = kv.Value.Plain()
		}
	}
	if len(meta) > 0 {
		doc["metadata"] = map[string]any{"default": meta}
	}
	return doc
}

// exceptions turns a span's exception events into X-Ray's exceptions.
func exceptions(sp *telemetry.Span) []any {
	var out []any
	for i, ev := range sp.Events {
		if ev.Name != "exception" {
			continue
		}
		e := map[string]any{"id": exceptionID(sp.SpanID, i)}
		if v, ok := ev.Attributes.Get("exception.type"); ok {
			e["type"] = v.AsString()
		}
		if v, ok := ev.Attributes.Get("exception.message"); ok {
			e["message"] = v.AsString()
		}
		if v, ok := ev.Attributes.Get("exception.stacktrace"); ok {
			if frames, truncated := parseStack(v.AsString()); len(frames) > 0 {
				e["stack"] = stackDocument(frames)
				if truncated > 0 {
					e["truncated"] = truncated
				}
			}
		}
		out = append(out, e)
	}
	if out == nil && sp.Status.Code == telemetry.StatusError && sp.Status.Message != "" {
		out = append(out, map[string]any{"id": exceptionID(sp.SpanID, 0), "message": sp.Status.Message})
	}
	return out
}

// exceptionID gives an exception a stable 16-hex id from its span and place.
func exceptionID(span telemetry.SpanID, i int) string {
	return telemetry.SpanIDFromUint64(span.Uint64() ^ uint64(i+1)<<56).String()
}

// httpNames are the names OpenTelemetry's current conventions give the HTTP attributes a
// segment's http object becomes, which its SDKs send instead.
var httpNames = map[string]string{"http.method": "http.request.method", "http.url": "url.full",
	"http.user_agent": "user_agent.original", "http.client_ip": "client.address"}

// httpAttr is a span's HTTP attribute key, under its segment's name or OpenTelemetry's
// current one.
func httpAttr(sp *telemetry.Span, key string) (string, bool) {
	if v, ok := sp.Attributes.Get(key); ok {
		return v.AsString(), true
	}
	if v, ok := sp.Attributes.Get(httpNames[key]); ok {
		return v.AsString(), true
	}
	return "", false
}

// httpStatus is a span's HTTP status code, under either of OpenTelemetry's names, or 0.
func httpStatus(sp *telemetry.Span) int64 {
	for _, k := range []string{"http.status_code", "http.response.status_code"} {
		if v, ok := sp.Attributes.Get(k); ok {
			if n, err := strconv.ParseInt(v.AsString(), 10, 64); err == nil {
				return n
			}
		}
	}
	return 0
}

// entityName strips what X-Ray does not allow in a name and cuts it to 200 characters.
func entityName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`?;*()!$~^<>`, r) {
			continue
		}
		b.WriteRune(r)
	}
	name := []rune(b.String())
	if len(name) > 200 {
		name = name[:200]
	}
	if len(name) == 0 {
		return "span"
	}
	return string(name)
}

// secondsNumber is unix nanoseconds as X-Ray's epoch seconds, to the microsecond.
func secondsNumber(ns int64) json.Number {
	return json.Number(strconv.FormatInt(ns/1e9, 10) + "." + strconv.FormatInt(1e6+ns%1e9/1e3, 10)[1:])
}
