package aws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var creds = Credentials{"AKIDLOOKOUT": "secret-of-lookout"}

// verifying serves a handler that checks each request's signature with v and answers the
// access key id it found, or the error in JSON 1.1's shape.
func verifying(t *testing.T, v *Verifier) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		akid, err := v.Verify(r, body)
		if err != nil {
			JSON11.WriteError(w, err)
			return
		}
		JSON11.Write(w, http.StatusOK, map[string]string{"akid": akid})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// signed builds a request signed by the AWS SDK for Go's own signer.
func signed(t *testing.T, method, url, body, akid, secret string, at time.Time, header map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(context.Background(), awssdk.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "logs", "eu-west-1", at)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("X-Amzn-ErrorType") != "" && !bytes.Contains(b, []byte(resp.Header.Get("X-Amzn-ErrorType"))) {
		t.Errorf("error header %q and body %s disagree", resp.Header.Get("X-Amzn-ErrorType"), b)
	}
	return resp.StatusCode, string(b)
}

func TestVerifySignatures(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	srv := verifying(t, &Verifier{Credentials: creds, Now: func() time.Time { return now }})
	body := `{"logGroupName":"cruddur","logEvents":[{"timestamp":1,"message":"hi"}]}`
	target := map[string]string{"X-Amz-Target": "Logs_20140328.PutLogEvents"}
	cases := []struct {
		name string
		req  *http.Request
		want string // the akid, or the error code
	}{
		{"good", signed(t, "POST", srv.URL+"/", body, "AKIDLOOKOUT", "secret-of-lookout", now, target), `"akid":"AKIDLOOKOUT"`},
		{"a path and query that need encoding", signed(t, "POST", srv.URL+"/tags/arn:aws:xray:us-east-1:000000000000:group/Cruddur%20Group?tagKeys=a%20b&tagKeys=c", "{}", "AKIDLOOKOUT", "secret-of-lookout", now, nil), `"akid":"AKIDLOOKOUT"`},
		{"wrong secret", signed(t, "POST", srv.URL+"/", body, "AKIDLOOKOUT", "guess", now, target), "InvalidSignatureException"},
		{"unknown key", signed(t, "POST", srv.URL+"/", body, "AKIDOTHER", "secret-of-lookout", now, target), "UnrecognizedClientException"},
		{"stale", signed(t, "POST", srv.URL+"/", body, "AKIDLOOKOUT", "secret-of-lookout", now.Add(-6*time.Minute), target), "Signature expired: 20261130T115400Z is now earlier than 20261130T115500Z (20261130T120000Z - 5 min.)"},
		{"from the future", signed(t, "POST", srv.URL+"/", body, "AKIDLOOKOUT", "secret-of-lookout", now.Add(6*time.Minute), target), "Signature not yet current"},
	}
	for _, tc := range cases {
		if _, got := send(t, tc.req); !strings.Contains(got, tc.want) {
			t.Errorf("%s: answer %s, want %s", tc.name, got, tc.want)
		}
	}

	// A body changed after signing, and a signed header changed.
	tampered := signed(t, "POST", srv.URL+"/", body, "AKIDLOOKOUT", "secret-of-lookout", now, target)
	tampered.Body = io.NopCloser(strings.NewReader(strings.Replace(body, "hi", "ho", 1)))
	if _, got := send(t, tampered); !strings.Contains(got, "InvalidSignatureException") {
		t.Errorf("tampered body: %s", got)
	}
	retargeted := signed(t, "POST", srv.URL+"/", body, "AKIDLOOKOUT", "secret-of-lookout", now, target)
	retargeted.Header.Set("X-Amz-Target", "Logs_20140328.DeleteLogGroup")
	if _, got := send(t, retargeted); !strings.Contains(got, "InvalidSignatureException") {
		t.Errorf("changed signed header: %s", got)
	}

	// The same signed request sent again within the skew is accepted, as AWS accepts it;
	// once the skew has passed it is stale.
	again := signed(t, "POST", srv.URL+"/", body, "AKIDLOOKOUT", "secret-of-lookout", now.Add(-4*time.Minute), target)
	replay, _ := http.NewRequest("POST", again.URL.String(), strings.NewReader(body))
	replay.Header = again.Header.Clone()
	if _, got := send(t, again); !strings.Contains(got, "AKIDLOOKOUT") {
		t.Errorf("first send: %s", got)
	}
	if _, got := send(t, replay); !strings.Contains(got, "AKIDLOOKOUT") {
		t.Errorf("replay within the skew: %s", got)
	}

	unsigned, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(body))
	if status, got := send(t, unsigned); status != http.StatusForbidden || !strings.Contains(got, "MissingAuthenticationTokenException") {
		t.Errorf("unsigned: %d %s", status, got)
	}
}

