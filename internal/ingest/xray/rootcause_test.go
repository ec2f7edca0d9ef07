package xray

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// causesText renders a TraceSummary's root causes compactly: services joined by " > ",
// each with its entity path in brackets; a remote entity ends in *, an entity's exceptions
// follow it in parentheses, its coverage after @; a cause that does not impact the client
// is marked "(not client)".
func causesText(causes []any) string {
	var out []string
	for _, c := range causes {
		rc := c.(map[string]any)
		var services []string
		for _, s := range rc["Services"].([]any) {
			svc := s.(map[string]any)
			var path []string
			for _, e := range svc["EntityPath"].([]any) {
				ent := e.(map[string]any)
				text := ent["Name"].(string)
				if ent["Remote"] == true {
					text += "*"
				}
				if xs, ok := ent["Exceptions"].([]any); ok && len(xs) > 0 {
					var names []string
					for _, x := range xs {
						names = append(names, x.(map[string]any)["Name"].(string)+": "+x.(map[string]any)["Message"].(string))
					}
					text += "(" + strings.Join(names, ", ") + ")"
				}
				if cov, ok := ent["Coverage"].(float64); ok {
					text += fmt.Sprintf("@%.3f", cov)
				}
				path = append(path, text)
			}
			name := svc["Name"].(string)
			if svc["Inferred"] == true {
				name += "~"
			}
			services = append(services, name+"["+strings.Join(path, ",")+"]")
		}
		text := strings.Join(services, " > ")
		if rc["ClientImpacting"] != true {
			text += " (not client)"
		}
		out = append(out, text)
	}
	return strings.Join(out, "; ")
}

// TestRootCauseSummaries checks the root causes of the traces of filterTraces, worked out
// by hand: the payment service's fault (its exception on its segment) reached the client
// through the Flask API's call; DynamoDB's 429 is an error only DynamoDB has; the time went
// to the payment service (2.3 s of 3.5) and on to DynamoDB (1.8 s).
func TestRootCauseSummaries(t *testing.T) {
	traces := filterTraces(t)
	for name, want := range map[string][3]string{
		"failed-payment": {
			"backend-flask[backend-flask,payments*] > payments[payments(Timeout: ledger timed out)]",
			"backend-flask[backend-flask,payments*] > payments[payments(Timeout: ledger timed out)] > DynamoDB~[DynamoDB*] (not client)",
			"backend-flask[backend-flask@1.000,payments*@0.714] > payments[payments@0.657] > DynamoDB~[DynamoDB*@0.514]",
		},
		"healthy":    {"", "", "backend-flask[backend-flask@1.000]"},
		"unfinished": {"", "frontend[frontend]", ""}, // in progress: its response time is not known
	} {
		s := summary(traces[name])
		for i, member := range []string{"FaultRootCauses", "ErrorRootCauses", "ResponseTimeRootCauses"} {
			if got := causesText(s[member].([]any)); got != want[i] {
				t.Errorf("%s %s:\n got %s\nwant %s", name, member, got, want[i])
			}
		}
	}
}

// rootCauseTraces are two traces of one service: one whose fault begins two subsegments
// down, and one whose time goes mostly to a subsegment but not to what it or the segment
// calls.
func rootCauseTraces(t *testing.T) map[string]*view {
	return map[string]*view{
		"deserialize": traceOf(t,
			`{"trace_id":"1-65535e80-000000000000000000000011","id":"d000000000000001","name":"api","start_time":1700000000,"end_time":1700000001,"fault":true,
			  "aws":{"account_id":"111122223333"},"cause":{"exceptions":[{"id":"e000000000000001","type":"HandlerError","message":"request failed"}]},
			  "subsegments":[{"id":"d000000000000002","name":"log","start_time":1700000000.1,"end_time":1700000000.2},
			    {"id":"d000000000000003","name":"parse","start_time":1700000000.2,"end_time":1700000000.9,"fault":true,
			     "subsegments":[{"id":"d000000000000004","name":"deserialize","start_time":1700000000.3,"end_time":1700000000.8,"fault":true,
			       "cause":{"exceptions":[{"id":"e000000000000002","type":"JSONError","message":"bad input"},{"id":"e000000000000003","type":"EOFError","message":"Access Denied for account_id: 1234567890"}]}}]}]}`),
		"slow": traceOf(t,
			`{"trace_id":"1-65535e80-000000000000000000000012","id":"d000000000000011","name":"api","start_time":1700000000,"end_time":1700000002,
			  "resource_arn":"arn:aws:ecs:us-east-1:111122223333:task/api","aws":{"ec2":{"instance_id":"i-0abc","availability_zone":"us-east-1a"}},
			  "subsegments":[{"id":"d000000000000012","name":"compute","start_time":1700000000.1,"end_time":1700000001.6,
			     "subsegments":[{"id":"d000000000000013","name":"inner","start_time":1700000000.1,"end_time":1700000000.5}]},
			    {"id":"d000000000000014","name":"cache","namespace":"remote","start_time":1700000001.6,"end_time":1700000001.7}]}`),
	}
}

