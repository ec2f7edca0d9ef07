package xray

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"lookout/internal/metrics"
	"lookout/internal/sources"
	"lookout/internal/telemetry"
)

// gatedSink records what it is given; while its gate is closed, Write waits for it, as a
// store that cannot keep up would.
type gatedSink struct {
	mu       sync.Mutex
	spans    []telemetry.Span
	rejected int
	gate     chan struct{}
}

func (s *gatedSink) Write(ctx context.Context, spans []telemetry.Span) error {
	<-s.gate
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spans = append(s.spans, spans...)
	return nil
}

func (s *gatedSink) Rejected(n int) { s.mu.Lock(); s.rejected += n; s.mu.Unlock() }

// startDaemon runs a daemon endpoint on a free port over sink, changed by the options, and
// returns a UDP connection to it and its counters.
func startDaemon(t *testing.T, sink *gatedSink, options ...func(*Daemon)) (*net.UDPConn, *Daemon, *metrics.Metrics) {
	t.Helper()
	m := metrics.New()
	in := NewIngester(sink, m, NewProblems(nil))
	d := NewDaemon("127.0.0.1:0", NewAPI(APIConfig{Ingester: in}), nil)
	for _, o := range options {
		o(d)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	raddr, _ := net.ResolveUDPAddr("udp4", d.Addr())
	conn, err := net.DialUDP("udp4", nil, raddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, d, m
}

func count(m *metrics.Metrics, outcome string) int {
	var c dto.Metric
	m.XRayDocuments.WithLabelValues(ViaUDP, outcome).Write(&c)
	return int(c.GetCounter().GetValue())
}

// waitCounts polls until every document received has an outcome.
func waitCounts(t *testing.T, m *metrics.Metrics, received int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // decoding is slow under the race detector
	for {
		r, s, d, f := count(m, metrics.Received), count(m, metrics.Stored), count(m, metrics.Dropped), count(m, metrics.Refused)
		if (received == 0 || r == received) && r > 0 && r == s+d+f {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %d, stored %d, dropped %d, refused %d: want every one received (%d) accounted for", r, s, d, f, received)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func segmentDatagram(i int) []byte {
	return fmt.Appendf(nil, `{"format":"json","version":1}`+"\n"+
		`{"trace_id":"1-5759e988-bd862e3fe1be46a9%08x","id":"%016x","name":"shop","start_time":1461096053.37518,"end_time":1461096053.4042}`, i, i+1)
}

// TestDaemonCountsMalformedDatagrams sends datagrams that cannot be read beside a good one:
// each is counted as refused with its reason, and the endpoint goes on.
func TestDaemonCountsMalformedDatagrams(t *testing.T) {
	sink := &gatedSink{gate: make(chan struct{})}
	close(sink.gate)
	conn, d, m := startDaemon(t, sink)
	bad := map[string]string{
		"no newline":       `{"format":"json","version":1}`,
		"wrong header":     `{"format":"xml","version":1}` + "\n{}",
		"not json":         `{"format":"json","version":1}` + "\n{\"trace_id\":",
		"no trace id":      `{"format":"json","version":1}` + "\n" + `{"id":"defdfd9912dc5a56","name":"x","start_time":1}`,
		"bad trace id":     `{"format":"json","version":1}` + "\n" + `{"trace_id":"2-zz","id":"defdfd9912dc5a56","name":"x","start_time":1}`,
		"binary":           "\x00\xff\n\x00",
		"array of numbers": `{"format":"json","version":1}` + "\n[1,2]",
	}
	for _, b := range bad {
		if _, err := conn.Write([]byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Write(segmentDatagram(1)); err != nil {
		t.Fatal(err)
	}
	waitCounts(t, m, len(bad)+1)
	if got := count(m, metrics.Refused); got != len(bad) {
		t.Errorf("refused %d, want %d", got, len(bad))
	}
	if got := count(m, metrics.Stored); got != 1 {
		t.Errorf("stored %d, want the good segment", got)
	}
	problems := d.in.Problems().List()
	if len(problems) != len(bad) {
		t.Fatalf("%d problems recorded, want %d", len(problems), len(bad))
	}
	for _, p := range problems {
		if p.Kind != ProblemRefused || p.Code == "" || p.Message == "" {
			t.Errorf("problem %+v lacks its kind, code or message", p)
		}
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.spans) != 1 || sink.rejected != len(bad) {
		t.Errorf("sink got %d spans and %d rejections, want 1 and %d", len(sink.spans), sink.rejected, len(bad))
	}
}

// TestDaemonDropsRatherThanBlocks holds the store still while far more datagrams arrive than
// the endpoint queues: the rest are dropped and counted, and once the store moves again,
// every datagram received is stored or dropped, none lost uncounted.
func TestDaemonDropsRatherThanBlocks(t *testing.T) {
	sink := &gatedSink{gate: make(chan struct{})}
	// A short queue and small batches, so that few datagrams overflow them.
	conn, _, m := startDaemon(t, sink, func(d *Daemon) { d.queue, d.batchSpans = make(chan []byte, 256), 64 })
	sent := 256 + 4*64 + 3000
	for i := range sent {
		if _, err := conn.Write(segmentDatagram(i)); err != nil {
			t.Fatal(err)
		}
		if i%256 == 0 {
			time.Sleep(time.Millisecond) // lets the reader keep up, so that the kernel drops few
		}
	}
	time.Sleep(200 * time.Millisecond)
	if count(m, metrics.Dropped) == 0 {
		t.Errorf("nothing dropped while the store was stuck: received %d of %d", count(m, metrics.Received), sent)
	}
	close(sink.gate)
	waitCounts(t, m, 0)
	sink.mu.Lock()
	stored := len(sink.spans)
	sink.mu.Unlock()
	if got := count(m, metrics.Stored); got != stored {
		t.Errorf("counted %d stored, the store got %d", got, stored)
	}
	t.Logf("sent %d, received %d, stored %d, dropped %d", sent, count(m, metrics.Received), stored, count(m, metrics.Dropped))
}

// TestDaemonQueueIsBoundedByBytes holds the store still while large datagrams arrive: the
// queue takes them until its bytes are used, not until its count is, and drops the rest.
func TestDaemonQueueIsBoundedByBytes(t *testing.T) {
	sink := &gatedSink{gate: make(chan struct{})}
	const limit = 1 << 20
	conn, d, m := startDaemon(t, sink, func(d *Daemon) { d.queueBytes, d.batchSpans = limit, 1 })
	padding := strings.Repeat("x", 40<<10)
	var most int64
	// Beyond the queue, decodedDocs documents and a few batches wait for the store.
	sent := decodedDocs + 4 + 3*limit/len(padding)
	for i := range sent {
		doc := fmt.Sprintf(`{"format":"json","version":1}`+"\n"+
			`{"trace_id":"1-5759e988-bd862e3fe1be46a9%08x","id":"%016x","name":"shop","start_time":1461096053.3,"end_time":1461096053.4,"metadata":{"default":{"pad":%q}}}`,
			i, i+1, padding)
		if _, err := conn.Write([]byte(doc)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Microsecond) // lets the reader keep up, so that the kernel drops few
		most = max(most, d.queued.Load())
	}
	time.Sleep(200 * time.Millisecond)
	most = max(most, d.queued.Load())
	if most > limit {
		t.Errorf("the queue held %d bytes, above its %d", most, limit)
	}
	full := 0
	for _, p := range d.in.Problems().List() {
		if p.Kind == ProblemDropped && strings.Contains(p.Message, "queue of datagrams is full") {
			full++
		}
	}
	if full == 0 {
		t.Errorf("no datagram dropped for a full queue: it held at most %d bytes of %d", most, limit)
	}
	close(sink.gate)
	waitCounts(t, m, 0)
	t.Logf("sent %d, received %d, stored %d, dropped %d; the queue held at most %d bytes", sent,
		count(m, metrics.Received), count(m, metrics.Stored), count(m, metrics.Dropped), most)
}

// TestDaemonRecordsOrphanedSubsegments sends a subsegment whose segment never comes (a
// segment begun and never ended is never sent): after its wait it is stored, and recorded
// as orphaned with its trace and parent.
func TestDaemonRecordsOrphanedSubsegments(t *testing.T) {
	sink := &gatedSink{gate: make(chan struct{})}
	close(sink.gate)
	conn, d, m := startDaemon(t, sink)
	doc := `{"format":"json","version":1}` + "\n" + `{"type":"subsegment","trace_id":"1-5759e988-bd862e3fe1be46a994272793","parent_id":"defdfd9912dc5a56",` +
		`"id":"53995c3f42cd8ad8","name":"db","start_time":1461096053.2,"end_time":1461096053.3}`
	if _, err := conn.Write([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	waitCounts(t, m, 1)
	problems := d.in.Problems().List()
	if len(problems) != 1 || problems[0].Kind != ProblemOrphaned || problems[0].TraceID != "1-5759e988-bd862e3fe1be46a994272793" ||
		problems[0].ID != "53995c3f42cd8ad8" || !strings.Contains(problems[0].Message, "defdfd9912dc5a56") {
		t.Errorf("problems = %+v, want the orphaned subsegment", problems)
	}
}

// TestDaemonRecordsReplacedSegments sends a segment in progress, then ended, then again as
// a resend, and then a different segment with the same id: only the last is a replacement.
func TestDaemonRecordsReplacedSegments(t *testing.T) {
	sink := &gatedSink{gate: make(chan struct{})}
	close(sink.gate)
	conn, d, m := startDaemon(t, sink)
	const header = `{"format":"json","version":1}` + "\n"
	segment := func(times string) string {
		return header + `{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"defdfd9912dc5a56","name":"backend-flask",` + times + `}`
	}
	docs := []string{
		segment(`"start_time":1461096053.2,"in_progress":true`),
		segment(`"start_time":1461096053.2,"end_time":1461096053.5`),
		segment(`"start_time":1461096053.2,"end_time":1461096053.5`),
		segment(`"start_time":1461096060.0,"end_time":1461096060.25`),
	}
	for i, doc := range docs {
		if _, err := conn.Write([]byte(doc)); err != nil {
			t.Fatal(err)
		}
		waitCounts(t, m, i+1) // in order: the replacement is the last one
	}
	var replaced []Problem
	for _, p := range d.in.Problems().List() {
		if p.Kind == ProblemReplaced {
			replaced = append(replaced, p)
		}
	}
	if len(replaced) != 1 || replaced[0].TraceID != "1-5759e988-bd862e3fe1be46a994272793" || replaced[0].ID != "defdfd9912dc5a56" ||
		!strings.Contains(replaced[0].Message, "300ms") || !strings.Contains(replaced[0].Message, `"backend-flask"`) {
		t.Errorf("replaced problems = %+v, want one for the segment that ran 300ms", replaced)
	}
}

// TestDaemonAccountsEveryDatagramAcrossDecoders interleaves good and malformed datagrams,
// which the decoders take in turns: each is counted once, in the metrics, the store and the
// Sources page alike.
func TestDaemonAccountsEveryDatagramAcrossDecoders(t *testing.T) {
	sink := &gatedSink{gate: make(chan struct{})}
	close(sink.gate)
	reg := sources.NewRegistry()
	conn, _, m := startDaemon(t, sink, func(d *Daemon) { d.in.ReportTo(reg) })
	const sent = 400
	for i := range sent {
		datagram := segmentDatagram(i)
		if i%2 == 1 {
			datagram = fmt.Appendf(nil, `{"format":"json","version":1}`+"\n"+`{"id":"%016x","name":"no-trace","start_time":1,"end_time":2}`, i+1)
		}
		if _, err := conn.Write(datagram); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			time.Sleep(time.Millisecond) // lets the reader keep up, so that the kernel drops none
		}
	}
	waitCounts(t, m, sent)
	if s, r := count(m, metrics.Stored), count(m, metrics.Refused); s != sent/2 || r != sent/2 {
		t.Errorf("stored %d and refused %d, want %d each", s, r, sent/2)
	}
	sink.mu.Lock()
	spans, rejected := len(sink.spans), sink.rejected
	sink.mu.Unlock()
	if spans != sent/2 || rejected != sent/2 {
		t.Errorf("the store got %d spans and %d rejections, want %d each", spans, rejected, sent/2)
	}
	var items, refused int64
	for _, s := range reg.Report().Senders {
		if s.Protocol == "xray" {
			items, refused = items+s.Items, refused+s.Refused
		}
	}
	if items != sent/2 || refused != sent/2 {
		t.Errorf("the Sources page counts %d spans and %d refused, want %d each", items, refused, sent/2)
	}
}
