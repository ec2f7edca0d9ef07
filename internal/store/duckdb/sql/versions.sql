-- A project's code versions, newest first: when their occurrences came, how many, and the
-- items each made new, reactivated or resolved (resolved in that version).
WITH occ AS (
    SELECT code_version AS version, min(time_ns) AS first_ns, max(time_ns) AS last_ns, count(*) AS n
    FROM error_occurrences WHERE project = $1 AND code_version <> '' GROUP BY 1
), ev AS (
    SELECT e.version,
           count(*) FILTER (WHERE e.kind = 'new') AS new,
           count(*) FILTER (WHERE e.kind = 'reactivated') AS reactivated,
           count(*) FILTER (WHERE e.kind = 'resolved') AS resolved
    FROM error_events e JOIN error_items i ON i.id = e.item_id
    WHERE i.project = $1 AND e.version <> '' GROUP BY 1
)
SELECT coalesce(occ.version, ev.version), coalesce(occ.first_ns, 0), coalesce(occ.last_ns, 0), coalesce(occ.n, 0),
       coalesce(ev.new, 0), coalesce(ev.reactivated, 0), coalesce(ev.resolved, 0)
FROM occ FULL JOIN ev ON occ.version = ev.version
ORDER BY coalesce(occ.first_ns, 0) DESC, 1 DESC;
