-- How many segments of each service that started in [$1, $2) have each origin, by the
-- bucket of $3 nanoseconds they started in: a caller's type is its most frequent origin
-- (store.SegmentReader.ServiceCalls). The markers are those of service_calls.sql.
SELECT s.start_ns // $3 AS bucket, s.service, {{ORIGIN}} AS origin, count(*) AS segments
FROM spans s {{JOINS}}
WHERE s.start_ns >= $1 AND s.start_ns < $2 AND {{SEGMENT}}
GROUP BY ALL;
