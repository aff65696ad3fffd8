-- 0014_reports: the append-only record reports are computed from, and the
-- per-conversation table they read (docs/reports.md; functions and
-- triggers in backend/src/db/sql/97_reports.sql).

-- Where a conversation came from: the widget, or an integration's REST call.
ALTER TABLE conversations ADD COLUMN channel text NOT NULL DEFAULT 'widget' CHECK (channel IN ('widget', 'api'));

-- What happened to each conversation, one row per thing, written by
-- triggers (so by every path that changes a conversation) and never
-- changed. agent_id and team_id name who and where at that moment; no
-- foreign key, so that the record outlives a renamed or deactivated agent
-- and costs no check per row.
CREATE TABLE conversation_events (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    at               timestamptz NOT NULL DEFAULT now(),
    kind             text NOT NULL CHECK (kind IN ('started', 'offline', 'bot', 'queued', 'assigned', 'transferred',
                                                   'escalated', 'first_reply', 'closed', 'missed', 'reopened',
                                                   'rated')),
    agent_id         bigint,
    team_id          bigint,
    data             jsonb
);
CREATE INDEX conversation_events_conv_idx ON conversation_events (conversation_id, id);

-- Agents' states over time: online / away (their status while connected)
-- or offline; a row per change.
CREATE TABLE agent_activity (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id  bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    at        timestamptz NOT NULL DEFAULT now(),
    state     text NOT NULL CHECK (state IN ('online', 'away', 'offline'))
);
CREATE INDEX agent_activity_agent_idx ON agent_activity (agent_id, at, id);

-- One row per conversation with every metric, recomputed from the record
-- by each of its events (parley_report_rebuild). Durations in seconds.
CREATE TABLE report_conversations (
    conversation_id      bigint PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    started_at           timestamptz NOT NULL,
    site_id              bigint NOT NULL,
    team_id              bigint NOT NULL,
    agent_id             bigint,      -- the credited agent
    channel              text NOT NULL,
    closed               boolean NOT NULL,
    outcome              text NOT NULL CHECK (outcome IN ('answered', 'missed', 'offline', 'bot', 'unanswered')),
    queued_at            timestamptz, -- first entered a person's queue
    assigned_at          timestamptz, -- first assigned to an agent
    first_reply_at       timestamptz, -- first answer of a person
    closed_at            timestamptz, -- the last close
    wait                 double precision,
    first_response       double precision,
    handle               double precision,
    resolution           double precision,
    -- Business time: filled by chat/reports in C (the team's hours) while
    -- business_due is set.
    wait_business            double precision,
    first_response_business  double precision,
    resolution_business      double precision,
    business_due         boolean NOT NULL DEFAULT false,
    messages             integer NOT NULL DEFAULT 0,
    visitor_messages     integer NOT NULL DEFAULT 0,
    agent_messages       integer NOT NULL DEFAULT 0,
    bot_messages         integer NOT NULL DEFAULT 0,
    transfers            integer NOT NULL DEFAULT 0,
    reopens              integer NOT NULL DEFAULT 0,
    escalations          integer NOT NULL DEFAULT 0,
    rating               text,
    has_comment          boolean NOT NULL DEFAULT false
);
-- A report reads a range of start times, often of one team or agent.
CREATE INDEX report_conversations_started_idx ON report_conversations (started_at);
CREATE INDEX report_conversations_agent_idx ON report_conversations (agent_id, started_at) WHERE agent_id IS NOT NULL;
CREATE INDEX report_conversations_team_idx ON report_conversations (team_id, started_at);
CREATE INDEX report_conversations_business_idx ON report_conversations (conversation_id) WHERE business_due;

-- The spans during which an agent owned a conversation (agent activity:
-- chats, concurrency; the handle time). during's upper bound is open while
-- it lasts.
CREATE TABLE report_ownership (
    conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    agent_id         bigint NOT NULL,
    during           tstzrange NOT NULL
);
CREATE INDEX report_ownership_conv_idx ON report_ownership (conversation_id);
CREATE INDEX report_ownership_during_idx ON report_ownership USING gist (during);

-- Integrators read reports with their own scope.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_scopes_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scopes_check
    CHECK (scopes <@ ARRAY['conversations:read', 'conversations:write', 'transcripts:read', 'admin',
                           'reports:read']::text[]);

-- The record of the conversations that existed before it: rebuilt once
-- from what their rows say (start, queue, assignment, first answer, close,
-- rating; not the transfers of that time). Their report rows are computed
-- at the next start, by 97_reports.sql, from report_pending.
CREATE TABLE report_pending (conversation_id bigint PRIMARY KEY);
INSERT INTO conversation_events (conversation_id, at, kind, agent_id, team_id, data)
SELECT x.conversation_id, x.at, x.kind, x.agent_id, x.team_id, x.data
  FROM (SELECT c.id AS conversation_id, c.created_at AS at, 1 AS ord, 'started' AS kind, NULL::bigint AS agent_id,
               c.team_id, jsonb_build_object('channel', 'widget', 'offline', c.offline) AS data
          FROM conversations c
        UNION ALL
        SELECT c.id, c.created_at, 2, 'offline', NULL, c.team_id, NULL FROM conversations c WHERE c.offline
        UNION ALL
        SELECT c.id, c.created_at, 3, CASE WHEN c.bot_id IS NULL THEN 'queued' ELSE 'bot' END, NULL,
               CASE WHEN c.bot_id IS NULL THEN c.team_id END, NULL
          FROM conversations c
        UNION ALL
        SELECT c.id, c.assigned_at, 4, 'assigned', c.assignee_id, c.team_id, NULL
          FROM conversations c WHERE c.assigned_at IS NOT NULL AND c.assignee_id IS NOT NULL
        UNION ALL
        SELECT c.id, c.first_response_at, 5, 'first_reply',
               (SELECT m.author_id FROM messages m
                 WHERE m.conversation_id = c.id AND m.kind = 'message' AND m.author_kind = 'agent'
                   AND NOT EXISTS (SELECT 1 FROM messages p
                                    WHERE p.conversation_id = c.id AND p.kind = 'message'
                                      AND p.author_kind = 'api' AND p.seq < m.seq)
                 ORDER BY m.seq LIMIT 1), NULL, NULL
          FROM conversations c WHERE c.first_response_at IS NOT NULL
        UNION ALL
        SELECT c.id, c.closed_at, 6, 'closed', NULL, NULL, jsonb_build_object('by', c.closed_by_kind)
          FROM conversations c WHERE c.status = 'closed' AND c.closed_at IS NOT NULL
        UNION ALL
        SELECT c.id, c.closed_at, 7, 'missed', NULL, NULL, NULL
          FROM conversations c
         WHERE c.status = 'closed' AND c.closed_at IS NOT NULL AND c.first_response_at IS NULL AND NOT c.offline
           AND c.bot_id IS NULL AND c.closed_by_kind IN ('visitor', 'system')
        UNION ALL
        SELECT c.id, coalesce(c.closed_at, c.updated_at), 8, 'rated', NULL, NULL,
               jsonb_build_object('rating', c.rating, 'comment', c.rating_comment IS NOT NULL)
          FROM conversations c WHERE c.rating IS NOT NULL) x
 ORDER BY x.conversation_id, x.at, x.ord;
INSERT INTO report_pending SELECT id FROM conversations;
