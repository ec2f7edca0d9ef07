package cwlogs

import (
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"lookout/internal/aws"
)

// STS GetCallerIdentity, in STS's query protocol (a form, answered in XML). watchtower calls
// it to build the ARN it tags its log group by; with a global AWS_ENDPOINT_URL the call comes
// here.

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// isForm reports a request in the query protocol: a form body, or a presigned GET.
func isForm(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded" || r.URL.Query().Get("Action") != ""
}

type stsIdentity struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	NS      string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type stsError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	NS      string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func (h *Handler) serveSTS(w http.ResponseWriter, r *http.Request) {
	requestID := aws.RequestID(r.Context())
	fail := func(e *aws.Error) {
		out := stsError{NS: stsNamespace, RequestID: requestID}
		out.Error.Type, out.Error.Code, out.Error.Message = "Sender", e.Code, e.Message
		writeXML(w, e.Status, out)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		fail(aws.Errorf(http.StatusBadRequest, "MalformedInput", "the request body is too large"))
		return
	}
	keyID, _, aerr := h.verify(r, body)
	if aerr != nil {
		fail(aerr)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		fail(aws.Errorf(http.StatusBadRequest, "MalformedInput", "the request body is not a form"))
		return
	}
	action := form.Get("Action")
	if action == "" {
		action = r.URL.Query().Get("Action")
	}
	if action != "GetCallerIdentity" {
		fail(aws.Errorf(http.StatusBadRequest, "InvalidAction", "lookout answers only the STS action GetCallerIdentity, not %q", truncate(action, 100)))
		return
	}
	out := stsIdentity{NS: stsNamespace, RequestID: requestID}
	if keyID == "" {
		keyID = "anonymous"
	}
	out.Result.Arn, out.Result.UserID, out.Result.Account = "arn:aws:iam::"+account+":user/lookout", keyID, account
	writeXML(w, http.StatusOK, out)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	b, _ := xml.Marshal(v) // fixed structs of strings: cannot fail
	b = append([]byte(xml.Header), b...)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
