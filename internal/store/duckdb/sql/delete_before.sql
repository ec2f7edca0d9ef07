DELETE FROM spans WHERE start_ns < $1;
DELETE FROM annotations WHERE span_start < $1;
DELETE FROM trace_index WHERE end_ns < $1;
DELETE FROM operations;
INSERT INTO operations SELECT DISTINCT service, name, kind FROM spans;
DELETE FROM logs WHERE time_ns < $1;
