package server_test

import (
	"context"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/aws-xray-sdk-go/daemoncfg"
	"github.com/aws/aws-xray-sdk-go/strategy/sampling"

	"lookout/internal/server"
)

// sdkSampler is the real aws-xray-sdk-go's centralized sampling, pulling rules and targets
// from lookout's daemon endpoint as an application's SDK does.
func sdkSampler(t *testing.T, daemonAddr string) *sampling.CentralizedStrategy {
	t.Helper()
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", "") // the SDK would prefer it to the address given
	// With a CA bundle, each sampler's AWS session writes it into Go's shared HTTP client,
	// which the other samplers' requests read: a race of several samplers in one process,
	// which an application, with one, never has.
	t.Setenv("AWS_CA_BUNDLE", "")
	endpoints, err := daemoncfg.GetDaemonEndpointsFromString(daemonAddr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sampling.NewCentralizedStrategy()
	if err != nil {
		t.Fatal(err)
	}
	s.LoadDaemonEndpoints(endpoints)
	return s
}

// post sends body to addr+path unsigned and returns the status and body.
func post(t *testing.T, addr, path, body string) (int, string) {
	t.Helper()
	resp, err := http.Post("http://"+addr+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestXRayDaemonPortTakesUnsignedRequests runs lookout with --aws-credentials: the daemon
// endpoint's TCP port takes the SDKs' unsigned sampling requests, as the daemon does, so the
// real SDK samples with lookout's rules; any other unsigned request is refused there as on
// the HTTP listener.
func TestXRayDaemonPortTakesUnsignedRequests(t *testing.T) {
	file := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(file, []byte("test test\n"), 0o600); err != nil { // xrayClient's key pair
		t.Fatal(err)
	}
	srv := start(t, func(c *server.Config) { c.AWSCredentialsFile = file })
	rule := `{"SamplingRule": {"RuleName": "signed-shop", "ResourceARN": "*", "Priority": 1, "FixedRate": 1,
		"ReservoirSize": 0, "ServiceName": "signed-shop", "ServiceType": "*", "Host": "*", "HTTPMethod": "*",
		"URLPath": "*", "Version": 1}}`
	for _, addr := range []string{srv.Addrs().HTTP, srv.Addrs().XRay} {
		if status, body := post(t, addr, "/CreateSamplingRule", rule); status != http.StatusForbidden {
			t.Fatalf("unsigned CreateSamplingRule on %s: %d %s, want 403", addr, status, body)
		}
	}
	if status, body := post(t, srv.Addrs().XRay, "/GetSamplingRules", `{}`); status != http.StatusOK {
		t.Fatalf("unsigned GetSamplingRules on the daemon port: %d %s", status, body)
	}
	if _, err := xrayClient(srv).CreateSamplingRule(context.Background(), &xray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
		RuleName: awssdk.String("signed-shop"), ResourceARN: awssdk.String("*"), Priority: awssdk.Int32(1), FixedRate: 1, ReservoirSize: 0,
		ServiceName: awssdk.String("signed-shop"), ServiceType: awssdk.String("*"), Host: awssdk.String("*"), HTTPMethod: awssdk.String("*"),
		URLPath: awssdk.String("*"), Version: awssdk.Int32(1)}}); err != nil {
		t.Fatalf("signed CreateSamplingRule: %v", err)
	}

	sampler := sdkSampler(t, srv.Addrs().XRay)
	req := &sampling.Request{Host: "shop.example", URL: "/cart", Method: "GET", ServiceName: "signed-shop"}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if d := sampler.ShouldTrace(req); d.Rule != nil && *d.Rule == "signed-shop" {
			if !d.Sample {
				t.Fatal("the rule's fixed rate is 1, yet the SDK did not sample")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the SDK never sampled with lookout's rule: its unsigned GetSamplingRules was refused?")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestXRaySampledRateOfSeveralClients runs four real SDK samplers against one rule (a
// reservoir of 20 a second, then 10 %) and measures what they sampled together once each had
// its share: one reservoir for all, not one each, and not the one a second each borrows
// while it has no share.
func TestXRaySampledRateOfSeveralClients(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 30 s: the SDK asks for its targets every 10 s")
	}
	const (
		clients   = 4
		reservoir = 20
		rate      = 0.1
		every     = time.Second / 50 // each client decides 50 times a second
	)
	srv := start(t)
	if status, body := post(t, srv.Addrs().HTTP, "/CreateSamplingRule", `{"SamplingRule": {"RuleName": "shared",
		"ResourceARN": "*", "Priority": 1, "FixedRate": 0.1, "ReservoirSize": 20, "ServiceName": "rated",
		"ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "*", "Version": 1}}`); status != http.StatusOK {
		t.Fatalf("CreateSamplingRule: %d %s", status, body)
	}

	// The SDK pulls the rules at its first decision and its targets every 10.1 s from then;
	// until its first target it borrows one a second. At the first round the clients that
	// report first share the reservoir among fewer; from the second, all four share it.
	begin := time.Now()
	windowStart, windowEnd := begin.Add(21*time.Second), begin.Add(29*time.Second)
	var (
		mu                        sync.Mutex
		decided, sampled, noMatch int
		wg                        sync.WaitGroup
	)
	for range clients {
		sampler := sdkSampler(t, srv.Addrs().XRay)
		wg.Go(func() {
			req := &sampling.Request{Host: "rated.example", URL: "/", Method: "GET", ServiceName: "rated"}
			tick := time.NewTicker(every)
			defer tick.Stop()
			for now := range tick.C {
				if !now.Before(windowEnd) {
					return
				}
				d := sampler.ShouldTrace(req)
				if now.Before(windowStart) {
					continue
				}
				mu.Lock()
				if d.Rule != nil && *d.Rule == "shared" {
					decided++
					if d.Sample {
						sampled++
					}
				} else {
					noMatch++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	if noMatch > 0 || decided == 0 {
		t.Fatalf("%d decisions in the window were not the rule's (of %d): the SDKs never got lookout's rules", noMatch, noMatch+decided)
	}
	seconds := windowEnd.Sub(windowStart).Seconds()
	fromReservoir := min(float64(decided), reservoir*seconds)
	rest := float64(decided) - fromReservoir
	want := fromReservoir + rate*rest
	// The rate's part is binomial: allow five standard deviations, and a second of the
	// reservoir for where the window cuts the SDK's seconds.
	tolerance := 5*math.Sqrt(rest*rate*(1-rate)) + reservoir
	t.Logf("%d decisions in %.0f s by %d clients, %d sampled, %.0f expected (± %.0f)", decided, seconds, clients, sampled, want, tolerance)
	if d := float64(sampled) - want; d > tolerance || d < -tolerance {
		t.Errorf("sampled %d of %d decisions, want %.0f ± %.0f: one reservoir of %d a second and %.0f %% of the rest",
			sampled, decided, want, tolerance, reservoir, rate*100)
	}
}
