-- Several agents in one conversation, and who is looking at it (tables in
-- migration 0009_escalation; the moves in chat/participants.c, the viewers
-- in chat/viewers.c).

-- conversations.participant_ids caches the participant rows, so that the
-- message path routes to them from the row it already locks. Every writer
-- of conversation_participants holds the conversation's row lock (the moves
-- lock it first), so the cache is rebuilt in a consistent order.
CREATE OR REPLACE FUNCTION parley_participants_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    conv bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.conversation_id ELSE NEW.conversation_id END;
BEGIN
    UPDATE conversations c
       SET participant_ids = coalesce((SELECT array_agg(p.agent_id ORDER BY p.joined_at, p.agent_id)
                                         FROM conversation_participants p WHERE p.conversation_id = conv), '{}')
     WHERE c.id = conv;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER conversation_participants_changed
    AFTER INSERT OR UPDATE OR DELETE ON conversation_participants
    FOR EACH ROW EXECUTE FUNCTION parley_participants_changed();

-- How many chats count against an agent's max_chats: the open ones they
-- own, and those they take part in where the conversation's team says that
-- collaborators use capacity.
CREATE OR REPLACE FUNCTION parley_agent_load(agent_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT (SELECT count(*) FROM conversations c WHERE c.assignee_id = parley_agent_load.agent_id
               AND c.status = 'assigned')
         + (SELECT count(*) FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
                JOIN teams t ON t.id = c.team_id
             WHERE p.agent_id = parley_agent_load.agent_id AND c.status IN ('queued', 'assigned')
               AND t.collaborators_use_capacity)
$$;

-- An agent's socket on node p_node opened (p_open) or left conversation
-- p_conv; the viewers hear the new list when it changed (a second tab of
-- the same agent changes nothing they can see). Returns whether it did.
CREATE OR REPLACE FUNCTION parley_viewer_set(p_conv bigint, p_agent bigint, p_node text, p_open boolean)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    before jsonb := parley_viewers_json(p_conv);
    c conversations;
BEGIN
    IF p_open THEN
        INSERT INTO conversation_viewers (conversation_id, agent_id, node_id, connections)
        VALUES (p_conv, p_agent, p_node, 1)
        ON CONFLICT (conversation_id, agent_id, node_id)
        DO UPDATE SET connections = conversation_viewers.connections + 1;
    ELSE
        DELETE FROM conversation_viewers v
         WHERE v.conversation_id = p_conv AND v.agent_id = p_agent AND v.node_id = p_node AND v.connections <= 1;
        IF NOT FOUND THEN
            UPDATE conversation_viewers v SET connections = v.connections - 1
             WHERE v.conversation_id = p_conv AND v.agent_id = p_agent AND v.node_id = p_node;
        END IF;
    END IF;
    IF parley_viewers_json(p_conv) = before THEN
        RETURN false;
    END IF;
    SELECT * INTO c FROM conversations WHERE id = p_conv;
    PERFORM parley_notify_viewers(c);
    RETURN true;
END $$;

-- The agent started (p_on) or stopped typing in a conversation they view
-- on node p_node, a note or whisper when p_note: the viewers hear it when
-- it changes. A typing flag lasts p_seconds unless renewed, so a console
-- that vanished mid-sentence does not type forever (clients expire it the
-- same way).
DROP FUNCTION IF EXISTS parley_viewer_typing(bigint, bigint, text, boolean, integer);
CREATE OR REPLACE FUNCTION parley_viewer_typing(p_conv bigint, p_agent bigint, p_node text, p_on boolean,
                                                p_note boolean, p_seconds integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    was boolean;
    was_note boolean;
    c conversations;
BEGIN
    SELECT bool_or(coalesce(v.typing_until > now(), false)),
           bool_or(coalesce(v.typing_until > now(), false) AND v.typing_note)
      INTO was, was_note FROM conversation_viewers v
     WHERE v.conversation_id = p_conv AND v.agent_id = p_agent;
    UPDATE conversation_viewers v
       SET typing_until = CASE WHEN p_on THEN now() + make_interval(secs => p_seconds) END,
           typing_note = p_on AND p_note
     WHERE v.conversation_id = p_conv AND v.agent_id = p_agent AND v.node_id = p_node;
    IF FOUND AND (was IS DISTINCT FROM p_on OR coalesce(was_note, false) IS DISTINCT FROM (p_on AND p_note)) THEN
        SELECT * INTO c FROM conversations WHERE id = p_conv;
        PERFORM parley_notify_viewers(c);
    END IF;
END $$;

-- Viewers on nodes that stopped heartbeating are gone (or, with p_node,
-- the viewers of that node, which is stopping): their rows are removed and
-- each conversation's viewers hear the new list. Run by every node's
-- presence tick; rows are locked and skipped, so two nodes never report the
-- same removal twice. Returns the number removed.
CREATE OR REPLACE FUNCTION parley_viewers_sweep(p_node text DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    convs bigint[];
    n integer;
    c conversations;
BEGIN
    WITH gone AS (
        DELETE FROM conversation_viewers v
         WHERE (v.conversation_id, v.agent_id, v.node_id) IN (
               SELECT w.conversation_id, w.agent_id, w.node_id FROM conversation_viewers w
                 JOIN nodes n ON n.id = w.node_id
                WHERE CASE WHEN p_node IS NULL THEN n.heartbeat_at <= now() - parley_node_timeout()
                           ELSE n.id = p_node END
                LIMIT 500 FOR UPDATE OF w SKIP LOCKED)
        RETURNING v.conversation_id)
    SELECT array_agg(DISTINCT conversation_id), count(*) INTO convs, n FROM gone;
    FOR c IN SELECT * FROM conversations WHERE id = ANY (coalesce(convs, '{}')) LOOP
        PERFORM parley_notify_viewers(c);
    END LOOP;
    RETURN n;
END $$;
