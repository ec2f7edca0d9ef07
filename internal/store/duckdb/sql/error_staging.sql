-- The uuid hashes of the occurrence batch being written.
CREATE TEMP TABLE IF NOT EXISTS batch_uuids (h BIGINT NOT NULL);
