SELECT dataset, max(start_ns) FROM spans WHERE dataset IS NOT NULL GROUP BY dataset ORDER BY dataset;
