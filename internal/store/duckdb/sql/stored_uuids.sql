-- The uuids among a batch's (by their hashes, staged in batch_uuids) that are stored already.
SELECT o.project, o.uuid FROM error_occurrences o JOIN batch_uuids b ON o.uuid_hash = b.h;
