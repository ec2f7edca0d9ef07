package spanerrors

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"lookout/internal/telemetry"
	"lookout/internal/triage"
)

func fr(file, method string) triage.Frame { return triage.Frame{Filename: file, Method: method} }

func TestParseStack(t *testing.T) {
	cases := []struct {
		name, stack string
		want        []triage.Frame // most recent call last
	}{
		{"python", "Traceback (most recent call last):\n  File \"/srv/app/app.py\", line 12, in home\n    return load()\n  File \"/srv/app/db.py\", line 3, in load\n    raise KeyError('id')\nKeyError: 'id'\n",
			[]triage.Frame{fr("/srv/app/app.py", "home"), fr("/srv/app/db.py", "load")}},
		{"javascript", "TypeError: x is undefined\n    at load (/app/db.js:3:9)\n    at home (/app/server.js:12:5)\n    at /app/server.js:40:3\n",
			[]triage.Frame{fr("/app/server.js", ""), fr("/app/server.js", "home"), fr("/app/db.js", "load")}},
		{"java", "java.lang.IllegalStateException: boom\n\tat com.shop.Cart.load(Cart.java:42)\n\tat com.shop.Api.handle(Api.java:7)\n",
			[]triage.Frame{fr("Api.java", "com.shop.Api.handle"), fr("Cart.java", "com.shop.Cart.load")}},
		{"go", "goroutine 1 [running]:\nmain.load(...)\n\t/src/shop/db.go:3 +0x1d\nmain.home()\n\t/src/shop/main.go:12 +0x25\n",
			[]triage.Frame{fr("/src/shop/main.go", "main.home"), fr("/src/shop/db.go", "main.load")}},
		{"not a stack", "something went wrong", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ParseStack(c.stack); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func exceptionSpan(span byte, class, stack string) telemetry.Span {
	return telemetry.Span{TraceID: telemetry.TraceIDFromParts(1, 2), SpanID: telemetry.SpanIDFromUint64(uint64(span)), Name: "GET /home",
		StartUnixNano: 1_800_000_000_000_000_000,
		Resource: &telemetry.Resource{Attributes: telemetry.Attributes{{Key: "service.name", Value: telemetry.StringValue("shop")},
			{Key: "deployment.environment.name", Value: telemetry.StringValue("staging")}}},
		Events: []telemetry.Event{{Name: "log"}, {Name: "exception", TimeUnixNano: 1_800_000_000_000_000_001, Attributes: telemetry.Attributes{
			{Key: "exception.type", Value: telemetry.StringValue(class)}, {Key: "exception.message", Value: telemetry.StringValue("id 42")},
			{Key: "exception.stacktrace", Value: telemetry.StringValue(stack)}}}}}
}

func TestOccurrences(t *testing.T) {
	here := "Traceback (most recent call last):\n  File \"/srv/app/app.py\", line 12, in home\n"
	moved := "Traceback (most recent call last):\n  File \"/srv/app/app.py\", line 99, in home\n"
	occs := Occurrences([]telemetry.Span{exceptionSpan(1, "KeyError", here), exceptionSpan(2, "KeyError", moved), exceptionSpan(3, "ValueError", here), {Name: "plain"}})
	if len(occs) != 3 {
		t.Fatalf("%d occurrences, want one per exception event", len(occs))
	}
	o := occs[0]
	if o.Project != "shop" || o.Environment != "staging" || o.Title != "KeyError: id 42" || o.Class != "KeyError" || o.UUID != "otel-00000000000000010000000000000002-0000000000000001-1" ||
		o.TraceID != telemetry.TraceIDFromParts(1, 2) || o.SpanID != telemetry.SpanIDFromUint64(1) || o.TimeUnixNano != 1_800_000_000_000_000_001 || o.Context != "GET /home" {
		t.Errorf("occurrence %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Error(err)
	}
	if occs[1].Fingerprint != o.Fingerprint {
		t.Error("the same exception from another line made another item")
	}
	if occs[2].Fingerprint == o.Fingerprint {
		t.Error("another class made the same item")
	}
	// The report keeps the stack trace as sent, and names none when none came.
	custom := func(o telemetry.Occurrence) map[string]string {
		var d struct{ Custom map[string]string }
		if err := json.Unmarshal([]byte(o.Data), &d); err != nil {
			t.Fatal(err)
		}
		return d.Custom
	}
	if st, ok := custom(o)["stacktrace"]; st != here || !ok {
		t.Errorf("stacktrace %q, want %q", st, here)
	}
	if st, ok := custom(Occurrences([]telemetry.Span{exceptionSpan(1, "KeyError", "")})[0])["stacktrace"]; ok {
		t.Errorf("an exception without a stack trace reports stacktrace %q", st)
	}
}

// FuzzParseStack: no stack trace text may panic, and each frame comes from a line of its own.
func FuzzParseStack(f *testing.F) {
	f.Add("Traceback (most recent call last):\n  File \"/a.py\", line 1, in f\n")
	f.Add("E\n    at f (/a.js:1:2)\n\tat a.B.c(B.java:3)\n")
	f.Add("goroutine 1 [running]:\nmain.f()\n\t/a.go:1 +0x1\n")
	f.Fuzz(func(t *testing.T, s string) {
		if frames := ParseStack(s); len(frames) > strings.Count(s, "\n")+1 {
			t.Fatalf("%d frames from %d lines", len(frames), strings.Count(s, "\n")+1)
		}
	})
}
