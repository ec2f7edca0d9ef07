-- Spans of traces already stored are appended here first, then moved into spans without the
-- spans already stored.
CREATE TEMP TABLE IF NOT EXISTS staging_spans AS SELECT * FROM spans LIMIT 0;
-- The trace ids of the batch being written.
CREATE TEMP TABLE IF NOT EXISTS batch_traces (trace_hi BIGINT NOT NULL, trace_lo BIGINT NOT NULL);
