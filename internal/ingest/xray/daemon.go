package xray

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Daemon is the X-Ray daemon's endpoint: SDKs send segment documents to it over UDP and ask
// for sampling rules and targets over TCP, on the same address (127.0.0.1:2000 by default,
// as the daemon). Over TCP it serves the X-Ray API itself, where the daemon would proxy it.
//
// UDP has no acknowledgement and no back-pressure: when lookout cannot keep up, datagrams
// are dropped (and counted) rather than left to fill the socket's buffer, so that the SDKs
// never wait. Datagrams the kernel drops because that buffer is full anyway are counted too,
// on Linux, once the next datagram is read: received is then what was sent.
type Daemon struct {
	addr string
	in   *Ingester
	api  http.Handler
	log  *slog.Logger

	conn       *net.UDPConn
	readBuffer int          // the socket's buffer, in bytes; a test makes it small
	drops      *kernelDrops // nil where the kernel does not count them
	tcp        *http.Server
	queue      chan []byte
	queueBytes int64        // the most the queued datagrams may hold; a test makes it small
	queued     atomic.Int64 // what the queued datagrams hold now
	free       chan []byte  // datagrams' copies the decoders are done with
	batchSpans int          // spans a batch holds; a test makes it small
	done       sync.WaitGroup
}

// The queue of datagrams read and not yet decoded is bounded by their bytes, so that it holds
// as much memory whatever their size: 32 MiB of datagrams (their copies at most twice that),
// about 18,000 documents as the Python SDK writes them, or 500 of the largest. It absorbs the
// store's pauses (a checkpoint of the database takes a second or two, during which the
// pipeline's pending room fills); 64 MiB was measured to take the heap to lookout's soft
// memory limit, where the collector runs all the time. A datagram's copy is kept for reuse
// when it is no larger than freeMaxBytes.
//
// Batching of the documents that come over UDP: a batch is written when it holds
// batchSpans spans or is batchWait old, whichever comes first. Decoded documents wait for
// their batch in a short queue of decodedDocs.
const (
	queueBytes     = 32 << 20
	queueDatagrams = 1 << 17
	freeDatagrams  = 1024
	freeMaxBytes   = 16 << 10
	decodedDocs    = 256
	batchSpans     = 4096
	batchWait      = 50 * time.Millisecond
)

// NewDaemon returns the endpoint for addr, storing through the API's Ingester and serving
// the API over TCP.
func NewDaemon(addr string, api *API, log *slog.Logger) *Daemon {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{addr: addr, in: api.cfg.Ingester, api: api.daemonHandler(), log: log, queue: make(chan []byte, queueDatagrams),
		queueBytes: queueBytes, free: make(chan []byte, freeDatagrams), batchSpans: batchSpans,
		readBuffer: 4 << 20} // absorbs bursts while a batch is written; the kernel may cap it
	return d
}

// Name is what the listener serves.
func (d *Daemon) Name() string { return "X-Ray daemon" }

// Addr is the address it listens on, UDP and TCP, once started.
func (d *Daemon) Addr() string { return d.addr }

// Start binds the UDP socket and the TCP listener on the same address.
func (d *Daemon) Start(context.Context) error {
	conn, ln, err := listenBoth(d.addr)
	if err != nil {
		return err
	}
	conn.SetReadBuffer(d.readBuffer)
	d.conn, d.addr, d.drops = conn, conn.LocalAddr().String(), watchKernelDrops(conn)
	d.tcp = &http.Server{Handler: d.api, ReadHeaderTimeout: 30 * time.Second, ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelWarn)}
	d.done.Add(3)
	go func() {
		defer d.done.Done()
		if err := d.tcp.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("listener failed", "listener", d.Name(), "err", err)
		}
	}()
	go func() { defer d.done.Done(); d.read() }()
	go func() { defer d.done.Done(); d.process() }()
	return nil
}

// listenBoth binds UDP and TCP on one address. For port 0 the system picks the UDP port,
// which may be taken for TCP: then it tries another.
func listenBoth(addr string) (*net.UDPConn, net.Listener, error) {
	udpAddr, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("X-Ray daemon address %s: %w", addr, err)
	}
	for attempt := 0; ; attempt++ {
		conn, err := net.ListenUDP("udp4", udpAddr)
		if err != nil {
			return nil, nil, fmt.Errorf("listen for the X-Ray daemon on udp %s: %w", addr, err)
		}
		ln, err := net.Listen("tcp4", conn.LocalAddr().String())
		if err == nil {
			return conn, ln, nil
		}
		conn.Close()
		if udpAddr.Port != 0 || attempt == 20 {
			return nil, nil, fmt.Errorf("listen for the X-Ray daemon on tcp %s: %w", conn.LocalAddr(), err)
		}
	}
}

