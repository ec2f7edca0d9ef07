SELECT min(start_ns), max(end_ns) FROM trace_index WHERE trace_lo = $1 AND trace_hi = $2;
