// Package aws is what lookout's AWS-compatible APIs (X-Ray, CloudWatch Logs) share: request
// ids, errors in the shapes of AWS's two JSON protocols, and Signature Version 4 checks. The
// APIs themselves live with their receivers; this package knows no service.
package aws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Error is an AWS API error: the HTTP status, the code clients match on (the name of the
// exception's shape, such as ResourceNotFoundException) and a message for people.
type Error struct {
	Status  int
	Code    string
	Message string
	// Members are more members of the exception's shape, such as MalformedQueryException's
	// queryCompileError or ResourceNotFoundException's ResourceName.
	Members map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Protocol is one of the JSON protocols AWS services answer in.
type Protocol uint8

const (
	// JSON11 is AWS JSON 1.1 (CloudWatch Logs): POST / with X-Amz-Target; errors as
	// {"__type": code, "message": text}.
	JSON11 Protocol = iota + 1
	// RestJSON is AWS rest-json (X-Ray): an operation per path; errors as {"message": text}
	// with the code in X-Amzn-ErrorType.
	RestJSON
)

func (p Protocol) contentType() string {
	if p == JSON11 {
		return "application/x-amz-json-1.1"
	}
	return "application/json"
}

// Write sends v as the protocol's JSON with status.
func (p Protocol) Write(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		p.WriteError(w, Errorf(http.StatusInternalServerError, "InternalFailure", "the response could not be encoded"))
		return
	}
	w.Header().Set("Content-Type", p.contentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// WriteError sends err in the protocol's error shape. Both protocols also name the code in
// X-Amzn-ErrorType, which the smithy-based SDKs (Go v2, JavaScript v3) read first.
func (p Protocol) WriteError(w http.ResponseWriter, err *Error) {
	w.Header().Set("X-Amzn-ErrorType", err.Code)
	body := map[string]any{}
	for k, v := range err.Members {
		body[k] = v
	}
	if p == JSON11 {
		body["__type"] = err.Code
	}
	body["message"] = err.Message
	b, err2 := json.Marshal(body)
	if err2 != nil { // a member that JSON cannot hold: lookout's mistake, answered without it
		b, _ = json.Marshal(map[string]string{"message": err.Message, "__type": err.Code})
	}
	w.Header().Set("Content-Type", p.contentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(err.Status)
	w.Write(b)
}

type requestIDKey struct{}

// WithRequestID gives every request an id, in the x-amzn-RequestId header of its answer (AWS
// SDKs copy it into their response metadata) and in its context.
func WithRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set("X-Amzn-RequestId", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// RequestID is the id WithRequestID gave the request of ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// newRequestID returns a random UUID in the form AWS gives request ids.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
