// Package cwlogs serves the CloudWatch Logs API (AWS JSON 1.1: POST / with X-Amz-Target
// Logs_20140328.<Operation>) and STS GetCallerIdentity, so that AWS SDKs, the AWS CLI and
// watchtower send logs to lookout with only their endpoint changed. Events written with
// PutLogEvents go through the ingest pipeline (acknowledged once durable); groups, streams,
// retention and tags live in the store's log catalogue.
//
// Decisions where AWS leaves room: the account id is 000000000000 and the region is the one
// the request was signed for (us-east-1 when unsigned); tokens are cursors on the order of
// records (time, then arrival), so the same query always gets the same token.
package cwlogs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"lookout/internal/aws"
	"lookout/internal/ingest"
	"lookout/internal/ingest/httpbody"
	"lookout/internal/livetail"
	"lookout/internal/store"
	"lookout/internal/telemetry"
)

// Protocol names CloudWatch Logs events in telemetry.IngestInfo.
const Protocol = "cloudwatch"

// account is the AWS account id lookout answers with, as LocalStack does.
const account = "000000000000"

// maxBodyBytes bounds a request body: a PutLogEvents batch is at most 1 MiB of messages,
// which JSON escaping can make about six times larger.
const maxBodyBytes = 8 << 20

// Store is what the API needs of the store.
type Store interface {
	store.LogCatalogue
	store.LogReader
}

// Handler serves the CloudWatch Logs API and STS GetCallerIdentity.
type Handler struct {
	sink     ingest.Sink[telemetry.LogRecord]
	store    Store
	verifier *aws.Verifier
	tail     *livetail.Hub
	log      *slog.Logger
	body     *httpbody.Reader
	now      func() time.Time
	ops      map[string]operation
	queries  queries       // Logs Insights
	known    *knownStreams // the store, remembering the streams PutLogEvents writes to
}

// operation serves one API operation: it decodes its input from req.body and returns the
// output to send as JSON.
type operation func(ctx context.Context, req *request) (any, error)

// request is one API call.
type request struct {
	body   []byte
	region string
	keyID  string // the access key id it was signed with, "" when unsigned
}

// New returns the API writing events to sink and keeping groups and streams in st.
// verifier checks signatures (an open one accepts any); StartLiveTail watches tail (nil:
// Live Tail is unavailable).
func New(sink ingest.Sink[telemetry.LogRecord], st Store, verifier *aws.Verifier, tail *livetail.Hub, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	known := &knownStreams{Store: st}
	h := &Handler{sink: sink, store: known, known: known, verifier: verifier, tail: tail, log: logger, body: httpbody.NewReader(maxBodyBytes), now: time.Now}
	h.ops = map[string]operation{
		"CreateLogGroup":        h.createLogGroup,
		"DeleteLogGroup":        h.deleteLogGroup,
		"DescribeLogGroups":     h.describeLogGroups,
		"PutRetentionPolicy":    h.putRetentionPolicy,
		"DeleteRetentionPolicy": h.deleteRetentionPolicy,
		"TagResource":           h.tagResource,
		"UntagResource":         h.untagResource,
		"ListTagsForResource":   h.listTagsForResource,
		"TagLogGroup":           h.tagLogGroup,
		"UntagLogGroup":         h.untagLogGroup,
		"ListTagsLogGroup":      h.listTagsLogGroup,
		"CreateLogStream":       h.createLogStream,
		"DeleteLogStream":       h.deleteLogStream,
		"DescribeLogStreams":    h.describeLogStreams,
		"PutLogEvents":          h.putLogEvents,
		"GetLogEvents":          h.getLogEvents,
		"FilterLogEvents":       h.filterLogEvents,
		"StartQuery":            h.startQuery,
		"GetQueryResults":       h.getQueryResults,
		"StopQuery":             h.stopQuery,
		"DescribeQueries":       h.describeQueries,
		"GetLogRecord":          h.getLogRecord,
		"GetLogGroupFields":     h.getLogGroupFields,
	}
	return h
}

// targetPrefix starts the X-Amz-Target of every CloudWatch Logs operation.
const targetPrefix = "Logs_20140328."

