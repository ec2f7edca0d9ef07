package xray

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"lookout/internal/telemetry"
)

// traceOf decodes segment documents of one trace into its view.
func traceOf(t *testing.T, docs ...string) *view {
	t.Helper()
	var spans []telemetry.Span
	var id telemetry.TraceID
	for _, d := range docs {
		doc, err := DecodeDocument([]byte(d), time.Unix(1700000100, 0))
		if err != nil {
			t.Fatalf("%v in %s", err, d)
		}
		spans = append(spans, doc.Spans...)
		id = doc.Spans[0].TraceID
	}
	return newView(id, spans)
}

// Three traces: a Flask API that calls a Go payment service which fails, with DynamoDB
// behind it; a healthy one; and a throttled, unfinished one.
func filterTraces(t *testing.T) map[string]*view {
	return map[string]*view{
		"failed-payment": traceOf(t,
			`{"trace_id":"1-65535e80-000000000000000000000001","id":"a000000000000001","name":"backend-flask","start_time":1700000000,"end_time":1700000003.5,
			  "http":{"request":{"method":"POST","url":"https://api.example.com/v2/pay"},"response":{"status":502}},"fault":true,"user":"alice",
			  "annotations":{"account":"12345","items":3},
			  "subsegments":[{"id":"a000000000000002","name":"payments","start_time":1700000000.5,"end_time":1700000003,"namespace":"remote","fault":true}]}`,
			`{"trace_id":"1-65535e80-000000000000000000000001","id":"b000000000000001","parent_id":"a000000000000002","name":"payments","origin":"AWS::EC2::Instance",
			  "start_time":1700000000.6,"end_time":1700000002.9,"http":{"response":{"status":500}},"fault":true,
			  "cause":{"exceptions":[{"id":"c000000000000001","type":"Timeout","message":"ledger timed out"}]},
			  "subsegments":[{"id":"b000000000000002","name":"DynamoDB","namespace":"aws","start_time":1700000001,"end_time":1700000002.8,"http":{"response":{"status":429}},"throttle":true,"error":true}]}`),
		"healthy": traceOf(t,
			`{"trace_id":"1-65535e80-000000000000000000000002","id":"a000000000000003","name":"backend-flask","start_time":1700000010,"end_time":1700000010.2,
			  "http":{"request":{"method":"GET","url":"https://api.example.com/v1/activities"},"response":{"status":200}},"annotations":{"account":"999","beta":true}}`),
		"unfinished": traceOf(t,
			`{"trace_id":"1-65535e80-000000000000000000000003","id":"a000000000000004","name":"frontend","start_time":1700000020,"in_progress":true,
			  "http":{"request":{"method":"GET","url":"http://web/"},"response":{"status":429}},"throttle":true,"error":true}`),
	}
}

