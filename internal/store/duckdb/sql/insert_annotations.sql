-- Move the staged span events and links into annotations, skipping those of spans already
-- stored: as for spans, only spans of known traces can be, and their start range is ($1, $2).
INSERT INTO annotations
SELECT a.* FROM staging_annotations a
WHERE NOT EXISTS (
    SELECT 1 FROM annotations p
    WHERE p.span_start BETWEEN $1 AND $2
      AND p.span_id = a.span_id AND p.trace_lo = a.trace_lo AND p.trace_hi = a.trace_hi
);
