-- Deletes the stored versions of the spans in batch_spans, which started in [$1, $2], with
-- their span events and links.
DELETE FROM spans WHERE start_ns BETWEEN $1 AND $2
  AND (trace_hi, trace_lo, span_id) IN (SELECT trace_hi, trace_lo, span_id FROM batch_spans);
DELETE FROM annotations WHERE span_start BETWEEN $1 AND $2
  AND (trace_hi, trace_lo, span_id) IN (SELECT trace_hi, trace_lo, span_id FROM batch_spans);
