-- A group named by a written record exists from then on.
INSERT INTO log_groups (name, created_ns) VALUES ($1, $2) ON CONFLICT DO NOTHING;
