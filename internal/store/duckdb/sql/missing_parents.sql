-- Spans that started in [$1, $2) whose parent is in no span of their trace that started
-- within $3 nanoseconds of the window, by service, with the earliest as an example.
SELECT c.service, count(*) AS spans, arg_min(c.name, c.start_ns), arg_min(c.trace_hi, c.start_ns), arg_min(c.trace_lo, c.start_ns)
FROM spans c
WHERE c.start_ns >= $1 AND c.start_ns < $2 AND c.parent_id <> 0
  AND NOT EXISTS (
    SELECT 1 FROM spans p
    WHERE p.trace_hi = c.trace_hi AND p.trace_lo = c.trace_lo AND p.span_id = c.parent_id
      AND p.start_ns >= $1 - $3 AND p.start_ns < $2 + $3)
GROUP BY c.service
ORDER BY spans DESC, c.service
LIMIT 100;
