-- 0008_bots: agent bots. A bot is a webhook endpoint that receives the
-- events of the conversations it handles, and an API token it answers with
-- (functions in backend/src/db/sql/80_bots.sql, the module chat/bots.c).
-- A site or a team may hand its new conversations to a bot first: such a
-- conversation starts in status 'bot' and enters the team's queue when the
-- bot hands it off (or does not answer in time).
CREATE TABLE bots (
    id               bigserial PRIMARY KEY,
    name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    -- Where the bot hears its conversations' events (NULL once deleted).
    endpoint_id      bigint UNIQUE REFERENCES webhook_endpoints (id) ON DELETE SET NULL,
    -- A visitor's message the bot leaves unanswered this long hands the
    -- conversation off by itself.
    timeout_seconds  integer NOT NULL DEFAULT 60 CHECK (timeout_seconds BETWEEN 5 AND 86400),
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- A deleted bot keeps its row: its messages keep their author's name.
    deleted_at       timestamptz
);
CREATE UNIQUE INDEX bots_name_idx ON bots (lower(name)) WHERE deleted_at IS NULL;

-- The token a bot answers with: its messages are the bot's.
ALTER TABLE api_tokens ADD COLUMN bot_id bigint REFERENCES bots (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX api_tokens_bot_idx ON api_tokens (bot_id) WHERE bot_id IS NOT NULL AND revoked_at IS NULL;

-- Who hands new conversations to a bot: the team (first) or the site.
ALTER TABLE sites ADD COLUMN bot_id bigint REFERENCES bots (id) ON DELETE SET NULL;
ALTER TABLE teams ADD COLUMN bot_id bigint REFERENCES bots (id) ON DELETE SET NULL;

-- The bot that handles (or handled) the conversation, and since when a
-- visitor's message waits for its answer.
ALTER TABLE conversations ADD COLUMN bot_id bigint REFERENCES bots (id),
                          ADD COLUMN bot_waiting_since timestamptz;
ALTER TABLE conversations DROP CONSTRAINT conversations_status_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_status_check
    CHECK (status IN ('bot', 'queued', 'assigned', 'closed'));
-- (A conversation in status 'bot' always has its bot_id: it is set with
-- the status at the start, and a bot is deleted only after handing off.
-- Not a CHECK: conversations are updated with every message, and each CHECK
-- is evaluated on each update.)
CREATE INDEX conversations_bot_waiting_idx ON conversations (bot_waiting_since) WHERE status = 'bot';

ALTER TABLE messages DROP CONSTRAINT messages_author_kind_check;
ALTER TABLE messages ADD CONSTRAINT messages_author_kind_check
    CHECK (author_kind IN ('visitor', 'agent', 'system', 'api', 'bot'));
ALTER TABLE conversations DROP CONSTRAINT conversations_closed_by_kind_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_closed_by_kind_check
    CHECK (closed_by_kind IN ('visitor', 'agent', 'system', 'api', 'bot'));
ALTER TABLE files DROP CONSTRAINT files_uploader_kind_check;
ALTER TABLE files ADD CONSTRAINT files_uploader_kind_check CHECK (uploader_kind IN ('visitor', 'agent', 'api', 'bot'));
