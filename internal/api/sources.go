package api

import (
	"net/http"

	"lookout/internal/sources"
)

// GET /api/v1/sources: every sender lookout has seen and the current warnings (see package
// sources), with lookout's own addresses for the page's set-up snippets.

// Endpoints are where senders reach lookout, as the client of a request reaches it.
type Endpoints struct {
	OTLPHTTP   string `json:"otlpHttp"`             // base URL: OTEL_EXPORTER_OTLP_ENDPOINT
	OTLPGRPC   string `json:"otlpGrpc"`             // host:port
	VendorHTTP string `json:"vendorHttp"`           // base URL of the Honeycomb, Rollbar and AWS APIs
	XRay       string `json:"xrayDaemon,omitempty"` // host:port, UDP and TCP
	UI         string `json:"ui"`
}

// ShowSources serves the sources report of reg; endpoints says where senders reach lookout.
func (a *API) ShowSources(reg *sources.Registry, endpoints func(*http.Request) Endpoints) {
	a.sources, a.endpoints = reg, endpoints
}

func (a *API) sourcesReport(r *http.Request) (any, error) {
	return struct {
		sources.Report
		Endpoints Endpoints `json:"endpoints"`
	}{a.sources.Report(), a.endpoints(r)}, nil
}
