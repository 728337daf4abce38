-- 0001: the first schema. Times are TEXT in a fixed-width UTC form
-- (2006-01-02T15:04:05.000000000Z), so string order is time order and
-- "next_attempt_at <= now" is a plain comparison.

CREATE TABLE requests (
    id              TEXT PRIMARY KEY,            -- ULID: sorts by creation time, so keyset paging is by id
    prompt          TEXT NOT NULL,
    prompt_fold     TEXT NOT NULL,               -- Go strings.ToLower(prompt): SQLite's lower() folds ASCII only
    negative_prompt TEXT NOT NULL DEFAULT '',
    model           TEXT NOT NULL,
    width           INTEGER NOT NULL,
    height          INTEGER NOT NULL,
    aspect_ratio    TEXT NOT NULL DEFAULT '',
    seed            INTEGER NOT NULL CHECK (seed BETWEEN 0 AND 4294967295),
    num_images      INTEGER NOT NULL DEFAULT 1,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'processing', 'completed',
                        'failed', 'initiation_failed', 'timed_out', 'cancelled')),
    error_code      TEXT NOT NULL DEFAULT '',
    error_message   TEXT NOT NULL DEFAULT '',
    requested_by    TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    sent_at         TEXT,
    completed_at    TEXT,
    execution_id    TEXT NOT NULL DEFAULT '',
    odoo_id         INTEGER,                     -- NULL until the Odoo record exists
    retry_of        TEXT REFERENCES requests (id) ON DELETE SET NULL,
    send_attempts   INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Serves ListRequests/CountRequests filtered by state (keyset on id within a
-- state) and CountByStatus (a covering GROUP BY status).
CREATE INDEX requests_status_id ON requests (status, id);
-- Serves RequestsInStatus: recovery and the timeout sweeper read the oldest
-- rows of one state by updated_at.
CREATE INDEX requests_status_updated ON requests (status, updated_at);
-- Serves FindRequest by Odoo record id and keeps one request per Odoo record.
CREATE UNIQUE INDEX requests_odoo_id ON requests (odoo_id) WHERE odoo_id IS NOT NULL;
-- Serves the ON DELETE SET NULL of retry_of when a request is deleted.
CREATE INDEX requests_retry_of ON requests (retry_of) WHERE retry_of IS NOT NULL;

CREATE TABLE images (
    id          INTEGER PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    sequence    INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    path        TEXT NOT NULL,
    mime        TEXT NOT NULL,
    width       INTEGER NOT NULL DEFAULT 0,
    height      INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    seed        INTEGER,
    source      TEXT NOT NULL DEFAULT '',
    source_url  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
) STRICT;

-- Serves Images(request) and the cascade on request delete; being unique on
-- the content hash, it makes a replayed callback store each picture once.
CREATE UNIQUE INDEX images_request_sha ON images (request_id, sha256);
-- Serves DeleteRequest's orphan check: is this file still referenced?
CREATE INDEX images_path ON images (path);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL,
    request_id      TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    body            TEXT NOT NULL,
    source          TEXT NOT NULL DEFAULT '',
    received_at     TEXT NOT NULL,
    processed_at    TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT ''
) STRICT;

-- Serves RecordDelivery's duplicate check; uniqueness is what makes a
-- replayed callback a no-op.
CREATE UNIQUE INDEX deliveries_idempotency_key ON deliveries (idempotency_key);
-- Serves PendingDeliveries (oldest unprocessed first) without scanning the
-- processed history.
CREATE INDEX deliveries_pending ON deliveries (id) WHERE processed_at IS NULL;
-- Serves the cascade when a request is deleted.
CREATE INDEX deliveries_request ON deliveries (request_id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('upsert_request', 'image')),
    request_id      TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    payload         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    done_at         TEXT,
    parked_at       TEXT
) STRICT;

-- Serves DueOutbox and OutboxStats: only live rows are indexed, so the
-- growing done history costs nothing to skip.
CREATE INDEX outbox_pending ON outbox (id) WHERE done_at IS NULL AND parked_at IS NULL;
-- Serves OutboxRequeue and the parked count.
CREATE INDEX outbox_parked ON outbox (request_id) WHERE done_at IS NULL AND parked_at IS NOT NULL;
-- Serves the per-request "anything left?" check behind sync_state, and the
-- cascade when a request is deleted.
CREATE INDEX outbox_request ON outbox (request_id, done_at);

CREATE TABLE activity (
    id          INTEGER PRIMARY KEY,
    request_id  TEXT REFERENCES requests (id) ON DELETE CASCADE,  -- NULL for app-wide events
    kind        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    message     TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

-- Serves ListActivity for one request (newest first by id) and the cascade.
CREATE INDEX activity_request ON activity (request_id, id);
-- Serves ListActivity filtered by kind across all requests.
CREATE INDEX activity_kind ON activity (kind, id);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
