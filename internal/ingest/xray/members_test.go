package xray

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"lookout/internal/store/duckdb"
	"lookout/internal/telemetry"
)

// memberCases are documents whose members a span holds in every form they may be sent in.
var memberCases = []string{
	// Times as the SDKs send them: shortest decimals, whole seconds, nine decimals.
	`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"defdfd9912dc5a56","name":"a","start_time":1461096053.37518,"end_time":1461096054,
	  "subsegments":[{"id":"1111111111111111","name":"b","start_time":1461096053.000000001,"end_time":1461096053.9}]}`,
	// Not given back: capitals, a trailing zero, an exponent, an end before the start, an
	// in-progress end. (An escaped name is: it reads as the span's.)
	`{"trace_id":"1-5759E988-bd862e3fe1be46a994272793","id":"DEFDFD9912DC5A56","name":"a\u00e9<b>","start_time":1461096053.10,"end_time":1.461096052E9,
	  "subsegments":[{"id":"1111111111111111","name":"b","start_time":1461096053,"end_time":1461096054,"in_progress":true}]}`,
	`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"defdfd9912dc5a56","name":"a","start_time":1461096053,"in_progress":true,"end_time":1461096059}`,
	// Members sent twice, with white space, a string for a number and a number for a string.
	`{"type":"subsegment","trace_id":"1-5759e988-bd862e3fe1be46a994272793","parent_id":"abcdabcdabcdabcd","id":"defdfd9912dc5a56","id" : "defdfd9912dc5a57",
	  "name":"a","start_time":"1461096053","start_time":1461096053.5,"end_time":1461096054}`,
	`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"defdfd9912dc5a56","name":"a","start_time":1461096053,"end_time":1461096054,"parent_id":1}`,
	// Objects whose attributes give them back, with every type of value they hold.
	`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"defdfd9912dc5a56","name":"a","start_time":1461096053,"end_time":1461096054,
	  "http":{"request":{"x_forwarded_for":true,"client_ip":"10.0.0.1","traced":true},"response":{"status":200.5}},
	  "annotations":{"s":"x\u00e9","i":-3,"f":0.25,"b":false,"i":4},"sql":{"url":"pg://db","user":"app"}}`,
	// Objects that do not: a traced request in a traced segment, a float for an integer,
	// an annotation key X-Ray does not index, a connection string, an empty value, empty
	// objects.
	`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"defdfd9912dc5a56","name":"a","start_time":1461096053,"end_time":1461096054,"traced":true,
	  "http":{"request":{"traced":true}},"subsegments":[{"id":"1111111111111111","name":"b","start_time":1461096053,"end_time":1461096054,
	  "http":{"response":{"status":200.0}},"annotations":{"ok":1,"not-indexed":2},"sql":{"connection_string":"pg://db"}},
	  {"id":"2222222222222222","name":"c","start_time":1461096053,"end_time":1461096054,"http":{"request":{"method":""}},"sql":{"url":"pg://db","user":""}},
	  {"id":"3333333333333333","name":"d","start_time":1461096053,"end_time":1461096054,"http":{"request":{}},"sql":{},"annotations":{}}]}`,
}

// wholeDocuments returns spans with AttrDocument holding each entity's whole document, as
// encoding/json marshals it without its subsegments: what lookout kept before it left out
// the members a span holds. Spans are in the decoder's order, depth first.
func wholeDocuments(t testing.TB, doc []byte, spans []telemetry.Span) []telemetry.Span {
	var docs []string
	var walk func(raw json.RawMessage)
	walk = func(raw json.RawMessage) {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatal(err)
		}
		subs := fields["subsegments"]
		delete(fields, "subsegments")
		b, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
		var list []json.RawMessage
		json.Unmarshal(subs, &list)
		for _, s := range list {
			walk(s)
		}
	}
	walk(doc)
	if len(docs) != len(spans) {
		t.Fatalf("%d documents for %d spans", len(docs), len(spans))
	}
	out := slices.Clone(spans)
	for i := range out {
		out[i].Attributes = slices.Clone(out[i].Attributes)
		for j, kv := range out[i].Attributes {
			if kv.Key == AttrDocument {
				out[i].Attributes[j].Value = telemetry.StringValue(docs[i])
			}
		}
	}
	return out
}

