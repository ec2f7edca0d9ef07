package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// protocolOf tells an ingest request's protocol from its path and headers; "" for requests
// that carry no telemetry (query APIs, health checks).
func protocolOf(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/v1/"):
		return "otlp"
	case strings.HasPrefix(p, "/1/events/"), strings.HasPrefix(p, "/1/batch/"):
		return "honeycomb"
	case strings.HasPrefix(p, "/api/1/"):
		return "rollbar"
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "Logs_"):
		return "cloudwatch-logs"
	case p == "/TraceSegments", p == "/GetSamplingRules", p == "/SamplingTargets", p == "/TelemetryRecords":
		return "xray"
	}
	return ""
}

// credentialOf finds the credential a request carries in its headers: a Honeycomb key, a
// Rollbar token, or the access key id of an AWS signature.
func credentialOf(h http.Header) string {
	if k := h.Get("X-Honeycomb-Team"); k != "" {
		return k
	}
	if t := h.Get("X-Rollbar-Access-Token"); t != "" {
		return t
	}
	if auth := h.Get("Authorization"); strings.HasPrefix(auth, "AWS4-HMAC-SHA256") {
		if _, cred, ok := strings.Cut(auth, "Credential="); ok {
			id, _, _ := strings.Cut(cred, "/")
			return id
		}
	}
	return ""
}

// sdkOf names a client by the first product of its user agent, up to its version:
// "aws-sdk-go-v2/1.48.0 os/linux" becomes "aws-sdk-go-v2 1.48.0", and
// "OTel Go OTLP over HTTP/protobuf/1.47.0" "OTel Go OTLP over HTTP/protobuf 1.47.0".
func sdkOf(userAgent string) string {
	words := strings.Fields(userAgent)
	for i, w := range words {
		if j := strings.LastIndexByte(w, '/'); j >= 0 {
			product := strings.Join(append(words[:i:i], w[:j]), " ")
			return product + " " + w[j+1:]
		}
	}
	return strings.Join(words, " ")
}

// Middleware observes each ingest request through next: it reads the sender from the
// transport, lets the receiver annotate the request (Observe), and records it once answered.
func (r *Registry) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		protocol := protocolOf(req)
		if protocol == "" {
			next.ServeHTTP(w, req)
			return
		}
		q := newRequest(protocol, sdkOf(req.UserAgent()), Fingerprint(credentialOf(req.Header)))
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, req.WithContext(q.with(req.Context())))
		failure := ""
		if rec.status >= 400 {
			failure = fmt.Sprintf("%d %s", rec.status, errorMessage(rec.body))
		}
		q.commit(r, failure)
	})
}

// recorder keeps the status and the start of an error body.
type recorder struct {
	http.ResponseWriter
	status int
	body   []byte
}

const maxErrorBody = 512

func (w *recorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status >= 400 && len(w.body) < maxErrorBody {
		w.body = append(w.body, b[:min(len(b), maxErrorBody-len(w.body))]...)
	}
	return w.ResponseWriter.Write(b)
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// errorMessage is the message of an error body in any of the protocols' shapes ({"error"},
// {"message"}, {"Message"}), or the body's text.
func errorMessage(body []byte) string {
	var shape map[string]any
	if json.Unmarshal(body, &shape) == nil {
		for _, k := range []string{"error", "message", "Message"} {
			if s, ok := shape[k].(string); ok {
				return s
			}
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// UnaryInterceptor observes OTLP/gRPC requests as Middleware does HTTP ones.
func (r *Registry) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		first := func(k string) string {
			if v := md.Get(k); len(v) > 0 {
				return v[0]
			}
			return ""
		}
		q := newRequest("otlp", sdkOf(first("user-agent")), Fingerprint(first("x-honeycomb-team")))
		resp, err := handler(q.with(ctx), req)
		failure := ""
		if err != nil {
			st := status.Convert(err)
			failure = st.Code().String() + " " + st.Message()
		}
		q.commit(r, failure)
		return resp, err
	}
}
