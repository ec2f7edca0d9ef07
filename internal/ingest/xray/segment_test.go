package xray

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lookout/internal/ingest/xray/xraytest"
	"lookout/internal/telemetry"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/quirks")

// received is the time the quirk datagrams are decoded at.
var received = time.Unix(1461096060, 0)

// decodeDatagram reads a datagram file of testdata/quirks.
func decodeDatagram(t *testing.T, name string) *Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "quirks", name+".datagram"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := SplitDatagram(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	d, err := DecodeDocument(body, received)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// A decoded document holds nothing of the bytes it was decoded from, which the daemon reuses
// for the next datagram.
func TestDocumentsOwnTheirText(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "quirks", "*.datagram"))
	datagrams := [][]byte{xraytest.AppendSegment([]byte(`{"format":"json","version":1}`+"\n"), rand.New(rand.NewPCG(1, 2)), 1.7e9)}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		datagrams = append(datagrams, b)
	}
	for i, b := range datagrams {
		body, err := SplitDatagram(b)
		if err != nil {
			t.Fatal(err)
		}
		d, err := DecodeDocument(body, received)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		before := render(d)
		for j := range b {
			b[j] = 'x'
		}
		if after := render(d); after != before {
			t.Errorf("datagram %d: its spans changed with the bytes they came from:\n%s\nbecame\n%s", i, before, after)
		}
	}
}

// render is a readable text form of decoded spans, for the golden files.
func render(d *Document) string {
	var b strings.Builder
	fmt.Fprintf(&b, "independent=%v\n", d.Independent)
	for _, sp := range d.Spans {
		fmt.Fprintf(&b, "span %s parent=%s trace=%s name=%q kind=%s start=%d end=%d in_progress=%v status=%s %q service=%q\n",
			sp.SpanID, sp.ParentSpanID, sp.TraceID, sp.Name, sp.Kind, sp.StartUnixNano, sp.EndUnixNano, sp.InProgress,
			sp.Status.Code, sp.Status.Message, sp.Service())
		for _, kv := range sp.Attributes {
			fmt.Fprintf(&b, "  attr %s %s %s\n", kv.Key, kv.Value.Kind(), kv.Value.Encode())
		}
		for _, ev := range sp.Events {
			fmt.Fprintf(&b, "  event %q at %d\n", ev.Name, ev.TimeUnixNano)
			for _, kv := range ev.Attributes {
				fmt.Fprintf(&b, "    attr %s %s %q\n", kv.Key, kv.Value.Kind(), kv.Value.Encode())
			}
		}
		for _, kv := range sp.Resource.Attributes {
			fmt.Fprintf(&b, "  resource %s %s\n", kv.Key, kv.Value.Encode())
		}
	}
	return b.String()
}

