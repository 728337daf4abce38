-- 0008: a dry-run request asks the n8n workflow to call back at once with a
-- built-in image instead of calling the provider (`influencegen n8n setup`
-- proves the round trip with one). Kept on the row so a re-send after a
-- crash is still a dry run and the history says what it was.

ALTER TABLE requests ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
