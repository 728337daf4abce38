-- 0009: curation (issue 14). A submit of several images is a batch: its
-- requests share batch_id (NULL for a single request). variation_of is the
-- image a "more like this" request varies; it goes to n8n as the payload's
-- free variation_of field. Images carry the marketer's pick: a favourite
-- star and an approval, each with who and when. decided_at is the time of
-- the latest decision of either kind: the Odoo sync writes a decision only
-- over an older one (last writer wins by time), so a decision made while
-- Odoo was down never overwrites a newer one made meanwhile.

ALTER TABLE requests ADD COLUMN batch_id TEXT;
ALTER TABLE requests ADD COLUMN variation_of INTEGER;

-- Serves BatchRequests and the batch aggregate of a page of batches.
CREATE INDEX requests_batch ON requests (batch_id, id) WHERE batch_id IS NOT NULL;
-- Serves the ETA: the most recent completed requests of one model.
CREATE INDEX requests_model_completed ON requests (model, completed_at) WHERE status = 'completed';

ALTER TABLE images ADD COLUMN favorite INTEGER NOT NULL DEFAULT 0 CHECK (favorite IN (0, 1));
ALTER TABLE images ADD COLUMN favorite_by TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN favorite_at TEXT;
ALTER TABLE images ADD COLUMN approval TEXT NOT NULL DEFAULT 'undecided'
    CHECK (approval IN ('undecided', 'approved', 'rejected'));
ALTER TABLE images ADD COLUMN approved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN approved_at TEXT;
ALTER TABLE images ADD COLUMN decided_at TEXT;

-- Serves is:fav and `image list --favorites`: only starred images are
-- indexed, and most images are never starred.
CREATE INDEX images_favorite ON images (request_id) WHERE favorite = 1;
-- Serves is:approved / is:rejected and `image list --approved`: only
-- decided images are indexed.
CREATE INDEX images_approval ON images (approval, request_id) WHERE approval <> 'undecided';
-- Serves FindImage by sha256 prefix (a range scan on the hex text).
CREATE INDEX images_sha256 ON images (sha256);

-- A decision travels to Odoo as its own outbox kind ('image_decision',
-- payload {"image_id":N}); the kind list is a CHECK, which SQLite cannot
-- alter, so the table is rebuilt with the same rows and indexes.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('upsert_request', 'image', 'image_decision')),
    request_id      TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    payload         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    done_at         TEXT,
    parked_at       TEXT
) STRICT;
INSERT INTO outbox_new (id, kind, request_id, payload, attempts, next_attempt_at, last_error, created_at, done_at, parked_at)
    SELECT id, kind, request_id, payload, attempts, next_attempt_at, last_error, created_at, done_at, parked_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
-- Serves DueOutbox and OutboxStats (as in 0001).
CREATE INDEX outbox_pending ON outbox (id) WHERE done_at IS NULL AND parked_at IS NULL;
-- Serves OutboxRequeue and the parked count (as in 0001).
CREATE INDEX outbox_parked ON outbox (request_id) WHERE done_at IS NULL AND parked_at IS NOT NULL;
-- Serves the per-request sync_state check and the cascade (as in 0001).
CREATE INDEX outbox_request ON outbox (request_id, done_at);
