-- 0004: a failed delivery's retry time lives in its row. The ingest worker
-- used to remember its backoff in memory and read the oldest pending
-- deliveries a page at a time: a full page of deliveries backing off after
-- errors hid every newer one behind it. PendingDeliveries now returns only
-- due deliveries (next_attempt_at NULL or past), and the backoff survives a
-- restart. NULL means due at once: every delivery recorded before this
-- version, and every new one until its first failure.

ALTER TABLE deliveries ADD COLUMN next_attempt_at TEXT;

DROP INDEX deliveries_pending;
-- Serves PendingDeliveries (due unprocessed deliveries, oldest first): the
-- walk in id order tests next_attempt_at in the index, so deliveries that
-- are backing off are skipped without reading their bodies.
CREATE INDEX deliveries_pending ON deliveries (id, next_attempt_at) WHERE processed_at IS NULL;
