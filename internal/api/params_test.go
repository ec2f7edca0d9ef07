package api

import (
	"maps"
	"net/http"
	"net/url"
	"testing"
	"time"

	"lookout/internal/store"
	"lookout/internal/telemetry"
)

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"0":        0,
		"1.2s":     1200 * time.Millisecond,
		"100ms":    100 * time.Millisecond,
		"50us":     50 * time.Microsecond,
		"50µs":     50 * time.Microsecond,
		"7ns":      7,
		"1h30m":    90 * time.Minute,
		"2d":       48 * time.Hour,
		"1.5d":     36 * time.Hour,
		"1w":       168 * time.Hour,
		"1d12h":    36 * time.Hour,
		".5s":      500 * time.Millisecond,
		"2562047h": 2562047 * time.Hour, // about the largest a time.Duration holds
	}
	for in, want := range good {
		got, err := parseDuration(in)
		if err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "5", "-1s", "+1s", "1x", "ms", "1.2.3s", "s1", "1e3s", "110000d", "2562048h", "3000000h", "1h 2m", "NaNd", "Infd"} {
		if got, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", in, got)
		}
	}
}

func TestTraceSearchParams(t *testing.T) {
	// Times are unix microseconds: 1700000000000000 µs is 1700000000 s (testNow).
	tests := []struct {
		name  string
		query string
		want  store.TraceQuery
	}{
		{
			name:  "defaults",
			query: "",
			want:  store.TraceQuery{Limit: 20},
		},
		{
			name: "Grafana",
			query: "service=frontend&operation=GET+%2Fcheckout&tags=" + url.QueryEscape(`{"http.status_code":"500","error":"true"}`) +
				"&minDuration=1.2s&maxDuration=2s&limit=50",
			want: store.TraceQuery{
				Service: "frontend", Operation: "GET /checkout",
				Attributes:  map[string]string{"http.status_code": "500", "error": "true"},
				MinDuration: 1200 * time.Millisecond, MaxDuration: 2 * time.Second, Limit: 50,
			},
		},
		{
			name: "Jaeger UI",
			query: "service=frontend&start=1699996400000000&end=1700000000000001&lookback=1h&limit=20" +
				"&minDuration=50us&maxDuration=1.5s&tag=http.url:http://x:80/y&tag=error:true",
			want: store.TraceQuery{
				Service:     "frontend",
				Attributes:  map[string]string{"http.url": "http://x:80/y", "error": "true"},
				MinDuration: 50 * time.Microsecond, MaxDuration: 1500 * time.Millisecond,
				Start: time.Unix(1_699_996_400, 0), End: time.Unix(1_700_000_000, 1000),
				Limit: 20,
			},
		},
		{
			name:  "lookback from now",
			query: "lookback=2d",
			want:  store.TraceQuery{Start: testNow.Add(-48 * time.Hour), Limit: 20},
		},
		{
			name:  "lookback from end",
			query: "end=1700000000000000&lookback=1h",
			want:  store.TraceQuery{Start: time.Unix(1_699_996_400, 0), End: testNow, Limit: 20},
		},
		{
			name:  "custom lookback",
			query: "start=1&lookback=custom",
			want:  store.TraceQuery{Start: time.Unix(0, 1000), Limit: 20},
		},
		{
			name:  "tag and tags agree",
			query: "tag=a:1&tags=" + url.QueryEscape(`{"a":"1","b":""}`),
			want:  store.TraceQuery{Attributes: map[string]string{"a": "1", "b": ""}, Limit: 20},
		},
		{name: "limit 0 is the default", query: "limit=0", want: store.TraceQuery{Limit: 20}},
		{name: "limit capped", query: "limit=100000", want: store.TraceQuery{Limit: store.MaxLimit}},
		{name: "limit max", query: "limit=1500", want: store.TraceQuery{Limit: 1500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeReader()
			h, _ := server(t, f)
			code, body := get(t, h, "/api/traces?"+tt.query)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			if len(f.queries) != 1 {
				t.Fatalf("%d queries", len(f.queries))
			}
			q := f.queries[0]
			if q.Service != tt.want.Service || q.Operation != tt.want.Operation ||
				!maps.Equal(q.Attributes, tt.want.Attributes) ||
				q.MinDuration != tt.want.MinDuration || q.MaxDuration != tt.want.MaxDuration ||
				!q.Start.Equal(tt.want.Start) || !q.End.Equal(tt.want.End) || q.Limit != tt.want.Limit {
				t.Errorf("query\n got %+v\nwant %+v", q, tt.want)
			}
			if tt.want.Start.IsZero() != q.Start.IsZero() || tt.want.End.IsZero() != q.End.IsZero() {
				t.Errorf("bounds: got %v..%v want %v..%v", q.Start, q.End, tt.want.Start, tt.want.End)
			}
			wantJSON(t, "empty result", body, `{"data":[],"total":0,"limit":0,"offset":0,"errors":null}`)
		})
	}
}