// read takes datagrams off the socket and queues them, dropping them when the queue is full.
// Each is queued as a copy of about its own size (copyOf) and counted against the queue's
// bytes.
func (d *Daemon) read() {
	defer close(d.queue)
	buf, oob := make([]byte, MaxDatagramBytes+1), make([]byte, d.drops.oobBytes())
	for {
		n, oobn, _, _, err := d.conn.ReadMsgUDP(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if lost := d.drops.since(oob[:oobn]); lost > 0 {
			d.in.received(ViaUDP, lost)
			d.in.dropped(ViaUDP, lost, "the socket's buffer was full: the kernel dropped them before lookout could read them")
		}
		d.in.received(ViaUDP, 1)
		if n > MaxDatagramBytes {
			d.in.refused(ViaUDP, refuse("", "SegmentTooLarge", "a datagram is larger than %d bytes", MaxDatagramBytes))
			continue
		}
		// The reader is the queue's only sender, so room seen is room kept; a dropped
		// datagram is not copied first, which under overload would be most of them.
		if len(d.queue) == cap(d.queue) || d.queued.Load()+int64(n) > d.queueBytes {
			d.in.dropped(ViaUDP, 1, "the queue of datagrams is full: lookout is not keeping up")
			continue
		}
		d.queued.Add(int64(n))
		d.queue <- d.copyOf(buf[:n])
	}
}

// copyOf copies a datagram into a copy the decoders are done with, if one has room for it
// and no more than twice as much, so that the queue holds at most twice its datagrams'
// bytes; or else into a new one. Reusing them spares the collector a copy a datagram.
func (d *Daemon) copyOf(datagram []byte) []byte {
	select {
	case b := <-d.free:
		if n := len(datagram); n <= cap(b) && cap(b) <= 2*n {
			return append(b[:0], datagram...)
		}
	default:
	}
	return bytes.Clone(datagram)
}

// process decodes queued datagrams on every core and hands them in batches to a writer, so
// that decoding goes on while a batch is made durable, until the queue closes.
func (d *Daemon) process() {
	decoded := make(chan *Document, decodedDocs)
	var decoders sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		decoders.Go(func() { d.decodeQueue(decoded) })
	}
	go func() { decoders.Wait(); close(decoded) }()
	d.batch(decoded)
}

// decodeQueue decodes queued datagrams until the queue closes, counting those refused.
func (d *Daemon) decodeQueue(decoded chan<- *Document) {
	for datagram := range d.queue {
		doc, err := d.decode(datagram) // a document holds nothing of its datagram
		d.queued.Add(-int64(len(datagram)))
		if cap(datagram) <= freeMaxBytes {
			select {
			case d.free <- datagram:
			default:
			}
		}
		if err != nil {
			d.in.refused(ViaUDP, err)
			continue
		}
		decoded <- doc
	}
}

// batch gathers decoded documents into batches for a writer until there are no more.
func (d *Daemon) batch(decoded <-chan *Document) {
	batches := make(chan []*Document, 2)
	written := make(chan struct{})
	go func() { defer close(written); d.write(batches) }()
	tick := time.NewTicker(batchWait)
	defer tick.Stop()
	var batch []*Document
	spans := 0
	flush := func() {
		batches <- batch // an empty batch still stores the subsegments whose wait is over
		batch, spans = nil, 0
	}
	for {
		select {
		case doc, ok := <-decoded:
			if !ok {
				flush()
				close(batches)
				<-written
				return
			}
			batch = append(batch, doc)
			if spans += len(doc.Spans); spans >= d.batchSpans {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// write stores batches until there are no more, then the subsegments still waiting for
// their segment.
func (d *Daemon) write(batches <-chan []*Document) {
	for batch := range batches {
		// The daemon acknowledges nothing, so a write is not tied to any request; a failed
		// one is counted as dropped.
		if err := d.in.write(context.Background(), ViaUDP, batch, true); err != nil {
			d.log.Debug("x-ray: could not store datagrams", "err", err)
		}
		if err := d.in.flushExpired(context.Background()); err != nil {
			d.log.Debug("x-ray: could not store subsegments", "err", err)
		}
	}
	if err := d.in.store(context.Background(), d.in.resolver.drain()); err != nil {
		d.log.Warn("x-ray: could not store subsegments at shutdown", "err", err)
	}
}

func (d *Daemon) decode(datagram []byte) (*Document, error) {
	body, err := SplitDatagram(datagram)
	if err != nil {
		return nil, err
	}
	return DecodeDocument(body, d.in.now())
}

// Shutdown stops reading, stores what was read, and stops the TCP server, by the time ctx
// ends.
func (d *Daemon) Shutdown(ctx context.Context) error {
	err := d.tcp.Shutdown(ctx)
	if err != nil {
		d.tcp.Close()
	}
	d.conn.Close()
	waited := make(chan struct{})
	go func() { d.done.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		return ctx.Err()
	}
	return err
}
