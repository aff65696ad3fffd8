-- Notifications: every change NOTIFYs channel parley inside the transaction
-- that makes it, so every node delivers it in commit order (the catalogue of
-- payloads is in backend/src/chat/notify.h). Each kind of payload is built
-- here, once; parley_notify is the only caller of pg_notify but for
-- post_messages (40_messages.sql), whose message payloads are not JSON.

CREATE OR REPLACE FUNCTION parley_notify(payload jsonb) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_notify('parley', payload::text)
$$;

-- A conversation changed (change: queued, assigned, transferred, closed,
-- reopened, requeued, rated, visitor): nodes render its current state.
CREATE OR REPLACE FUNCTION parley_notify_conv(conv bigint, change text, prev_assignee bigint DEFAULT NULL,
                                              old_team bigint DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
    SELECT parley_notify(jsonb_strip_nulls(jsonb_build_object('e', 'conv', 'c', conv, 'ch', change,
        'pa', nullif(prev_assignee, 0), 'ot', nullif(old_team, 0))))
$$;

-- Someone read conversation c up to seq (side: visitor or agent); its
-- visitor, assignee, participants and team say who hears of it.
CREATE OR REPLACE FUNCTION parley_notify_read(c conversations, side text, seq bigint) RETURNS void
LANGUAGE sql AS $$
    SELECT parley_notify(jsonb_build_object('e', 'read', 'c', c.id, 'v', c.visitor_id, 'a', c.assignee_id,
        't', c.team_id, 'p', c.participant_ids, 'side', side, 'seq', seq))
$$;

-- Someone started or stopped typing (name and agent: the agent's, for
-- agents). An agent typing an internal note or a whisper (internal) is not
-- news for the visitor.
DROP FUNCTION IF EXISTS parley_notify_typing(conversations, text, boolean, text, boolean);
CREATE OR REPLACE FUNCTION parley_notify_typing(c conversations, side text, typing boolean, name text,
                                                internal boolean, agent bigint) RETURNS void
LANGUAGE sql AS $$
    SELECT parley_notify(jsonb_strip_nulls(jsonb_build_object('e', 'typing', 'c', c.id, 'v', c.visitor_id,
        'a', c.assignee_id, 't', c.team_id, 'p', c.participant_ids, 'side', side, 'on', typing, 'n', name,
        'i', nullif(internal, false), 'ai', agent)))
$$;

-- Who has conversation c open in the console right now (on a node whose
-- heartbeat is fresh), and who of them is typing (a reply, or a note when
-- note): at most 12, the earliest
-- first, names cut to 50 characters so that the payload stays small.
CREATE OR REPLACE FUNCTION parley_viewers_json(conv bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', x.agent_id, 'name', left(a.name, 50), 'typing', x.typing,
                                                 'note', x.note)
                              ORDER BY x.since, x.agent_id), '[]'::jsonb)
      FROM (SELECT v.agent_id, min(v.since) AS since, bool_or(coalesce(v.typing_until > now(), false)) AS typing,
                   bool_or(coalesce(v.typing_until > now(), false) AND v.typing_note) AS note
              FROM conversation_viewers v JOIN nodes n ON n.id = v.node_id
             WHERE v.conversation_id = conv AND n.heartbeat_at > now() - parley_node_timeout()
             GROUP BY v.agent_id ORDER BY min(v.since), v.agent_id LIMIT 12) x
      JOIN agents a ON a.id = x.agent_id
$$;

-- The viewers of conversation c changed: every agent who may see it hears
-- the new list.
CREATE OR REPLACE FUNCTION parley_notify_viewers(c conversations) RETURNS void
LANGUAGE sql AS $$
    SELECT parley_notify(jsonb_build_object('e', 'viewers', 'c', c.id, 'a', c.assignee_id, 't', c.team_id,
        'p', c.participant_ids, 'l', parley_viewers_json(c.id)))
$$;

-- An agent's status or connection changed.
CREATE OR REPLACE FUNCTION parley_notify_presence(agent_id bigint, name text) RETURNS void
LANGUAGE sql AS $$
    SELECT parley_notify(jsonb_build_object('e', 'presence', 'ag', a.id, 'st', a.status, 'n', name,
        'cn', parley_agent_live(a.id)))
    FROM agents a WHERE a.id = agent_id
$$;

-- Sessions ended (logout, password change, deactivation): their sockets
-- close. Hashes are hex SHA-256 of the session cookies, at most 100 per
-- payload (6.7 kB, under the 8000-byte limit).
CREATE OR REPLACE FUNCTION parley_notify_sessions_off(agent_id bigint, hashes text[]) RETURNS void
LANGUAGE sql AS $$
    SELECT parley_notify(jsonb_strip_nulls(jsonb_build_object('e', 'session_off', 'ag', agent_id,
        'h', to_jsonb(hashes))))
$$;

-- An agent was deactivated: every socket of theirs closes.
CREATE OR REPLACE FUNCTION parley_notify_agent_off(agent_id bigint) RETURNS void
LANGUAGE sql AS $$
    SELECT parley_notify(jsonb_build_object('e', 'agent_off', 'ag', agent_id))
$$;

-- An agent's rights are their role and their teams. Any change of either
-- NOTIFYs {"e":"agent_rights","ag":id} inside the changing transaction,
-- whichever statement made it (agent or team PATCH, agent add, manual SQL),
-- and every node closes that agent's sockets (close 4004): the console
-- re-authenticates and rebuilds its views with the new rights. Identical
-- payloads of one transaction are delivered once. Deactivation has its own
-- notification (agent_off, from the API) and ends the sessions too.
CREATE OR REPLACE FUNCTION parley_agent_role_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_notify(jsonb_build_object('e', 'agent_rights', 'ag', NEW.id));
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER agents_role_changed AFTER UPDATE OF role ON agents
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION parley_agent_role_changed();

CREATE OR REPLACE FUNCTION parley_team_members_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM parley_notify(jsonb_build_object('e', 'agent_rights', 'ag', OLD.agent_id));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM parley_notify(jsonb_build_object('e', 'agent_rights', 'ag', NEW.agent_id));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER team_members_changed AFTER INSERT OR UPDATE OR DELETE ON team_members
    FOR EACH ROW EXECUTE FUNCTION parley_team_members_changed();

-- A site that starts requiring a verified identity NOTIFYs
-- {"e":"site_identity","s":id}: every node closes that site's open sockets
-- of visitors without one (close 4003 identity_required).
CREATE OR REPLACE FUNCTION parley_site_identity_required() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_notify(jsonb_build_object('e', 'site_identity', 's', NEW.id));
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER sites_identity_required AFTER UPDATE OF identity_required ON sites
    FOR EACH ROW WHEN (NEW.identity_required AND NOT OLD.identity_required)
    EXECUTE FUNCTION parley_site_identity_required();
