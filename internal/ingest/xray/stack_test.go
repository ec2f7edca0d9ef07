package xray

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"lookout/internal/telemetry"
)

// TestParseStack reads the stack traces OpenTelemetry's SDKs record, as each language prints
// them, into X-Ray's frames, innermost first.
func TestParseStack(t *testing.T) {
	for name, c := range map[string]struct{ text, want string }{
		"java": {"java.lang.IllegalStateException: no stock\n" +
			"\tat com.shop.Orders.reserve(Orders.java:42)\n" +
			"\tat com.shop.Api.handle(Api.java:17)\n" +
			"\tat java.base/java.lang.Thread.run(Native Method)",
			"com.shop.Orders.reserve Orders.java:42 | com.shop.Api.handle Api.java:17 | java.base/java.lang.Thread.run Native Method:0"},
		"python": {"Traceback (most recent call last):\n" +
			"  File \"/app/app.py\", line 88, in home\n" +
			"    return activities()\n" +
			"  File \"/app/services/home.py\", line 12, in activities\n" +
			"    raise KeyError('handle')\n" +
			"KeyError: 'handle'",
			"activities /app/services/home.py:12 | home /app/app.py:88"},
		"node": {"TypeError: Cannot read properties of undefined (reading 'id')\n" +
			"    at Object.handler (/srv/app/routes.js:31:18)\n" +
			"    at /srv/app/node_modules/express/lib/router/layer.js:95:5\n" +
			"    at async Promise.all (index 0)",
			"Object.handler /srv/app/routes.js:31 |  /srv/app/node_modules/express/lib/router/layer.js:95"},
		"go": {"goroutine 7 [running]:\n" +
			"main.charge(0xc000012345)\n" +
			"\t/src/cruddur/pay.go:57 +0x1d\n" +
			"main.main()\n" +
			"\t/src/cruddur/main.go:12 +0x25\n",
			"main.charge /src/cruddur/pay.go:57 | main.main /src/cruddur/main.go:12"},
		"a message only": {"something failed", ""},
	} {
		frames, truncated := parseStack(c.text)
		var got []string
		for _, f := range frames {
			got = append(got, fmt.Sprintf("%s %s:%d", f.label, f.path, f.line))
		}
		if s := strings.Join(got, " | "); s != c.want || truncated != 0 {
			t.Errorf("%s: %q (%d truncated), want %q", name, s, truncated, c.want)
		}
	}
	var long strings.Builder
	for i := range maxStackFrames + 7 {
		fmt.Fprintf(&long, "\tat f%d(F.java:%d)\n", i, i+1)
	}
	if frames, truncated := parseStack(long.String()); len(frames) != maxStackFrames || truncated != 7 || frames[0].label != "f0" {
		t.Errorf("%d frames, %d truncated, first %+v; want %d, 7, f0", len(frames), truncated, frames[0], maxStackFrames)
	}
}

// TestOpenTelemetryExceptionStack: an OTLP span's exception event becomes a cause with its
// stack in the span's segment document.
func TestOpenTelemetryExceptionStack(t *testing.T) {
	id := telemetry.TraceIDFromParts(5, 6)
	sp := telemetry.Span{TraceID: id, SpanID: telemetry.SpanIDFromUint64(1), Name: "GET /", Kind: telemetry.SpanKindServer,
		StartUnixNano: 1e9, EndUnixNano: 2e9, Status: telemetry.Status{Code: telemetry.StatusError},
		Resource: &telemetry.Resource{Attributes: telemetry.Attributes{{Key: telemetry.ServiceNameKey, Value: telemetry.StringValue("api")}}},
		Events: []telemetry.Event{{Name: "exception", TimeUnixNano: 1.5e9, Attributes: telemetry.Attributes{
			{Key: "exception.type", Value: telemetry.StringValue("KeyError")},
			{Key: "exception.message", Value: telemetry.StringValue("'handle'")},
			{Key: "exception.stacktrace", Value: telemetry.StringValue("Traceback (most recent call last):\n  File \"/app/app.py\", line 88, in home\n    x()\nKeyError: 'handle'")},
		}}}}
	docs := Segments([]telemetry.Span{sp})
	var doc struct {
		Cause struct {
			Exceptions []struct {
				Type, Message string
				Stack         []map[string]any
			}
		}
	}
	if len(docs) != 1 || json.Unmarshal([]byte(docs[0].Document), &doc) != nil || len(doc.Cause.Exceptions) != 1 {
		t.Fatalf("segments = %v", docs)
	}
	e := doc.Cause.Exceptions[0]
	if got := fmt.Sprint(e.Type, " ", e.Message, " ", e.Stack); got != "KeyError 'handle' [map[label:home line:88 path:/app/app.py]]" {
		t.Errorf("exception = %s", got)
	}
}

// FuzzParseStack: any text gives at most maxStackFrames frames, each from a line of it.
func FuzzParseStack(f *testing.F) {
	f.Add("\tat a.b(C.java:1)\n  File \"x.py\", line 2, in f\n    at g (/h.js:3:4)\nmain.f()\n\t/m.go:5 +0x1")
	f.Add("goroutine 1 [running]:\n\t/x.go:1")
	f.Fuzz(func(t *testing.T, text string) {
		frames, truncated := parseStack(text)
		if len(frames) > maxStackFrames || truncated < 0 || truncated > 0 && len(frames) != maxStackFrames {
			t.Fatalf("%d frames, %d truncated", len(frames), truncated)
		}
		for _, fr := range frames {
			if !strings.Contains(text, fr.path) || fr.line < 0 {
				t.Fatalf("frame %+v is not of the text", fr)
			}
		}
	})
}
