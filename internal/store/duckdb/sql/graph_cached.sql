-- The service graph's counts kept for the buckets [$2, $3) (graph_cache.sql), summed over
-- them: calls by caller, callee and response time; then segments by service and origin.
SELECT caller, callee, callee_type, inferred, ms,
       CAST(sum(ok) AS BIGINT), CAST(sum(errors) AS BIGINT), CAST(sum(throttles) AS BIGINT),
       CAST(sum(faults) AS BIGINT), CAST(sum(total) AS BIGINT), CAST(sum(response_ns) AS BIGINT),
       min(first_start), max(last_end)
FROM graph_calls
WHERE keys = $1 AND bucket >= $2 AND bucket < $3
GROUP BY ALL;
SELECT service, origin, CAST(sum(segments) AS BIGINT)
FROM graph_origins
WHERE keys = $1 AND bucket >= $2 AND bucket < $3
GROUP BY ALL;
