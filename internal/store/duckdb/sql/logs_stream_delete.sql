-- A stream and its records.
DELETE FROM logs WHERE log_group = $1 AND stream = $2;
DELETE FROM log_blocks WHERE log_group = $1 AND stream = $2;
DELETE FROM log_streams WHERE log_group = $1 AND name = $2;
