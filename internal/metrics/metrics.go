// Package metrics declares everything lookout reports about itself on /metrics, in one place:
// each metric's name, help and labels. Components are handed the *Metrics of their server and
// update the fields they own; a test gets its own with New.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Outcomes of an item a receiver was sent (the outcome label of IngestItems).
const (
	Accepted  = "accepted"  // durable and acknowledged
	Rejected  = "rejected"  // refused by the receiver: invalid, or over a limit
	Throttled = "throttled" // refused with a retry delay: the pipeline was full
	Failed    = "failed"    // could not be stored; the sender was told to retry
	Dropped   = "dropped"   // dropped without telling the sender (protocols without acknowledgement)
)

// Metrics are one server's metrics.
type Metrics struct {
	registry *prometheus.Registry

	// IngestItems counts items per receiver, signal and outcome.
	IngestItems *prometheus.CounterVec
	// PendingBytes is the memory held by items accepted and not yet loaded into the store.
	PendingBytes prometheus.Gauge
	// LoadedItems counts items loaded into the store, per signal.
	LoadedItems *prometheus.CounterVec
	// DeadLetterItems counts items the store refused and that were set aside, per signal.
	DeadLetterItems *prometheus.CounterVec
	// LogAppendSeconds is how long an append to the write-ahead log took, fsync included.
	LogAppendSeconds prometheus.Histogram
	// StoreWriteSeconds is how long one batch took to write into the store, per signal.
	StoreWriteSeconds *prometheus.HistogramVec
	// CheckpointSeconds is how long a store checkpoint took.
	CheckpointSeconds prometheus.Histogram
	// RequestSeconds is how long an HTTP request took (ingest or query), per listener and
	// route.
	RequestSeconds *prometheus.HistogramVec

	// XRayDocuments counts X-Ray segment documents per way in (udp, api) and outcome
	// (received, stored, dropped, refused).
	XRayDocuments *prometheus.CounterVec
}

// Outcomes of an X-Ray segment document (the outcome label of XRayDocuments): every document
// received is in time stored, dropped or refused.
const (
	Received = "received"
	Stored   = "stored"
	Refused  = "refused"
)

// New returns a fresh set of metrics, with Go runtime and process metrics beside them.
func New() *Metrics {
	r := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	latency := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &Metrics{
		registry: r,
		IngestItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_ingest_items_total",
			Help: "Items receivers were sent, by receiver, signal and outcome (accepted, rejected, throttled, failed, dropped).",
		}, []string{"receiver", "signal", "outcome"}),
		PendingBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lookout_pipeline_pending_bytes",
			Help: "Memory held by accepted items that are not yet in the store.",
		}),
		LoadedItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_pipeline_loaded_items_total",
			Help: "Items loaded into the store, by signal.",
		}, []string{"signal"}),
		DeadLetterItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_pipeline_dead_letter_items_total",
			Help: "Items the store refused, set aside in the dead-letter log (see lookout dead-letter), by signal.",
		}, []string{"signal"}),
		LogAppendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "lookout_wal_append_seconds", Buckets: latency,
			Help: "Time to append a request's items to the write-ahead log, fsync included.",
		}),
		StoreWriteSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lookout_store_write_seconds", Buckets: latency,
			Help: "Time to write one batch into the store, by signal.",
		}, []string{"signal"}),
		CheckpointSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "lookout_store_checkpoint_seconds", Buckets: latency,
			Help: "Time to checkpoint the store (after which the write-ahead log is trimmed).",
		}),
		RequestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lookout_http_request_seconds", Buckets: latency,
			Help: "Time to answer an HTTP request (ingest, query APIs, UI), by listener and route pattern.",
		}, []string{"listener", "route"}),
		XRayDocuments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_xray_documents_total",
			Help: "X-Ray segment documents, by way in (udp: the daemon endpoint, api: PutTraceSegments) and outcome (received; then stored, dropped when lookout could not keep up, or refused as malformed).",
		}, []string{"via", "outcome"}),
	}
	f(m.IngestItems)
	f(m.PendingBytes)
	f(m.LoadedItems)
	f(m.DeadLetterItems)
	f(m.LogAppendSeconds)
	f(m.StoreWriteSeconds)
	f(m.CheckpointSeconds)
	f(m.RequestSeconds)
	f(m.XRayDocuments)
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Timed wraps h so that each request's duration is observed in RequestSeconds under its route
// pattern (as the mux matched it), or "other".
func (m *Metrics) Timed(listener string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		route := r.Pattern
		if route == "" {
			route = "other"
		}
		m.RequestSeconds.WithLabelValues(listener, route).Observe(time.Since(start).Seconds())
	})
}
