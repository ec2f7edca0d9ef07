-- What the occurrence writer keeps in memory, read when it starts (the items themselves are
-- read with the item columns): the uuid hashes, the last ids, and when each version was first
-- seen.
SELECT uuid_hash FROM error_occurrences;
SELECT coalesce(max(id), 0) FROM error_occurrences;
SELECT project, version, first_ns FROM error_versions;
SELECT coalesce(max(id), 0) FROM deploys;
