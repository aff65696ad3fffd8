-- Issue 15: the durable message path, set-based.
--
-- What post_messages (backend/src/db/sql/40_messages.sql) keeps of each
-- element of a batch between its statements: its result, and what the
-- notification and the webhooks need, rendered once.
CREATE TYPE parley_posted AS (
    idx     integer, -- the element's place in the batch, from 1
    status  text,    -- ok | duplicate | key_taken | not_found | forbidden | closed | file_invalid
    message text,    -- the message as its author sees it (ok, duplicate)
    entry   text,    -- its line in the notification (ok)
    conv    bigint,
    msg     bigint,  -- the stored message's id (ok)
    note    boolean, -- an internal note
    bot     bigint,  -- the bot that handles the conversation, when the author is not it
    hook    jsonb    -- the agents' view, for message.created (only when an endpoint wants it)
);
