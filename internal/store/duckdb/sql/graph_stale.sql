-- Deletes the service graph's counts of the buckets [$1, $2], whose spans changed.
DELETE FROM graph_buckets WHERE bucket BETWEEN $1 AND $2;
DELETE FROM graph_calls WHERE bucket BETWEEN $1 AND $2;
DELETE FROM graph_origins WHERE bucket BETWEEN $1 AND $2;
