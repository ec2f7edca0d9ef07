-- The stored records with ids from $1 to $2: rows' ids, and the lines of blocks that may
-- hold some.
SELECT id, NULL, NULL, NULL FROM logs WHERE id BETWEEN $1 AND $2
UNION ALL
SELECT first_id, file, "offset", size FROM log_blocks WHERE first_id <= $2 AND last_id >= $1;
-- The highest stored record id.
SELECT greatest((SELECT coalesce(max(id), 0) FROM logs), (SELECT coalesce(max(last_id), 0) FROM log_blocks));
