package ingest

import "lookout/internal/telemetry"

// encodeLogs returns the log record of a batch of log records.
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
	return seal(RecordLogs, e.buf)
}

// decodeLogs is the inverse of encodeLogs.
func decodeLogs(record []byte) ([]telemetry.LogRecord, error) {
	raw, err := unseal(RecordLogs, record)
	if err != nil {
		return nil, err
	}
	d := decoder{buf: raw}
	resources, scopes := d.tables()
	logs := make([]telemetry.LogRecord, d.count(36))
	for i := range logs {
		r := &logs[i]
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
	return logs, d.done()
}
