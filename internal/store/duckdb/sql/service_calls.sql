-- The calls into the nodes of the service graph (store.SegmentReader.ServiceCalls), by caller,
-- callee and response time in milliseconds. $1, $2: the range of the callees' start. Parents
-- are looked for from 15 minutes before it, and the segments that answer a call up to 15
-- minutes after it. The markers are expressions over a span "s" (segments.go).
WITH origins AS (
    -- A caller's type: the most frequent origin of its service's segments.
    SELECT s.service, mode({{ORIGIN}}) AS origin
    FROM spans s {{JOINS}}
    WHERE s.start_ns >= $1 AND s.start_ns < $2 AND {{SEGMENT}}
    GROUP BY s.service
), roots AS (
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
    SELECT s.trace_hi, s.trace_lo, s.span_id, s.service
    FROM spans s
    WHERE s.start_ns >= $1 - 900000000000 AND s.start_ns < $2
), called AS (
    -- Segments with a parent: the calls they answer are not inferred nodes.
    SELECT s.trace_hi, s.trace_lo, s.parent_id
    FROM spans s {{JOINS}}
    WHERE s.start_ns >= $1 AND s.start_ns < $2 + 900000000000 AND s.parent_id <> 0 AND {{SEGMENT}}
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
    SELECT coalesce(p.service, '') AS caller, false AS inferred, a.name, a.type, a.duration_ns, a.start_ns, a.outcome
    FROM answers a
    LEFT JOIN parents p ON p.trace_lo = a.trace_lo AND p.trace_hi = a.trace_hi AND p.span_id = a.parent_id
    UNION ALL
    SELECT c.caller, true, c.name, c.type, c.duration_ns, c.start_ns, c.outcome
    FROM calls c
    ANTI JOIN called k ON k.trace_lo = c.trace_lo AND k.trace_hi = c.trace_hi AND k.parent_id = c.span_id
), calls_by_time AS (
    SELECT e.caller, e.name, e.type, e.inferred,
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
    GROUP BY ALL
)
SELECT c.caller, coalesce(o.origin, '') AS caller_type, c.name, c.type, c.inferred, c.ms,
       c.ok, c.errors, c.throttles, c.faults, c.total, c.response_ns, c.first_start, c.last_end
FROM calls_by_time c
LEFT JOIN origins o ON o.service = c.caller;
