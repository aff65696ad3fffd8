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

-- Wire shapes of the workspace objects (console and REST API).
CREATE FUNCTION parley_agent_json(a agents) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', a.id, 'email', a.email, 'name', a.name, 'role', a.role, 'status', a.status,
        'max_chats', a.max_chats, 'active', a.active,
        'team_ids', coalesce((SELECT jsonb_agg(tm.team_id ORDER BY tm.team_id)
                                FROM team_members tm WHERE tm.agent_id = a.id), '[]'::jsonb),
        'open_chats', (SELECT count(*) FROM conversations c WHERE c.assignee_id = a.id AND c.status = 'assigned'),
        'connected', EXISTS (SELECT 1 FROM agent_presence p JOIN nodes n ON n.id = p.node_id
                             WHERE p.agent_id = a.id AND p.connections > 0
                               AND n.heartbeat_at > now() - interval '30 seconds'),
        'created_at', parley_iso(a.created_at))
$$;

CREATE FUNCTION parley_team_json(t teams) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', t.id, 'name', t.name,
        'member_ids', coalesce((SELECT jsonb_agg(tm.agent_id ORDER BY tm.agent_id)
                                  FROM team_members tm WHERE tm.team_id = t.id), '[]'::jsonb),
        'created_at', parley_iso(t.created_at))
$$;

-- with_secret: only admins see the identity-verification secret.
CREATE FUNCTION parley_site_json(s sites, with_secret boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'id', s.id, 'name', s.name, 'public_key', s.public_key,
        'allowed_origins', to_jsonb(s.allowed_origins), 'default_team_id', s.default_team_id,
        'widget_settings', s.widget_settings, 'identity_required', s.identity_required,
        'identity_secret', CASE WHEN with_secret THEN s.identity_secret END,
        'created_at', parley_iso(s.created_at)))
$$;
