-- The batch being written: one JSON document a span (see rows.go).
CREATE TEMP TABLE IF NOT EXISTS staging_rows (doc VARCHAR NOT NULL);
-- The trace ids of the batch being written.
CREATE TEMP TABLE IF NOT EXISTS batch_traces (trace_hi BIGINT NOT NULL, trace_lo BIGINT NOT NULL);
-- The span events and links of the batch being written.
CREATE TEMP TABLE IF NOT EXISTS staging_annotations AS SELECT * FROM annotations LIMIT 0;