// TestQuirksGolden decodes a datagram for each quirk of real SDKs and compares the spans with
// the golden file beside it (written with -update, and read by a person).
func TestQuirksGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "quirks", "*.datagram"))
	if len(files) < 7 {
		t.Fatalf("found %d quirk datagrams", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".datagram")
		t.Run(name, func(t *testing.T) {
			got := render(decodeDatagram(t, name))
			golden := filepath.Join("testdata", "quirks", name+".golden")
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("spans differ from %s:\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// TestQuirks checks, quirk by quirk, what the SDKs' documents must become.
func TestQuirks(t *testing.T) {
	attr := func(t *testing.T, sp telemetry.Span, key string) telemetry.Value {
		t.Helper()
		v, ok := sp.Attributes.Get(key)
		if !ok {
			t.Fatalf("span %s has no attribute %s", sp.Name, key)
		}
		return v
	}
	t.Run("Go's header with spaces and its Dummy field", func(t *testing.T) {
		d := decodeDatagram(t, "go-header-spaces")
		sp := d.Spans[0]
		if sp.Service() != "go-shop" || sp.Kind != telemetry.SpanKindServer || sp.Status.Code != telemetry.StatusError {
			t.Errorf("segment: service %q kind %s status %s", sp.Service(), sp.Kind, sp.Status.Code)
		}
		// 1461096053.375180 exactly, which float64 arithmetic would miss by ~100 ns.
		if sp.StartUnixNano != 1461096053_375180000 || sp.EndUnixNano != 1461096053_404200000 {
			t.Errorf("times %d %d", sp.StartUnixNano, sp.EndUnixNano)
		}
		if !strings.Contains(attr(t, sp, AttrDocument).Str(), `"Dummy":false`) {
			t.Error("the document lost the Dummy field")
		}
		if v, _ := sp.Resource.Attributes.Get("telemetry.sdk.name"); v.Str() != "X-Ray for Go" {
			t.Errorf("sdk = %q", v.Str())
		}
	})
	t.Run("Node's top-level traced and a cause without exceptions", func(t *testing.T) {
		d := decodeDatagram(t, "node-traced-cause-object")
		sub := d.Spans[1]
		if !attr(t, sub, "aws.xray.traced").Bool() || sub.Kind != telemetry.SpanKindClient || sub.Status.Code != telemetry.StatusError {
			t.Errorf("subsegment: kind %s status %s", sub.Kind, sub.Status.Code)
		}
		if sub.ParentSpanID != d.Spans[0].SpanID || sub.Resource != d.Spans[0].Resource {
			t.Error("an embedded subsegment belongs to its segment")
		}
	})
	t.Run("Python's local namespace, in_progress false, annotations, a cause id", func(t *testing.T) {
		d := decodeDatagram(t, "python-local-in-progress-false")
		seg, sub := d.Spans[0], d.Spans[1]
		if seg.InProgress || seg.EndUnixNano != 1461096053_900000000 {
			t.Errorf("in_progress false with an end_time is complete: %v %d", seg.InProgress, seg.EndUnixNano)
		}
		if attr(t, seg, "user_id").Str() != "u-7" || attr(t, seg, "retries").Int() != 2 || !attr(t, seg, "premium").Bool() || attr(t, seg, "ratio").Double() != 0.5 {
			t.Error("annotations keep their types")
		}
		if sub.Kind != telemetry.SpanKindInternal || attr(t, sub, AttrNamespace).Str() != "local" {
			t.Errorf("local subsegment: kind %s", sub.Kind)
		}
		if sub.Status.Code != telemetry.StatusError || sub.Status.Message != "exception 0123456789abcdef" || len(sub.Events) != 0 {
			t.Errorf("cause id: %+v %d events", sub.Status, len(sub.Events))
		}
	})
	t.Run("a float status and a string content length", func(t *testing.T) {
		sp := decodeDatagram(t, "status-float-length-string").Spans[0]
		if v := attr(t, sp, "http.status_code"); v.Kind() != telemetry.KindInt || v.Int() != 429 {
			t.Errorf("status %v", v)
		}
		if v := attr(t, sp, "http.response_content_length"); v.Kind() != telemetry.KindInt || v.Int() != 1024 {
			t.Errorf("content length %v", v)
		}
		if !attr(t, sp, AttrThrottle).Bool() || !attr(t, sp, AttrError).Bool() {
			t.Error("throttle and error flags")
		}
	})
	t.Run("in progress", func(t *testing.T) {
		sp := decodeDatagram(t, "in-progress").Spans[0]
		if !sp.InProgress || sp.EndUnixNano != received.UnixNano() {
			t.Errorf("in progress %v, end %d, want the time it was received", sp.InProgress, sp.EndUnixNano)
		}
	})
	t.Run("a subsegment on its own, exponent times, aws fields, an exception", func(t *testing.T) {
		d := decodeDatagram(t, "independent-subsegment")
		sp := d.Spans[0]
		if !d.Independent || sp.ParentSpanID.String() != "defdfd9912dc5a56" || sp.Service() != telemetry.UnknownService {
			t.Errorf("independent %v parent %s service %q", d.Independent, sp.ParentSpanID, sp.Service())
		}
		if sp.StartUnixNano != 1461096053_380000000 {
			t.Errorf("start %d", sp.StartUnixNano)
		}
		if attr(t, sp, "aws.table_name").Str() != "orders" || attr(t, sp, "aws.xray.retries").Int() != 1 || attr(t, sp, "aws.operation").Str() != "GetItem" {
			t.Error("aws fields")
		}
		if len(sp.Events) != 1 {
			t.Fatalf("%d events", len(sp.Events))
		}
		st, _ := sp.Events[0].Attributes.Get("exception.stacktrace")
		if st.Str() != "ConditionalCheckFailedException: The conditional request failed\n\tat charge(app.py:42)" {
			t.Errorf("stack trace %q", st.Str())
		}
	})
	t.Run("sql, user, origin", func(t *testing.T) {
		d := decodeDatagram(t, "sql-user-origin")
		seg, sub := d.Spans[0], d.Spans[1]
		if attr(t, seg, AttrUser).Str() != "alice" || attr(t, sub, "db.statement").Str() != "SELECT * FROM orders WHERE id = $1" || attr(t, sub, "db.system").Str() != "PostgreSQL" {
			t.Error("user and sql")
		}
		if v, _ := seg.Resource.Attributes.Get("cloud.platform"); v.Str() != "aws_ec2" {
			t.Errorf("platform %q", v.Str())
		}
		if v, _ := seg.Resource.Attributes.Get("host.id"); v.Str() != "i-0abc" {
			t.Errorf("host %q", v.Str())
		}
	})
}

// TestRefusals checks that malformed input is refused with X-Ray's error codes.
func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		datagram, code string
	}{
		{"no newline", "InvalidSegment"},
		{"{\"format\":\"xml\",\"version\":1}\n{}", "InvalidHeader"},
		{"{\"format\":\"JSON\",\"version\":2}\n{}", "InvalidHeader"},
		{"{\"format\":\"json\",\"version\":1}\n[1]", "InvalidSegment"},
		{"{\"format\":\"json\",\"version\":1}\n{\"id\":\"defdfd9912dc5a56\",\"name\":\"a\",\"start_time\":1,\"end_time\":2}", "MissingTraceId"},
		{"{\"format\":\"json\",\"version\":1}\n{\"trace_id\":\"1-5759e988-bd86\",\"id\":\"defdfd9912dc5a56\"}", "InvalidTraceId"},
		{"{\"format\":\"json\",\"version\":1}\n{\"trace_id\":\"1-5759e988-bd862e3fe1be46a994272793\",\"name\":\"a\",\"start_time\":1,\"end_time\":2}", "MissingId"},
		{"{\"format\":\"json\",\"version\":1}\n{\"trace_id\":\"1-5759e988-bd862e3fe1be46a994272793\",\"id\":\"defdfd9912dc5a56\",\"start_time\":1,\"end_time\":2}", "MissingName"},
		{"{\"format\":\"json\",\"version\":1}\n{\"trace_id\":\"1-5759e988-bd862e3fe1be46a994272793\",\"id\":\"defdfd9912dc5a56\",\"name\":\"a\",\"start_time\":1}", "MissingEndTime"},
		{"{\"format\":\"json\",\"version\":1}\n{\"type\":\"subsegment\",\"trace_id\":\"1-5759e988-bd862e3fe1be46a994272793\",\"id\":\"defdfd9912dc5a56\",\"name\":\"a\",\"start_time\":1,\"end_time\":2}", "MissingParentId"},
	} {
		body, err := SplitDatagram([]byte(c.datagram))
		if err == nil {
			_, err = DecodeDocument(body, received)
		}
		de, ok := err.(*DocumentError)
		if !ok || de.Code != c.code {
			t.Errorf("%q: err %v, want code %s", c.datagram, err, c.code)
		}
	}
}

func TestTraceIDs(t *testing.T) {
	id, err := ParseTraceID("1-5759e988-bd862e3fe1be46a994272793")
	if err != nil || id.String() != "5759e988bd862e3fe1be46a994272793" {
		t.Fatalf("ParseTraceID = %s, %v", id, err)
	}
	if got := FormatTraceID(id); got != "1-5759e988-bd862e3fe1be46a994272793" {
		t.Errorf("FormatTraceID = %s", got)
	}
	for _, bad := range []string{"", "1-", "5759e988bd862e3fe1be46a994272793", "1-5759e98g-bd862e3fe1be46a994272793", "x-5759e988-bd862e3fe1be46a994272793", "1-123456789-bd862e3fe1be46a994272793"} {
		if _, err := ParseTraceID(bad); err == nil {
			t.Errorf("ParseTraceID(%q) accepted", bad)
		}
	}
	if id, err := ParseTraceID("1-0-0000000000000000000000ff"); err != nil || id.String() != "000000000000000000000000000000ff" {
		t.Errorf("a short epoch part: %s %v", id, err)
	}
}

func FuzzDatagram(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "quirks", "*.datagram"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, datagram []byte) {
		body, err := SplitDatagram(datagram)
		if err != nil {
			return
		}
		d, err := DecodeDocument(body, received)
		if err != nil {
			return
		}
		checkDecoded(t, d)
	})
}