// TestFilterExpressions evaluates the documented forms of the language on the traces above;
// the expected traces were worked out by hand from the documents.
func TestFilterExpressions(t *testing.T) {
	traces := filterTraces(t)
	groups := func(byARN bool, v string) (string, bool) {
		if !byARN && v == "slow" || byARN && v == "arn:aws:xray:us-east-1:000000000000:group/slow/lookout" {
			return "responsetime > 3", true
		}
		return "", false
	}
	for expr, want := range map[string]string{
		``:                                      "failed-payment healthy unfinished",
		`fault`:                                 "failed-payment",
		`ok`:                                    "healthy",
		`error`:                                 "unfinished",
		`throttle = true`:                       "unfinished",
		`fault = false AND !partial`:            "healthy",
		`ok !partial duration < 3`:              "healthy",
		`partial`:                               "unfinished",
		`responsetime > 3`:                      "failed-payment",
		`responseTime >= 0.2 AND duration <= 1`: "healthy",
		`http.status = 502`:                     "failed-payment",
		`http.status != 502`:                    "healthy unfinished",
		`http.url CONTAINS "/v2/"`:              "failed-payment",
		`http.url BEGINSWITH "https://api.example.com/" AND http.method = "GET"`: "healthy",
		`http.url ENDSWITH "/"`:             "unfinished",
		`http.url AND responsetime > 2`:     "failed-payment",
		`user = "alice"`:                    "failed-payment",
		`user CONTAINS ""`:                  "failed-payment",
		`annotation.account = "12345"`:      "failed-payment",
		`annotation.items >= 3`:             "failed-payment",
		`annotation.beta = true`:            "healthy",
		`annotation.account`:                "failed-payment healthy",
		`!annotation.account`:               "unfinished",
		`annotation.account BEGINSWITH "9"`: "healthy",
		`service("payments")`:               "failed-payment",
		`service("payments") { fault = true OR responsetime > 2.5 } AND annotation.account = "12345"`: "failed-payment",
		`service("backend-flask") { ok }`: "healthy",
		`service() { partial }`:           "unfinished",
		`service(id(name: "payments", type: "AWS::EC2::Instance")) { fault }`:                     "failed-payment",
		`service(id(type: "AWS::DynamoDB")) { throttle }`:                                         "failed-payment",
		`edge("backend-flask", "payments") { fault }`:                                             "failed-payment",
		`edge("payments", "backend-flask")`:                                                       "",
		`edge("payments", id(name: "DynamoDB", type: "AWS::DynamoDB")) { error }`:                 "failed-payment",
		`http.url CONTAINS "api" AND !service("payments")`:                                        "healthy",
		`(fault OR partial) and not_a_service_filter_is_refused`:                                  "refused",
		`fault OR ok AND partial`:                                                                 "failed-payment",
		`(fault OR ok) AND !partial`:                                                              "failed-payment healthy",
		`group.name = "slow"`:                                                                     "failed-payment",
		`group.arn = "arn:aws:xray:us-east-1:000000000000:group/slow/lookout" AND user = "alice"`: "failed-payment",
		`inferred`: "failed-payment",
		`root`:     "failed-payment healthy unfinished",
	} {
		f, err := parseFilter(expr, groups)
		if want == "refused" {
			if err == nil {
				t.Errorf("%s: parsed, want refused", expr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		var got []string
		for _, name := range []string{"failed-payment", "healthy", "unfinished"} {
			if f.match(&scope{v: traces[name]}) {
				got = append(got, name)
			}
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s matched %q, want %q", expr, strings.Join(got, " "), want)
		}
	}
}

// filterErrorAt is where an expression is refused, and a part of why.
type filterErrorAt struct {
	pos  int
	text string
}

// checkFilterErrors checks that each expression is refused at its position, saying why.
func checkFilterErrors(t *testing.T, groups func(bool, string) (string, bool), cases map[string]filterErrorAt) {
	t.Helper()
	for expr, want := range cases {
		_, err := parseFilter(expr, groups)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v, want a FilterError", expr, err)
			continue
		}
		if fe.Pos != want.pos || !strings.Contains(fe.Msg, want.text) {
			t.Errorf("%s: %v, want position %d and %q", expr, err, want.pos, want.text)
		}
	}
}

// TestFilterErrors checks that what cannot be used is refused at its position.
func TestFilterErrors(t *testing.T) {
	checkFilterErrors(t, func(bool, string) (string, bool) { return "", false }, map[string]filterErrorAt{
		`responsetime >`:        {14, "responsetime compares with a number"},
		`responsetime`:          {12, "needs a comparison"},
		`http.url = 5`:          {11, "quoted string"},
		`fault = maybe`:         {8, "= true"},
		`service("a" { fault }`: {12, `expected ")"`},
		`rootcause.outage.service { name = "a" }`: {0, "unknown root-cause filter"},
		`coverage > 0.5`:          {0, "only within a root-cause filter"},
		`frobnicate`:              {0, `unknown keyword "frobnicate"`},
		`"unclosed`:               {0, "not closed"},
		`fault AND`:               {9, "ends where a condition"},
		`group.name = "nope"`:     {13, `no group "nope"`},
		`annotation.x CONTAINS 3`: {13, "does not apply"},
		`fault )`:                 {6, `unexpected ")"`},
		`fault # 1`:               {6, "unexpected character"},
	})
	checkFilterErrors(t, nil, map[string]filterErrorAt{strings.Repeat("ok OR ", 3000) + "ok": {maxFilterBytes, "may be 16384 bytes long"}})
	deep := strings.Repeat("(", 200) + "ok" + strings.Repeat(")", 200)
	if _, err := parseFilter(deep, nil); err == nil || !strings.Contains(err.Error(), "nests") {
		t.Errorf("200 nested parentheses: %v", err)
	}
}

// FuzzFilter parses any expression, and evaluates the ones that parse, without panicking.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{`service("a") { fault = true OR responsetime > 2.5 } AND annotation.account = "12345"`,
		`edge("a", id(name: "b", type: "AWS::DynamoDB")) { error }`, `!ok partial`, `http.url CONTAINS "/v2/"`, `group.name = "g"`,
		`rootcause.fault.service { last and type = "AWS::DynamoDB" or index > 1 }`, `!rootcause.error.entity { remote = true and !first }`,
		`rootcause.responsetime.entity { coverage >= 0.5 AND name ENDSWITH "b" }`, `rootcause.fault.exception { message CONTAINS "x" }`,
		`service(id(account.id: "1")) { rootcause.error.service { inferred } }`, `availabilityzone = "a" instance.id resource.arn != "x"`,
		`rootcause.json = #[{"Services": [{"Name": "a", "EntityPath": [{"Name": "a"}, {"Name": "b", "Remote": true}]}]}]`} {
		f.Add(s)
	}
	v := traceOf(&testing.T{}, `{"trace_id":"1-65535e80-000000000000000000000001","id":"a000000000000001","name":"a","start_time":1,"end_time":2,"fault":true,
		"cause":{"exceptions":[{"id":"c000000000000001","type":"X","message":"x"}]},
		"subsegments":[{"id":"a000000000000002","name":"b","namespace":"aws","start_time":1,"end_time":2,"error":true}]}`)
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := parseFilter(expr, func(bool, string) (string, bool) { return "fault", true })
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) || fe.Pos < 0 || fe.Pos > len(expr) {
				t.Fatalf("%q: %v", expr, err)
			}
			return
		}
		_ = fmt.Sprint(flt.match(&scope{v: v}))
		_ = storeCondition(flt, func(name string) bool { return name != "" }).HoldsWithoutTests()
	})
}
