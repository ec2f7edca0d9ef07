-- The earliest start and the latest end of the traces of the spans that started in [$1, $2),
-- within $3 nanoseconds of that range: every span of those traces that started within that
-- reach started in between (trace_index holds each written batch's time span of a trace).
-- NULL when no span started in the range.
WITH traces AS (
    SELECT DISTINCT trace_hi, trace_lo FROM spans WHERE start_ns >= $1 AND start_ns < $2
)
SELECT min(i.start_ns), max(i.end_ns)
FROM trace_index i
JOIN traces t ON i.trace_lo = t.trace_lo AND i.trace_hi = t.trace_hi
WHERE i.start_ns < $2 + $3 AND i.end_ns >= $1 - $3;
