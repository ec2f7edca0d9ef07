-- Move the staged batch (one JSON document a span, keyed by column name) into spans,
-- skipping spans already stored. Only spans of traces already stored can be; their start
-- range is ($1, $2) (empty when there are none), and a retry repeats its spans' start times,
-- so zone maps skip the rest of the table.
INSERT INTO spans BY NAME
SELECT b.* FROM (
    SELECT unnest(json_transform(doc, '{
        "trace_hi": "BIGINT", "trace_lo": "BIGINT", "span_id": "BIGINT", "parent_id": "BIGINT",
        "start_ns": "BIGINT", "duration_ns": "BIGINT", "service": "VARCHAR", "name": "VARCHAR",
        "kind": "UTINYINT", "status_code": "UTINYINT", "status_message": "VARCHAR",
        "trace_state": "VARCHAR", "flags": "UINTEGER", "in_progress": "BOOLEAN",
        "sample_rate": "UINTEGER", "resource_id": "BIGINT", "scope_name": "VARCHAR",
        "scope_version": "VARCHAR", "protocol": "VARCHAR", "dataset": "VARCHAR", "key_id": "VARCHAR",
        "keyset_id": "BIGINT", "attr_values": "VARCHAR[]", "extra": "VARCHAR"
    }'))
    FROM staging_rows
) b
WHERE NOT EXISTS (
    SELECT 1 FROM spans p
    WHERE p.start_ns BETWEEN $1 AND $2
      AND p.span_id = b.span_id AND p.trace_lo = b.trace_lo AND p.trace_hi = b.trace_hi
);
