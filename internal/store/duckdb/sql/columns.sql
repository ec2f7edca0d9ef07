-- The attribute keys of a dataset's spans (through their key sets) and of their resources,
-- with the kind of their values; where kinds differ the smallest kind number is reported.
WITH used AS (
    SELECT DISTINCT keyset_id, resource_id FROM spans WHERE dataset = $1
),
fields AS (
    SELECT unnest(k.keys) AS name, unnest(k.kinds) AS kind
    FROM keysets k WHERE k.id IN (SELECT keyset_id FROM used)
    UNION ALL
    SELECT unnest(r.attr_keys), unnest(r.attr_kinds)
    FROM resources r WHERE r.id IN (SELECT resource_id FROM used)
)
SELECT name, min(kind) FROM fields GROUP BY name ORDER BY name;
