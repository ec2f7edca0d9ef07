package server_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"lookout/internal/testtool"
)

// TestXRaySampledTraceSummaries asks the AWS CLI for a sample of the traces, as the console
// does for large ranges: the same half of them each time, chosen by their ids' random part.
func TestXRaySampledTraceSummaries(t *testing.T) {
	testtool.Path(t, "aws", "the test runs the AWS CLI")
	srv := start(t)
	now := time.Now().Add(-time.Minute)
	epoch := fmt.Sprintf("%08x", now.Unix())
	var docs, ids, half []string
	for i := range 40 {
		id := fmt.Sprintf("1-%s-%024x", epoch, rand.Uint64())
		start := float64(now.UnixNano())/1e9 + float64(i)/10
		docs = append(docs, fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"sampled","start_time":%.3f,"end_time":%.3f}`, id, i+1, start, start+0.05))
		ids = append(ids, id)
		// The low 64 bits of the id are its last 16 hex digits: below half of 2^64 when the
		// first of them is below 8.
		if d, _ := strconv.ParseUint(id[len(id)-16:len(id)-15], 16, 8); d < 8 {
			half = append(half, id)
		}
	}
	awsCLI(t, srv, false, append([]string{"put-trace-segments", "--trace-segment-documents"}, docs...)...)
	window := []string{"--start-time", fmt.Sprint(now.Unix() - 60), "--end-time", fmt.Sprint(now.Unix() + 60)}
	summaryIDs := func(args ...string) []string {
		out := awsCLI(t, srv, false, append(append([]string{"get-trace-summaries"}, window...), args...)...)
		var got []string
		for _, s := range out["TraceSummaries"].([]any) {
			got = append(got, s.(map[string]any)["Id"].(string))
		}
		slices.Sort(got)
		return got
	}
	waitFor(t, func() bool { return len(summaryIDs()) == len(ids) })

	slices.Sort(half)
	got := summaryIDs("--sampling", "--sampling-strategy", "Name=FixedRate,Value=0.5")
	if !slices.Equal(got, half) {
		t.Errorf("a sample of half: %d traces %v, want the %d whose ids' random part is below half: %v", len(got), got, len(half), half)
	}
	if again := summaryIDs("--sampling", "--sampling-strategy", "Name=PartialScan,Value=0.5"); !slices.Equal(again, half) {
		t.Errorf("asked again with PartialScan: %v, want the same traces", again)
	}
	bad := awsCLI(t, srv, true, append(append([]string{"get-trace-summaries"}, window...), "--sampling", "--sampling-strategy", "Name=FixedRate,Value=1.5")...)
	if s := bad["stderr"].(string); !strings.Contains(s, "InvalidRequestException") {
		t.Errorf("a rate over 1: %s", s)
	}
}
