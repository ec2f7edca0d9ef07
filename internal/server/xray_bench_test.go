//go:build linux

package server_test

import (
	"cmp"
	"encoding/json"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lookout/internal/ingest/xray/xraytest"
	"lookout/internal/server"
)

// xrayCounts reads the daemon endpoint's counters from the UI's X-Ray status.
func xrayCounts(b testing.TB, ui string) (received, stored, dropped, refused int64) {
	resp, err := http.Get("http://" + ui + "/api/v1/xray/status")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Data struct {
			Documents map[string]struct{ Received, Stored, Dropped, Refused int64 }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		b.Fatal(err)
	}
	c := st.Data.Documents["udp"]
	return c.Received, c.Stored, c.Dropped, c.Refused
}

// BenchmarkXRayUDPIngest sends realistic segments (three subsegments, annotations, metadata,
// an HTTP request; about 1.3 kB) to the daemon endpoint of a real lookout on disk as fast as
// one sender can, and waits until every datagram received is accounted for. It reports the
// rate sent, the rate stored (from the first datagram to the last stored), how many were
// dropped (by lookout, or by the kernel when the socket's buffer was full, which lookout
// learns of with the next datagram: one more is sent after a pause), how many were sent
// that lookout did not count (none, on Linux), and the CPU time lookout spent a document
// stored (the process's, less the sender's thread).
func BenchmarkXRayUDPIngest(b *testing.B) {
	defer server.TuneRuntime()() // as lookout serve runs
	srv := start(b)
	conn, err := net.Dial("udp4", srv.Addrs().XRay)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	now := time.Now().Add(-time.Minute)
	rnd := rand.New(rand.NewPCG(1, 2)) // ids as SDKs make them: random, so they do not compress
	payloads := make([][]byte, b.N+1)  // the last sent after a pause: the kernel's drops show with it
	for i := range payloads {
		payloads[i] = appendSegmentDatagram(nil, rnd, now, i)
	}
	b.SetBytes(int64(len(payloads[0])))
	b.ResetTimer()
	began, cpuBefore := time.Now(), cpuTime(syscall.RUSAGE_SELF)
	sendCPU := send(b, conn, payloads[:b.N])
	sending := time.Since(began)
	time.Sleep(50 * time.Millisecond)
	sendCPU += send(b, conn, payloads[b.N:])
	b.StopTimer()
	reportXRay(b, srv.Addrs().UI, b.N, began, sending, cpuBefore+sendCPU)
}

// reportXRay waits until every datagram the daemon endpoint received is stored, dropped or
// refused, fails on any refused, and reports the rates, the counts and lookout's CPU a
// document stored: the process's since began, less notLookout (the CPU it had used before, and
// the sender's). sent datagrams were sent in sending, and one more after them.
func reportXRay(b *testing.B, ui string, sent int, began time.Time, sending, notLookout time.Duration) (settled time.Duration, stored, dropped int64) {
	var received, refused int64
	for last := int64(-1); ; time.Sleep(20 * time.Millisecond) {
		received, stored, dropped, refused = xrayCounts(b, ui)
		if received == stored+dropped+refused && received == last {
			break
		}
		last = received
	}
	settled, lookoutCPU := time.Since(began), cpuTime(syscall.RUSAGE_SELF)-notLookout
	if refused != 0 {
		b.Fatalf("%d realistic segments refused", refused)
	}
	b.ReportMetric(float64(sent)/sending.Seconds(), "sent/s")
	b.ReportMetric(float64(stored)/settled.Seconds(), "stored/s")
	b.ReportMetric(float64(dropped), "dropped")
	b.ReportMetric(float64(int64(sent+1)-received), "uncounted") // what lookout did not learn of
	b.ReportMetric(float64(lookoutCPU.Microseconds())/float64(stored), "cpu-µs/stored")
	b.ReportMetric(0, "ns/op")
	return settled, stored, dropped
}

