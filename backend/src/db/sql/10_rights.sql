-- Who may do what, asked of the current rows (never of what a socket
-- remembers).

-- Whether an agent may act as a supervisor or admin right now. A socket
-- remembers the role it authenticated with; each permission check narrows
-- that claim with the agent's current row, so a demotion or deactivation
-- counts from its commit on, before the bus has closed the agent's sockets.
CREATE OR REPLACE FUNCTION parley_agent_privileged(agent_id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM agents a
                    WHERE a.id = agent_id AND a.active AND a.role IN ('supervisor', 'admin'))
$$;

-- Whether an agent may see conversation c: a supervisor or admin (claimed:
-- what the caller believes, narrowed by the agent's current role), its
-- assignee, one of its participants, or a member of its team. Never NULL.
-- The one definition of "the agent sees it" for reads, uploads and
-- downloads.
CREATE OR REPLACE FUNCTION parley_agent_sees(c conversations, agent_id bigint, claimed boolean)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (claimed AND parley_agent_privileged(agent_id)) OR c.assignee_id IS NOT DISTINCT FROM agent_id
        OR agent_id = ANY (c.participant_ids)
        OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = c.team_id
                                                   AND tm.agent_id = parley_agent_sees.agent_id)
$$;

-- Whether an agent may act in conversation c (write to the visitor, close,
-- transfer, invite): its assignee, a participant, or a supervisor or admin.
CREATE OR REPLACE FUNCTION parley_agent_acts(c conversations, agent_id bigint, claimed boolean)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (claimed AND parley_agent_privileged(agent_id)) OR c.assignee_id IS NOT DISTINCT FROM agent_id
        OR agent_id = ANY (c.participant_ids)
$$;

-- How long a node may go without a heartbeat before its connections count
-- for nothing (it crashed or was cut off): PARLEY_NODE_TIMEOUT_SECONDS,
-- which parleyd sets on each of its database sessions; 15 for sessions it
-- did not open (psql).
CREATE OR REPLACE FUNCTION parley_node_timeout() RETURNS interval
LANGUAGE sql STABLE AS $$
    SELECT make_interval(secs => coalesce(nullif(current_setting('parley.node_timeout_seconds', true), '')::int, 15))
$$;

-- Whether an agent has a live connection right now: a socket on a node
-- whose heartbeat is fresh. The one definition of "connected" (routing,
-- transfers, the grace sweep, presence events, the agents list, the
-- widget's online flag).
CREATE OR REPLACE FUNCTION parley_agent_live(agent_id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM agent_presence p JOIN nodes n ON n.id = p.node_id
                    WHERE p.agent_id = parley_agent_live.agent_id AND p.connections > 0
                      AND n.heartbeat_at > now() - parley_node_timeout())
$$;