// TestRootCauseEntities: a fault begins at the deepest failing subsegment (not at the log
// call that did not fail), and the response time at the subsegment that took at least half
// the time of its parent (compute, 1.5 s of 2), not its child (0.4 s) nor the remote cache
// (0.1 s).
func TestRootCauseEntities(t *testing.T) {
	traces := rootCauseTraces(t)
	s := summary(traces["deserialize"])
	want := "api[api(HandlerError: request failed),parse,deserialize(JSONError: bad input, EOFError: Access Denied for account_id: 1234567890)]"
	if got := causesText(s["FaultRootCauses"].([]any)); got != want {
		t.Errorf("fault root causes:\n got %s\nwant %s", got, want)
	}
	s = summary(traces["slow"])
	if got, want := causesText(s["ResponseTimeRootCauses"].([]any)), "api[api@1.000,compute@0.750]"; got != want {
		t.Errorf("response time root causes:\n got %s\nwant %s", got, want)
	}
}

// matching names the traces, of those named (in order), that an expression matches, or
// "refused" with the error.
func matching(t *testing.T, traces map[string]*view, names []string, expr string) string {
	t.Helper()
	f, err := parseFilter(expr, nil)
	if err != nil {
		return "refused: " + err.Error()
	}
	var got []string
	for _, name := range names {
		if f.match(&scope{v: traces[name]}) {
			got = append(got, name)
		}
	}
	return strings.Join(got, " ")
}

// TestFilterAccountID: only the deserialize trace's segment says its account.
func TestFilterAccountID(t *testing.T) {
	traces := rootCauseTraces(t)
	names := []string{"deserialize", "slow"}
	for expr, want := range map[string]string{
		`service(id(account.id: "111122223333"))`:                        "deserialize",
		`service(id(name: "api", account.id: "111122223333")) { fault }`: "deserialize",
		`service(id(account.id: "999999999999"))`:                        "",
		`service(id(name: "api"))`:                                       "deserialize slow",
		`edge(id(account.id: "111122223333"), "nowhere")`:                "",
	} {
		if got := matching(t, traces, names, expr); got != want {
			t.Errorf("%s matched %q, want %q", expr, got, want)
		}
	}
	if got := serviceID(traces["deserialize"].root())["AccountId"]; got != "111122223333" {
		t.Errorf("the entry point's AccountId = %v", got)
	}
	if got, ok := serviceID(traces["slow"].root())["AccountId"]; ok {
		t.Errorf("a service without an account has AccountId %v", got)
	}
}

// TestFilterWhereSegmentsRun: the slow trace's segment runs on an EC2 instance in
// us-east-1a as an ECS task's ARN; the deserialize trace's says neither.
func TestFilterWhereSegmentsRun(t *testing.T) {
	traces := rootCauseTraces(t)
	names := []string{"deserialize", "slow"}
	for expr, want := range map[string]string{
		`availabilityzone = "us-east-1a"`:                "slow",
		`availabilityzone BEGINSWITH "us-east-1"`:        "slow",
		`availabilityzone != "us-east-1a"`:               "",
		`!availabilityzone`:                              "deserialize",
		`instance.id = "i-0abc"`:                         "slow",
		`instance.id CONTAINS ""`:                        "slow",
		`resource.arn ENDSWITH ":task/api"`:              "slow",
		`service("api") { resource.arn CONTAINS "ecs" }`: "slow",
		`!resource.arn`:                                  "deserialize",
		`instance.id > "i"`:                              "refused",
		`resource.arn = 5`:                               "refused",
	} {
		got := matching(t, traces, names, expr)
		if want == "refused" && strings.HasPrefix(got, "refused") {
			continue
		}
		if got != want {
			t.Errorf("%s matched %q, want %q", expr, got, want)
		}
	}
	// The store narrows by the ARN, the user's value a parameter; not by resources.
	f, _ := parseFilter(`resource.arn = "arn:x'; --"`, nil)
	c := storeCondition(f, func(string) bool { return true })
	if c.Some == nil || c.Some.What != "attribute" || c.Some.Key != "aws.xray.resource_arn" || c.Some.Value.AsString() != "arn:x'; --" {
		t.Errorf("resource.arn's condition = %+v", c)
	}
	f, _ = parseFilter(`availabilityzone = "us-east-1a"`, nil)
	if c := storeCondition(f, func(string) bool { return true }); !c.HoldsWithoutTests() {
		t.Errorf("availabilityzone's condition = %+v, want none", c)
	}
}

