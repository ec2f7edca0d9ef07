-- What written records add to their streams ($1 to $8 are lists in step: group, stream, when
-- first written, then the figures): each stream exists from then on, and what its records
-- span and weigh grows by them.
INSERT INTO log_streams
SELECT unnest($1::VARCHAR[]), unnest($2::VARCHAR[]), unnest($3::BIGINT[]), unnest($4::BIGINT[]), unnest($5::BIGINT[]),
       unnest($6::BIGINT[]), unnest($7::BIGINT[]), unnest($8::BIGINT[])
ON CONFLICT (log_group, name) DO UPDATE SET
    first_ns       = least(coalesce(first_ns, excluded.first_ns), excluded.first_ns),
    last_ns        = greatest(coalesce(last_ns, excluded.last_ns), excluded.last_ns),
    last_ingest_ns = greatest(coalesce(last_ingest_ns, excluded.last_ingest_ns), excluded.last_ingest_ns),
    records        = records + excluded.records,
    stored_bytes   = stored_bytes + excluded.stored_bytes;
