-- 0012: leaner deliveries for the callback path (issue 17).
--
-- 1. A delivery's body in a table of its own. The body (the callback as
-- n8n sent it, ~13 KB with an inline picture) sat in the deliveries row
-- next to the columns ingest changes. Marking a delivery processed
-- rewrote the whole record, its overflow pages included, into the WAL and
-- again into the database file at the next checkpoint, and reading
-- processed_at walked the overflow chain, since it is stored after the
-- body. The body is written once by the ack, read by ingest and the image
-- recovery, and deleted by retention.
CREATE TABLE delivery_bodies (
    delivery_id INTEGER PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
    body        TEXT NOT NULL
) STRICT;

INSERT INTO delivery_bodies (delivery_id, body) SELECT id, body FROM deliveries WHERE body <> '';

-- Retention now walks delivery_bodies (deliveries whose body is kept).
DROP INDEX deliveries_processed_body;
ALTER TABLE deliveries DROP COLUMN body;

-- 2. Idempotency keys unique per request. A key already names its request
-- (a webhook-id key ends with the request id; a hash key hashes it with
-- the body), so this is the same rule as one global unique key. But most
-- keys begin with a hash: every ack wrote a random leaf of the global
-- index, a page per callback in each commit's WAL.
DROP INDEX deliveries_idempotency_key;
DROP INDEX deliveries_request;
-- Serves RecordDelivery's duplicate check (uniqueness makes a replay a
-- no-op) and the cascade of a deleted request; it grows at its right edge
-- like the request ids.
CREATE UNIQUE INDEX deliveries_request_key ON deliveries (request_id, idempotency_key);
-- Serves the listener's check that a webhook-id was not used for another
-- request (DeliveryRequestsByKeyPrefix): the keys of webhook-ids only.
CREATE INDEX deliveries_webhook_key ON deliveries (idempotency_key)
    WHERE idempotency_key >= 'webhook-id:' AND idempotency_key < 'webhook-id;';