func FuzzSegment(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "quirks", "*.datagram"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		_, body, _ := strings.Cut(string(b), "\n")
		f.Add([]byte(body))
	}
	for _, c := range memberCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := DecodeDocument(doc, received)
		if err != nil {
			if _, ok := err.(*DocumentError); !ok {
				t.Fatalf("an error that is not a DocumentError: %v", err)
			}
			return
		}
		checkDecoded(t, d)
		// What is stored is given back as the documents sent.
		for _, sd := range Segments(d.Spans) {
			var doc map[string]any
			if err := json.Unmarshal([]byte(sd.Document), &doc); err != nil || doc == nil {
				t.Fatalf("rebuilt document is not JSON: %v", err)
			}
		}
		checkGivesBack(t, doc, d.Spans)
	})
}

// checkDecoded checks what every decoded document must be: valid spans of one trace.
func checkDecoded(t *testing.T, d *Document) {
	t.Helper()
	if len(d.Spans) == 0 {
		t.Fatal("a document without spans")
	}
	for i := range d.Spans {
		sp := &d.Spans[i]
		if err := sp.Validate(); err != nil {
			t.Fatalf("span %d: %v", i, err)
		}
		if sp.TraceID != d.Spans[0].TraceID || sp.EndUnixNano < sp.StartUnixNano {
			t.Fatalf("span %d: trace %s end %d start %d", i, sp.TraceID, sp.EndUnixNano, sp.StartUnixNano)
		}
	}
}