// TestSummaryWhereSegmentsRun: the summary lists what the keywords read.
func TestSummaryWhereSegmentsRun(t *testing.T) {
	traces := rootCauseTraces(t)
	s := summary(traces["slow"])
	for member, want := range map[string]string{
		"ResourceARNs":      "[map[ARN:arn:aws:ecs:us-east-1:111122223333:task/api]]",
		"InstanceIds":       "[map[Id:i-0abc]]",
		"AvailabilityZones": "[map[Name:us-east-1a]]",
	} {
		if got := fmt.Sprint(s[member]); got != want {
			t.Errorf("%s = %s, want %s", member, got, want)
		}
	}
	if got := fmt.Sprint(summary(traces["deserialize"])["InstanceIds"]); got != "[]" {
		t.Errorf("InstanceIds of a trace that names none = %s", got)
	}
}

// TestRootCauseFilters evaluates root-cause filters on the traces of filterTraces and
// rootCauseTraces, whose root causes TestRootCauseSummaries and TestRootCauseEntities list;
// the expected traces were worked out by hand from those lists.
func TestRootCauseFilters(t *testing.T) {
	traces := filterTraces(t)
	for name, v := range rootCauseTraces(t) {
		traces[name] = v
	}
	names := []string{"failed-payment", "healthy", "unfinished", "deserialize", "slow"}
	for expr, want := range map[string]string{
		// failed-payment's fault: backend-flask > payments; entities backend-flask,
		// payments (the call, remote), payments (its segment, with Timeout).
		`rootcause.fault.service { name = "payments" }`:                          "failed-payment",
		`rootcause.fault.service { last and type = "AWS::EC2::Instance" }`:       "failed-payment",
		`rootcause.fault.service { first and name = "payments" }`:                "",
		`rootcause.fault.service { index = 1 }`:                                  "failed-payment",
		`rootcause.fault.service { index > 1 }`:                                  "",
		`rootcause.fault.entity { last and name = "payments" and !remote }`:      "failed-payment",
		`rootcause.fault.entity { remote and index = 1 }`:                        "failed-payment",
		`rootcause.fault.exception { last and message = "ledger timed out" }`:    "failed-payment",
		`rootcause.fault.exception { name BEGINSWITH "Time" }`:                   "failed-payment",
		`!rootcause.fault.service { name = "payments" }`:                         "healthy unfinished deserialize slow",
		`rootcause.fault.service { name = "payments" } AND http.method = "POST"`: "failed-payment",
		`rootcause.Fault.Service { NAME = "payments" }`:                          "failed-payment",
		`service("payments") { rootcause.fault.service { first } }`:              "failed-payment",
		`rootcause.fault.service { name = "api" }`:                               "deserialize",
		`rootcause.fault.service { first } AND rootcause.fault.service { last }`: "failed-payment deserialize",
		`rootcause.fault.service { first and last }`:                             "deserialize",
		`rootcause.fault.service { first = true and last = false }`:              "failed-payment",
		// Its error: backend-flask > payments > DynamoDB (inferred); unfinished's: frontend.
		`rootcause.error.service { inferred and name = "DynamoDB" and type = "AWS::DynamoDB" }`: "failed-payment",
		`rootcause.error.service { name = "frontend" }`:                                         "unfinished",
		`rootcause.error.service { last }`:                                                      "failed-payment unfinished",
		`rootcause.error.service { index = 2 } OR rootcause.fault.service { index = 2 }`:        "failed-payment",
		`rootcause.error.entity { last and remote and name = "DynamoDB" }`:                      "failed-payment",
		`rootcause.error.exception { last and name = "Timeout" }`:                               "failed-payment",
		`rootcause.error.exception { message }`:                                                 "failed-payment",
		// Response times: failed-payment's goes to DynamoDB (payments' call 0.714, its
		// segment 0.657, DynamoDB 0.514); healthy's is its own; unfinished has none.
		`rootcause.responsetime.entity { remote and coverage > 0.7 and name = "payments" }`: "failed-payment",
		`rootcause.responsetime.entity { last and coverage > 0.8 }`:                         "healthy",
		// deserialize's time goes down parse (0.7 s of 1) to deserialize (0.5 s of 0.7).
		`rootcause.responsetime.entity { last and name = "deserialize" and coverage = 0.5 }`: "deserialize",
		`rootcause.responsetime.service { last and type = "AWS::DynamoDB" }`:                 "failed-payment",
		`rootcause.responsetime.service { first }`:                                           "failed-payment healthy deserialize slow",
		`rootcause.responsetime.entity { coverage < 0.52 AND coverage > 0.51 }`:              "failed-payment",
		`rootcause.responsetime.entity { last and name = "compute" and coverage = 0.75 }`:    "slow",
		// deserialize's fault: api > parse > deserialize, with exceptions HandlerError,
		// JSONError and EOFError in that order.
		`rootcause.fault.entity { last and name = "deserialize" }`:                                    "deserialize",
		`rootcause.fault.exception { last and message = "Access Denied for account_id: 1234567890" }`: "deserialize",
		`rootcause.fault.exception { first and name = "HandlerError" }`:                               "deserialize",
		`rootcause.fault.exception { index = 1 and name = "JSONError" }`:                              "deserialize",
		`rootcause.fault.entity { index = 1 and name = "parse" }`:                                     "deserialize",
	} {
		if got := matching(t, traces, names, expr); got != want {
			t.Errorf("%s matched %q, want %q", expr, got, want)
		}
	}
}

