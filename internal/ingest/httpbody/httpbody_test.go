package httpbody

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func gzipped(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func zstded(b []byte) []byte {
	enc, _ := zstd.NewWriter(nil)
	return enc.EncodeAll(b, nil)
}

func TestRead(t *testing.T) {
	const limit = 1000
	small, big := bytes.Repeat([]byte("a"), limit), bytes.Repeat([]byte("a"), limit+1)
	cases := []struct {
		name, coding string
		body         []byte
		status       int // 0: read succeeds and returns want
		want         []byte
	}{
		{"plain at the limit", "", small, 0, small},
		{"plain over the limit", "", big, http.StatusRequestEntityTooLarge, nil},
		{"gzip", "gzip", gzipped(small), 0, small},
		{"gzip inflating past the limit", "gzip", gzipped(big), http.StatusRequestEntityTooLarge, nil},
		{"zstd", "zstd", zstded(small), 0, small},
		{"zstd inflating past the limit", "zstd", zstded(big), http.StatusRequestEntityTooLarge, nil},
		{"broken gzip", "gzip", []byte("not gzip"), http.StatusBadRequest, nil},
		{"unknown coding", "br", small, http.StatusUnsupportedMediaType, nil},
		{"two codings", "gzip, zstd", small, http.StatusUnsupportedMediaType, nil},
	}
	reader := NewReader(limit)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tc.body))
			if tc.coding != "" {
				r.Header.Set("Content-Encoding", tc.coding)
			}
			w := httptest.NewRecorder()
			buf, err := reader.Read(w, r)
			if tc.status == 0 {
				if err != nil || !bytes.Equal(buf.Bytes(), tc.want) {
					t.Fatalf("Read: %v, %d bytes", err, len(buf.Bytes()))
				}
				Release(buf)
				return
			}
			var be *Error
			if !errors.As(err, &be) || be.Status != tc.status {
				t.Fatalf("err = %v, want status %d", err, tc.status)
			}
			if tc.status == http.StatusUnsupportedMediaType && w.Header().Get("Accept-Encoding") == "" {
				t.Error("no Accept-Encoding on 415")
			}
		})
	}
}
