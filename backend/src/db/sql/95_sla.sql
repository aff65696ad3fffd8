-- SLA breaches (migration 0010_sla; the due times and the rules are swept
-- by chat/sla.c).

-- Every missed target of an open conversation, once: a first response not
-- given by its due time, a visitor's message unanswered past the
-- next-response due time (the agent is flagged, the chat stays), the
-- resolution due time passed. Each is a row of sla_breaches (its key lets
-- one node's insert through when two sweep at once), a note for the agents
-- (meta {"event":"sla_breach","kind":...}), conversation.updated change
-- "sla", and the webhook conversation.sla_breached (the conversation with
-- "breach": {kind, due_at}) for the endpoints that want it (after the note,
-- whose post_messages holds the conversation's row lock that orders its
-- events). At most p_limit per call; returns how many were recorded.
CREATE OR REPLACE FUNCTION parley_sla_breaches(p_limit integer DEFAULT 200) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    conv conversations;
    n integer := 0;
BEGIN
    FOR r IN
        SELECT c.id, k.kind, k.due
          FROM conversations c
         CROSS JOIN LATERAL (VALUES
               ('first_response', CASE WHEN c.first_response_at IS NULL THEN c.sla_first_due_at END),
               ('next_response', CASE WHEN c.awaiting_since IS NOT NULL AND c.status = 'assigned'
                                      THEN c.sla_next_due_at END),
               ('resolution', c.sla_resolution_due_at)) AS k(kind, due)
         WHERE c.status IN ('queued', 'assigned')
           AND least(c.sla_first_due_at, c.sla_next_due_at, c.sla_resolution_due_at) <= now()
           AND k.due <= now()
           AND NOT EXISTS (SELECT 1 FROM sla_breaches b
                            WHERE b.conversation_id = c.id AND b.kind = k.kind AND b.due_at = k.due)
         ORDER BY k.due
         LIMIT p_limit
    LOOP
        INSERT INTO sla_breaches (conversation_id, kind, due_at) VALUES (r.id, r.kind, r.due)
        ON CONFLICT DO NOTHING;
        IF FOUND THEN
            PERFORM post_messages(jsonb_build_array(jsonb_build_object(
                'c', r.id, 'ak', 'system', 'k', 'note',
                'b', CASE r.kind WHEN 'first_response' THEN 'SLA first response missed'
                                 WHEN 'next_response' THEN 'SLA next response missed'
                                 ELSE 'SLA resolution time missed' END,
                'mt', jsonb_build_object('event', 'sla_breach', 'kind', r.kind, 'due_at', parley_iso(r.due)))));
            IF parley_hook_wanted('conversation.sla_breached', false) THEN
                SELECT * INTO conv FROM conversations WHERE id = r.id;
                PERFORM parley_hook_emit('conversation.sla_breached', r.id,
                    parley_conversation_json(conv, 'agent')
                        || jsonb_build_object('breach', jsonb_build_object('kind', r.kind, 'due_at', parley_iso(r.due))));
            END IF;
            PERFORM parley_notify_conv(r.id, 'sla');
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END $$;

-- A conversation that moves to another team (transfer, escalation, a queue
-- rule) is due by that team's SLA: the due times still ahead are cleared,
-- and the sweep computes them again from the same anchors with the new
-- team's targets and hours (or leaves them unset when it has none). A
-- target already missed keeps its due time, so it is not missed twice.
CREATE OR REPLACE FUNCTION parley_sla_team_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.sla_first_due_at > now() THEN
        NEW.sla_first_due_at := NULL;
    END IF;
    IF NEW.sla_next_due_at > now() THEN
        NEW.sla_next_due_at := NULL;
    END IF;
    IF NEW.sla_resolution_due_at > now() THEN
        NEW.sla_resolution_due_at := NULL;
    END IF;
    RETURN NEW;
END $$;

-- Only statements that set team_id enter it (not the message path's).
CREATE OR REPLACE TRIGGER conversations_sla_team BEFORE UPDATE OF team_id ON conversations
    FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id)
    EXECUTE FUNCTION parley_sla_team_changed();