// Register mounts the API on mux at POST /. Requests are routed by their X-Amz-Target or
// STS Action, never by Host: the SDKs put "streaming-" before the host of Live Tail calls.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("POST /{$}", aws.WithRequestID(http.HandlerFunc(h.serve)))
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if target == "" && isForm(r) {
		h.serveSTS(w, r)
		return
	}
	buf, err := h.body.Read(w, r)
	if err != nil {
		var be *httpbody.Error
		if errors.As(err, &be) {
			aws.JSON11.WriteError(w, aws.Errorf(be.Status, "SerializationException", "%s", be.Msg))
			return
		}
		aws.JSON11.WriteError(w, aws.Errorf(http.StatusBadRequest, "SerializationException", "cannot read the request body"))
		return
	}
	defer httpbody.Release(buf)
	keyID, region, aerr := h.verify(r, buf.Bytes())
	if aerr != nil {
		aws.JSON11.WriteError(w, aerr)
		return
	}
	name, ok := strings.CutPrefix(target, targetPrefix)
	if ok && name == "StartLiveTail" {
		h.startLiveTail(w, r, &request{body: buf.Bytes(), region: region, keyID: keyID})
		return
	}
	op := h.ops[name]
	if !ok || op == nil {
		aws.JSON11.WriteError(w, aws.Errorf(http.StatusBadRequest, "UnknownOperationException", "lookout does not implement the operation %q", truncate(target, 100)))
		return
	}
	out, err := op(r.Context(), &request{body: buf.Bytes(), region: region, keyID: keyID})
	if err != nil {
		h.writeError(w, r, name, err)
		return
	}
	if out == nil {
		out = struct{}{}
	}
	aws.JSON11.Write(w, http.StatusOK, out)
}

// verify checks the request's signature and returns the key it was signed with and its
// region.
func (h *Handler) verify(r *http.Request, body []byte) (keyID, region string, err *aws.Error) {
	keyID, err = h.verifier.Verify(r, body)
	region = "us-east-1"
	if _, scope, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		if parts := strings.Split(scope, "/"); len(parts) >= 3 && validRegion(parts[2]) {
			region = parts[2]
		}
	}
	return keyID, region, err
}

func validRegion(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// writeError answers err in AWS's shape; an error that is not an *aws.Error is lookout's own
// failure, logged and answered as ServiceUnavailableException.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, op string, err error) {
	var ae *aws.Error
	if errors.As(err, &ae) {
		aws.JSON11.WriteError(w, ae)
		return
	}
	if refusal := ingestRefusal(r.Context(), err); refusal != nil {
		if ra := refusal.RetryAfterHeader(); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		aws.JSON11.WriteError(w, aws.Errorf(refusal.HTTPStatus(), "ServiceUnavailableException", "%s", refusal.Message))
		return
	}
	h.log.Error("CloudWatch Logs operation failed", "operation", op, "err", err)
	aws.JSON11.WriteError(w, aws.Errorf(http.StatusInternalServerError, "ServiceUnavailableException", "lookout could not complete the request; retry later"))
}

// sinkError marks an error from the ingest sink, which ingest.Classify answers.
type sinkError struct{ err error }

func (e *sinkError) Error() string { return e.err.Error() }
func (e *sinkError) Unwrap() error { return e.err }

func ingestRefusal(ctx context.Context, err error) *ingest.Refusal {
	var se *sinkError
	if !errors.As(err, &se) {
		return nil
	}
	r := ingest.Classify(ctx, se.err)
	return &r
}

// decode reads an operation's JSON input into v. Unknown members are ignored: newer SDKs
// send members lookout does not know.
func decode(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil // some clients send no body for empty input
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return aws.Errorf(http.StatusBadRequest, "SerializationException", "the member %q has the wrong type: want %s", te.Field, te.Type)
		}
		return aws.Errorf(http.StatusBadRequest, "SerializationException", "the request body is not valid JSON")
	}
	return nil
}

// Errors in AWS's words.

func invalidParameter(format string, args ...any) error {
	return aws.Errorf(http.StatusBadRequest, "InvalidParameterException", format, args...)
}

// validation is AWS's message for a member that breaks its model's constraint.
func validation(member string, value any, constraint string) error {
	return invalidParameter("1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: Member must %s", value, member, constraint)
}

var (
	errGroupNotFound  = aws.Errorf(http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist.")
	errStreamNotFound = aws.Errorf(http.StatusBadRequest, "ResourceNotFoundException", "The specified log stream does not exist.")
	errGroupExists    = aws.Errorf(http.StatusBadRequest, "ResourceAlreadyExistsException", "The specified log group already exists")
	errStreamExists   = aws.Errorf(http.StatusBadRequest, "ResourceAlreadyExistsException", "The specified log stream already exists")
	errBadToken       = invalidParameter("The specified nextToken is invalid.")
)

// storeError maps the store's sentinels to the API's errors.
func storeError(err, notFound, exists error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound) && notFound != nil:
		return notFound
	case errors.Is(err, store.ErrExists) && exists != nil:
		return exists
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// groupARN is a log group's ARN; CloudWatch Logs' own "arn" member adds ":*".
func groupARN(region, group string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, account, group)
}

func millis(t time.Time) int64 { return t.UnixMilli() }
