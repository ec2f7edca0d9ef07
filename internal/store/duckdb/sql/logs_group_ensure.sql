-- The groups that written records name ($1, a list, with when each was first written in $2)
-- exist from then on.
INSERT INTO log_groups (name, created_ns)
SELECT name, min(created) FROM (SELECT unnest($1::VARCHAR[]) AS name, unnest($2::BIGINT[]) AS created) GROUP BY name
ON CONFLICT DO NOTHING;
