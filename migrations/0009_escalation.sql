-- 0009_escalation: several agents in one conversation, who is looking at
-- it, its priority and its labels (functions in backend/src/db/sql/90_escalation.sql,
-- the moves in backend/src/chat/participants.c and chat/triage.c).

-- Agents in a conversation besides its assignee (the owner): invited
-- colleagues, supervisors who barged in, the agent an escalation brought in,
-- and an owner who escalated to a team or was taken over (nobody leaves
-- unless they choose to). Capacity counts for the owner only, unless the
-- conversation's team says that collaborators count too.
CREATE TABLE conversation_participants (
    conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    agent_id         bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    role             text NOT NULL CHECK (role IN ('collaborator', 'supervisor', 'escalation')),
    added_by         bigint REFERENCES agents (id) ON DELETE SET NULL,
    joined_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, agent_id)
);
CREATE INDEX conversation_participants_agent_idx ON conversation_participants (agent_id);

-- The current participants, kept by a trigger on the table above: the
-- message path reads them with the conversation row it already locks (no
-- extra lookup per message) to route each message to them.
ALTER TABLE conversations ADD COLUMN participant_ids bigint[] NOT NULL DEFAULT '{}'
    CHECK (cardinality(participant_ids) <= 8);

-- low 0, normal 1, high 2, urgent 3: the router serves the highest first,
-- then the longest waiting.
ALTER TABLE conversations ADD COLUMN priority smallint NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 3);
DROP INDEX conversations_queue_idx;
CREATE INDEX conversations_queue_idx ON conversations (team_id, priority DESC, queued_at, id) WHERE status = 'queued';

ALTER TABLE teams ADD COLUMN collaborators_use_capacity boolean NOT NULL DEFAULT false;

-- Labels: an admin-managed list; a conversation carries up to 20.
CREATE TABLE labels (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 50),
    colour      text NOT NULL DEFAULT '#6b7280' CHECK (colour ~ '^#[0-9a-f]{6}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX labels_name_idx ON labels (lower(name));
CREATE TABLE conversation_labels (
    conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    label_id         bigint NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, label_id)
);
CREATE INDEX conversation_labels_label_idx ON conversation_labels (label_id, conversation_id);

-- Who has a conversation open in the console right now, per node (the
-- node's sockets are the truth; a crashed node's rows stop counting with
-- its heartbeat, like agent_presence), and until when they are typing.
CREATE TABLE conversation_viewers (
    conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    agent_id         bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    node_id          text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    connections      integer NOT NULL CHECK (connections > 0),
    typing_until     timestamptz,
    typing_note      boolean NOT NULL DEFAULT false,
    since            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, agent_id, node_id)
);
CREATE INDEX conversation_viewers_node_idx ON conversation_viewers (node_id);

-- "The agent sees it" now takes the conversation row (participants see it
-- too); the old signature would be an ambiguous overload.
DROP FUNCTION IF EXISTS parley_agent_sees(bigint, bigint, bigint, boolean);
-- The same for the notifications that now carry the participants.
DROP FUNCTION IF EXISTS parley_notify_read(bigint, bigint, bigint, bigint, text, bigint);
DROP FUNCTION IF EXISTS parley_notify_typing(conversations, text, boolean, text);
