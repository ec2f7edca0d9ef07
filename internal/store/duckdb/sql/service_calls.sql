-- The calls into the nodes of the service graph (store.SegmentReader.ServiceCalls) made by
-- spans that started in [$1, $2), by the bucket of $4 nanoseconds the span started in,
-- caller, callee and response time in milliseconds. A segment's parent, and the segments
-- that answer a call, are looked for among the spans that started within $3 nanoseconds of
-- it, so that what a span counts for is the same whatever range it is read in; [$5, $6]
-- bounds their start (trace_bounds.sql). The markers are expressions over a span "s"
-- (segments.go).
WITH roots AS (
    -- Entry points need no caller: they are counted apart from the segments that have one.
    SELECT s.duration_ns, s.start_ns, s.service AS name, {{ORIGIN}} AS type, {{OUTCOME}} AS outcome
    FROM spans s {{JOINS}}
    WHERE s.start_ns >= $1 AND s.start_ns < $2 AND NOT s.in_progress AND s.parent_id = 0
), answers AS (
    SELECT s.trace_hi, s.trace_lo, s.parent_id, s.duration_ns, s.start_ns,
           s.service AS name, {{ORIGIN}} AS type, {{OUTCOME}} AS outcome
    FROM spans s {{JOINS}}
    WHERE s.start_ns >= $1 AND s.start_ns < $2 AND NOT s.in_progress AND s.parent_id <> 0 AND {{SEGMENT}}
), parents AS (
    SELECT s.trace_hi, s.trace_lo, s.span_id, s.start_ns, s.service
    FROM spans s
    WHERE s.start_ns BETWEEN $5 AND $6
), called AS (
    -- Segments with a parent: the calls they answer are not inferred nodes.
    SELECT s.trace_hi, s.trace_lo, s.parent_id, s.start_ns
    FROM spans s {{JOINS}}
    WHERE s.start_ns BETWEEN $5 AND $6 AND s.parent_id <> 0 AND {{SEGMENT}}
), calls AS (
    SELECT s.trace_hi, s.trace_lo, s.span_id, s.duration_ns, s.start_ns, s.service AS caller,
           {{CALLEE_NAME}} AS name, {{CALLEE_TYPE}} AS type, {{OUTCOME}} AS outcome
    FROM spans s {{JOINS}}
    WHERE s.start_ns >= $1 AND s.start_ns < $2 AND NOT s.in_progress AND s.parent_id <> 0
      AND NOT {{SEGMENT}} AND {{CALLEE_TYPE}} <> ''
), edges AS (
    SELECT '' AS caller, false AS inferred, name, type, duration_ns, start_ns, outcome
    FROM roots
    UNION ALL
    -- A span id is stored once in a trace, so a segment meets at most one parent.
    SELECT CASE WHEN p.start_ns BETWEEN a.start_ns - $3 AND a.start_ns + $3 THEN p.service ELSE '' END,
           false, a.name, a.type, a.duration_ns, a.start_ns, a.outcome
    FROM answers a
    LEFT JOIN parents p ON p.trace_lo = a.trace_lo AND p.trace_hi = a.trace_hi AND p.span_id = a.parent_id
    UNION ALL
    SELECT c.caller, true, c.name, c.type, c.duration_ns, c.start_ns, c.outcome
    FROM calls c
    ANTI JOIN called k ON k.trace_lo = c.trace_lo AND k.trace_hi = c.trace_hi AND k.parent_id = c.span_id
        AND k.start_ns BETWEEN c.start_ns - $3 AND c.start_ns + $3
)
SELECT e.start_ns // $4 AS bucket, e.caller, e.name, e.type, e.inferred,
       CAST(round(e.duration_ns / 1e6) AS BIGINT) AS ms,
       count(*) FILTER (WHERE e.outcome = 0) AS ok,
       count(*) FILTER (WHERE e.outcome IN (1, 2)) AS errors,
       count(*) FILTER (WHERE e.outcome = 2) AS throttles,
       count(*) FILTER (WHERE e.outcome = 3) AS faults,
       count(*) AS total,
       sum(e.duration_ns) AS response_ns,
       min(e.start_ns) AS first_start,
       max(e.start_ns + e.duration_ns) AS last_end
FROM edges e
GROUP BY ALL;
