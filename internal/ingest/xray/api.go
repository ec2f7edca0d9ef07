package xray

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"lookout/internal/aws"
	"lookout/internal/ingest"
	"lookout/internal/store"
	"lookout/internal/xray/sampling"
)

// APIConfig is what the X-Ray API is built from.
type APIConfig struct {
	Ingester *Ingester
	Traces   store.TraceReader
	Sampler  *sampling.Sampler
	Settings store.SettingsStore // groups, tags, the encryption configuration
	Verifier *aws.Verifier
	Log      *slog.Logger
}

// API is the X-Ray service API, AWS rest-json: every operation is POST /<path> with a JSON
// body. It serves the AWS CLI and SDKs (--endpoint-url, AWS_ENDPOINT_URL_XRAY) on the HTTP
// listener, and the SDKs' sampling requests on the daemon endpoint's TCP port.
type API struct {
	cfg APIConfig
	ops map[string]operation

	// changes is held while groups, rules' existence or tags change, so that the check of
	// what is kept and the write it decides are one step: a tag cannot land on a resource
	// being deleted, nor two groups of one name be made.
	changes sync.Mutex
}

// operation handles one API call: body is the request's JSON; it returns the response value.
type operation func(ctx context.Context, body []byte) (any, *aws.Error)

// maxBodyBytes bounds a request: PutTraceSegments carries up to 50 documents of 64 kB from
// the daemon, and more from other senders.
const maxBodyBytes = 32 << 20

// NewAPI returns the X-Ray API.
func NewAPI(cfg APIConfig) *API {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Verifier == nil {
		cfg.Verifier = &aws.Verifier{}
	}
	a := &API{cfg: cfg}
	a.ops = map[string]operation{
		"/TraceSegments":               a.putTraceSegments,
		"/TelemetryRecords":            a.putTelemetryRecords,
		"/GetSamplingRules":            a.getSamplingRules,
		"/SamplingTargets":             a.getSamplingTargets,
		"/CreateSamplingRule":          a.createSamplingRule,
		"/UpdateSamplingRule":          a.updateSamplingRule,
		"/DeleteSamplingRule":          a.deleteSamplingRule,
		"/SamplingStatisticSummaries":  a.samplingStatisticSummaries,
		"/Traces":                      a.batchGetTraces,
		"/TraceSummaries":              a.getTraceSummaries,
		"/ServiceGraph":                a.getServiceGraph,
		"/TraceGraph":                  a.getTraceGraph,
		"/TimeSeriesServiceStatistics": a.getTimeSeriesServiceStatistics,
		"/CreateGroup":                 a.createGroup,
		"/GetGroup":                    a.getGroup,
		"/Groups":                      a.getGroups,
		"/UpdateGroup":                 a.updateGroup,
		"/DeleteGroup":                 a.deleteGroup,
		"/EncryptionConfig":            a.getEncryptionConfig,
		"/PutEncryptionConfig":         a.putEncryptionConfig,
		"/TagResource":                 a.tagResource,
		"/UntagResource":               a.untagResource,
		"/ListTagsForResource":         a.listTagsForResource,
	}
	return a
}

// Register mounts every operation on mux (the HTTP listener, beside OTLP and Honeycomb).
func (a *API) Register(mux *http.ServeMux) {
	h := a.Handler()
	for path := range a.ops {
		mux.Handle("POST "+path, h)
	}
}

// Handler serves every operation by path, its requests verified by the API's Verifier, and
// answers other paths as AWS does an unknown operation.
func (a *API) Handler() http.Handler {
	return aws.WithRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.serve(w, r, true) }))
}

// daemonHandler serves the daemon endpoint's TCP port, which takes every path as the daemon's
// proxy does. The SDKs send their sampling requests there unsigned, for the daemon to sign
// with its own credentials: those, and what the daemon itself sends, are taken unsigned as the
// port's UDP side takes segments. Every other operation is verified, as on the HTTP listener.
func (a *API) daemonHandler() http.Handler {
	return aws.WithRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.serve(w, r, !daemonUnsigned[r.URL.Path]) }))
}

// daemonUnsigned are the operations the daemon's port takes unsigned.
var daemonUnsigned = map[string]bool{"/GetSamplingRules": true, "/SamplingTargets": true, "/TraceSegments": true, "/TelemetryRecords": true}

