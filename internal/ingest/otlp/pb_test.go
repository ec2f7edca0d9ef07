package otlp

import (
	"bytes"

	"google.golang.org/protobuf/encoding/protowire"
)

// Builders of protobuf messages field by field, for requests that generated code cannot
// make: fields out of order, sent twice, or deprecated.

// pbMessage is a length-delimited field holding the concatenation of parts.
func pbMessage(num protowire.Number, parts ...[]byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(b, bytes.Join(parts, nil))
}

func pbFixed64(num protowire.Number, v uint64) []byte {
	return protowire.AppendFixed64(protowire.AppendTag(nil, num, protowire.Fixed64Type), v)
}

func pbVarint(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
}

// pbID is an id of n bytes, each b.
func pbID(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

// pbKeyValue is the inside of a KeyValue whose value is the AnyValue fields given.
func pbKeyValue(key string, value ...[]byte) []byte {
	return bytes.Join([][]byte{pbMessage(1, []byte(key)), pbMessage(2, value...)}, nil)
}

// nestedArrays is the inside of an AnyValue holding n arrays, one inside the other, the
// innermost holding the integer 1: the integer is at depth n+1 of the outermost value. It is
// written outside in, the sizes of the levels worked out first, so that deep values take
// linear time to build.
func nestedArrays(n int) []byte {
	inner := pbVarint(3, 1)
	// sizes[i] is the size of the AnyValue at level i from the inside; level 0 is the integer.
	sizes := make([]int, n+1)
	sizes[0] = len(inner)
	for i := 1; i <= n; i++ {
		array := 1 + protowire.SizeVarint(uint64(sizes[i-1])) + sizes[i-1]
		sizes[i] = 1 + protowire.SizeVarint(uint64(array)) + array
	}
	b := make([]byte, 0, sizes[n])
	for i := n; i >= 1; i-- {
		array := 1 + protowire.SizeVarint(uint64(sizes[i-1])) + sizes[i-1]
		b = protowire.AppendVarint(protowire.AppendTag(b, 5, protowire.BytesType), uint64(array))
		b = protowire.AppendVarint(protowire.AppendTag(b, 1, protowire.BytesType), uint64(sizes[i-1]))
	}
	return append(b, inner...)
}
