-- A group, its streams and their records.
DELETE FROM logs WHERE log_group = $1;
DELETE FROM log_blocks WHERE log_group = $1;
DELETE FROM log_streams WHERE log_group = $1;
DELETE FROM log_groups WHERE name = $1;