// segmentsJSON is what BatchGetTraces answers for spans.
func segmentsJSON(t testing.TB, spans []telemetry.Span) string {
	b, err := json.Marshal(Segments(spans))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkGivesBack checks that the segments of a decoded document are those of its whole
// documents.
func checkGivesBack(t testing.TB, doc []byte, spans []telemetry.Span) {
	if got, want := segmentsJSON(t, spans), segmentsJSON(t, wholeDocuments(t, doc, spans)); got != want {
		t.Fatalf("%s:\nsegments\n%s\nfrom whole documents\n%s", doc, got, want)
	}
}

// quirkBodies are the documents of the quirk datagrams and memberCases.
func quirkBodies(t testing.TB) [][]byte {
	bodies := [][]byte{}
	files, _ := filepath.Glob(filepath.Join("testdata", "quirks", "*.datagram"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, body, _ := strings.Cut(string(b), "\n")
		bodies = append(bodies, []byte(body))
	}
	for _, c := range memberCases {
		bodies = append(bodies, []byte(c))
	}
	return bodies
}

// TestDocumentsLeaveOutWhatSpansHold checks that the stored documents leave out the members
// their spans hold, and only those, and that BatchGetTraces gives back the same segments.
func TestDocumentsLeaveOutWhatSpansHold(t *testing.T) {
	for _, body := range quirkBodies(t) {
		d, err := DecodeDocument(body, received)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		checkGivesBack(t, body, d.Spans)
	}
	stored := func(body string, i int) string {
		d, err := DecodeDocument([]byte(body), received)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := d.Spans[i].Attributes.Get(AttrDocument)
		return v.Str()
	}
	for _, c := range []struct {
		body string
		span int
		want string
	}{
		{memberCases[0], 0, `einst{}`},
		{memberCases[0], 1, `eins{}`},
		{memberCases[1], 0, `n{"end_time":1.461096052E9,"id":"DEFDFD9912DC5A56","start_time":1461096053.10,"trace_id":"1-5759E988-bd862e3fe1be46a994272793"}`},
		{memberCases[1], 1, `ins{"end_time":1461096054,"in_progress":true}`},
		{memberCases[2], 0, `inst{"end_time":1461096059,"in_progress":true}`},
		{memberCases[3], 0, `einpst{"type":"subsegment"}`},
		{memberCases[4], 0, `einst{"parent_id":1}`},
		{memberCases[5], 0, `aehinqst{}`},
		{memberCases[6], 0, `einst{"http":{"request":{"traced":true}},"traced":true}`},
		{memberCases[6], 1, `eins{"annotations":{"ok":1,"not-indexed":2},"http":{"response":{"status":200.0}},"sql":{"connection_string":"pg://db"}}`},
		{memberCases[6], 2, `eins{"http":{"request":{"method":""}},"sql":{"url":"pg://db","user":""}}`},
		{memberCases[6], 3, `eins{"annotations":{},"http":{"request":{}},"sql":{}}`},
	} {
		if got := stored(c.body, c.span); got != c.want {
			t.Errorf("%.60s...: span %d keeps %s, want %s", c.body, c.span, got, c.want)
		}
	}
}

// TestCutAttributesGiveNothingBack checks that an attribute cut to the value limit does not
// give its member back: the segment is made from the span, as when the whole document was
// cut before.
func TestCutAttributesGiveNothingBack(t *testing.T) {
	body := []byte(`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"defdfd9912dc5a56","name":"a","start_time":1461096053,"end_time":1461096054,
		"http":{"request":{"url":"https://example.com/a/path/long/enough/to/cut"}}}`)
	d, err := DecodeDocument(body, received)
	if err != nil {
		t.Fatal(err)
	}
	whole := wholeDocuments(t, body, d.Spans)
	for _, sp := range []*telemetry.Span{&d.Spans[0], &whole[0]} {
		sp.FitTo(telemetry.Limits{MaxValueBytes: 20, MaxItemBytes: 1 << 20})
		if v, _ := sp.Attributes.Get(AttrDocument); sentDocument(sp) != nil {
			t.Errorf("the document %s was given back from cut attributes", v.Str())
		}
	}
}

// TestStoredDocumentsGiveBackWhatWasSent stores the decoded spans of documents in a DuckDB
// store, next to the same spans with whole documents (as lookout stored them before), and
// reads both back: BatchGetTraces answers the same segments for each.
func TestStoredDocumentsGiveBackWhatWasSent(t *testing.T) {
	ctx := context.Background()
	s, err := duckdb.Open(ctx, duckdb.Config{MemoryLimit: "256MB", Writers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type trace struct {
		id   telemetry.TraceID
		want string
	}
	var traces []trace
	for i, body := range quirkBodies(t) {
		// A trace of its own for each document: their ids are shared.
		epoch := fmt.Sprintf("%08x", i+1)
		body = []byte(strings.NewReplacer("5759e988", epoch, "5759E988", epoch).Replace(string(body)))
		d, err := DecodeDocument(body, received)
		if err != nil {
			t.Fatal(err)
		}
		whole := wholeDocuments(t, body, d.Spans)
		want := segmentsJSON(t, whole)
		// The spans with whole documents, as the lookout before stored them, go under
		// another trace id.
		old := d.Spans[0].TraceID
		old[4] ^= 0xff
		for j := range whole {
			whole[j].TraceID = old
		}
		if err := s.WriteSpans(ctx, append(slices.Clone(d.Spans), whole...)); err != nil {
			t.Fatal(err)
		}
		traces = append(traces, trace{d.Spans[0].TraceID, want}, trace{old, want})
	}
	for _, tr := range traces {
		spans, err := s.Trace(ctx, tr.id)
		if err != nil {
			t.Fatal(err)
		}
		if got := segmentsJSON(t, spans); got != tr.want {
			t.Errorf("trace %s:\nstored segments\n%s\nwant\n%s", tr.id, got, tr.want)
		}
	}
}
