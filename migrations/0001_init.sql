-- 0001_init: the core schema.
-- Forward-only. Applied by `parleyd migrate` inside one transaction under an
-- advisory lock; recorded in schema_migrations (created by the migrator).

CREATE TABLE teams (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX teams_name_key ON teams (lower(name));
CREATE TABLE agents (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    name           text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    role           text NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
    password_hash  text NOT NULL,
    status         text NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'away', 'offline')),
    max_chats      integer NOT NULL DEFAULT 5 CHECK (max_chats BETWEEN 0 AND 100),
    active         boolean NOT NULL DEFAULT true,
    last_assigned_at timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX agents_email_key ON agents (lower(email));
CREATE TABLE team_members (
    team_id   bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    agent_id  bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent_idx ON team_members (agent_id);
CREATE TABLE sites (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    public_key         text NOT NULL UNIQUE CHECK (public_key ~ '^[A-Za-z0-9_-]{8,64}$'),
    allowed_origins    text[] NOT NULL DEFAULT '{}',
    default_team_id    bigint NOT NULL REFERENCES teams (id),
    -- colour, position, greeting, launcher text, pre-chat fields, language
    widget_settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- HMAC-SHA256 key for visitor identity verification
    identity_secret    text,
    identity_required  boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE visitors (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id       bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    external_id   text CHECK (char_length(external_id) <= 255),
    verified      boolean NOT NULL DEFAULT false,
    name          text CHECK (char_length(name) <= 200),
    email         text CHECK (char_length(email) <= 254),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    user_agent    text CHECK (char_length(user_agent) <= 1000),
    ip            inet,
    country       text,
    city          text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX visitors_site_external_key ON visitors (site_id, external_id) WHERE external_id IS NOT NULL;

-- A visitor's bearer tokens; only the SHA-256 of each token is stored.
CREATE TABLE visitor_tokens (
    token_hash    bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    visitor_id    bigint NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    site_id       bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visitor_tokens_visitor_idx ON visitor_tokens (visitor_id);
CREATE TABLE conversations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id         bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    visitor_id      bigint NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    team_id         bigint NOT NULL REFERENCES teams (id),
    assignee_id     bigint REFERENCES agents (id),
    status          text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'assigned', 'closed')),
    -- Position key in the queue: the oldest first; a requeue after an agent's
    -- grace period puts the conversation back at the front.
    queued_at       timestamptz,
    assigned_at     timestamptz,
    closed_at       timestamptz,
    closed_by_kind  text CHECK (closed_by_kind IN ('visitor', 'agent', 'system', 'api')),
    last_seq        bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    visitor_last_read_seq bigint NOT NULL DEFAULT 0,
    agent_last_read_seq   bigint NOT NULL DEFAULT 0,
    page_url        text CHECK (char_length(page_url) <= 2048),
    referrer        text CHECK (char_length(referrer) <= 2048),
    prechat         jsonb NOT NULL DEFAULT '{}'::jsonb,
    offline         boolean NOT NULL DEFAULT false,
    rating          text CHECK (rating IN ('good', 'bad')),
    rating_comment  text CHECK (char_length(rating_comment) <= 2000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'assigned') = (assignee_id IS NOT NULL) OR status = 'closed')
);
CREATE INDEX conversations_queue_idx ON conversations (team_id, queued_at) WHERE status = 'queued';
CREATE INDEX conversations_assignee_idx ON conversations (assignee_id) WHERE status = 'assigned';
CREATE INDEX conversations_visitor_idx ON conversations (visitor_id, created_at DESC);
CREATE INDEX conversations_site_created_idx ON conversations (site_id, created_at DESC);
CREATE TABLE messages (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq              bigint NOT NULL CHECK (seq > 0),
    author_kind      text NOT NULL CHECK (author_kind IN ('visitor', 'agent', 'system', 'api')),
    author_id        bigint,
    -- 'message' reaches both sides; 'note' is internal (agents only);
    -- 'event' records a state change (assigned, transferred, closed ...).
    kind             text NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'note', 'event')),
    body             text NOT NULL CHECK (octet_length(body) <= 65536),
    meta             jsonb NOT NULL DEFAULT '{}'::jsonb,
    client_msg_id    text CHECK (char_length(client_msg_id) BETWEEN 1 AND 64),
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, seq),
    UNIQUE (conversation_id, client_msg_id)
);
CREATE TABLE agent_sessions (
    token_hash    bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    agent_id      bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    ip            inet,
    user_agent    text CHECK (char_length(user_agent) <= 1000)
);
CREATE INDEX agent_sessions_agent_idx ON agent_sessions (agent_id);

-- Failed logins, counted per account and per IP inside a sliding window.
CREATE TABLE login_failures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text NOT NULL,
    ip          inet,
    failed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (lower(email), failed_at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip, failed_at);
CREATE TABLE api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    token_hash    bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    scopes        text[] NOT NULL CHECK (scopes <@ ARRAY['conversations:read', 'conversations:write',
                                                          'transcripts:read', 'admin']::text[]),
    created_by    bigint REFERENCES agents (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
