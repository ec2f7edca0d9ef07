-- What the occurrence writer keeps in memory, read when it starts: items by key, the last
-- ids and counters, and when each version was first seen.
SELECT project, environment, fingerprint, id, counter FROM error_items;
SELECT coalesce(max(id), 0) FROM error_occurrences;
SELECT project, version, first_ns FROM error_versions;
SELECT coalesce(max(id), 0) FROM deploys;
