package cwlogs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TestInsightsGoSDK runs Logs Insights queries with the AWS SDK for Go over two groups and
// checks their rows against counts made here, @ptr with GetLogRecord, field discovery,
// DescribeQueries, StopQuery and MalformedQueryException.
func TestInsightsGoSDK(t *testing.T) {
	l := start(t)
	c := client(l, "test", "test")
	ctx := context.Background()
	minute := time.Now().Add(-30 * time.Minute).Truncate(time.Minute)
	// web gets 3 lines a minute for 4 minutes, one of each 3 a 500; api gets 2 in minute 0.
	wantPerMinute := map[int64]int{}
	var fiveHundreds int
	for _, g := range []string{"web", "api"} {
		must(t, "CreateLogGroup", second(c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)})))
		must(t, "CreateLogStream", second(c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(g), LogStreamName: aws.String("s")})))
		var events []types.InputLogEvent
		minutes, perMinute := 4, 3
		if g == "api" {
			minutes, perMinute = 1, 2
		}
		for m := range minutes {
			for i := range perMinute {
				status := 200
				if i == 0 {
					status = 500
					fiveHundreds++
				}
				at := minute.Add(time.Duration(m)*time.Minute + time.Duration(i)*time.Second)
				events = append(events, event(at, fmt.Sprintf(`{"group":%q,"status":%d,"ms":%d}`, g, status, 10*(i+1))))
				wantPerMinute[at.Truncate(time.Minute).UnixMilli()]++
			}
		}
		must(t, "PutLogEvents", second(c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(g), LogStreamName: aws.String("s"), LogEvents: events})))
	}
	waitForEvents(t, c, "web", "s", 12)
	waitForEvents(t, c, "api", "s", 2)

	run := func(query string) *cloudwatchlogs.GetQueryResultsOutput {
		t.Helper()
		started, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupNames: []string{"web", "api"}, QueryString: aws.String(query),
			StartTime: aws.Int64(minute.Add(-time.Hour).Unix()), EndTime: aws.Int64(time.Now().Unix())})
		must(t, "StartQuery", err)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			res, err := c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: started.QueryId})
			must(t, "GetQueryResults", err)
			if res.Status != types.QueryStatusRunning {
				if res.Status != types.QueryStatusComplete {
					t.Fatalf("%s: status %s", query, res.Status)
				}
				return res
			}
		}
		t.Fatalf("%s: still running after 10 s", query)
		return nil
	}
	value := func(row []types.ResultField, field string) string {
		for _, f := range row {
			if aws.ToString(f.Field) == field {
				return aws.ToString(f.Value)
			}
		}
		return ""
	}

	res := run(`stats count(*) as n by bin(1m)`)
	if len(res.Results) != len(wantPerMinute) {
		t.Fatalf("%d bins, want %d: %v", len(res.Results), len(wantPerMinute), res.Results)
	}
	for _, row := range res.Results {
		at, err := time.Parse("2006-01-02 15:04:05.000", value(row, "bin(1m)"))
		if err != nil || value(row, "n") != fmt.Sprint(wantPerMinute[at.UnixMilli()]) {
			t.Errorf("bin %v: n=%s, want %d", value(row, "bin(1m)"), value(row, "n"), wantPerMinute[at.UnixMilli()])
		}
	}
	if res.Statistics.RecordsScanned != 14 || res.Statistics.RecordsMatched != 14 {
		t.Errorf("statistics %+v, want 14 scanned and matched", res.Statistics)
	}

	res = run(`fields @timestamp, @message, @log, group | filter status >= 500 | sort @timestamp desc | limit 3`)
	if len(res.Results) != 3 || res.Statistics.RecordsMatched != float64(fiveHundreds) {
		t.Fatalf("500s: %d rows (matched %v), want 3 of %d", len(res.Results), res.Statistics.RecordsMatched, fiveHundreds)
	}
	var times []string
	for _, row := range res.Results {
		times = append(times, value(row, "@timestamp"))
	}
	if !slices.IsSortedFunc(times, func(a, b string) int { return strings.Compare(b, a) }) || value(res.Results[0], "@log") != "000000000000:web" {
		t.Errorf("rows %v", res.Results)
	}
	ptr := value(res.Results[0], "@ptr")
	rec, err := c.GetLogRecord(ctx, &cloudwatchlogs.GetLogRecordInput{LogRecordPointer: aws.String(ptr)})
	must(t, "GetLogRecord", err)
	if rec.LogRecord["@message"] != value(res.Results[0], "@message") || rec.LogRecord["status"] != "500" || rec.LogRecord["@logStream"] != "s" {
		t.Errorf("GetLogRecord %v", rec.LogRecord)
	}
	_, err = c.GetLogRecord(ctx, &cloudwatchlogs.GetLogRecordInput{LogRecordPointer: aws.String("nonsense")})
	mustCode(t, "a pointer lookout never gave", err, "InvalidParameterException")

	fields, err := c.GetLogGroupFields(ctx, &cloudwatchlogs.GetLogGroupFieldsInput{LogGroupName: aws.String("web"), Time: aws.Int64(minute.Add(2 * time.Minute).Unix())})
	must(t, "GetLogGroupFields", err)
	var names []string
	for _, f := range fields.LogGroupFields {
		names = append(names, aws.ToString(f.Name))
		if f.Percent != 100 {
			t.Errorf("field %s in %d%% of records, want 100", aws.ToString(f.Name), f.Percent)
		}
	}
	for _, want := range []string{"@message", "@timestamp", "group", "ms", "status"} {
		if !slices.Contains(names, want) {
			t.Errorf("fields %v lack %s", names, want)
		}
	}

	_, err = c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("web"), QueryString: aws.String("fields a | frobnicate"),
		StartTime: aws.Int64(0), EndTime: aws.Int64(1)})
	var mq *types.MalformedQueryException
	if !errors.As(err, &mq) || mq.QueryCompileError == nil || aws.ToInt32(mq.QueryCompileError.Location.StartCharOffset) != 11 {
		t.Errorf("malformed query: %v", err)
	}
	listed, err := c.DescribeQueries(ctx, &cloudwatchlogs.DescribeQueriesInput{LogGroupName: aws.String("api")})
	must(t, "DescribeQueries", err)
	if len(listed.Queries) != 2 || listed.Queries[1].Status != types.QueryStatusComplete {
		t.Fatalf("DescribeQueries: %+v", listed.Queries)
	}
	_, err = c.StopQuery(ctx, &cloudwatchlogs.StopQueryInput{QueryId: listed.Queries[0].QueryId})
	mustCode(t, "stopping a finished query", err, "InvalidParameterException")
	_, err = c.StopQuery(ctx, &cloudwatchlogs.StopQueryInput{QueryId: aws.String("no-such-query")})
	mustCode(t, "stopping an unknown query", err, "ResourceNotFoundException")
}

