-- 0010: undo for delete and cancel (issue 14 §6).
-- deleted_at: a delete hides the request at once (every list and count
-- reads only rows where it is NULL) and the collector removes the row once
-- the undo window has passed; undo clears it. The row stays meanwhile, so a
-- callback for it is still recorded and an undo brings back its result.
-- cancelled_from: the state a cancel moved the request from, so undo can
-- put it back; any later move clears it.
ALTER TABLE requests ADD COLUMN deleted_at TEXT;
ALTER TABLE requests ADD COLUMN cancelled_from TEXT NOT NULL DEFAULT '';

DROP INDEX requests_status_id;
-- Serves ListRequests/CountRequests (keyset on id within a state) and the
-- tab counts' covering GROUP BY status, which read live rows only.
CREATE INDEX requests_status_id ON requests (status, id) WHERE deleted_at IS NULL;
-- Serves the collector's PurgeDeleted: the deleted rows past their window.
CREATE INDEX requests_deleted ON requests (deleted_at) WHERE deleted_at IS NOT NULL;
