package cwlogs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"lookout/internal/server"
	"lookout/internal/testtool"
)

const (
	goodKey    = "AKIDLOOKOUTTEST"
	goodSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYlookoutKEY"
)

// verifying starts a lookout that accepts only requests signed with goodKey.
func verifying(t *testing.T) *lookout {
	t.Helper()
	file := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(file, []byte("# test keys\n"+goodKey+" "+goodSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return start(t, func(c *server.Config) { c.AWSCredentialsFile = file })
}

// recorder is an HTTP client that keeps the last request it sent, body included.
type recorder struct {
	req  *http.Request
	body []byte
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		r.body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(r.body))
	}
	r.req = req.Clone(context.Background())
	return http.DefaultClient.Do(req)
}

// awsAnswer is an AWS JSON 1.1 answer: status, error code and request id.
type awsAnswer struct {
	status    int
	code, msg string
	requestID string
}

func send(t *testing.T, req *http.Request) awsAnswer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	return awsAnswer{resp.StatusCode, body.Type, body.Message, resp.Header.Get("X-Amzn-RequestId")}
}

// resend builds a copy of a recorded request with another body and target.
func resend(t *testing.T, rec *recorder, body []byte, target string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rec.req.URL.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = rec.req.Header.Clone()
	req.Header.Set("X-Amz-Target", target)
	return req
}

// TestSignaturesVerified signs with the AWS SDK for Go: the configured key pair passes, and a
// wrong secret, an unknown key, a stale signature and a replay with another body or
// operation are refused in AWS's shape. The secret never reaches lookout's log.
func TestSignaturesVerified(t *testing.T) {
	l := verifying(t)
	ctx := context.Background()
	rec := &recorder{}
	good := client(l, goodKey, goodSecret, func(o *cloudwatchlogs.Options) { o.HTTPClient = rec })
	_, err := good.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("signed")})
	must(t, "CreateLogGroup, signed with the key pair", err)
	signed := rec

	_, err = client(l, goodKey, "not-the-secret").DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	mustCode(t, "a wrong secret", err, "InvalidSignatureException")
	_, err = client(l, "AKIDUNKNOWN", goodSecret).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	mustCode(t, "an unknown key", err, "UnrecognizedClientException")

	// Replays of the recorded CreateLogGroup: verbatim it is accepted within the clock skew,
	// as AWS does (and answered as the operation answers it again); another body or another
	// operation under the same signature is refused.
	if a := send(t, resend(t, signed, signed.body, "Logs_20140328.CreateLogGroup")); a.code != "ResourceAlreadyExistsException" {
		t.Errorf("verbatim replay: %+v, want ResourceAlreadyExistsException", a)
	}
	tampered := bytes.Replace(signed.body, []byte("signed"), []byte("sigNed"), 1)
	if a := send(t, resend(t, signed, tampered, "Logs_20140328.CreateLogGroup")); a.status != 400 || a.code != "InvalidSignatureException" || len(a.requestID) != 36 {
		t.Errorf("replay with another body: %+v, want 400 InvalidSignatureException with a request id", a)
	}
	if a := send(t, resend(t, signed, signed.body, "Logs_20140328.DeleteLogGroup")); a.code != "InvalidSignatureException" {
		t.Errorf("replay as another operation: %+v, want InvalidSignatureException", a)
	}

	// A request signed by the SDK's signer ten minutes ago, and one signed ten minutes ahead.
	for _, skew := range []time.Duration{-10 * time.Minute, 10 * time.Minute} {
		body := []byte(`{}`)
		req, _ := http.NewRequest(http.MethodPost, l.endpoint()+"/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Logs_20140328.DescribeLogGroups")
		sum := sha256.Sum256(body)
		err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: goodKey, SecretAccessKey: goodSecret}, req,
			hex.EncodeToString(sum[:]), "logs", "eu-west-1", time.Now().Add(skew))
		must(t, "signing", err)
		a := send(t, req)
		if a.code != "InvalidSignatureException" || !strings.HasPrefix(a.msg, map[bool]string{true: "Signature expired", false: "Signature not yet current"}[skew < 0]) {
			t.Errorf("signed %v from now: %+v", skew, a)
		}
	}

	// Unsigned.
	req, _ := http.NewRequest(http.MethodPost, l.endpoint()+"/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "Logs_20140328.DescribeLogGroups")
	if a := send(t, req); a.status != 403 || a.code != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %+v", a)
	}
	if strings.Contains(l.log.String(), goodSecret) {
		t.Error("lookout logged the secret")
	}
}

// TestSignaturesFromPythonAndCLI: boto3 (CloudWatch Logs and STS) and the AWS CLI sign with
// the configured pair and are let in; with a wrong secret they get InvalidSignatureException.
func TestSignaturesFromPythonAndCLI(t *testing.T) {
	python, cli := testtool.Path(t, "python3", "this test runs python3"), testtool.Path(t, "aws", "this test runs aws")
	l := verifying(t)
	env := func(secret string) []string {
		return append(awsEnv(l), "AWS_ACCESS_KEY_ID="+goodKey, "AWS_SECRET_ACCESS_KEY="+secret)
	}
	const script = `
import json, sys, boto3, botocore.exceptions
out = {}
try:
    out["groups"] = len(boto3.client("logs").describe_log_groups()["logGroups"])
    out["account"] = boto3.client("sts").get_caller_identity()["Account"]
except botocore.exceptions.ClientError as e:
    out["error"] = e.response["Error"]["Code"]
json.dump(out, sys.stdout)
`
	for _, c := range []struct{ secret, want string }{
		{goodSecret, `{"groups": 0, "account": "000000000000"}`},
		{"wrong", `{"error": "InvalidSignatureException"}`},
	} {
		cmd := exec.Command(python, "-c", script)
		cmd.Env = env(c.secret)
		if got := string(run(t, cmd)); got != c.want {
			t.Errorf("boto3 with secret %q: %s, want %s", c.secret, got, c.want)
		}
	}

	cmd := exec.Command(cli, "--endpoint-url", l.endpoint(), "logs", "create-log-group", "--log-group-name", "from-cli")
	cmd.Env = env(goodSecret)
	run(t, cmd)
	cmd = exec.Command(cli, "--endpoint-url", l.endpoint(), "logs", "create-log-group", "--log-group-name", "refused")
	cmd.Env = env("wrong")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "InvalidSignatureException") {
		t.Errorf("aws CLI with a wrong secret: %v\n%s", err, out)
	}
}
