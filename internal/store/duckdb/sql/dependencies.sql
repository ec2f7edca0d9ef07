-- A call is a child span whose parent, in the same trace, belongs to another service.
-- Parents may start up to an hour before the window.
SELECT p.service AS parent, c.service AS child, count(*) AS calls
FROM spans c
JOIN spans p
  ON p.trace_lo = c.trace_lo AND p.trace_hi = c.trace_hi AND p.span_id = c.parent_id
WHERE c.start_ns >= $1 AND c.start_ns < $2
  AND p.start_ns >= $1 - 3600000000000 AND p.start_ns < $2
  AND c.parent_id <> 0 AND p.service <> c.service
GROUP BY ALL
ORDER BY parent, child;
