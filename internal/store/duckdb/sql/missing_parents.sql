-- Spans that ended in [$1, $2), and started at most $3 nanoseconds before it, whose parent
-- is in no span of their trace that started within $3 nanoseconds of their start, by service,
-- with the earliest as an example. A span is sent when it ends, so its end tells when it
-- arrived, however long it ran; its start keeps the scan to the window's row groups.
SELECT c.service, count(*) AS spans, arg_min(c.name, c.start_ns), arg_min(c.trace_hi, c.start_ns), arg_min(c.trace_lo, c.start_ns)
FROM spans c
WHERE c.start_ns >= $1 - $3 AND c.start_ns < $2 AND c.parent_id <> 0
  AND c.start_ns + c.duration_ns >= $1 AND c.start_ns + c.duration_ns < $2
  AND NOT EXISTS (
    SELECT 1 FROM spans p
    WHERE p.trace_hi = c.trace_hi AND p.trace_lo = c.trace_lo AND p.span_id = c.parent_id
      AND p.start_ns >= $1 - 2 * $3 AND p.start_ns < $2 + $3)
GROUP BY c.service
ORDER BY spans DESC, c.service
LIMIT 100;
