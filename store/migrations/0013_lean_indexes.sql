-- 0013: two indexes fewer on the callback path (issue 17). Each index is
-- a page or more of every commit's WAL, copied again at the checkpoint.
--
-- activity_kind (kind, id) took every completed callback's three activity
-- rows at the ends of three kinds' ranges, pages apart: ~3 WAL frames per
-- callback committed alone, ~5 per commit under load, for one reader.
DROP INDEX activity_kind;
-- That reader: the dashboard header's newest n8n outcome (NewestN8NOutcome,
-- the store's n8nOutcomeSQL, which repeats this WHERE so SQLite uses it).
-- Appended at one end: ~1 frame per commit.
CREATE INDEX activity_n8n_outcome ON activity (id)
    WHERE kind IN ('n8n_error', 'initiation_failed', 'accepted', 'callback_received', 'completed');

-- images_path was a second index keyed by the picture's hash: an image's
-- file is <images>/<sha256[:2]>/<sha256>.<ext> (ImageFiles; RecordImages
-- refuses any other name), so "which rows use this file" is answered by
-- images_sha256 and a compare of the path (the collector, DeleteRequest),
-- and one random leaf page fewer is written per image.
DROP INDEX images_path;
