-- 0003: prompt history for the composer's recall (up/down through earlier
-- prompts). Reading DISTINCT prompt over requests would scan and sort every
-- request; this table holds each prompt once with its last use.

CREATE TABLE prompt_history (
    prompt       TEXT PRIMARY KEY,
    last_used_at TEXT NOT NULL,
    uses         INTEGER NOT NULL DEFAULT 1
) STRICT;

-- Serves PromptHistory: most recently used first, read by LIMIT.
CREATE INDEX prompt_history_recent ON prompt_history (last_used_at DESC);

INSERT INTO prompt_history (prompt, last_used_at, uses)
SELECT prompt, max(created_at), count(*) FROM requests GROUP BY prompt;
