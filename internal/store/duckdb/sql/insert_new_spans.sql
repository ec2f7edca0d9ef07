-- Move the staged batch into spans, skipping spans already stored and repeats within the
-- batch. A retry repeats its spans' start times, so only stored spans within the batch's
-- start range ($1, $2) can match; zone maps skip the rest of the table.
INSERT INTO spans
SELECT s.* FROM (
    SELECT * FROM staging_spans
    QUALIFY row_number() OVER (PARTITION BY trace_hi, trace_lo, span_id) = 1
) s
WHERE NOT EXISTS (
    SELECT 1 FROM spans p
    WHERE p.start_ns BETWEEN $1 AND $2
      AND p.span_id = s.span_id AND p.trace_lo = s.trace_lo AND p.trace_hi = s.trace_hi
);
