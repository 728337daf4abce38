-- 0005: cross-process leases (issue 11 §2). A syncer holds the
-- 'odoo-sync' lease while it drains the outbox, so `serve` and
-- `influencegen sync now` on one database file never write the same Odoo
-- record from two reads of different age. Taking a lease is one
-- INSERT ... ON CONFLICT DO UPDATE ... WHERE (free, expired or ours): a
-- compare-and-set under SQLite's write lock. expires_at is wall-clock
-- time in the store's fixed-width format, the only clock two processes
-- share; the holder renews it well before it runs out.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    token       TEXT NOT NULL,     -- unique per holder
    pid         INTEGER NOT NULL,  -- for the person reading "held by"
    host        TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL
) STRICT;
