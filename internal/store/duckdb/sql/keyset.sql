SELECT keys, kinds FROM keysets WHERE id = $1 LIMIT 1;
