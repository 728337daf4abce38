-- 0002: denormalised image_count and sync_state on requests. The list view
-- shows both for every row; reading them from images/outbox would be one
-- extra query per row (or a join over every row of the window's history).
-- The store keeps them current in the same transaction as the change.

ALTER TABLE requests ADD COLUMN image_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN sync_state TEXT NOT NULL DEFAULT 'pending'
    CHECK (sync_state IN ('off', 'pending', 'synced', 'parked'));

UPDATE requests SET image_count = (SELECT count(*) FROM images WHERE images.request_id = requests.id);

-- Parked wins over pending: a permanent error needs a person even while other
-- rows of the request still wait.
UPDATE requests SET sync_state = CASE
    WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.request_id = requests.id
                 AND o.done_at IS NULL AND o.parked_at IS NOT NULL) THEN 'parked'
    WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.request_id = requests.id
                 AND o.done_at IS NULL) THEN 'pending'
    WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.request_id = requests.id) THEN 'synced'
    ELSE 'off'
END;
