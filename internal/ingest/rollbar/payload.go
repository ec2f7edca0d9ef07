// Package rollbar is lookout's Rollbar API: the Item API that Rollbar's SDKs post errors and
// messages to (rollbar-go, rollbar.js, pyrollbar), the Deploy API, and the subset of the Read
// API that tools use, all answered in Rollbar's own shapes.
package rollbar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
)

// Error is a refusal in Rollbar's shape: {"err": 1, "message": Msg} with Status.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Msg: fmt.Sprintf(format, args...)}
}

// maxDepth is how deeply a payload's arrays and objects may nest. Real payloads stay far
// below it (locals are shortened by the SDKs); it keeps a crafted one from costing more than
// its size.
const maxDepth = 64

// Payload is a decoded item request body.
type Payload struct {
	AccessToken string // top-level access_token, if sent
	Data        []byte // the data object as sent
	Item        item   // what lookout reads of it
}

// DecodePayload reads an item request body: JSON, or a form whose one field "payload" holds
// the JSON. It refuses with 400 what is not UTF-8 JSON within maxDepth, and with 422 a body
// without a data object or whose data has a wrong type where lookout needs one.
func DecodePayload(body []byte, form bool) (Payload, error) {
	if form {
		values, err := url.ParseQuery(string(body))
		if err != nil || !values.Has("payload") {
			return Payload{}, badRequest("no payload found: send JSON, or a form with a payload field")
		}
		body = []byte(values.Get("payload"))
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return Payload{}, badRequest("no JSON payload found")
	}
	if !utf8.Valid(body) {
		return Payload{}, badRequest("payload is not valid UTF-8")
	}
	_, ms, isObject := members(body, 0)
	if err := checkDepth(body, ms, isObject); err != nil {
		return Payload{}, err
	}
	top, err := decodeDocument(body)
	if err != nil {
		return Payload{}, err
	}
	if !isObject {
		return Payload{}, invalid("payload must be a JSON object")
	}
	data, ok := lastMember(ms, "data")
	if !ok || string(body[data.from:data.to]) == "null" {
		return Payload{}, invalid("payload has no data object")
	}
	for _, m := range ms { // the decoder takes "Data" or "d\u0061ta" for data too: one is enough
		if m.from != data.from && isDataKey(m.key) {
			return Payload{}, badRequest("payload has more than one data member")
		}
	}
	p := Payload{AccessToken: string(top.AccessToken), Data: body[data.from:data.to], Item: top.Data}
	for _, tr := range p.Item.traces() {
		for i := range tr.Frames {
			tr.Frames[i].sent = i
		}
	}
	return p, nil
}

// document is what lookout decodes of an item request body.
type document struct {
	AccessToken text `json:"access_token"`
	Data        item `json:"data"`
}

// decodeDocument decodes a body that is UTF-8 and nests within maxDepth. go-json decodes as
// encoding/json does, at under half its cost, but words its errors otherwise: a body it
// refuses, or may decode otherwise (mayEmptyAList), is decoded by encoding/json, whose
// answer stands (decodeError).
func decodeDocument(body []byte) (document, error) {
	var doc document
	if !mayEmptyAList(body) && gojson.Unmarshal(body, &doc) == nil {
		return doc, nil
	}
	doc = document{}
	if err := json.Unmarshal(body, &doc); err != nil {
		return doc, decodeError(body, err)
	}
	return doc, nil
}

// mayEmptyAList reports whether the body may set one of document's lists to an empty one and
// name it again, where go-json and encoding/json part: go-json decodes the elements named
// next into the ones it kept behind the empty list, encoding/json into new ones. It errs
// towards yes.
func mayEmptyAList(body []byte) bool {
	for i := 0; ; i++ {
		at := bytes.IndexByte(body[i:], '[')
		if at < 0 {
			return false
		}
		i += at
		if end := skipSpace(body, i+1); end == len(body) || body[end] != ']' {
			continue
		}
		if list, ok := listNamed(body[:i]); ok && (list == "" || namedAgain(body, list)) {
			return true
		}
	}
}

// listFields are the names of document's lists.
var listFields = []string{"attributes", "trace_chain", "frames"}

// listNamed reports whether the bytes before a value may end with the name of one of
// document's lists and its colon, and which ("" when its spelling hides it).
func listNamed(before []byte) (list string, ok bool) {
	name, ok := bytes.CutSuffix(bytes.TrimRight(before, " \t\n\r"), []byte(":"))
	if !ok {
		return "", false // an element of a list: document has no lists of lists
	}
	if name, ok = bytes.CutSuffix(bytes.TrimRight(name, " \t\n\r"), []byte(`"`)); !ok {
		return "", false // not JSON
	}
	name = name[bytes.LastIndexByte(name, '"')+1:]
	if hidesName(name) {
		return "", true
	}
	for _, field := range listFields {
		if strings.EqualFold(string(name), field) {
			return field, true
		}
	}
	return "", false
}

// namedAgain reports whether the body may name list more than once: written in any case,
// or in a spelling that hides it.
func namedAgain(body []byte, list string) bool {
	if hidesName(body) {
		return true
	}
	seen := 0
	for i := 0; ; i++ {
		at := bytes.IndexByte(body[i:], '"')
		if at < 0 {
			return false
		}
		i += at
		if end := i + 1 + len(list); end < len(body) && body[end] == '"' && strings.EqualFold(string(body[i+1:end]), list) {
			if seen++; seen > 1 {
				return true
			}
		}
	}
}

// hidesName reports whether b has a \u escape or a byte beyond ASCII, with which a name can
// be spelled that a decoder matches to another.
func hidesName(b []byte) bool {
	return bytes.Contains(b, []byte(`\u`)) || bytes.ContainsFunc(b, func(r rune) bool { return r >= utf8.RuneSelf })
}

// decodeError is the refusal of a payload the decoder could not read into an item, or nil.
// Values of the wrong type where lookout needs their type (strictTypes) are refused with 422,
// others read as absent; the decoder names only the first wrong type of any field, so it
// looks again at the strict ones alone.
func decodeError(body []byte, err error) error {
	if _, ok := err.(*json.UnmarshalTypeError); ok {
		var strict struct {
			Data strictTypes `json:"data"`
		}
		err = json.Unmarshal(body, &strict)
		if err == nil {
			return nil
		}
	}
	switch te, _ := err.(*json.UnmarshalTypeError); {
	case te != nil && te.Field == "":
		return invalid("payload must be a JSON object")
	case te != nil && te.Field == "data":
		return invalid("data must be an object")
	case te != nil:
		return invalid("%s: found a JSON %s where %s is required", te.Field, te.Value, kind(te.Type))
	case json.Valid(body[:skipValue(body, 0)]):
		return badRequest("payload could not be decoded as JSON: data after the object")
	}
	return badRequest("payload could not be decoded as JSON: %v", err)
}

// isDataKey reports whether an object's key, as written, names data in any case.
func isDataKey(key []byte) bool {
	var s string
	return json.Unmarshal(key, &s) == nil && strings.EqualFold(s, "data")
}

// checkDepth refuses a payload nested deeper than maxDepth, before it is decoded; ms are
// its members when it is an object. JSON that is not valid is left to the decoder, whose own
// first pass refuses it without nesting further than its own limit.
func checkDepth(body []byte, ms []member, isObject bool) error {
	depth := 0
	if isObject {
		for _, m := range ms {
			depth = max(depth, 1+m.depth)
		}
	} else {
		_, depth = nesting(body, 0)
	}
	if depth > maxDepth {
		return badRequest("payload nests arrays and objects more than %d levels deep", maxDepth)
	}
	return nil
}
