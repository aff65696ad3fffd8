-- 0003_workspace: what the console's workspace administration needs.

-- Canned responses: shared by the whole workspace, inserted by shortcut.
CREATE TABLE canned_responses (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shortcut    text NOT NULL CHECK (shortcut ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
    body        text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
    created_by  bigint REFERENCES agents (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX canned_responses_shortcut_key ON canned_responses (shortcut);

-- Closed conversations are listed newest first, per site and overall.
CREATE INDEX conversations_closed_idx ON conversations (closed_at DESC) WHERE status = 'closed';
