-- Whether some span's or resource's attribute $1 holds a map (value kind $2).
SELECT EXISTS (SELECT 1 FROM keysets WHERE kinds[list_position(keys, $1)] = $2)
    OR EXISTS (SELECT 1 FROM resources WHERE attr_kinds[list_position(attr_keys, $1)] = $2);