func TestTraceSearchBadParams(t *testing.T) {
	bad := map[string]string{
		"minDuration=fast":                   "invalid minDuration",
		"minDuration=5":                      "invalid minDuration",
		"maxDuration=-1s":                    "invalid maxDuration",
		"minDuration=2s&maxDuration=1s":      "maxDuration must not be less than minDuration",
		"start=yesterday":                    "invalid start",
		"start=-1":                           "invalid start",
		"end=1.5":                            "invalid end",
		"end=99999999999999999":              "invalid end",
		"start=20&end=10":                    "end must not be before start",
		"lookback=forever":                   "invalid lookback",
		"lookback=0":                         "lookback must be positive",
		"limit=ten":                          "invalid limit",
		"limit=-1":                           "invalid limit",
		"tag=novalue":                        "invalid tag",
		"tag=:v":                             "tag keys must not be empty",
		"tags=" + url.QueryEscape(`{"a":1}`): "invalid tags",
		"tags=" + url.QueryEscape(`["a"]`):   "invalid tags",
		"tags=" + url.QueryEscape(`null`):    "invalid tags",
		"tags={":                             "invalid tags",
		"tag=a:1&tags=" + url.QueryEscape(`{"a":"2"}`): `tag "a" is given twice`,
		"traceID=nothex":                       "invalid trace id",
		"traceID=0000":                         "invalid trace id",
		"service=x&traceID=1&minDuration=oops": "invalid minDuration",
	}
	f := newFakeReader()
	h, _ := server(t, f)
	for query, msg := range bad {
		code, body := get(t, h, "/api/traces?"+query)
		wantError(t, query, code, body, http.StatusBadRequest, msg)
		code, body = get(t, h, "/api/v1/trace-summaries?"+query)
		wantError(t, "summaries "+query, code, body, http.StatusBadRequest, msg)
	}
	if len(f.queries) != 0 || f.traceCalls != 0 {
		t.Errorf("the store was asked %d queries and %d traces", len(f.queries), f.traceCalls)
	}

	// Echoed input is quoted and cut short.
	long := make([]byte, 500)
	for i := range long {
		long[i] = 'z'
	}
	code, body := get(t, h, "/api/traces?limit="+string(long))
	wantError(t, "long input", code, body, 400, `"zzzz`)
	if len(body) > 300 {
		t.Errorf("long input echoed in full: %d bytes", len(body))
	}
}

func TestTraceIDLookup(t *testing.T) {
	f := newFakeReader()
	a := telemetry.TraceID{15: 0xa}
	b := telemetry.TraceID{14: 0x0b, 15: 0xbb}
	for _, id := range []telemetry.TraceID{a, b} {
		f.add(telemetry.Span{TraceID: id, SpanID: telemetry.SpanID{7: 1}, Name: "op", StartUnixNano: 5000,
			EndUnixNano: 9000, Resource: &telemetry.Resource{}})
	}
	h, _ := server(t, f)
	// Short ids are left-padded; duplicates are fetched once; other filters are ignored; an
	// unknown id is reported in errors, with status 200, as Jaeger does.
	code, body := get(t, h, "/api/v1/trace-summaries?service=other&traceID=a&traceID=bbb&traceID=c&traceID=000a")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	if len(f.queries) != 0 {
		t.Errorf("FindTraceIDs called for a traceID lookup")
	}
	wantJSON(t, "lookup", body, `{"data":[
		{"traceID":"0000000000000000000000000000000a","rootService":"unknown_service","rootName":"op","services":[{"name":"unknown_service","spanCount":1,"errorCount":0}],"spanCount":1,"errorCount":0,"start":5,"duration":4},
		{"traceID":"00000000000000000000000000000bbb","rootService":"unknown_service","rootName":"op","services":[{"name":"unknown_service","spanCount":1,"errorCount":0}],"spanCount":1,"errorCount":0,"start":5,"duration":4}
	],"total":2,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found","traceID":"0000000000000000000000000000000c"}]}`)
}
