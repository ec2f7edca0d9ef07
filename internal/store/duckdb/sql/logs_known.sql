-- The ids among a batch's range that are stored already.
SELECT id FROM logs WHERE id BETWEEN $1 AND $2;
