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

-- The agent's view of a conversation also carries what the visitor panel
-- shows: identity mark, custom attributes, user agent, and the rating.
CREATE OR REPLACE FUNCTION parley_conversation_json(c conversations, audience text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'id', c.id,
        'status', c.status,
        'site_id', CASE WHEN audience = 'agent' THEN c.site_id END,
        'team_id', CASE WHEN audience = 'agent' THEN c.team_id END,
        'team', CASE WHEN audience = 'agent' THEN (SELECT t.name FROM teams t WHERE t.id = c.team_id) END,
        'visitor', CASE WHEN audience = 'agent' THEN
            (SELECT jsonb_build_object('id', v.id, 'name', v.name, 'email', v.email, 'verified', v.verified,
                                       'external_id', v.external_id, 'attributes', v.attributes,
                                       'user_agent', v.user_agent, 'country', v.country, 'city', v.city)
               FROM visitors v WHERE v.id = c.visitor_id) END,
        'assignee', (SELECT jsonb_strip_nulls(jsonb_build_object(
                         'id', CASE WHEN audience = 'agent' THEN a.id END, 'name', a.name))
                       FROM agents a WHERE a.id = c.assignee_id),
        'queued_at', parley_iso(c.queued_at),
        'assigned_at', parley_iso(c.assigned_at),
        'closed_at', parley_iso(c.closed_at),
        'created_at', parley_iso(c.created_at),
        'last_seq', c.last_seq,
        'visitor_last_read_seq', c.visitor_last_read_seq,
        'agent_last_read_seq', c.agent_last_read_seq,
        'page_url', CASE WHEN audience = 'agent' THEN c.page_url END,
        'referrer', CASE WHEN audience = 'agent' THEN c.referrer END,
        'prechat', CASE WHEN audience = 'agent' THEN c.prechat END,
        'offline', c.offline,
        'rating', c.rating,
        'rating_comment', CASE WHEN audience = 'agent' THEN c.rating_comment END))
$$;

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

-- post_messages, corrected: a client_msg_id is deduplicated per author. A
-- key already used by someone else in the conversation is refused
-- ('key_taken') instead of answering with that other message, which could
-- be an internal note the visitor must never see.
CREATE OR REPLACE FUNCTION post_messages(p_items jsonb)
RETURNS TABLE (idx integer, status text, message jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    it jsonb;
    n integer := 0;
    conv record;
    msg messages;
    notes jsonb := '[]'::jsonb;
    v_kind text;
    v_ak text;
    v_ai bigint;
    v_priv boolean;
    v_cm text;
    new_seq bigint;
BEGIN
    FOR it IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        n := n + 1;
        idx := n;
        message := NULL;
        v_ak := it->>'ak';
        v_ai := (it->>'ai')::bigint;
        v_priv := coalesce((it->>'p')::boolean, false);
        v_kind := coalesce(it->>'k', 'message');
        v_cm := it->>'cm';
        SELECT c.id, c.visitor_id, c.team_id, c.assignee_id, c.status
          INTO conv FROM conversations c WHERE c.id = (it->>'c')::bigint FOR UPDATE;
        IF NOT FOUND OR (v_ak = 'visitor' AND conv.visitor_id <> v_ai) THEN
            status := 'not_found'; RETURN NEXT; CONTINUE;
        END IF;
        IF v_cm IS NOT NULL THEN
            SELECT * INTO msg FROM messages m WHERE m.conversation_id = conv.id AND m.client_msg_id = v_cm;
            -- The same author resending: the original, not a second copy.
            -- Someone else's message under that key: refused, and nothing
            -- of it is shown (it could be an internal note).
            IF FOUND AND msg.author_kind = v_ak AND msg.author_id IS NOT DISTINCT FROM v_ai THEN
                status := 'duplicate';
                message := parley_message_json(msg, CASE WHEN v_ak = 'visitor' THEN 'visitor' ELSE 'agent' END);
                RETURN NEXT; CONTINUE;
            ELSIF FOUND THEN
                status := 'key_taken'; RETURN NEXT; CONTINUE;
            END IF;
        END IF;
        IF v_ak = 'agent' AND NOT v_priv AND conv.assignee_id IS DISTINCT FROM v_ai
           AND (v_kind = 'message'
                OR NOT EXISTS (SELECT 1 FROM team_members tm
                                WHERE tm.team_id = conv.team_id AND tm.agent_id = v_ai)) THEN
            status := 'forbidden'; RETURN NEXT; CONTINUE;
        END IF;
        IF conv.status = 'closed' AND v_kind <> 'event' THEN
            status := 'closed'; RETURN NEXT; CONTINUE;
        END IF;
        UPDATE conversations c SET last_seq = c.last_seq + 1, updated_at = now()
         WHERE c.id = conv.id RETURNING c.last_seq INTO new_seq;
        INSERT INTO messages (conversation_id, seq, author_kind, author_id, kind, body, meta, client_msg_id)
        VALUES (conv.id, new_seq, v_ak, v_ai, v_kind, it->>'b', coalesce(it->'mt', '{}'::jsonb), v_cm)
        RETURNING * INTO msg;
        status := 'ok';
        message := parley_message_json(msg, CASE WHEN v_ak = 'visitor' THEN 'visitor' ELSE 'agent' END);
        notes := notes || jsonb_build_array(jsonb_build_array(conv.id, new_seq));
        RETURN NEXT;
    END LOOP;
    -- NOTIFY payloads are limited to 8000 bytes: send references in chunks.
    IF jsonb_array_length(notes) = 0 THEN
        RETURN;
    END IF;
    FOR n IN 0 .. (jsonb_array_length(notes) - 1) / 200 LOOP
        PERFORM pg_notify('parley', jsonb_build_object('e', 'msg', 'm',
            (SELECT jsonb_agg(x ORDER BY k) FROM jsonb_array_elements(notes) WITH ORDINALITY AS t(x, k)
              WHERE k > n * 200 AND k <= (n + 1) * 200))::text);
    END LOOP;
END;
$$;