// BenchmarkXRayUDPSustained sends realistic segments at a steady rate for a while, as a fleet
// of SDKs does, and reports what lookout kept up with: each rate of LOOKOUT_XRAY_RATES
// (documents a second, "20000" unless set) is sent for LOOKOUT_XRAY_SECONDS (10), one
// datagram a period of its own on one thread. A rate is sustained when nothing is dropped
// and lookout is done soon after the last datagram (behind-s); alloc-B/stored and collections
// say what it asked of Go's collector. LOOKOUT_XRAY_HEAPPROFILE names a file for a heap profile
// taken 80 % into a rate. Run it with -benchtime 1x.
func BenchmarkXRayUDPSustained(b *testing.B) {
	rates := strings.Fields(os.Getenv("LOOKOUT_XRAY_RATES"))
	if len(rates) == 0 {
		rates = []string{"20000"}
	}
	seconds, err := strconv.Atoi(cmp.Or(os.Getenv("LOOKOUT_XRAY_SECONDS"), "10"))
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range rates {
		rate, err := strconv.Atoi(r)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("rate="+r, func(b *testing.B) {
			for b.Loop() {
				sustain(b, rate, time.Duration(seconds)*time.Second)
			}
		})
	}
}

// sustain sends rate documents a second for d to a fresh lookout and reports what it did.
func sustain(b *testing.B, rate int, d time.Duration) {
	defer server.TuneRuntime()()
	srv := start(b)
	conn, err := net.Dial("udp4", srv.Addrs().XRay)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	total := int(d.Seconds() * float64(rate))
	now, rnd := time.Now().Add(-time.Minute), rand.New(rand.NewPCG(1, 2))
	gc := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(gc)
	allocated, collections := gc[0].Value.Uint64(), gc[1].Value.Uint64()
	began, cpuBefore := time.Now(), cpuTime(syscall.RUSAGE_SELF)
	sendCPU := func() time.Duration { // the datagrams are made as they are sent, on this thread
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		before := cpuTime(syscall.RUSAGE_THREAD)
		var buf []byte
		for i := 0; i < total; i++ {
			if due := began.Add(time.Duration(i) * time.Second / time.Duration(rate)); time.Until(due) > 0 {
				time.Sleep(time.Until(due))
			}
			if i == total*8/10 {
				go writeHeapProfile(b, os.Getenv("LOOKOUT_XRAY_HEAPPROFILE"))
			}
			buf = appendSegmentDatagram(buf[:0], rnd, now, i)
			if _, err := conn.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		return cpuTime(syscall.RUSAGE_THREAD) - before
	}()
	sending := time.Since(began)
	time.Sleep(50 * time.Millisecond) // then one more, with which the kernel's drops show
	if _, err := conn.Write(appendSegmentDatagram(nil, rnd, now, total)); err != nil {
		b.Fatal(err)
	}
	settled, stored, dropped := reportXRay(b, srv.Addrs().UI, total, began, sending, cpuBefore+sendCPU)
	metrics.Read(gc) // what the collector had to do, which its share of the CPU follows
	b.ReportMetric(float64(gc[0].Value.Uint64()-allocated)/float64(stored), "alloc-B/stored")
	b.ReportMetric(float64(gc[1].Value.Uint64()-collections), "collections")
	b.ReportMetric(100*float64(dropped)/float64(total+1), "dropped-%")
	b.ReportMetric((settled - sending).Seconds(), "behind-s")
}

// writeHeapProfile writes a heap profile to path, if set: what lookout holds well into a run.
func writeHeapProfile(b *testing.B, path string) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.WriteHeapProfile(f)
		f.Close()
	}
	if err != nil {
		b.Error(err)
	}
}

// appendSegmentDatagram appends the i-th realistic segment as an SDK sends it: the header line,
// then a Flask request's segment with three subsegments, its times i×10 µs after now.
func appendSegmentDatagram(dst []byte, rnd *rand.Rand, now time.Time, i int) []byte {
	dst = append(dst, `{"format": "json", "version": 1}`+"\n"...)
	return xraytest.AppendSegment(dst, rnd, float64(now.UnixNano())/1e9+float64(i)*1e-5)
}

// send writes the datagrams from a thread of its own and returns the CPU time that took, so
// that the sender's cost can be told from lookout's in the process's.
func send(b *testing.B, conn net.Conn, datagrams [][]byte) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := cpuTime(syscall.RUSAGE_THREAD)
	for _, p := range datagrams {
		if _, err := conn.Write(p); err != nil {
			b.Fatal(err)
		}
	}
	return cpuTime(syscall.RUSAGE_THREAD) - before
}