// TestRefusesDocumentsOfTooManyValues checks that a document of more values than lookout
// reads (far beyond X-Ray's 64 kB) is refused, and one of exactly as many is read.
func TestRefusesDocumentsOfTooManyValues(t *testing.T) {
	doc := func(values int) []byte { // the trace_id and the array's elements
		return []byte(`{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"defdfd9912dc5a56","name":"a","start_time":1,"end_time":2,` +
			`"metadata":[` + strings.Repeat("0,", values-7) + `0]}`)
	}
	if _, err := DecodeDocument(doc(maxValues), received); err != nil {
		t.Errorf("%d values: %v", maxValues, err)
	}
	_, err := DecodeDocument(doc(maxValues+1), received)
	if de, ok := err.(*DocumentError); !ok || de.Code != "InvalidSegment" || !strings.Contains(de.Msg, "more than") {
		t.Errorf("%d values: %v, want the document refused for its size", maxValues+1, err)
	}
}

// TestSeconds checks the reading of epoch seconds: decimals keep every digit up to the
// nanosecond, other number forms go through float64, and what is no time is refused.
func TestSeconds(t *testing.T) {
	for _, c := range []struct {
		raw string
		ns  int64
		ok  bool
	}{
		{"1796003618.267238", 1796003618_267238000, true},
		{"1796003618", 1796003618_000000000, true},
		{"1796003618.123456789987", 1796003618_123456789, true}, // digits past the nanosecond dropped
		{"0.000000001", 1, true},
		{"1.4806152E9", 1480615200_000000000, true},
		{"-0", 0, true},
		{"-1.5", 0, false},
		{`"1796003618.5"`, 0, false},
		{"9223372036.9", 0, false},                   // past the last time an int64 of nanoseconds holds
		{"1.0000000000000000001", 1_000000000, true}, // more than 18 digits after the point: float64
	} {
		ns, ok := seconds([]byte(c.raw))
		if ns != c.ns || ok != c.ok {
			t.Errorf("seconds(%s) = %d, %v; want %d, %v", c.raw, ns, ok, c.ns, c.ok)
		}
	}
}
