package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// BenchmarkXRaySamplingClients measures what centralized sampling costs lookout: each op is
// one request an X-Ray SDK makes to the daemon endpoint's TCP port, mixed as 100 SDK clients
// make them (GetSamplingTargets every 10 s with statistics for two rules, GetSamplingRules
// every 5 minutes), and reports the CPU an op takes (lookout and the client together, so an
// upper bound) and the share of one core 100 clients would therefore use.
func BenchmarkXRaySamplingClients(b *testing.B) {
	const clients, targetsEvery, rulesEvery = 100, 10.0, 300.0 // seconds, as the SDKs poll
	srv := start(b)
	base := "http://" + srv.Addrs().XRay
	post := func(path string, body []byte) {
		resp, err := apiClient.Post(base+path, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %s %s", path, resp.Status, out)
		}
	}
	post("/CreateSamplingRule", []byte(`{"SamplingRule":{"RuleName":"Cruddur","ResourceARN":"*","Priority":9000,"FixedRate":0.1,
		"ReservoirSize":5,"ServiceName":"backend-flask","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"*","Version":1}}`))
	targets := make([][]byte, clients)
	for c := range targets {
		now := float64(time.Now().Unix())
		targets[c] = fmt.Appendf(nil, `{"SamplingStatisticsDocuments":[`+
			`{"RuleName":"Cruddur","ClientID":"%024x","Timestamp":%.0f,"RequestCount":50,"SampledCount":9,"BorrowCount":1},`+
			`{"RuleName":"Default","ClientID":"%024x","Timestamp":%.0f,"RequestCount":3,"SampledCount":1,"BorrowCount":0}]}`, c+1, now, c+1, now)
	}
	rulesShare := int(rulesEvery / targetsEvery) // one GetSamplingRules for this many GetSamplingTargets
	before := cpuTime(syscall.RUSAGE_SELF)
	b.ResetTimer()
	for i := range b.N {
		if i%rulesShare == rulesShare-1 {
			post("/GetSamplingRules", []byte(`{}`))
		} else {
			post("/SamplingTargets", targets[i%clients])
		}
	}
	b.StopTimer()
	perOp := (cpuTime(syscall.RUSAGE_SELF) - before).Seconds() / float64(b.N)
	perSecond := clients * (1/targetsEvery + 1/rulesEvery) // requests of 100 clients
	b.ReportMetric(perOp*1e6, "cpu-µs/op")
	b.ReportMetric(100*perOp*perSecond, "%core-100clients")
}
