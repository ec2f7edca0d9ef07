-- Move the staged batch (one JSON document a span, its keys the letters a to x for the spans
-- table's columns in order and c0, c1, ... for attribute columns, see rows.go) into spans, skipping spans already stored. Only spans
-- of traces already stored can be; their start range is ($1, $2) (empty when there are none),
-- and a retry repeats its spans' start times, so zone maps skip the rest of the table.
INSERT INTO spans BY NAME
SELECT b.* FROM (
    SELECT
        j.a AS trace_hi,
        j.b AS trace_lo,
        j.c AS span_id,
        j.d AS parent_id,
        j.e AS start_ns,
        j.f AS duration_ns,
        j.g AS service,
        j.h AS name,
        j.i AS kind,
        j.j AS status_code,
        j.k AS status_message,
        j.l AS trace_state,
        j.m AS flags,
        j.n AS in_progress,
        j.o AS sample_rate,
        j.p AS resource_id,
        j.q AS scope_name,
        j.r AS scope_version,
        j.s AS protocol,
        j.t AS dataset,
        j.u AS key_id,
        j.v AS keyset_id,
        j.w AS attr_values,
        j.x AS extra{{ATTR_JSON_SELECT}}
    FROM (SELECT json_transform(doc, '{"a": "BIGINT", "b": "BIGINT", "c": "BIGINT", "d": "BIGINT", "e": "BIGINT", "f": "BIGINT", "g": "VARCHAR", "h": "VARCHAR", "i": "UTINYINT", "j": "UTINYINT", "k": "VARCHAR", "l": "VARCHAR", "m": "UINTEGER", "n": "BOOLEAN", "o": "UINTEGER", "p": "BIGINT", "q": "VARCHAR", "r": "VARCHAR", "s": "VARCHAR", "t": "VARCHAR", "u": "VARCHAR", "v": "BIGINT", "w": "VARCHAR[]", "x": "VARCHAR"{{ATTR_JSON_TYPES}}}') AS j FROM staging_rows)
) b
WHERE NOT EXISTS (
    SELECT 1 FROM spans p
    WHERE p.start_ns BETWEEN $1 AND $2
      AND p.span_id = b.span_id AND p.trace_lo = b.trace_lo AND p.trace_hi = b.trace_hi
);