func TestPresignedURLs(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	clock := now
	srv := verifying(t, &Verifier{Credentials: creds, Now: func() time.Time { return clock }})
	req, _ := http.NewRequest("GET", srv.URL+"/GetSamplingRules?X-Amz-Expires=60", nil)
	url, _, err := v4.NewSigner().PresignHTTP(context.Background(), awssdk.Credentials{AccessKeyID: "AKIDLOOKOUT", SecretAccessKey: "secret-of-lookout"},
		req, "UNSIGNED-PAYLOAD", "xray", "us-east-1", now)
	if err != nil {
		t.Fatal(err)
	}
	get := func() string {
		r, _ := http.NewRequest("GET", url, nil)
		_, got := send(t, r)
		return got
	}
	if got := get(); !strings.Contains(got, "AKIDLOOKOUT") {
		t.Errorf("presigned: %s", got)
	}
	clock = now.Add(2 * time.Minute)
	if got := get(); !strings.Contains(got, "AccessDeniedException") {
		t.Errorf("presigned after its expiry: %s", got)
	}
}

func TestOpenVerifierReadsTheKeyOnly(t *testing.T) {
	srv := verifying(t, &Verifier{})
	if _, got := send(t, signed(t, "POST", srv.URL+"/", "{}", "AKIDANY", "whatever", time.Now().Add(-time.Hour), nil)); !strings.Contains(got, `"akid":"AKIDANY"`) {
		t.Errorf("open verifier: %s", got)
	}
	unsigned, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader("{}"))
	if _, got := send(t, unsigned); !strings.Contains(got, `"akid":""`) {
		t.Errorf("open verifier, unsigned: %s", got)
	}
}

func TestErrorShapesAndRequestIDs(t *testing.T) {
	h := WithRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if RequestID(r.Context()) == "" {
			t.Error("no request id in the context")
		}
		p := JSON11
		if r.URL.Path == "/rest" {
			p = RestJSON
		}
		p.WriteError(w, Errorf(http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist."))
	}))
	for path, want := range map[string]string{
		"/":     `{"__type":"ResourceNotFoundException","message":"The specified log group does not exist."}`,
		"/rest": `{"message":"The specified log group does not exist."}`,
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", path, nil))
		if w.Code != 400 || w.Body.String() != want || w.Header().Get("X-Amzn-ErrorType") != "ResourceNotFoundException" || len(w.Header().Get("X-Amzn-RequestId")) != 36 {
			t.Errorf("%s: %d %s %v", path, w.Code, w.Body, w.Header())
		}
	}
}

func TestLoadCredentials(t *testing.T) {
	path := t.TempDir() + "/creds"
	os.WriteFile(path, []byte("# lookout's keys\nAKID1 secret1\n\n  AKID2   secret2  \n"), 0o600)
	got, err := LoadCredentials(path)
	if err != nil || len(got) != 2 || got["AKID1"] != "secret1" || got["AKID2"] != "secret2" {
		t.Fatalf("LoadCredentials = %v, %v", got, err)
	}
	os.WriteFile(path, []byte("AKID1\n"), 0o600)
	if _, err := LoadCredentials(path); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Fatalf("a line without a secret: %v", err)
	}
}
