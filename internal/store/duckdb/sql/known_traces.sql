-- Which traces of the batch being written already have spans stored.
SELECT b.trace_hi, b.trace_lo FROM batch_traces b
WHERE EXISTS (SELECT 1 FROM trace_index t WHERE t.trace_lo = b.trace_lo AND t.trace_hi = b.trace_hi);
