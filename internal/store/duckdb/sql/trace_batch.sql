-- The spans of some of the traces store.SegmentReader.Traces reads, those whose spans
-- started close together: the trace index's bounds of their start ({{FROM}}, {{TO}}) and
-- the traces' low halves ({{LOWS}}); the statement is repeated, joined by UNION ALL, for
-- each group of traces.
SELECT trace_hi, trace_lo, span_id, parent_id, start_ns, duration_ns, name, kind,
       status_code, status_message, trace_state, flags, in_progress, sample_rate, resource_id,
       scope_name, scope_version, protocol, dataset, key_id, keyset_id, attr_values, extra{{ATTR_COLUMNS}}
FROM spans
WHERE start_ns BETWEEN {{FROM}} AND {{TO}} AND trace_lo IN ({{LOWS}})
