package aws

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Credentials maps access key ids to their secret keys.
type Credentials map[string]string

// LoadCredentials reads a credentials file: one "ACCESS_KEY_ID SECRET_ACCESS_KEY" pair a line;
// blank lines and lines starting with # are skipped.
func LoadCredentials(path string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	creds := Credentials{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want an access key id and its secret, separated by a space", path, n)
		}
		creds[fields[0]] = fields[1]
	}
	return creds, sc.Err()
}

// Verifier checks AWS Signature Version 4 on requests, as AWS does: the client's own list of
// signed headers, the body's hash, and a clock skew bound.
type Verifier struct {
	// Credentials are the key pairs requests must be signed with. Nil accepts any signature,
	// and unsigned requests, as LocalStack and moto do: tutorials use dummy keys.
	Credentials Credentials
	// MaxSkew is how far a request's time may be from now; 0 means 5 minutes, as AWS allows.
	MaxSkew time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

const (
	algorithm       = "AWS4-HMAC-SHA256"
	amzDateFormat   = "20060102T150405Z"
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// signature is what a request says of its signing, from its Authorization header or, for a
// presigned URL, its query.
type signature struct {
	accessKeyID, date, region, service string
	signedHeaders                      []string
	signature                          string
	amzDate                            string // X-Amz-Date, or the Date header in that form
	presigned                          bool
	expires                            time.Duration // presigned only
}

var errNotSigned = errors.New("not signed")

// Verify checks r's signature over body and returns the access key id it was signed with
// ("" for an unsigned request, which only an open Verifier accepts). An open Verifier only
// reads the access key id.
func (v *Verifier) Verify(r *http.Request, body []byte) (string, *Error) {
	sig, err := parseSignature(r)
	if v.Credentials == nil {
		return sig.accessKeyID, nil
	}
	switch {
	case errors.Is(err, errNotSigned):
		return "", Errorf(http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
	case err != nil:
		return "", Errorf(http.StatusBadRequest, "IncompleteSignatureException", "%v", err)
	}
	secret, ok := v.Credentials[sig.accessKeyID]
	if !ok {
		return "", Errorf(http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	if e := v.checkTime(sig); e != nil {
		return "", e
	}
	payloadHash, e := payloadHash(r, body, sig.presigned)
	if e != nil {
		return "", e
	}
	want := sign(secret, sig, canonicalRequest(r, sig, payloadHash))
	if !hmac.Equal([]byte(want), []byte(sig.signature)) {
		return "", Errorf(http.StatusBadRequest, "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return sig.accessKeyID, nil
}

// checkTime refuses a request signed too far from now (or a presigned URL past its expiry),
// in AWS's words.
func (v *Verifier) checkTime(sig signature) *Error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.MaxSkew
	if skew == 0 {
		skew = 5 * time.Minute
	}
	t, err := time.Parse(amzDateFormat, sig.amzDate)
	if err != nil || !strings.HasPrefix(sig.amzDate, sig.date) {
		return Errorf(http.StatusBadRequest, "IncompleteSignatureException", "the request time %q is not a valid X-Amz-Date matching the credential's date", sig.amzDate)
	}
	n := now().UTC()
	if sig.presigned {
		if n.After(t.Add(sig.expires)) {
			return Errorf(http.StatusForbidden, "AccessDeniedException", "Request has expired")
		}
		return nil
	}
	switch {
	case t.Before(n.Add(-skew)):
		return Errorf(http.StatusBadRequest, "InvalidSignatureException", "Signature expired: %s is now earlier than %s (%s - %s.)",
			sig.amzDate, n.Add(-skew).Format(amzDateFormat), n.Format(amzDateFormat), shortDuration(skew))
	case t.After(n.Add(skew)):
		return Errorf(http.StatusBadRequest, "InvalidSignatureException", "Signature not yet current: %s is still later than %s (%s + %s.)",
			sig.amzDate, n.Add(skew).Format(amzDateFormat), n.Format(amzDateFormat), shortDuration(skew))
	}
	return nil
}

// shortDuration renders a skew as AWS's messages do ("5 min").
func shortDuration(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return d.String()
}

// parseSignature reads the Authorization header, or a presigned URL's query.
func parseSignature(r *http.Request) (signature, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		return parseAuthorization(auth, r)
	}
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") == "" {
		return signature{}, errNotSigned
	}
	if q.Get("X-Amz-Algorithm") != algorithm {
		return signature{}, fmt.Errorf("unsupported algorithm %q", q.Get("X-Amz-Algorithm"))
	}
	sig := signature{presigned: true, amzDate: q.Get("X-Amz-Date"), signature: q.Get("X-Amz-Signature")}
	if err := sig.setCredential(q.Get("X-Amz-Credential")); err != nil {
		return sig, err
	}
	sig.signedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || secs < 1 || secs > 7*24*3600 {
		return sig, fmt.Errorf("X-Amz-Expires must be between 1 and 604800 seconds")
	}
	sig.expires = time.Duration(secs) * time.Second
	return sig, sig.complete()
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
func parseAuthorization(auth string, r *http.Request) (signature, error) {
	alg, rest, _ := strings.Cut(auth, " ")
	if alg != algorithm {
		return signature{}, fmt.Errorf("unsupported authorization algorithm %q", alg)
	}
	var sig signature
	for _, part := range strings.Split(rest, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			if err := sig.setCredential(val); err != nil {
				return sig, err
			}
		case "SignedHeaders":
			sig.signedHeaders = strings.Split(val, ";")
		case "Signature":
			sig.signature = val
		}
	}
	sig.amzDate = r.Header.Get("X-Amz-Date")
	if sig.amzDate == "" {
		if t, err := http.ParseTime(r.Header.Get("Date")); err == nil {
			sig.amzDate = t.UTC().Format(amzDateFormat)
		}
	}
	return sig, sig.complete()
}

// setCredential reads "AKID/yyyymmdd/region/service/aws4_request".
func (s *signature) setCredential(c string) error {
	parts := strings.Split(c, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || parts[0] == "" {
		return fmt.Errorf("the credential %q is not ACCESS_KEY_ID/DATE/REGION/SERVICE/aws4_request", c)
	}
	s.accessKeyID, s.date, s.region, s.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

func (s *signature) complete() error {
	switch {
	case s.accessKeyID == "":
		return errors.New("the signature names no credential")
	case len(s.signedHeaders) == 0 || s.signedHeaders[0] == "" || !slices.Contains(s.signedHeaders, "host"):
		return errors.New("the signature must sign the host header")
	case len(s.signature) != 64:
		return errors.New("the signature is not 64 hex digits")
	}
	return nil
}

// payloadHash is the body's hash as the signature covers it: the client's X-Amz-Content-Sha256
// when it sent one (checked against the body), UNSIGNED-PAYLOAD for a presigned URL, else the
// hash of the body.
func payloadHash(r *http.Request, body []byte, presigned bool) (string, *Error) {
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	claimed := r.Header.Get("X-Amz-Content-Sha256")
	if claimed == "" && presigned {
		claimed = r.URL.Query().Get("X-Amz-Content-Sha256")
	}
	switch {
	case claimed == "" && presigned:
		return unsignedPayload, nil
	case claimed == "":
		return actual, nil
	case claimed == unsignedPayload && presigned:
		return claimed, nil
	case claimed != actual:
		return "", Errorf(http.StatusBadRequest, "InvalidSignatureException", "The provided X-Amz-Content-Sha256 header does not match what was computed.")
	}
	return claimed, nil
}

// canonicalRequest builds the request as SigV4 signs it.
func canonicalRequest(r *http.Request, sig signature, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(uriEncode(path, false) + "\n") // services other than S3 encode the path twice
	b.WriteString(canonicalQuery(r, sig.presigned) + "\n")
	for _, name := range sig.signedHeaders {
		b.WriteString(name + ":" + headerValue(r, name) + "\n")
	}
	b.WriteString("\n" + strings.Join(sig.signedHeaders, ";") + "\n")
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalQuery sorts the query by key and value, each URI-encoded; a presigned URL's own
// signature is left out.
func canonicalQuery(r *http.Request, presigned bool) string {
	var pairs []string
	for k, vs := range r.URL.Query() {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k, true)+"="+uriEncode(v, true))
		}
	}
	slices.Sort(pairs)
	return strings.Join(pairs, "&")
}

// headerValue is a signed header's value as SigV4 has it: values trimmed, inner runs of
// spaces made one, repeats joined with commas. Host is the host the request was sent to.
func headerValue(r *http.Request, name string) string {
	var values []string
	switch name {
	case "host":
		values = []string{r.Host}
	case "content-length":
		values = []string{strconv.FormatInt(r.ContentLength, 10)} // the server moves it out of the header
	default:
		values = r.Header.Values(name)
	}
	for i, v := range values {
		values[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(values, ",")
}

// sign returns the signature of a canonical request with the secret.
func sign(secret string, sig signature, canonical string) string {
	scope := sig.date + "/" + sig.region + "/" + sig.service + "/aws4_request"
	sum := sha256.Sum256([]byte(canonical))
	toSign := algorithm + "\n" + sig.amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+secret), sig.date)
	for _, part := range []string{sig.region, sig.service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// uriEncode encodes every byte but the unreserved ones (A-Z a-z 0-9 - _ . ~), and slashes
// unless encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
