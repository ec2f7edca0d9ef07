package ingest

import (
	"encoding/binary"
	"math"

	"lookout/internal/telemetry"
)

// A record of log records (RecordNumbered) holds the id of its first item, uncompressed, so
// that numberLogs can write it just before the record is logged, and the others follow:
// [type][first id, 8 bytes little-endian][S2 block of the batch] (sealS2: log lines are
// bulky text, which S2 compresses for a tenth of zstd's CPU into 1.7 times the bytes).
// Records of earlier versions (RecordLogs) are [type][zstd batch], and their items are
// numbered by position (stampLogs).
const firstIDBytes = 8

// encodeLogs returns the log record of a batch of log records, with room for its first id.
func encodeLogs(logs []telemetry.LogRecord) []byte {
	e := encoder{buf: make([]byte, 0, 256*len(logs))}
	sh := newShared()
	for i := range logs {
		sh.add(logs[i].Resource, logs[i].Scope)
	}
	e.tables(sh)
	e.uvarint(uint64(len(logs)))
	for i := range logs {
		r := &logs[i]
		e.varint(r.TimeUnixNano)
		e.varint(r.ObservedTimeUnixNano - r.TimeUnixNano)
		e.buf = append(e.buf, byte(r.Severity))
		e.str(r.SeverityText)
		e.str(r.EventName)
		e.value(r.Body)
		e.attrs(r.Attributes)
		e.uvarint(uint64(r.DroppedAttributesCount))
		e.buf = append(e.buf, r.TraceID[:]...)
		e.buf = append(e.buf, r.SpanID[:]...)
		e.uvarint(uint64(r.Flags))
		e.refs(sh, r.Resource, r.Scope)
		e.str(r.Group)
		e.str(r.Stream)
		e.ingest(r.Ingest)
	}
	return sealS2(RecordNumbered, firstIDBytes, e.buf)
}

// numberLogs gives the records of a batch the ids first, first+1, … and writes first into
// the batch's record.
func numberLogs(logs []telemetry.LogRecord, record []byte, first uint64) {
	binary.LittleEndian.PutUint64(record[1:], first)
	for i := range logs {
		logs[i].ID = first + uint64(i)
	}
}

// decodeLogs is the inverse of encodeLogs and numberLogs. It also reads the records of
// earlier versions, whose items it leaves unnumbered (ID 0).
func decodeLogs(record []byte) ([]telemetry.LogRecord, error) {
	first, raw, err := splitLogRecord(record)
	if err != nil {
		return nil, err
	}
	d := decoder{buf: raw}
	resources, scopes := d.tables()
	logs := make([]telemetry.LogRecord, d.count(36))
	for i := range logs {
		r := &logs[i]
		if first != 0 {
			r.ID = first + uint64(i)
		}
		r.TimeUnixNano = d.varint()
		r.ObservedTimeUnixNano = r.TimeUnixNano + d.varint()
		r.Severity = telemetry.Severity(d.byte())
		r.SeverityText = d.str()
		r.EventName = d.str()
		r.Body = d.value(0)
		r.Attributes = d.attrs(0)
		r.DroppedAttributesCount = d.u32()
		d.fixed(r.TraceID[:])
		d.fixed(r.SpanID[:])
		r.Flags = d.u32()
		r.Resource, r.Scope = d.refs(resources, scopes)
		r.Group = d.str()
		r.Stream = d.str()
		r.Ingest = d.ingest()
		if d.err != nil {
			return nil, d.err
		}
	}
	if first > math.MaxUint64-uint64(len(logs)) {
		return nil, errCorrupt
	}
	return logs, d.done()
}

// splitLogRecord returns the first id of a record of log records (0 in records of earlier
// versions) and its batch, decompressed.
func splitLogRecord(record []byte) (first uint64, raw []byte, err error) {
	if len(record) == 0 || RecordType(record[0]) != RecordNumbered {
		raw, err = unseal(RecordLogs, record)
		return 0, raw, err
	}
	if len(record) < 1+firstIDBytes {
		return 0, nil, errCorrupt
	}
	if first = binary.LittleEndian.Uint64(record[1:]); first == 0 {
		return 0, nil, errCorrupt // numberLogs never gives 0
	}
	raw, err = unsealS2(record[1+firstIDBytes:])
	return first, raw, err
}
