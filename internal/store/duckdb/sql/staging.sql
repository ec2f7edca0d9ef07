-- Each batch is appended here first, then moved into spans without the spans already stored.
CREATE TEMP TABLE IF NOT EXISTS staging_spans AS SELECT * FROM spans LIMIT 0;
