-- The spans of a set of traces (store.SegmentReader.Traces): $1, $2 bound their start;
-- {{TRACES}} lists the traces' low halves, one parameter each.
SELECT trace_hi, trace_lo, span_id, parent_id, start_ns, duration_ns, name, kind,
       status_code, status_message, trace_state, flags, in_progress, sample_rate, resource_id,
       scope_name, scope_version, protocol, dataset, key_id, keyset_id, attr_values, extra{{ATTR_COLUMNS}}
FROM spans
WHERE start_ns BETWEEN $1 AND $2 AND trace_lo IN ({{TRACES}})
ORDER BY start_ns, span_id;
