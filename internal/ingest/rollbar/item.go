package rollbar

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"lookout/internal/triage"
)

// item is what lookout reads of an item's data, decoded in one pass; the rest of the report
// is kept as it was sent. The parts grouping reads (body) and the uuid must have their types
// or the item is refused (strictTypes); elsewhere a value of another type than expected
// reads as absent, and text fields take numbers too.
type item struct {
	Body        *body           `json:"body"`
	UUID        *string         `json:"uuid"`
	Environment text            `json:"environment"`
	Level       text            `json:"level"`
	Timestamp   json.RawMessage `json:"timestamp"`
	CodeVersion text            `json:"code_version"`
	Platform    text            `json:"platform"`
	Framework   text            `json:"framework"`
	Context     text            `json:"context"`
	Language    text            `json:"language"`
	Fingerprint text            `json:"fingerprint"`
	Title       text            `json:"title"`
	Server      struct {
		Host        text `json:"host"`
		Root        text `json:"root"`
		CodeVersion text `json:"code_version"`
	} `json:"server"`
	Client struct {
		JavaScript struct {
			CodeVersion text `json:"code_version"`
			Browser     text `json:"browser"`
		} `json:"javascript"`
	} `json:"client"`
	Person struct {
		ID text `json:"id"`
	} `json:"person"`
	Request struct {
		UserIP  *string         `json:"user_ip"`
		Headers map[string]text `json:"headers"`
	} `json:"request"`
	Notifier struct {
		Name text `json:"name"`
	} `json:"notifier"`
	Attributes []struct {
		Key   text `json:"key"`
		Value text `json:"value"`
	} `json:"attributes"`
	Custom struct {
		TraceID     text `json:"trace_id"`
		SpanID      text `json:"span_id"`
		OtelTraceID text `json:"otel_trace_id"`
		OtelSpanID  text `json:"otel_span_id"`
		TraceIDJS   text `json:"traceId"`
		SpanIDJS    text `json:"spanId"`
	} `json:"custom"`
}

// body is data.body: one of its four kinds.
type body struct {
	TraceChain  []trace `json:"trace_chain"`
	Trace       *trace  `json:"trace"`
	CrashReport *struct {
		Raw *string `json:"raw"`
	} `json:"crash_report"`
	Message *struct {
		Body *string `json:"body"`
	} `json:"message"`
}

type trace struct {
	Exception *struct {
		Class       *string `json:"class"`
		Message     text    `json:"message"`
		Description text    `json:"description"`
	} `json:"exception"`
	Frames []frame `json:"frames"`
}

type frame struct {
	Filename string `json:"filename"`
	Method   string `json:"method"`
	Lineno   text   `json:"lineno"`
	sent     int    // the frame's index in the list as sent
}

// strictTypes is the part of item whose values must have their types (see decodeError).
type strictTypes struct {
	Body *body   `json:"body"`
	UUID *string `json:"uuid"`
}

// kind names a Go type of item as JSON.
func kind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Pointer:
		return "an object"
	}
	return "a string"
}

// traces are the body's traces, outermost first.
func (it *item) traces() []*trace {
	switch {
	case it.Body == nil:
		return nil
	case it.Body.TraceChain != nil:
		out := make([]*trace, len(it.Body.TraceChain))
		for i := range it.Body.TraceChain {
			out[i] = &it.Body.TraceChain[i]
		}
		return out
	case it.Body.Trace != nil:
		return []*trace{it.Body.Trace}
	}
	return nil
}

// text is a JSON string, or a number as it was written; other values read as "".
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	switch c := b[0]; {
	case c == '"' && bytes.IndexByte(b, '\\') < 0:
		*t = text(b[1 : len(b)-1]) // the decoder has checked it, and the payload is UTF-8
	case c == '"':
		var s string
		err := json.Unmarshal(b, &s)
		*t = text(s)
		return err
	case c == '-' || '0' <= c && c <= '9':
		*t = text(b)
	}
	return nil
}

// field is the text trimmed and cut to maxField bytes, as lookout indexes it.
func (t text) field() string { return triage.Truncate(strings.TrimSpace(string(t)), maxField) }
