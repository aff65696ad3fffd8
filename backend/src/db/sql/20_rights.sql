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
