SELECT dropped, attr_keys, attr_kinds, attr_values FROM resources WHERE id = $1 LIMIT 1;
