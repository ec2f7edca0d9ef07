-- The records older than their group's retention, at $1 (unix nanoseconds).
DELETE FROM logs USING log_groups g
WHERE logs.log_group = g.name AND g.retention_days IS NOT NULL
  AND logs.time_ns < $1 - g.retention_days * 86400000000000;
