// Package httpbody reads the bodies of ingest requests for every HTTP receiver: the content
// codings lookout accepts (none, gzip, zstd), with the size limit applied after
// decompression, so that a small compressed bomb cannot make a receiver hold more than the
// limit.
package httpbody

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Error is a body that cannot be read, with the HTTP status to answer: 413 (too large after
// decompression), 415 (an unsupported Content-Encoding), 400 (malformed), 500.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// Reader reads request bodies of at most Max bytes after decompression. It is safe for
// concurrent use.
type Reader struct {
	max  int64     // bytes after decompression
	zstd sync.Pool // *zstd.Decoder, or the error creating one
}

// NewReader returns a Reader for bodies of at most limit bytes after decompression.
func NewReader(limit int64) *Reader {
	b := &Reader{max: limit}
	b.zstd.New = func() any {
		// Concurrency 1 decodes synchronously, so a pooled decoder owns no goroutines and
		// can be dropped by the pool without Close. The memory limit caps the window a frame
		// may ask for: the body limit, but never below the 8 MiB every zstd decoder is
		// expected to support. The output itself is capped by Read.
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(max(b.max, 8<<20))))
		if err != nil {
			return err
		}
		return d
	}
	return b
}

// Read returns the decompressed body of r. Release the buffer when done with it. On an
// unsupported coding it sets Accept-Encoding on w, as RFC 9110 asks.
func (b *Reader) Read(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, error) {
	coding, err := contentCoding(r.Header)
	if err != nil {
		w.Header().Set("Accept-Encoding", "gzip, zstd")
		return nil, err
	}
	tooLarge := &Error{Status: http.StatusRequestEntityTooLarge,
		Msg: fmt.Sprintf("request body exceeds the limit of %d bytes after decompression", b.max)}

	// Bound the wire body too, or a stream of empty gzip members would keep a handler reading
	// forever. Compression can add a little framing to incompressible data, hence the slack.
	wireLimit := b.max
	if coding != "" {
		wireLimit += b.max/64 + 4096
	}
	if r.ContentLength > wireLimit {
		return nil, tooLarge
	}
	wire := http.MaxBytesReader(w, r.Body, wireLimit)

	var src io.Reader = wire
	switch coding {
	case "gzip":
		zr, _ := gzipPool.Get().(*gzip.Reader)
		if zr == nil {
			zr = new(gzip.Reader)
		}
		defer gzipPool.Put(zr)
		if err := zr.Reset(wire); err != nil {
			return nil, bodyError(err, tooLarge, "gzip")
		}
		src = zr
	case "zstd":
		zd, err := b.zstdDecoder()
		if err != nil {
			return nil, &Error{Status: http.StatusInternalServerError, Msg: "internal error"}
		}
		defer b.zstd.Put(zd)
		defer zd.Reset(nil) // drop the reference to this request's body
		if err := zd.Reset(wire); err != nil {
			return nil, bodyError(err, tooLarge, "zstd")
		}
		src = zd
	}

	buf := bufferPool.Get().(*bytes.Buffer)
	if coding == "" && r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // room to see EOF without growing
	}
	if _, err := buf.ReadFrom(io.LimitReader(src, b.max+1)); err != nil {
		Release(buf)
		return nil, bodyError(err, tooLarge, coding)
	}
	if int64(buf.Len()) > b.max {
		Release(buf)
		return nil, tooLarge
	}
	return buf, nil
}

func (b *Reader) zstdDecoder() (*zstd.Decoder, error) {
	switch v := b.zstd.Get().(type) {
	case *zstd.Decoder:
		return v, nil
	case error:
		return nil, v
	}
	return nil, errors.New("zstd pool returned nothing")
}

func bodyError(err error, tooLarge *Error, coding string) *Error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge
	}
	what := "request body"
	if coding != "" {
		what = coding + " request body"
	}
	return &Error{Status: http.StatusBadRequest, Msg: "cannot read " + what + ": " + err.Error()}
}

// contentCoding returns the request's one content coding: "", "gzip" or "zstd".
func contentCoding(hdr http.Header) (string, error) {
	var coding string
	for _, v := range hdr.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			switch c {
			case "", "identity":
				continue
			case "x-gzip":
				c = "gzip"
			}
			if coding != "" {
				return "", &Error{Status: http.StatusUnsupportedMediaType,
					Msg: "more than one Content-Encoding is not supported; use one of gzip or zstd"}
			}
			coding = c
		}
	}
	switch coding {
	case "", "gzip", "zstd":
		return coding, nil
	}
	if len(coding) > 100 {
		coding = coding[:100]
	}
	return "", &Error{Status: http.StatusUnsupportedMediaType,
		Msg: fmt.Sprintf("unsupported Content-Encoding %q; use gzip, zstd or none", coding)}
}

var gzipPool sync.Pool // *gzip.Reader

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps the occasional huge request from pinning its buffer in the pool.
const maxPooledBuffer = 4 << 20

// Release returns a buffer from Read for reuse.
func Release(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledBuffer {
		return
	}
	buf.Reset()
	bufferPool.Put(buf)
}
