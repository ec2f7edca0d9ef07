-- The blocks whose every line is older than their group's retention, at $1 (unix
-- nanoseconds), and how many lines they held.
DELETE FROM log_blocks USING log_groups g
WHERE log_blocks.log_group = g.name AND g.retention_days IS NOT NULL
  AND log_blocks.last_ns < $1 - g.retention_days * 86400000000000
RETURNING lines;
-- The blocks that hold lines on both sides of their group's retention, with the time
-- before which their lines go.
SELECT b.first_id, b.log_group, b.stream, b.protocol, b.resource_id, b.file, b."offset", b.size, $1 - g.retention_days * 86400000000000
FROM log_blocks b JOIN log_groups g ON b.log_group = g.name
WHERE g.retention_days IS NOT NULL AND b.first_ns < $1 - g.retention_days * 86400000000000;
-- The blocks whose every line is older than $1 (unix nanoseconds), and their lines.
DELETE FROM log_blocks WHERE last_ns < $1 RETURNING lines;
-- The blocks that hold lines on both sides of $1.
SELECT first_id, log_group, stream, protocol, resource_id, file, "offset", size, $1::BIGINT FROM log_blocks WHERE first_ns < $1;
