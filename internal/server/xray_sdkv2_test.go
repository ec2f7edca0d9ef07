package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"

	"lookout/internal/server"
)

func xrayClient(srv *server.Server) *xray.Client {
	return xray.New(xray.Options{
		Region:       "us-east-1",
		BaseEndpoint: awssdk.String("http://" + srv.Addrs().HTTP),
		Credentials: awssdk.CredentialsProviderFunc(func(context.Context) (awssdk.Credentials, error) {
			return awssdk.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		}),
	})
}

// TestXRaySDKv2 uses aws-sdk-go-v2's X-Ray client (SigV4-signed, rest-json): a rule's
// reservoir is shared among the clients that ask for targets, segments are put and found,
// and the graph decodes.
func TestXRaySDKv2(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	c := xrayClient(srv)
	_, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
		RuleName: awssdk.String("checkout"), ResourceARN: awssdk.String("*"), Priority: awssdk.Int32(100), FixedRate: 0.25,
		ReservoirSize: 10, ServiceName: awssdk.String("checkout"), ServiceType: awssdk.String("*"), Host: awssdk.String("*"),
		HTTPMethod: awssdk.String("POST"), URLPath: awssdk.String("/orders*"), Version: awssdk.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := c.GetSamplingRules(ctx, &xray.GetSamplingRulesInput{})
	if err != nil || len(rules.SamplingRuleRecords) != 2 || *rules.SamplingRuleRecords[0].SamplingRule.RuleName != "checkout" {
		t.Fatalf("GetSamplingRules: %v %+v", err, rules)
	}

	// One reservoir of 10 a second for the rule, however many clients: alone, a client
	// gets it all; a second waits until the first has handed back half, then each has half.
	reports := 0
	targets := func(client string) types.SamplingTargetDocument {
		t.Helper()
		reports++
		now := time.Now()
		out, err := c.GetSamplingTargets(ctx, &xray.GetSamplingTargetsInput{SamplingStatisticsDocuments: []types.SamplingStatisticsDocument{{
			ClientID: awssdk.String(client), RuleName: awssdk.String("checkout"), RequestCount: 40, SampledCount: 12, BorrowCount: 1, Timestamp: &now}}})
		if err != nil {
			t.Fatal(err)
		}
		if out.LastRuleModification == nil || len(out.SamplingTargetDocuments) != 1 {
			t.Fatalf("GetSamplingTargets: %+v", out)
		}
		return out.SamplingTargetDocuments[0]
	}
	a := targets("aaaaaaaaaaaaaaaaaaaaaaaa")
	if *a.ReservoirQuota != 10 || a.FixedRate != 0.25 || a.ReservoirQuotaTTL == nil || *a.Interval != 10 {
		t.Errorf("a lone client's target = quota %d, rate %v, interval %d", *a.ReservoirQuota, a.FixedRate, *a.Interval)
	}
	if b := targets("bbbbbbbbbbbbbbbbbbbbbbbb"); *b.ReservoirQuota != 0 {
		t.Errorf("a second client's quota while the first holds the reservoir = %d, want 0", *b.ReservoirQuota)
	}
	a = targets("aaaaaaaaaaaaaaaaaaaaaaaa")
	b := targets("bbbbbbbbbbbbbbbbbbbbbbbb")
	if *a.ReservoirQuota != 5 || *b.ReservoirQuota != 5 {
		t.Errorf("two clients' quotas = %d and %d, want 5 each", *a.ReservoirQuota, *b.ReservoirQuota)
	}
	sums, err := c.GetSamplingStatisticSummaries(ctx, &xray.GetSamplingStatisticSummariesInput{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range sums.SamplingStatisticSummaries {
		if *s.RuleName == "checkout" {
			found = true
			if want := []int32{40, 12, 1}; s.RequestCount != want[0]*int32(reports) || s.SampledCount != want[1]*int32(reports) || s.BorrowCount != want[2]*int32(reports) {
				t.Errorf("checkout's statistics = %d requests, %d sampled, %d borrowed; want %d reports of %v", s.RequestCount, s.SampledCount, s.BorrowCount, reports, want)
			}
		}
	}
	if !found {
		t.Errorf("no statistics for checkout: %+v", sums.SamplingStatisticSummaries)
	}

	now := time.Now().Add(-time.Second)
	id := fmt.Sprintf("1-%08x-b00000000000000000000001", now.Unix())
	doc := fmt.Sprintf(`{"trace_id":"%s","id":"b000000000000001","name":"checkout","start_time":%d,"end_time":%d.5,"user":"u-7",`+
		`"subsegments":[{"id":"b000000000000002","name":"DynamoDB","namespace":"aws","start_time":%d,"end_time":%d.25,"aws":{"operation":"PutItem","table_name":"orders"}}]}`,
		id, now.Unix(), now.Unix(), now.Unix(), now.Unix())
	put, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{doc, "[not json"}})
	if err != nil || len(put.UnprocessedTraceSegments) != 1 || *put.UnprocessedTraceSegments[0].ErrorCode != "InvalidSegment" {
		t.Fatalf("PutTraceSegments: %v %+v", err, put)
	}
	start, end := now.Add(-time.Minute), now.Add(time.Minute)
	// Acknowledged segments are durable at once, visible once the loader has stored them.
	var summaries *xray.GetTraceSummariesOutput
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		summaries, err = c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &start, EndTime: &end, FilterExpression: awssdk.String(`user = "u-7" AND service(id(type: "AWS::DynamoDB"))`)})
		if err != nil || len(summaries.TraceSummaries) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || len(summaries.TraceSummaries) != 1 || *summaries.TraceSummaries[0].Id != id {
		t.Fatalf("GetTraceSummaries: %v %+v", err, summaries)
	}
	if s := summaries.TraceSummaries[0]; *s.ResponseTime != 0.5 || len(s.Users) != 1 || *s.Users[0].UserName != "u-7" {
		t.Errorf("summary: response time %v, users %+v", *s.ResponseTime, s.Users)
	}
	graph, err := c.GetTraceGraph(ctx, &xray.GetTraceGraphInput{TraceIds: []string{id}})
	if err != nil || len(graph.Services) != 3 {
		t.Fatalf("GetTraceGraph: %v %+v", err, graph)
	}
	for _, s := range graph.Services {
		if *s.Name == "DynamoDB" && (*s.Type != "AWS::DynamoDB" || *s.State != "unknown") {
			t.Errorf("DynamoDB node: type %s, state %s", *s.Type, *s.State)
		}
	}
	_, err = c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &start, EndTime: &end, FilterExpression: awssdk.String(`annotation.x >`)})
	var invalid *types.InvalidRequestException
	if err == nil || !errors.As(err, &invalid) {
		t.Errorf("a broken filter: %v, want InvalidRequestException", err)
	}
}

