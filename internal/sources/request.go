package sources

import (
	"context"
	"sync"
)

// Request is one ingest request being observed. Receivers annotate it with what only they know
// (where the items landed, what they refused and why, the SDK named in the payload); the
// listener's middleware records it when the response is written. Its methods do nothing on a
// nil Request, so receivers call them unconditionally.
type Request struct {
	mu         sync.Mutex
	protocol   string
	sdk        string
	credential string
	landed     map[string]int
	refused    map[[2]string]int // (destination, reason) → items
	warnings   map[[2]string]string
	expected   bool // the request's refusal is part of its protocol
}

type requestKey struct{}

// Observe returns the request observed in ctx, or nil.
func Observe(ctx context.Context) *Request {
	q, _ := ctx.Value(requestKey{}).(*Request)
	return q
}

func newRequest(protocol, sdk, credential string) *Request {
	return &Request{protocol: protocol, sdk: sdk, credential: credential, landed: map[string]int{},
		refused: map[[2]string]int{}, warnings: map[[2]string]string{}}
}

func (q *Request) with(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestKey{}, q)
}

// SetProtocol names the protocol, when the listener could not tell it from the request.
func (q *Request) SetProtocol(protocol string) {
	if q != nil {
		q.mu.Lock()
		q.protocol = protocol
		q.mu.Unlock()
	}
}

// SetSDK names the client, from what the payload says of it (notifier, telemetry.sdk.*), which
// is more precise than the user agent.
func (q *Request) SetSDK(sdk string) {
	if q != nil && sdk != "" {
		q.mu.Lock()
		q.sdk = sdk
		q.mu.Unlock()
	}
}

// SetCredential records the credential found in the payload; only its fingerprint is kept.
func (q *Request) SetCredential(secret string) {
	if q != nil && secret != "" {
		q.mu.Lock()
		q.credential = Fingerprint(secret)
		q.mu.Unlock()
	}
}

// Landed counts n items stored in destination.
func (q *Request) Landed(destination string, n int) {
	if q != nil && n > 0 {
		q.mu.Lock()
		q.landed[destination] += n
		q.mu.Unlock()
	}
}

// Refused counts n items of destination ("" when unknown) refused for reason.
func (q *Request) Refused(destination string, n int, reason string) {
	if q != nil && n > 0 {
		q.mu.Lock()
		q.refused[[2]string{destination, reason}] += n
		q.mu.Unlock()
	}
}

// Expected says the request's refusal is an expected step of its protocol (a write that tells
// the client to create a stream first), not a fault to warn about.
func (q *Request) Expected() {
	if q != nil {
		q.mu.Lock()
		q.expected = true
		q.mu.Unlock()
	}
}

// Warn records a finding about this sender's data in destination (see Registry.Warn).
func (q *Request) Warn(destination, kind, message string) {
	if q != nil {
		q.mu.Lock()
		q.warnings[[2]string{destination, kind}] = message
		q.mu.Unlock()
	}
}

// commit records the request in the registry; failure, when not "", is why the whole request
// was refused (an HTTP or gRPC error the receiver answered).
func (q *Request) commit(r *Registry, failure string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.protocol == "" {
		return
	}
	sender := func(dest string) Sender {
		return Sender{Protocol: q.protocol, SDK: q.sdk, Credential: q.credential, Destination: dest}
	}
	for dest, n := range q.landed {
		r.Record(sender(dest), n, 0, "")
	}
	for k, n := range q.refused {
		r.Record(sender(k[0]), 0, n, k[1])
	}
	if q.expected {
		failure = ""
	}
	if failure != "" && len(q.refused) == 0 {
		r.Record(sender(""), 0, 1, failure)
	}
	if len(q.landed) == 0 && len(q.refused) == 0 && failure == "" {
		r.Record(sender(""), 0, 0, "") // a request with nothing to store: sampling rules, a describe call
	}
	for k, msg := range q.warnings {
		r.Warn(sender(k[0]), k[1], msg)
	}
}