// TestRootCauseFilterErrors: what a root-cause filter cannot hold is refused at its
// position.
func TestRootCauseFilterErrors(t *testing.T) {
	checkFilterErrors(t, nil, map[string]filterErrorAt{
		`rootcause.fault.service`:                                       {23, "needs a condition in braces"},
		`rootcause.fault.service name = "a"`:                            {24, "needs a condition in braces"},
		`rootcause.fault.service { coverage > 0.5 }`:                    {26, "coverage has no meaning for a root cause's service"},
		`rootcause.fault.entity { coverage > 0.5 }`:                     {25, "(use first, index, last, name, remote)"},
		`rootcause.responsetime.service { coverage > 0.5 }`:             {33, "has no meaning"},
		`rootcause.fault.entity { message = "x" }`:                      {25, "has no meaning"},
		`rootcause.fault.exception { remote }`:                          {28, "has no meaning"},
		`rootcause.outage.service { name = "a" }`:                       {0, "unknown root-cause filter"},
		`rootcause.fault.trace { name = "a" }`:                          {0, "unknown root-cause filter"},
		`rootcause.fault { name = "a" }`:                                {0, "unknown root-cause filter"},
		`first`:                                                         {0, "only within a root-cause filter"},
		`http.url = "x" AND message = "y"`:                              {19, "only within a root-cause filter"},
		`rootcause.fault.service { service("a") }`:                      {26, "has no meaning"},
		`rootcause.fault.service { rootcause.error.service { first } }`: {26, "has no meaning"},
		`rootcause.fault.service { name = "a" `:                         {37, `expected "}"`},
		`rootcause.fault.entity { index > "a" }`:                        {33, "compares with a number"},
		`rootcause.responsetime.service { index }`:                      {39, "needs a comparison"},
	})
}

