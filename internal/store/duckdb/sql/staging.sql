-- The trace ids of the batch being written.
CREATE TEMP TABLE IF NOT EXISTS batch_traces (trace_hi BIGINT NOT NULL, trace_lo BIGINT NOT NULL);
