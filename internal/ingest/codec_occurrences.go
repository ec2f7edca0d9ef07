package ingest

import (
	"github.com/klauspost/compress/s2"

	"lookout/internal/telemetry"
)

// A record of occurrences is [RecordOccurrencesS2][S2 block of the batch]. S2 rather than
// zstd: a request is one occurrence of a few KB, which zstd compresses for several times
// S2's CPU on every request, and the record is kept only until the next checkpoint. Records
// of earlier versions are [RecordOccurrences][zstd batch], with the same batch inside.

// maxOccurrenceBatch bounds a batch's decompressed size, so that a damaged length cannot
// allocate without bound (a request's batch is far smaller).
const maxOccurrenceBatch = 1 << 30

// encodeOccurrences returns the log record of a batch of occurrences.
func encodeOccurrences(occs []telemetry.Occurrence) []byte {
	size := 0
	for i := range occs {
		size += occs[i].Size()
	}
	e := encoder{buf: make([]byte, 0, size)}
	e.uvarint(uint64(len(occs)))
	for i := range occs {
		o := &occs[i]
		for _, s := range occurrenceStrings(o) {
			e.str(*s)
		}
		e.varint(o.TimeUnixNano)
		e.varint(o.ReceivedUnixNano - o.TimeUnixNano)
		e.buf = append(e.buf, o.TraceID[:]...)
		e.buf = append(e.buf, o.SpanID[:]...)
		e.ingest(o.Ingest)
	}
	record := make([]byte, 1+s2.MaxEncodedLen(len(e.buf)))
	record[0] = byte(RecordOccurrencesS2)
	return record[:1+len(s2.Encode(record[1:], e.buf))]
}

// decodeOccurrences is the inverse of encodeOccurrences.
func decodeOccurrences(record []byte) ([]telemetry.Occurrence, error) {
	raw, err := occurrenceBatch(record)
	if err != nil {
		return nil, err
	}
	d := decoder{buf: raw}
	occs := make([]telemetry.Occurrence, d.count(46))
	for i := range occs {
		o := &occs[i]
		for _, s := range occurrenceStrings(o) {
			*s = d.str()
		}
		o.TimeUnixNano = d.varint()
		o.ReceivedUnixNano = o.TimeUnixNano + d.varint()
		d.fixed(o.TraceID[:])
		d.fixed(o.SpanID[:])
		o.Ingest = d.ingest()
		if d.err != nil {
			return nil, d.err
		}
	}
	return occs, d.done()
}

// occurrenceStrings lists an occurrence's text fields in the order the codec writes them.
func occurrenceStrings(o *telemetry.Occurrence) []*string {
	return []*string{&o.UUID, &o.Project, &o.Environment, &o.Level, &o.Fingerprint, &o.Grouping, &o.Title,
		&o.Class, &o.CodeVersion, &o.Framework, &o.Platform, &o.Language, &o.Context, &o.Host,
		&o.PersonID, &o.UserIP, &o.Browser, &o.OS, &o.Data}
}

// occurrenceBatch returns a record's batch decompressed, whichever version wrote it.
func occurrenceBatch(record []byte) ([]byte, error) {
	if len(record) == 0 || RecordType(record[0]) != RecordOccurrencesS2 {
		return unseal(RecordOccurrences, record)
	}
	block := record[1:]
	if n, err := s2.DecodedLen(block); err != nil || n > maxOccurrenceBatch {
		return nil, errCorrupt
	}
	raw, err := s2.Decode(nil, block)
	if err != nil {
		return nil, errCorrupt
	}
	return raw, nil
}
