-- 0002_realtime: what the conversation core needs beyond the core schema:
-- node liveness and agent presence across nodes. (Functions and triggers
-- live in backend/src/db/sql/, re-applied at every start.)

-- Every parleyd node heartbeats here; presence rows of a node whose
-- heartbeat is stale count for nothing (the node died).
CREATE TABLE nodes (
    id            text PRIMARY KEY CHECK (char_length(id) BETWEEN 8 AND 64),
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

-- Live agent connections per node.
CREATE TABLE agent_presence (
    node_id      text NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    agent_id     bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    connections  integer NOT NULL CHECK (connections >= 0),
    PRIMARY KEY (agent_id, node_id)
);

-- When the agent was last known connected (set at disconnect and by the
-- heartbeat); the grace period before their chats are requeued runs from it.
ALTER TABLE agents ADD COLUMN last_connected_at timestamptz;

-- Conversations a visitor owns, newest first, are read often; and the
-- grace sweep looks for assigned conversations by agent.
CREATE INDEX conversations_team_assigned_idx ON conversations (team_id, assigned_at DESC) WHERE assigned_at IS NOT NULL;