// TestRootCauseJSON matches root causes given as JSON against those TestRootCauseSummaries
// and TestRootCauseEntities list, whatever their kind.
func TestRootCauseJSON(t *testing.T) {
	traces := filterTraces(t)
	for name, v := range rootCauseTraces(t) {
		traces[name] = v
	}
	names := []string{"failed-payment", "healthy", "unfinished", "deserialize", "slow"}
	for expr, want := range map[string]string{
		`rootcause.json = #[{"Services": [{"Name": "backend-flask"}, {"Name": "payments"}]}]`: "failed-payment",
		`rootcause.json = #[{"Services": [{"Name": "backend-flask", "EntityPath": [{"Name": "backend-flask"}, {"Name": "payments", "Remote": true}]},
			{"Name": "payments", "EntityPath": [{"Name": "payments", "Exceptions": [{"Name": "Timeout"}]}]}]}]`: "failed-payment",
		`rootcause.json = #[{"Services": [{"Name": "backend-flask"}, {"Name": "payments", "EntityPath": [{"Name": "payments"}, {"Name": "DynamoDB"}]}]}]`: "",
		`rootcause.json = #[{"Services": [{"Name": "backend-flask"}]}]`:                                                                                   "healthy",
		`rootcause.json = #[{"Services": [{"Name": "frontend"}]}, {"Services": [{"Name": "api"}, {"Name": "nope"}]}]`:                                     "unfinished",
		`rootcause.json = #[{ "Services": [ { "Name": "api", "EntityPath": [{ "Name": "api" }, { "Name": "parse" }, { "Name": "deserialize" } ] } ] }]`:   "deserialize",
		`rootcause.json = #[{"ClientImpacting": false}]`:                                                                                                  "failed-payment",
		`rootcause.json = #[{"Services": [{"Type": "AWS::DynamoDB", "Inferred": true}]}]`:                                                                 "",
		`rootcause.json = #[{"Services": [{}, {}, {"Type": "AWS::DynamoDB", "Inferred": true}]}]`:                                                         "failed-payment",
		`rootcause.json = #[{"Services": [{"Name": "api", "AccountId": "111122223333"}]}]`:                                                                "deserialize",
		`rootcause.json = #[{"Services": [{"Name": "a]}\"["}]}] OR rootcause.json = #[]`:                                                                  "",
		`!rootcause.json = #[{"Services": [{"Name": "backend-flask"}]}] AND rootcause.fault.service { first }`:                                            "failed-payment deserialize",
	} {
		if got := matching(t, traces, names, expr); got != want {
			t.Errorf("%s matched %q, want %q", expr, got, want)
		}
	}
	for expr, want := range map[string]struct {
		pos  int
		text string
	}{
		`rootcause.json = #[{"Services": [,]}]`: {33, "invalid character ','"},
		`rootcause.json = #[{"Services": []}`:   {17, "not closed with ]"},
		`rootcause.json #[]`:                    {15, `expected "="`},
		`rootcause.json = "x"`:                  {17, "compares with root causes as JSON"},
		`rootcause.json = #[{"Services": 3}]`:   {18, "rootcause.json: json: cannot unmarshal number"},
		`rootcause.fault.entity { name } #[1]`:  {32, "expected a condition"},
	} {
		_, err := parseFilter(expr, nil)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v, want a FilterError", expr, err)
			continue
		}
		// A type error is somewhere in the JSON, as the decoder counts.
		if fe.Pos != want.pos && !(want.pos == 18 && fe.Pos > 18 && fe.Pos < len(expr)) || !strings.Contains(fe.Msg, want.text) {
			t.Errorf("%s: %v, want position %d and %q", expr, err, want.pos, want.text)
		}
	}
}

// TestCallerCycles: a hostile trace can name a segment's own subsegment, or another segment
// that descends from it, as its parent. Its summary, every root cause included, still ends,
// with one node left without a caller to be the entry point.
func TestCallerCycles(t *testing.T) {
	for name, docs := range map[string][]string{
		"its own subsegment": {`{"trace_id":"1-65535e80-000000000000000000000099","id":"a000000000000001","parent_id":"a000000000000002","name":"api",` +
			`"start_time":1700000000,"end_time":1700000001,"subsegments":[{"id":"a000000000000002","name":"call","start_time":1700000000.1,"end_time":1700000000.9}]}`},
		"each other's": {
			`{"trace_id":"1-65535e80-000000000000000000000098","id":"a000000000000001","parent_id":"b000000000000002","name":"a",` +
				`"start_time":1700000000,"end_time":1700000001,"fault":true,"subsegments":[{"id":"a000000000000002","name":"call","start_time":1700000000.1,"end_time":1700000000.9}]}`,
			`{"trace_id":"1-65535e80-000000000000000000000098","id":"b000000000000001","parent_id":"a000000000000002","name":"b",` +
				`"start_time":1700000000.1,"end_time":1700000000.9,"fault":true,"subsegments":[{"id":"b000000000000002","name":"call","start_time":1700000000.2,"end_time":1700000000.8}]}`},
	} {
		v := traceOf(t, docs...)
		done := make(chan map[string]any, 1)
		go func() { done <- summary(v) }()
		select {
		case s := <-done:
			roots := 0
			for _, n := range v.nodes {
				if n.caller == nil && !n.inferred {
					roots++
				}
			}
			if roots != 1 || s["EntryPoint"] == nil {
				t.Errorf("%s: %d nodes without a caller, entry point %v; want one", name, roots, s["EntryPoint"])
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the summary did not end", name) // the goroutine is left spinning
		}
	}
}