// TestXRayTimeRangeType: with TimeRangeType TraceId a trace is in the range when the time
// its id carries is; by default (Event), when one of its segments started in it. One trace's
// id was made ten minutes before its segment, as when a segment continues an old trace.
func TestXRayTimeRangeType(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	c := xrayClient(srv)
	now := time.Now()
	traceAt := func(idTime time.Time, n int) string { return fmt.Sprintf("1-%08x-%024x", idTime.Unix(), n) }
	fresh, continued := traceAt(now.Add(-30*time.Second), 1), traceAt(now.Add(-10*time.Minute), 2)
	var docs []string
	for i, id := range []string{fresh, continued} {
		started := float64(now.Add(-30*time.Second).UnixNano()) / 1e9
		docs = append(docs, fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"checkout","start_time":%.3f,"end_time":%.3f}`, id, i+1, started, started+0.2))
	}
	if put, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs}); err != nil || len(put.UnprocessedTraceSegments) != 0 {
		t.Fatalf("PutTraceSegments: %v %+v", err, put)
	}
	start, end := now.Add(-2*time.Minute), now.Add(time.Minute)
	ids := func(rangeType types.TimeRangeType) []string {
		t.Helper()
		out, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &start, EndTime: &end, TimeRangeType: rangeType})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range out.TraceSummaries {
			got = append(got, *s.Id)
		}
		slices.Sort(got)
		return got
	}
	var both []string
	for deadline := time.Now().Add(5 * time.Second); len(both) < 2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		both = ids(types.TimeRangeTypeEvent)
	}
	if want := []string{continued, fresh}; !slices.Equal(both, want) { // sorted: the older id first
		t.Errorf("by event: %v, want %v", both, want)
	}
	if got := ids(types.TimeRangeTypeTraceId); !slices.Equal(got, []string{fresh}) {
		t.Errorf("by trace id: %v, want only %s", got, fresh)
	}
}

// TestXRayInferredSegments puts a segment whose subsegments call DynamoDB, a remote endpoint
// and a service that answers with a segment of its own, and reads the trace back with
// aws-sdk-go-v2's BatchGetTraces: the two calls nothing answers get an inferred segment each,
// made from the calling subsegment as sent; the answered call gets none.
func TestXRayInferredSegments(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	c := xrayClient(srv)
	now := time.Now()
	trace := fmt.Sprintf("1-%08x-%024x", now.Unix(), 7)
	at := func(d time.Duration) float64 { return float64(now.Add(d).UnixMilli()) / 1e3 }
	calls := []map[string]any{
		{"name": "DynamoDB", "id": "7000000000000002", "start_time": at(-900 * time.Millisecond), "end_time": at(-800 * time.Millisecond),
			"namespace": "aws", "aws": map[string]any{"operation": "GetItem", "table_name": "orders"}, "http": map[string]any{"response": map[string]any{"status": 200.0}}},
		{"name": "payments.example", "id": "7000000000000003", "start_time": at(-700 * time.Millisecond), "end_time": at(-600 * time.Millisecond),
			"namespace": "remote", "fault": true, "http": map[string]any{"request": map[string]any{"method": "POST", "url": "https://payments.example/charge"}, "response": map[string]any{"status": 503.0}}},
		{"name": "inventory", "id": "7000000000000004", "start_time": at(-500 * time.Millisecond), "end_time": at(-200 * time.Millisecond),
			"namespace": "remote", "http": map[string]any{"request": map[string]any{"method": "GET", "url": "http://inventory/stock"}}},
	}
	subs := make([]any, len(calls))
	for i := range calls {
		subs[i] = calls[i]
	}
	segment := map[string]any{"name": "orders", "id": "7000000000000001", "trace_id": trace, "start_time": at(-time.Second), "end_time": at(0), "subsegments": subs}
	answer := map[string]any{"name": "inventory", "id": "7000000000000005", "trace_id": trace, "parent_id": "7000000000000004",
		"start_time": at(-450 * time.Millisecond), "end_time": at(-250 * time.Millisecond)}
	var docs []string
	for _, d := range []map[string]any{segment, answer} {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	if put, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs}); err != nil || len(put.UnprocessedTraceSegments) != 0 {
		t.Fatalf("PutTraceSegments: %v %+v", err, put)
	}
	var segments []types.Segment
	for deadline := time.Now().Add(5 * time.Second); len(segments) < 4 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{trace}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Traces) == 1 {
			segments = out.Traces[0].Segments
		}
	}
	inferred := map[string]map[string]any{} // by parent_id
	for _, s := range segments {
		var doc map[string]any
		if err := json.Unmarshal([]byte(*s.Document), &doc); err != nil {
			t.Fatal(err)
		}
		if doc["inferred"] == true {
			if doc["id"] != *s.Id {
				t.Errorf("inferred segment's id %v, listed as %s", doc["id"], *s.Id)
			}
			inferred[doc["parent_id"].(string)] = doc
		}
	}
	if len(segments) != 4 || len(inferred) != 2 {
		t.Fatalf("%d segments, %d inferred; want the 2 sent and 2 inferred", len(segments), len(inferred))
	}
	for _, call := range calls[:2] {
		doc := inferred[call["id"].(string)]
		if doc == nil {
			t.Errorf("no inferred segment for the call %s", call["name"])
			continue
		}
		wantOrigin := "remote"
		if call["namespace"] == "aws" {
			wantOrigin = "AWS::" + call["name"].(string)
		}
		if doc["name"] != call["name"] || doc["origin"] != wantOrigin || doc["trace_id"] != trace ||
			math.Abs(doc["start_time"].(float64)-call["start_time"].(float64)) > 1e-6 || math.Abs(doc["end_time"].(float64)-call["end_time"].(float64)) > 1e-6 {
			t.Errorf("inferred segment %v for the call %v", doc, call)
		}
		for _, k := range []string{"http", "aws", "fault"} {
			if !reflect.DeepEqual(doc[k], call[k]) {
				t.Errorf("inferred segment of %s: %s = %v, want the call's %v", call["name"], k, doc[k], call[k])
			}
		}
	}
}

// TestXRaySDKv2TelemetryRecords sends the daemon's minute report as aws-sdk-go-v2 does.
func TestXRaySDKv2TelemetryRecords(t *testing.T) {
	srv := start(t)
	now := time.Now()
	_, err := xrayClient(srv).PutTelemetryRecords(context.Background(), &xray.PutTelemetryRecordsInput{
		EC2InstanceId: awssdk.String("i-0123456789abcdef0"), Hostname: awssdk.String("web-1"), ResourceARN: awssdk.String("arn:aws:ec2:us-east-1:000000000000:instance/i-0123456789abcdef0"),
		TelemetryRecords: []types.TelemetryRecord{{Timestamp: &now, SegmentsReceivedCount: awssdk.Int32(120), SegmentsSentCount: awssdk.Int32(118),
			SegmentsRejectedCount: awssdk.Int32(2), SegmentsSpilloverCount: awssdk.Int32(0),
			BackendConnectionErrors: &types.BackendConnectionErrors{TimeoutCount: awssdk.Int32(1), HTTPCode5XXCount: awssdk.Int32(3)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestXRaySDKv2SubsegmentArray puts, with aws-sdk-go-v2, a document that is a JSON array of
// subsegments (one under the segment, one under the other) before the segment they belong
// to: BatchGetTraces gives them back nested under their parents in the segment's document.
func TestXRaySDKv2SubsegmentArray(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	c := xrayClient(srv)
	now := time.Now()
	trace := fmt.Sprintf("1-%08x-%024x", now.Unix(), 11)
	at := func(d time.Duration) float64 { return float64(now.Add(d).UnixMilli()) / 1e3 }
	segment := map[string]any{"name": "orders", "id": "c000000000000001", "trace_id": trace, "start_time": at(-time.Second), "end_time": at(0)}
	query := map[string]any{"name": "query", "id": "c000000000000002", "trace_id": trace, "parent_id": "c000000000000001", "type": "subsegment",
		"start_time": at(-900 * time.Millisecond), "end_time": at(-300 * time.Millisecond), "annotations": map[string]any{"table": "orders"}}
	fetch := map[string]any{"name": "fetch", "id": "c000000000000003", "trace_id": trace, "parent_id": "c000000000000002", "type": "subsegment",
		"start_time": at(-800 * time.Millisecond), "end_time": at(-400 * time.Millisecond)}
	array, err := json.Marshal([]any{query, fetch})
	if err != nil {
		t.Fatal(err)
	}
	seg, err := json.Marshal(segment)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{string(array), string(seg)} {
		if put, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{doc}}); err != nil || len(put.UnprocessedTraceSegments) != 0 {
			t.Fatalf("PutTraceSegments: %v %+v", err, put)
		}
	}

	// sub finds the subsegment of a document with the given id.
	sub := func(doc map[string]any, id string) map[string]any {
		subs, _ := doc["subsegments"].([]any)
		for _, s := range subs {
			if m, _ := s.(map[string]any); m["id"] == id {
				return m
			}
		}
		return nil
	}
	var got map[string]any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out, err := c.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{trace}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Traces) == 1 && len(out.Traces[0].Segments) == 1 {
			got = nil
			if err := json.Unmarshal([]byte(*out.Traces[0].Segments[0].Document), &got); err != nil {
				t.Fatal(err)
			}
			if q := sub(got, query["id"].(string)); q != nil && sub(q, fetch["id"].(string)) != nil {
				break
			}
		}
	}
	if got == nil || got["id"] != segment["id"] || got["name"] != segment["name"] {
		t.Fatalf("the trace's one segment: %v, want %s", got, segment["id"])
	}
	q := sub(got, query["id"].(string))
	if q == nil {
		t.Fatalf("the segment's subsegments %v hold no %s", got["subsegments"], query["id"])
	}
	f := sub(q, fetch["id"].(string))
	if f == nil {
		t.Fatalf("the subsegment %s's subsegments %v hold no %s", query["id"], q["subsegments"], fetch["id"])
	}
	for _, pair := range [][2]map[string]any{{q, query}, {f, fetch}} {
		gotSub, sent := pair[0], pair[1]
		if gotSub["name"] != sent["name"] || math.Abs(gotSub["start_time"].(float64)-sent["start_time"].(float64)) > 1e-6 ||
			math.Abs(gotSub["end_time"].(float64)-sent["end_time"].(float64)) > 1e-6 {
			t.Errorf("subsegment %s: %v, sent %v", sent["id"], gotSub, sent)
		}
	}
	if !reflect.DeepEqual(q["annotations"], query["annotations"]) {
		t.Errorf("subsegment %s's annotations: %v, sent %v", query["id"], q["annotations"], query["annotations"])
	}
}

// TestXRayRootCauseFilter puts two traces of a gateway that calls a ledger service: in one
// the ledger's commit faults and the fault travels up to the gateway; in the other the
// ledger answers and the gateway faults on its own. aws-sdk-go-v2's GetTraceSummaries finds
// each by where its fault begins, and reads that root cause back.
func TestXRayRootCauseFilter(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	c := xrayClient(srv)
	now := time.Now().Add(-time.Second)
	at := func(ms int) string { return fmt.Sprintf("%.3f", float64(now.UnixMilli()+int64(ms))/1e3) }
	trace := func(n int) string { return fmt.Sprintf("1-%08x-%024x", now.Unix(), n) }
	deep, own := trace(0xdee9), trace(0x0a11)
	docs := []string{
		`{"trace_id":"` + deep + `","id":"d000000000000001","name":"gateway","start_time":` + at(0) + `,"end_time":` + at(400) + `,"fault":true,"http":{"response":{"status":502}},` +
			`"subsegments":[{"id":"d000000000000002","name":"ledger","namespace":"remote","start_time":` + at(50) + `,"end_time":` + at(350) + `,"fault":true,"http":{"response":{"status":500}}}]}`,
		`{"trace_id":"` + deep + `","id":"d000000000000003","parent_id":"d000000000000002","name":"ledger","start_time":` + at(60) + `,"end_time":` + at(340) + `,"fault":true,` +
			`"cause":{"exceptions":[{"id":"e000000000000001","type":"DeadlockError","message":"deadlock on accounts"}]},` +
			`"subsegments":[{"id":"d000000000000004","name":"commit","start_time":` + at(100) + `,"end_time":` + at(330) + `,"fault":true}]}`,
		`{"trace_id":"` + own + `","id":"f000000000000001","name":"gateway","start_time":` + at(0) + `,"end_time":` + at(300) + `,"fault":true,"http":{"response":{"status":500}},` +
			`"subsegments":[{"id":"f000000000000002","name":"ledger","namespace":"remote","start_time":` + at(20) + `,"end_time":` + at(80) + `,"http":{"response":{"status":200}}}]}`,
		`{"trace_id":"` + own + `","id":"f000000000000003","parent_id":"f000000000000002","name":"ledger","start_time":` + at(25) + `,"end_time":` + at(75) + `,"http":{"response":{"status":200}}}`,
	}
	if put, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs}); err != nil || len(put.UnprocessedTraceSegments) != 0 {
		t.Fatalf("PutTraceSegments: %v %+v", err, put)
	}
	start, end := now.Add(-time.Minute), now.Add(time.Minute)
	find := func(expr string) []types.TraceSummary {
		t.Helper()
		out, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &start, EndTime: &end, FilterExpression: awssdk.String(expr)})
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return out.TraceSummaries
	}
	// Acknowledged segments are durable at once, visible once the loader has stored them.
	for deadline := time.Now().Add(10 * time.Second); len(find(`service("ledger")`)) < 2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
	}
	ids := func(list []types.TraceSummary) []string {
		var got []string
		for _, s := range list {
			got = append(got, *s.Id)
		}
		slices.Sort(got)
		return got
	}
	for expr, want := range map[string][]string{
		`rootcause.fault.service { last and name = "ledger" }`:                        {deep},
		`rootcause.fault.service { last and name = "gateway" }`:                       {own},
		`rootcause.fault.entity { last and name = "commit" }`:                         {deep},
		`rootcause.fault.exception { message CONTAINS "deadlock" }`:                   {deep},
		`rootcause.fault.service { first and name = "gateway" }`:                      {own, deep},
		`service("ledger") { !fault } AND rootcause.fault.service { index = 0 }`:      {own},
		`rootcause.responsetime.service { last and name = "ledger" }`:                 {deep},
		`rootcause.json = #[{"Services": [{"Name": "gateway"}, {"Name": "ledger"}]}]`: {deep},
	} {
		if got := ids(find(expr)); !slices.Equal(got, want) {
			t.Errorf("%s found %v, want %v", expr, got, want)
		}
	}
	list := find(`rootcause.fault.service { name = "ledger" }`)
	if len(list) != 1 || len(list[0].FaultRootCauses) != 1 {
		t.Fatalf("summaries %+v, want the deep fault's with one root cause", list)
	}
	rc := list[0].FaultRootCauses[0]
	var path []string
	for _, s := range rc.Services {
		var entities []string
		for _, e := range s.EntityPath {
			entities = append(entities, *e.Name)
		}
		path = append(path, *s.Name+"["+strings.Join(entities, ",")+"]")
	}
	if got := strings.Join(path, " > "); got != "gateway[gateway,ledger] > ledger[ledger,commit]" || !*rc.ClientImpacting {
		t.Errorf("fault root cause %s (client impacting %v), want gateway[gateway,ledger] > ledger[ledger,commit]", got, *rc.ClientImpacting)
	}
	if ex := rc.Services[1].EntityPath[0].Exceptions; len(ex) != 1 || *ex[0].Name != "DeadlockError" || *ex[0].Message != "deadlock on accounts" {
		t.Errorf("the ledger's exceptions = %+v", ex)
	}
	_, err := c.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{StartTime: &start, EndTime: &end, FilterExpression: awssdk.String(`rootcause.fault.service { remote }`)})
	var invalid *types.InvalidRequestException
	if !errors.As(err, &invalid) || !strings.Contains(*invalid.Message, "position 26") {
		t.Errorf("remote on a root cause's service: %v, want InvalidRequestException at position 26", err)
	}
}
