-- The groups named by a written batch ($1, a list) exist from then on.
INSERT INTO log_groups (name, created_ns) SELECT DISTINCT unnest($1::VARCHAR[]), $2 ON CONFLICT DO NOTHING;
