-- 0009: image files written without their own fsync (issue 17).
--
-- An inline (base64) image's bytes are already durable in its delivery's
-- body, so ingest writes its file without an fsync and marks the row
-- synced = 0. At start-up such files are checked against their sha256
-- and re-created from the delivery body if a crash lost or tore them;
-- the image folder is synced (syncfs) and the rows marked synced = 1
-- before retention may drop a delivery body. Rows from before this
-- version were fsynced when written.
ALTER TABLE images ADD COLUMN synced INTEGER NOT NULL DEFAULT 1;

-- Serves the start-up check and the sync before retention: only the few
-- unsynced rows are indexed.
CREATE INDEX images_unsynced ON images (id) WHERE synced = 0;
