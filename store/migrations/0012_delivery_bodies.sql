-- 0012: a delivery's body in a table of its own (issue 17).
--
-- The body (the callback as n8n sent it, ~13 KB with an inline picture)
-- sat in the deliveries row next to the columns ingest changes. Marking a
-- delivery processed rewrote the whole record, its overflow pages
-- included, into the WAL and again into the database file at the next
-- checkpoint, and reading processed_at walked the overflow chain, since
-- it is stored after the body. The body is written once by the ack, read
-- by ingest and the image recovery, and deleted by retention.
CREATE TABLE delivery_bodies (
    delivery_id INTEGER PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
    body        TEXT NOT NULL
) STRICT;

INSERT INTO delivery_bodies (delivery_id, body) SELECT id, body FROM deliveries WHERE body <> '';

-- Retention now walks delivery_bodies (deliveries whose body is kept).
DROP INDEX deliveries_processed_body;
ALTER TABLE deliveries DROP COLUMN body;
