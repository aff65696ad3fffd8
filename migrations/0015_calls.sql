-- 0015_calls: voice and video calls between a conversation's visitor and an
-- agent (issue 17). The media flows browser to browser; the server keeps
-- each call's state and relays its signalling (chat/calls.h).

CREATE TABLE calls (
    id               bigserial PRIMARY KEY,
    conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    state            text NOT NULL CHECK (state IN ('ringing', 'active', 'ended')),
    media            text NOT NULL CHECK (media IN ('audio', 'video')),
    caller           text NOT NULL CHECK (caller IN ('agent', 'visitor')),
    agent_id         bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    visitor_id       bigint NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    -- Each party's end: the one socket (node, random key) the signals go
    -- to; NULL until that party has one (the callee, while it rings). A
    -- party whose socket closed is gone since *_gone_at until it rejoins.
    agent_node       text,
    agent_key        text,
    agent_gone_at    timestamptz,
    visitor_node     text,
    visitor_key      text,
    visitor_gone_at  timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    answered_at      timestamptz,
    ended_at         timestamptz,
    end_reason       text CHECK (end_reason IN ('declined', 'missed', 'cancelled', 'hangup', 'lost', 'closed', 'failed')),
    ended_by         text CHECK (ended_by IN ('agent', 'visitor', 'system')),
    CHECK ((state = 'ended') = (ended_at IS NOT NULL AND end_reason IS NOT NULL)),
    CHECK (state = 'ringing' OR state = 'ended' OR answered_at IS NOT NULL)
);

-- One live call per conversation, and per agent: enforced here, so two
-- nodes starting calls at once cannot both succeed.
CREATE UNIQUE INDEX calls_live_conversation_idx ON calls (conversation_id) WHERE state <> 'ended';
CREATE UNIQUE INDEX calls_live_agent_idx ON calls (agent_id) WHERE state <> 'ended';
CREATE INDEX calls_live_visitor_idx ON calls (visitor_id) WHERE state <> 'ended';
CREATE INDEX calls_conversation_idx ON calls (conversation_id, id);

-- Signals too large for a NOTIFY payload (8000 bytes; an SDP with video is
-- often more) travel as a reference to a row here; the sweep deletes rows
-- older than a minute, long after every node has read them.
CREATE TABLE call_signals (
    id          bigserial PRIMARY KEY,
    call_id     bigint NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    frame       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_signals_created_idx ON call_signals (created_at);