func (a *API) serve(w http.ResponseWriter, r *http.Request, verify bool) {
	op, ok := a.ops[r.URL.Path]
	if !ok || r.Method != http.MethodPost {
		aws.RestJSON.WriteError(w, aws.Errorf(http.StatusNotFound, "UnknownOperationException", "lookout's X-Ray API has no operation %s %s", r.Method, r.URL.Path))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		aws.RestJSON.WriteError(w, aws.Errorf(http.StatusBadRequest, "InvalidRequestException", "the request body could not be read"))
		return
	}
	if len(body) > maxBodyBytes {
		aws.RestJSON.WriteError(w, aws.Errorf(http.StatusRequestEntityTooLarge, "InvalidRequestException", "the request is larger than %d bytes", maxBodyBytes))
		return
	}
	if verify {
		if _, aerr := a.cfg.Verifier.Verify(r, body); aerr != nil {
			aws.RestJSON.WriteError(w, aerr)
			return
		}
	}
	out, aerr := op(r.Context(), body)
	if aerr != nil {
		if aerr.Status >= 500 {
			a.cfg.Log.Error("x-ray api: request failed", "path", r.URL.Path, "err", aerr.Message)
		}
		aws.RestJSON.WriteError(w, aerr)
		return
	}
	aws.RestJSON.Write(w, http.StatusOK, out)
}

// setting reads the kept document kind/name into v, which stays as it is when there is none.
func (a *API) setting(ctx context.Context, kind, name string, v any) *aws.Error {
	docs, err := a.cfg.Settings.Settings(ctx, kind)
	if err != nil {
		return internal(err)
	}
	if doc, ok := docs[name]; ok {
		if err := json.Unmarshal(doc, v); err != nil {
			return internal(err)
		}
	}
	return nil
}

// putSetting keeps v as the document kind/name.
func (a *API) putSetting(ctx context.Context, kind, name string, v any) *aws.Error {
	doc, err := json.Marshal(v)
	if err != nil {
		return internal(err)
	}
	if err := a.cfg.Settings.PutSetting(ctx, kind, name, doc); err != nil {
		return internal(err)
	}
	return nil
}

// decode reads a request's JSON into v; an empty body is an empty request.
func decode(body []byte, v any) *aws.Error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return invalid("the request is not valid JSON for this operation: %v", err)
	}
	return nil
}

func invalid(format string, args ...any) *aws.Error {
	return aws.Errorf(http.StatusBadRequest, "InvalidRequestException", format, args...)
}

func internal(err error) *aws.Error {
	return aws.Errorf(http.StatusInternalServerError, "InternalFailure", "%v", err)
}

// refusal renders a sink's refusal as X-Ray's throttling or service failure.
func refusal(ctx context.Context, err error) *aws.Error {
	r := ingest.Classify(ctx, err)
	if r.Kind == ingest.Overloaded {
		return aws.Errorf(http.StatusTooManyRequests, "ThrottledException", "%s", r.Message)
	}
	return aws.Errorf(http.StatusServiceUnavailable, "ServiceUnavailable", "%s", r.Message)
}

// PutTraceSegments: each document is a segment, an in-progress segment, a subsegment, or a
// JSON array of subsegments. The ones that cannot be read are reported with X-Ray's error
// codes; the rest are stored, durably before the answer.
func (a *API) putTraceSegments(ctx context.Context, body []byte) (any, *aws.Error) {
	var req struct {
		TraceSegmentDocuments []string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	type unprocessed struct {
		Id        *string `json:"Id"`
		ErrorCode string  `json:"ErrorCode"`
		Message   string  `json:"Message"`
	}
	out := struct {
		UnprocessedTraceSegments []unprocessed
	}{UnprocessedTraceSegments: []unprocessed{}}
	in := a.cfg.Ingester
	var docs []*Document
	for _, text := range req.TraceSegmentDocuments {
		parsed, err := decodeAPIDocument([]byte(text), in.now())
		in.received(ViaAPI, 1)
		if err != nil {
			in.refused(ViaAPI, err)
			var de *DocumentError
			u := unprocessed{ErrorCode: "InvalidSegment", Message: err.Error()}
			if errors.As(err, &de) {
				u.ErrorCode, u.Message = de.Code, de.Msg
				if de.ID != "" {
					u.Id = &de.ID
				}
			}
			out.UnprocessedTraceSegments = append(out.UnprocessedTraceSegments, u)
			continue
		}
		docs = append(docs, parsed...)
	}
	if err := in.write(ctx, ViaAPI, docs, false); err != nil {
		return nil, refusal(ctx, err)
	}
	return out, nil
}

// decodeAPIDocument reads one of PutTraceSegments' documents, which may be an array of
// subsegments.
func decodeAPIDocument(text []byte, now time.Time) ([]*Document, error) {
	trimmed := strings.TrimSpace(string(text))
	if !strings.HasPrefix(trimmed, "[") {
		d, err := DecodeDocument(text, now)
		if err != nil {
			return nil, err
		}
		return []*Document{d}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(text, &items); err != nil {
		return nil, refuse("", "InvalidSegment", "the document is not a JSON object or array of objects")
	}
	docs := make([]*Document, 0, len(items))
	for _, it := range items {
		d, err := DecodeDocument(it, now)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// PutTelemetryRecords: the daemon reports its own counts every minute; nothing to keep.
func (a *API) putTelemetryRecords(context.Context, []byte) (any, *aws.Error) {
	return struct{}{}, nil
}
