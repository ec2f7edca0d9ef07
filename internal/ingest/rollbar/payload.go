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
	"unicode/utf8"
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
	AccessToken string         // top-level access_token, if sent
	Data        map[string]any // numbers as json.Number
}

// DecodePayload reads an item request body: JSON, or a form whose one field "payload" holds
// the JSON. It refuses with 400 what is not UTF-8 JSON within maxDepth, and with 422 a body
// without a data object.
func DecodePayload(body []byte, form bool) (Payload, error) {
	if form {
		values, err := url.ParseQuery(string(body))
		if err != nil || !values.Has("payload") {
			return Payload{}, badRequest("no payload found: send JSON, or a form with a payload field")
		}
		body = []byte(values.Get("payload"))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return Payload{}, badRequest("no JSON payload found")
	}
	if !utf8.Valid(body) {
		return Payload{}, badRequest("payload is not valid UTF-8")
	}
	if err := checkDepth(body); err != nil {
		return Payload{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return Payload{}, badRequest("payload could not be decoded as JSON: %v", err)
	}
	if dec.More() {
		return Payload{}, badRequest("payload could not be decoded as JSON: data after the object")
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return Payload{}, invalid("payload must be a JSON object")
	}
	var p Payload
	if tok, ok := obj["access_token"].(string); ok {
		p.AccessToken = tok
	}
	switch data := obj["data"].(type) {
	case map[string]any:
		p.Data = data
	case nil:
		return p, invalid("payload has no data object")
	default:
		return p, invalid("data must be an object")
	}
	return p, nil
}

// checkDepth refuses JSON nested deeper than maxDepth, before it is decoded.
func checkDepth(b []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > maxDepth {
				return badRequest("payload nests arrays and objects more than %d levels deep", maxDepth)
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return nil
}
