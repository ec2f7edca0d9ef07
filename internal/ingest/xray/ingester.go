package xray

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lookout/internal/ingest"
	"lookout/internal/metrics"
	"lookout/internal/sources"
	"lookout/internal/telemetry"
)

// Ways documents come in, as metrics and problems name them.
const (
	ViaUDP = "udp"
	ViaAPI = "api"
)

// SubsegmentHold is how long a subsegment that came over UDP without its segment waits for
// it before it is stored with an unknown service: SDKs send streamed subsegments while the
// request runs and the segment when it ends.
const SubsegmentHold = 2 * time.Second

// Ingester stores decoded documents through the spans sink, giving subsegments sent on their
// own their segment's service. The daemon endpoint and PutTraceSegments share one, so that a
// subsegment finds its segment whichever way each came.
type Ingester struct {
	sink     ingest.Sink[telemetry.Span]
	resolver *resolver
	ended    endedSegments
	problems *Problems
	docs     *prometheus.CounterVec
	senders  senders
	now      func() time.Time
}

// NewIngester returns an Ingester writing to sink and counting in m.
func NewIngester(sink ingest.Sink[telemetry.Span], m *metrics.Metrics, problems *Problems) *Ingester {
	return &Ingester{sink: sink, resolver: newResolver(SubsegmentHold), problems: problems, docs: m.XRayDocuments, now: time.Now}
}

// ReportTo has the ingester tell reg about the clients that send datagrams.
func (in *Ingester) ReportTo(reg *sources.Registry) { in.senders.reg = reg }

// Problems is the record of what went wrong.
func (in *Ingester) Problems() *Problems { return in.problems }

// received counts n documents that came in via.
func (in *Ingester) received(via string, n int) {
	in.docs.WithLabelValues(via, metrics.Received).Add(float64(n))
}

// refused records a document that could not be read.
func (in *Ingester) refused(via string, err error) {
	in.docs.WithLabelValues(via, metrics.Refused).Inc()
	in.sink.Rejected(1)
	pr := Problem{Time: in.now(), Kind: ProblemRefused, Via: via, Message: err.Error()}
	if de, ok := err.(*DocumentError); ok {
		pr.Code, pr.ID, pr.Message = de.Code, de.ID, de.Msg
	}
	in.problems.add(pr)
	in.senders.refused(via, pr.Code+": "+pr.Message)
}

// dropped records n documents lookout could not keep up with.
func (in *Ingester) dropped(via string, n int, why string) {
	in.docs.WithLabelValues(via, metrics.Dropped).Add(float64(n))
	in.problems.add(Problem{Time: in.now(), Kind: ProblemDropped, Via: via, Message: why})
	in.senders.refused(via, "dropped: "+why)
}

// write stores documents; with hold, subsegments without their segment may wait for it (the
// daemon endpoint, which acknowledges nothing). It returns the sink's error: nothing of the
// documents is durable then.
func (in *Ingester) write(ctx context.Context, via string, docs []*Document, hold bool) error {
	var resources telemetry.ResourceSet // each document was decoded with a resource of its own
	for _, d := range docs {
		for i := range d.Spans {
			d.Spans[i].Resource = resources.Share(d.Spans[i].Resource)
		}
		d.via = via
		if !d.Independent {
			in.noteReplaced(d)
		}
	}
	return in.store(ctx, in.resolver.add(docs, in.now(), hold))
}

// noteReplaced records a segment that replaces a different one with its id.
func (in *Ingester) noteReplaced(d *Document) {
	sp := &d.Spans[0]
	earlier, ok := in.ended.replaced(sp)
	if !ok {
		return
	}
	in.problems.add(Problem{Time: in.now(), Kind: ProblemReplaced, Via: d.via, TraceID: FormatTraceID(sp.TraceID), ID: sp.SpanID.String(),
		Message: fmt.Sprintf("segment %q replaced an earlier segment with its id (which ran %s, from %s): only the later one is kept; each segment needs an id of its own",
			sp.Name, time.Duration(earlier[1]-earlier[0]), time.Unix(0, earlier[0]).UTC().Format("15:04:05.000"))})
}

// flushExpired stores the subsegments whose wait for their segment is over, and records
// them as orphaned: a segment begun and never ended is never sent, and its subsegments sent
// on their own are all that shows of it.
func (in *Ingester) flushExpired(ctx context.Context) error {
	docs := in.resolver.expired(in.now())
	for _, d := range docs {
		sp := &d.Spans[0]
		in.problems.add(Problem{Time: in.now(), Kind: ProblemOrphaned, Via: d.via, TraceID: FormatTraceID(sp.TraceID), ID: sp.SpanID.String(),
			Message: fmt.Sprintf("subsegment %q waited %s for its segment %s, which has not come (never ended, or lost): stored without its service", sp.Name, SubsegmentHold, sp.ParentSpanID)})
	}
	return in.store(ctx, docs)
}

func (in *Ingester) store(ctx context.Context, docs []*Document) error {
	if len(docs) == 0 {
		return nil
	}
	n := 0
	for _, d := range docs {
		n += len(d.Spans)
	}
	spans := make([]telemetry.Span, 0, n)
	for _, d := range docs {
		spans = append(spans, d.Spans...)
	}
	err := in.sink.Write(ctx, spans)
	if err == nil {
		in.senders.stored(docs, in.now())
	}
	for _, d := range docs {
		switch {
		case err == nil && !d.stored:
			d.stored = true
			in.docs.WithLabelValues(d.via, metrics.Stored).Inc()
		case err != nil && d.via == ViaUDP && !d.stored:
			in.docs.WithLabelValues(d.via, metrics.Dropped).Inc()
		}
	}
	return err
}
