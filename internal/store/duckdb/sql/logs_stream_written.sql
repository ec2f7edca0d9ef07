-- A written batch's records of one stream: the stream exists from then on, and what its
-- records span and weigh grows by them.
INSERT INTO log_streams VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (log_group, name) DO UPDATE SET
    first_ns       = least(coalesce(first_ns, excluded.first_ns), excluded.first_ns),
    last_ns        = greatest(coalesce(last_ns, excluded.last_ns), excluded.last_ns),
    last_ingest_ns = greatest(coalesce(last_ingest_ns, excluded.last_ingest_ns), excluded.last_ingest_ns),
    records        = records + excluded.records,
    stored_bytes   = stored_bytes + excluded.stored_bytes;
