-- part_count is the running count of the recorded parts of an upload, beside
-- part_bytes, so that AddPart checks its count limit in O(1) as well. Parts
-- already recorded are counted once, here.
ALTER TABLE uploads ADD COLUMN part_count INTEGER NOT NULL DEFAULT 0;

UPDATE uploads SET part_count = (SELECT count(*) FROM parts WHERE parts.upload_id = uploads.id)
WHERE id IN (SELECT upload_id FROM parts);
