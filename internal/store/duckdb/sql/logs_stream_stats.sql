-- What the streams of a group span and weigh, counted again from their records after some
-- were removed.
UPDATE log_streams SET first_ns = NULL, last_ns = NULL, last_ingest_ns = NULL, records = 0, stored_bytes = 0
WHERE log_group = $1;
UPDATE log_streams SET first_ns = s.first_ns, last_ns = s.last_ns, last_ingest_ns = s.last_ingest_ns,
    records = s.records, stored_bytes = s.stored_bytes
FROM (SELECT stream, min(first_ns) AS first_ns, max(last_ns) AS last_ns, max(last_ingest_ns) AS last_ingest_ns,
             sum(records) AS records, sum(stored_bytes) AS stored_bytes
      FROM (SELECT stream, time_ns AS first_ns, time_ns AS last_ns, observed_ns AS last_ingest_ns, 1 AS records,
                   strlen(body) AS stored_bytes
            FROM logs WHERE log_group = $1
            UNION ALL
            SELECT stream, first_ns, last_ns, last_observed_ns, lines, bytes
            FROM log_blocks WHERE log_group = $1)
      GROUP BY stream) s
WHERE log_streams.log_group = $1 AND log_streams.name = s.stream;
