-- The trace ids of the batch being written.
CREATE TEMP TABLE IF NOT EXISTS batch_traces (trace_hi BIGINT NOT NULL, trace_lo BIGINT NOT NULL);
-- The spans a batch replaces with more complete versions (ReviseSpans).
CREATE TEMP TABLE IF NOT EXISTS batch_spans (trace_hi BIGINT NOT NULL, trace_lo BIGINT NOT NULL, span_id BIGINT NOT NULL);
