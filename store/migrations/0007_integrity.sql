-- 0007: the send lease. A request in `sending` names the sender that holds
-- it (send_lease_owner, random per running sender) and a counter that
-- sender bumps while its POST is open (send_lease_beat, the heartbeat).
-- Recovery of a `sending` row left by a crash waits until the beat has
-- not moved for a whole lease period of the recovering process's own
-- monotonic clock, and then moves it back to `queued` only if owner, beat
-- and send_attempts are still exactly what it read (compare-and-set), so a
-- live send is never taken over and two recoverers never both win. No wall
-- clock is compared: a clock jump or a suspended laptop cannot make a live
-- send look stale.

ALTER TABLE requests ADD COLUMN send_lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN send_lease_beat INTEGER NOT NULL DEFAULT 0;

-- Serves the collector's retention pass: processed deliveries whose body is
-- still kept, by age. Emptied bodies leave the index.
CREATE INDEX deliveries_processed_body ON deliveries (processed_at) WHERE processed_at IS NOT NULL AND body <> '';
