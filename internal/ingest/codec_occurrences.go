package ingest

import "lookout/internal/telemetry"

// A record of occurrences is [RecordOccurrencesS2][S2 block of the batch] (sealS2). Records
// of earlier versions are [RecordOccurrences][zstd batch], with the same batch inside.

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
	return sealS2(RecordOccurrencesS2, 0, e.buf)
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
	return unsealS2(record[1:])
}