// TestInsightsNewestStopsEarly runs queries answered by their newest matches over lines
// spread through two hours, so that lookout reads them in several time windows, and checks
// the rows against the newest matches picked here.
func TestInsightsNewestStopsEarly(t *testing.T) {
	l := start(t)
	c := client(l, "test", "test")
	ctx := context.Background()
	must(t, "CreateLogGroup", second(c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("web")})))
	must(t, "CreateLogStream", second(c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("web"), LogStreamName: aws.String("s")})))
	// A line every 2 minutes for 2 hours, oldest first; one in 7 a 500.
	now := time.Now().Truncate(time.Second)
	var events []types.InputLogEvent
	var all, errors500 []string // newest first
	for i := 60; i >= 1; i-- {
		status := 200
		if i%7 == 0 {
			status = 500
		}
		msg := fmt.Sprintf(`{"line":%d,"status":%d}`, i, status)
		events = append(events, event(now.Add(-time.Duration(2*i)*time.Minute), msg))
		all = append([]string{msg}, all...)
		if status == 500 {
			errors500 = append([]string{msg}, errors500...)
		}
	}
	must(t, "PutLogEvents", second(c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("web"), LogStreamName: aws.String("s"), LogEvents: events})))
	waitForEvents(t, c, "web", "s", len(events))

	for _, tc := range []struct {
		query   string
		want    []string
		matched int
	}{
		{"fields @timestamp, @message | sort @timestamp desc | limit 5", all[:5], len(all)},
		{"filter status = 500 | fields @message | limit 4", errors500[:4], -1}, // matched: at least 4
		{"filter status = 500 | display @message", errors500, len(errors500)},
		{"fields @message | filter @message like /line\":(5|6)[0-9],/ | limit 3", all[49:52], -1}, // lines 50, 51, 52,
	} {
		started, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String("web"), QueryString: aws.String(tc.query),
			StartTime: aws.Int64(now.Add(-3 * time.Hour).Unix()), EndTime: aws.Int64(now.Unix())})
		must(t, "StartQuery", err)
		var res *cloudwatchlogs.GetQueryResultsOutput
		for deadline := time.Now().Add(10 * time.Second); res == nil || res.Status == types.QueryStatusRunning; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: still running", tc.query)
			}
			res, err = c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: started.QueryId})
			must(t, "GetQueryResults", err)
		}
		var got []string
		for _, row := range res.Results {
			for _, f := range row {
				if aws.ToString(f.Field) == "@message" {
					got = append(got, aws.ToString(f.Value))
				}
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.query, got, tc.want)
		}
		if m := int(res.Statistics.RecordsMatched); tc.matched >= 0 && m != tc.matched || m < len(tc.want) {
			t.Errorf("%s: %d records matched, want %d", tc.query, m, tc.matched)
		}
	}
}
