-- The spans of one of the traces store.SegmentReader.Traces reads, with the trace index's
-- bounds of their start ($1, $2) and the trace's low half ($3); the statement is repeated,
-- joined by UNION ALL, for each trace.
SELECT trace_hi, trace_lo, span_id, parent_id, start_ns, duration_ns, name, kind,
       status_code, status_message, trace_state, flags, in_progress, sample_rate, resource_id,
       scope_name, scope_version, protocol, dataset, key_id, keyset_id, attr_values, extra{{ATTR_COLUMNS}}
FROM spans
WHERE start_ns BETWEEN $1 AND $2 AND trace_lo = $3
