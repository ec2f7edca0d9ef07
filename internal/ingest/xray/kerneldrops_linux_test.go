package xray

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"lookout/internal/metrics"
)

// TestKernelDropsCounted fills a small socket buffer with datagrams nobody reads: the kernel
// drops the rest, and the datagrams read then say how many, so that every datagram sent is
// either read or counted.
func TestKernelDropsCounted(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadBuffer(4096) // the kernel's least, about two datagrams of this size
	drops := watchKernelDrops(conn)
	if drops == nil {
		t.Fatal("the kernel does not count drops")
	}
	out, err := net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	datagram := bytes.Repeat([]byte("x"), 1000)
	send := func(n int) {
		for range n {
			if _, err := out.Write(datagram); err != nil {
				t.Fatal(err)
			}
		}
	}
	read, dropped := 0, 0
	readAll := func() {
		buf, oob := make([]byte, 2048), make([]byte, drops.oobBytes())
		for {
			conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			_, oobn, _, _, err := conn.ReadMsgUDP(buf, oob)
			if err != nil {
				return
			}
			read++
			dropped += drops.since(oob[:oobn])
		}
	}
	send(200)
	readAll()
	send(1) // the drops after the last datagram read show with the next one
	readAll()
	t.Logf("sent 201, read %d, the kernel dropped %d", read, dropped)
	if dropped == 0 || read+dropped != 201 {
		t.Errorf("sent 201, read %d, counted %d dropped: want them to add up, some dropped", read, dropped)
	}
}

// TestDaemonCountsWhatTheKernelDrops floods a daemon whose socket buffer holds a few datagrams
// from four senders at once: what the kernel drops is counted as received and dropped, so
// that received is exactly what was sent.
func TestDaemonCountsWhatTheKernelDrops(t *testing.T) {
	sink := &gatedSink{gate: make(chan struct{})}
	close(sink.gate)
	_, d, m := startDaemon(t, sink, func(d *Daemon) { d.readBuffer = 4096 })
	const senders, each = 4, 2000
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			conn, err := net.Dial("udp4", d.Addr())
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			for i := range each {
				conn.Write(segmentDatagram(s*each + i))
			}
		})
	}
	wg.Wait()
	time.Sleep(100 * time.Millisecond)
	conn, err := net.Dial("udp4", d.Addr()) // the drops after the last datagram read show with the next one
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(segmentDatagram(senders * each))
	sent := senders*each + 1
	waitCounts(t, m, sent)
	dropped := count(m, metrics.Dropped)
	t.Logf("sent %d, received %d, stored %d, dropped %d", sent, count(m, metrics.Received), count(m, metrics.Stored), dropped)
	if dropped == 0 {
		t.Skip("the daemon read every datagram: nothing dropped to count")
	}
}
