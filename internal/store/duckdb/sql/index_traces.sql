INSERT INTO trace_index
SELECT trace_hi, trace_lo, min(start_ns), max(start_ns + duration_ns)
FROM staging_spans GROUP BY trace_hi, trace_lo;
