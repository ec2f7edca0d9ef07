-- Move the staged spans (of traces already stored) into spans, skipping those already
-- stored. A retry repeats its spans' start times, so only stored spans within the staged
-- start range ($1, $2) can match; zone maps skip the rest of the table.
INSERT INTO spans
SELECT s.* FROM staging_spans s
WHERE NOT EXISTS (
    SELECT 1 FROM spans p
    WHERE p.start_ns BETWEEN $1 AND $2
      AND p.span_id = s.span_id AND p.trace_lo = s.trace_lo AND p.trace_hi = s.trace_hi
);
