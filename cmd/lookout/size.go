package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// byteSize is a flag holding a number of bytes, given as a plain number or with a unit:
// 64MiB, 512KB, 1GiB.
type byteSize int64

var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
}

func (b *byteSize) Set(s string) error {
	text := strings.TrimSpace(s)
	factor := int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(text, u.suffix); ok {
			text, factor = strings.TrimSpace(rest), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/factor {
		return fmt.Errorf("%q is not a size such as 1048576, 512KiB or 64MiB", s)
	}
	*b = byteSize(n * factor)
	return nil
}

func (b *byteSize) String() string {
	for _, u := range sizeUnits[:3] {
		if n := int64(*b); n != 0 && n%u.factor == 0 && n/u.factor < 1024 {
			return strconv.FormatInt(n/u.factor, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*b), 10)
}

// intByteSize is a byteSize held in an int.
type intByteSize int

func (b *intByteSize) Set(s string) error {
	var v byteSize
	if err := v.Set(s); err != nil {
		return err
	}
	if v > math.MaxInt32 {
		return fmt.Errorf("%q is too large", s)
	}
	*b = intByteSize(v)
	return nil
}

func (b *intByteSize) String() string { v := byteSize(*b); return v.String() }
