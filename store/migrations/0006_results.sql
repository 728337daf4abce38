-- 0006: one result per request, and deliveries that stop retrying.
--
-- A request accepts ONE result, whatever its state: result_delivery_id is
-- the delivery that is its result, claimed by RecordDelivery in the same
-- statement group that records it (UPDATE … WHERE result_delivery_id IS
-- NULL), so of two different results arriving together exactly one wins,
-- as if they had come one after the other. Requests recorded before this
-- version take their oldest delivery as their result.
ALTER TABLE requests ADD COLUMN result_delivery_id INTEGER;
UPDATE requests SET result_delivery_id =
    (SELECT min(id) FROM deliveries WHERE deliveries.request_id = requests.id);

-- A delivery whose processing keeps failing is parked after a capped
-- number of attempts instead of being retried for ever; parked_at says
-- when, last_error why.
ALTER TABLE deliveries ADD COLUMN parked_at TEXT;

DROP INDEX deliveries_pending;
-- Serves PendingDeliveries (due unprocessed deliveries, oldest first);
-- parked deliveries leave it.
CREATE INDEX deliveries_pending ON deliveries (id, next_attempt_at) WHERE processed_at IS NULL AND parked_at IS NULL;
-- Serves the parked count in doctor and status.
CREATE INDEX deliveries_parked ON deliveries (request_id) WHERE processed_at IS NULL AND parked_at IS NOT NULL;

-- Images of one result are numbered 1…n. Ingest used to pass 0-based
-- numbers that the store read as "next free", giving 1, 1, 2 and repeated
-- Odoo attachment names: renumber each request's images in their order,
-- then keep the numbers unique.
UPDATE images SET sequence = r.rn
FROM (SELECT id, row_number() OVER (PARTITION BY request_id ORDER BY sequence, id) AS rn FROM images) AS r
WHERE r.id = images.id AND images.sequence <> r.rn;
-- Serves nothing new: it makes a repeated number within a request
-- impossible, so attachment names (<request>-<sequence>.<ext>) are unique.
CREATE UNIQUE INDEX images_request_sequence ON images (request_id, sequence);
