SELECT keys, kinds, slots FROM keysets WHERE id = $1 LIMIT 1;
