-- Whether some span event or link has an attribute $1.
SELECT EXISTS (SELECT 1 FROM annotations WHERE list_contains(attr_keys, $1));
