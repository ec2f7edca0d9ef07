package honeycomb

import (
	"encoding/binary"
	"errors"
)

// maxMsgpackDepth bounds how deeply msgpack containers may nest.
const maxMsgpackDepth = 64

var errMsgpack = errors.New("malformed msgpack")

// checkMsgpack walks one msgpack value without building it, and fails if a container claims
// more elements than the bytes left could hold, if containers nest deeper than
// maxMsgpackDepth, or if bytes follow the value. The msgpack decoder trusts declared lengths
// (a 5-byte body can ask for a map of 800 million entries) and recurses without limit, so
// bodies are checked before it sees them.
func checkMsgpack(b []byte) error {
	pending := []int{1} // values still to read, per open container
	for len(pending) > 0 {
		if pending[len(pending)-1] == 0 {
			pending = pending[:len(pending)-1]
			continue
		}
		pending[len(pending)-1]--
		if len(b) == 0 {
			return errMsgpack
		}
		c := b[0]
		b = b[1:]
		size, count := 0, -1 // payload bytes to skip; elements of a container (-1: none)
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		case c >= 0x80 && c <= 0x8f:
			count = 2 * int(c&0x0f)
		case c >= 0x90 && c <= 0x9f:
			count = int(c & 0x0f)
		case c >= 0xa0 && c <= 0xbf:
			size = int(c & 0x1f)
		case c == 0xc4 || c == 0xd9: // bin8, str8
			n, rest, ok := length(b, 1)
			size, b = n, rest
			if !ok {
				return errMsgpack
			}
		case c == 0xc5 || c == 0xda: // bin16, str16
			n, rest, ok := length(b, 2)
			size, b = n, rest
			if !ok {
				return errMsgpack
			}
		case c == 0xc6 || c == 0xdb: // bin32, str32
			n, rest, ok := length(b, 4)
			size, b = n, rest
			if !ok {
				return errMsgpack
			}
		case c >= 0xc7 && c <= 0xc9: // ext8/16/32: length, then a type byte
			n, rest, ok := length(b, 1<<(c-0xc7))
			size, b = n+1, rest
			if !ok {
				return errMsgpack
			}
		case c == 0xca || c == 0xce || c == 0xd2: // float32, uint32, int32
			size = 4
		case c == 0xcb || c == 0xcf || c == 0xd3: // float64, uint64, int64
			size = 8
		case c == 0xcc || c == 0xd0:
			size = 1
		case c == 0xcd || c == 0xd1:
			size = 2
		case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16, plus the type byte
			size = 1 + 1<<(c-0xd4)
		case c == 0xdc || c == 0xdd: // array16, array32
			n, rest, ok := length(b, 2<<(c-0xdc))
			count, b = n, rest
			if !ok {
				return errMsgpack
			}
		case c == 0xde || c == 0xdf: // map16, map32
			n, rest, ok := length(b, 2<<(c-0xde))
			count, b = 2*n, rest
			if !ok {
				return errMsgpack
			}
		default: // 0xc1 is never used
			return errMsgpack
		}
		if size > len(b) || count > len(b) {
			return errMsgpack
		}
		b = b[size:]
		if count > 0 {
			if len(pending) >= maxMsgpackDepth {
				return errMsgpack
			}
			pending = append(pending, count)
		}
	}
	if len(b) != 0 {
		return errMsgpack
	}
	return nil
}

// length reads a big-endian length of width bytes.
func length(b []byte, width int) (int, []byte, bool) {
	if len(b) < width {
		return 0, b, false
	}
	var n uint64
	switch width {
	case 1:
		n = uint64(b[0])
	case 2:
		n = uint64(binary.BigEndian.Uint16(b))
	case 4:
		n = uint64(binary.BigEndian.Uint32(b))
	}
	if n > uint64(len(b)) {
		return 0, b, false
	}
	return int(n), b[width:], true
}

// msgpackArrayLen is the element count of a msgpack array's header, or 0 when b does not
// start with one.
func msgpackArrayLen(b []byte) int {
	switch {
	case len(b) > 0 && b[0] >= 0x90 && b[0] <= 0x9f:
		return int(b[0] & 0x0f)
	case len(b) >= 3 && b[0] == 0xdc:
		return int(binary.BigEndian.Uint16(b[1:3]))
	case len(b) >= 5 && b[0] == 0xdd:
		return int(binary.BigEndian.Uint32(b[1:5]))
	}
	return 0
}
