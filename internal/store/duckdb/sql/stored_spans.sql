-- The spans already stored of the batch's traces (batch_traces) among those that started in
-- ($1, $2): zone maps on start_ns skip the rest of the table.
SELECT p.trace_hi, p.trace_lo, p.span_id, p.in_progress, p.service FROM spans p
SEMI JOIN batch_traces b ON p.trace_lo = b.trace_lo AND p.trace_hi = b.trace_hi
WHERE p.start_ns BETWEEN $1 AND $2;
