package xray

import (
	"bytes"
	"encoding/json"
	"strings"
)

// MaxDatagramBytes is the largest datagram the daemon endpoint reads, as the X-Ray daemon
// does: the IPv4 limit, and X-Ray's 64 kB segment document limit.
const MaxDatagramBytes = 64 << 10

// SplitDatagram checks a daemon datagram's header line and returns the segment document
// after it. The header is read as JSON, not compared byte for byte: the Go SDK writes
// {"format": "json", "version": 1} with spaces, Node and Python without.
func SplitDatagram(datagram []byte) ([]byte, error) {
	header, body, ok := bytes.Cut(datagram, []byte("\n"))
	if !ok || len(bytes.TrimSpace(body)) == 0 {
		return nil, refuse("", "InvalidSegment", "missing header or segment: a datagram is a header line, a newline and a segment document")
	}
	var h struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(header, &h); err != nil || !strings.EqualFold(h.Format, "json") || h.Version != 1 {
		return nil, refuse("", "InvalidHeader", `the header line must be {"format": "json", "version": 1}`)
	}
	return body, nil
}
