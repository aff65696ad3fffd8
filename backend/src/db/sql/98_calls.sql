-- Calls (chat/calls.h): the call object's shape, the notifications that
-- carry its changes and its signals between nodes, and its webhook events.

-- A call as a party sees it (audience: 'visitor' omits the agent's id).
CREATE OR REPLACE FUNCTION parley_call_json(k calls, audience text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', k.id, 'conversation_id', k.conversation_id, 'state', k.state, 'media', k.media,
        'caller', k.caller,
        'agent', CASE WHEN audience = 'agent' THEN jsonb_build_object('id', k.agent_id, 'name', a.name)
                      ELSE jsonb_build_object('name', a.name) END,
        'created_at', parley_iso(k.created_at), 'answered_at', parley_iso(k.answered_at),
        'ended_at', parley_iso(k.ended_at), 'end_reason', k.end_reason, 'ended_by', k.ended_by,
        'duration', CASE WHEN k.answered_at IS NOT NULL AND k.ended_at IS NOT NULL
                         THEN floor(extract(epoch FROM k.ended_at - k.answered_at))::bigint END)
      FROM agents a WHERE a.id = k.agent_id
$$;

-- A party's end is gone: its socket closed more than lost seconds ago
-- without a rejoin, or its node stopped (no heartbeat). No end yet (the
-- callee while it rings) is not gone.
CREATE OR REPLACE FUNCTION parley_call_end_gone(node text, gone_at timestamptz, lost integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT node IS NOT NULL
       AND (gone_at < now() - make_interval(secs => lost)
            OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = node AND n.heartbeat_at > now() - parley_node_timeout()))
$$;

-- {"e":"call","v":visitor,"a":agent,"fv":frame for the visitor,"fa":frame
-- for the agent}: every node sends call.updated to the visitor's sockets
-- and the agent party's.
CREATE OR REPLACE FUNCTION parley_notify_call(k calls) RETURNS void
LANGUAGE sql AS $$
    SELECT parley_notify(jsonb_build_object('e', 'call', 'v', k.visitor_id, 'a', k.agent_id,
        'fv', jsonb_build_object('type', 'call.updated', 'call', parley_call_json(k, 'visitor'))::text,
        'fa', jsonb_build_object('type', 'call.updated', 'call', parley_call_json(k, 'agent'))::text))
$$;

-- Relays a signal frame to one party's end socket: {"e":"sig","to":side,
-- "id":visitor or agent,"n":node,"k":key,"f":frame}, or with "r":row
-- instead of "f" when the frame would not fit a NOTIFY payload.
CREATE OR REPLACE FUNCTION parley_call_relay(k calls, to_side text, frame text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    head jsonb := jsonb_build_object('e', 'sig', 'to', to_side,
        'id', CASE WHEN to_side = 'agent' THEN k.agent_id ELSE k.visitor_id END,
        'n', CASE WHEN to_side = 'agent' THEN k.agent_node ELSE k.visitor_node END,
        'k', CASE WHEN to_side = 'agent' THEN k.agent_key ELSE k.visitor_key END);
    row_id bigint;
BEGIN
    IF head->>'n' IS NULL THEN
        RETURN false;
    END IF;
    IF octet_length(frame) <= 6000 THEN
        PERFORM parley_notify(head || jsonb_build_object('f', frame));
    ELSE
        INSERT INTO call_signals (call_id, frame) VALUES (k.id, frame) RETURNING id INTO row_id;
        PERFORM parley_notify(head || jsonb_build_object('r', row_id));
    END IF;
    RETURN true;
END
$$;

-- Webhooks: call.ringing, call.accepted and call.ended, with the call as
-- agents see it.
CREATE OR REPLACE FUNCTION parley_hook_call() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text := CASE WHEN TG_OP = 'INSERT' THEN 'call.ringing'
                      WHEN NEW.state = 'active' THEN 'call.accepted'
                      WHEN NEW.state = 'ended' THEN 'call.ended' END;
BEGIN
    IF kind IS NOT NULL AND parley_hook_wanted(kind, false) THEN
        PERFORM parley_hook_emit(kind, NEW.conversation_id,
                                 jsonb_build_object('call', parley_call_json(NEW, 'agent')));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER calls_hook_insert AFTER INSERT ON calls
    FOR EACH ROW EXECUTE FUNCTION parley_hook_call();
CREATE OR REPLACE TRIGGER calls_hook_update AFTER UPDATE ON calls
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION parley_hook_call();
