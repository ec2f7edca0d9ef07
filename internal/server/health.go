package server

import (
	"net/http"
)

// registerHealth mounts what operators and orchestrators poll, as Prometheus and Jaeger
// serve them:
//
//	GET /healthz   200 while the process serves
//	GET /readyz    200 once every acknowledged item of an earlier run is loaded; 503 before
//	GET /metrics   Prometheus' text format
func (s *Server) registerHealth(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.pipeline.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("loading what the previous run acknowledged (replaying the ingest log)\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", s.metrics.Handler())
}
