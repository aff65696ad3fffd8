-- 0002_realtime: what the conversation core needs beyond the core schema:
-- node liveness and agent presence across nodes, and the one function that
-- appends messages with a gap-free per-conversation seq.

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

-- Timestamps on the wire: ISO 8601 in UTC with microseconds, the database's
-- own precision, so a time read from one answer is an exact boundary for the
-- next request (closed_after of an incremental export).
CREATE FUNCTION parley_iso(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- The wire shape of a message for an audience ('visitor' or 'agent'):
-- visitors never see agent ids, meta, or other people's client_msg_id.
-- Event lines carry a stable code (assigned, transferred, reopened, closed,
-- requeued), the agent concerned and who closed, so a client can word them
-- in its own language instead of parsing the English body.
CREATE FUNCTION parley_message_json(m messages, audience text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'id', m.id,
        'conversation_id', m.conversation_id,
        'seq', m.seq,
        'kind', m.kind,
        'author', jsonb_build_object(
            'kind', m.author_kind,
            'id', CASE WHEN audience = 'agent' OR m.author_kind = 'visitor' THEN m.author_id END,
            'name', CASE m.author_kind
                        WHEN 'agent' THEN (SELECT a.name FROM agents a WHERE a.id = m.author_id)
                        WHEN 'visitor' THEN (SELECT v.name FROM visitors v WHERE v.id = m.author_id)
                        WHEN 'api' THEN (SELECT t.name FROM api_tokens t WHERE t.id = m.author_id)
                    END),
        'body', m.body,
        'meta', CASE WHEN audience = 'agent' AND m.meta <> '{}'::jsonb THEN m.meta END,
        -- Event messages say what happened in a stable code (assigned,
        -- transferred, reopened, closed, requeued) and who, so a client can
        -- word it in its own language instead of parsing the English body.
        'event', CASE WHEN m.kind = 'event' THEN m.meta->>'event' END,
        'event_agent', CASE WHEN m.kind = 'event' AND m.meta ? 'agent_id' THEN
            (SELECT a.name FROM agents a WHERE a.id = (m.meta->>'agent_id')::bigint) END,
        'event_by', CASE WHEN m.kind = 'event' THEN m.meta->>'by' END,
        'client_msg_id', CASE WHEN audience = 'agent' OR m.author_kind = 'visitor' THEN m.client_msg_id END,
        'created_at', parley_iso(m.created_at)))
$$;

-- The wire shape of a conversation for an audience. The agent's view also
-- carries what the visitor panel shows: identity mark, custom attributes,
-- user agent, and the rating.
CREATE FUNCTION parley_conversation_json(c conversations, audience text) RETURNS jsonb
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

-- Whether an agent may act as a supervisor or admin right now. A socket
-- remembers the role it authenticated with; each permission check narrows
-- that claim with the agent's current row, so a demotion or deactivation
-- counts from its commit on, before the bus has closed the agent's sockets.
CREATE FUNCTION parley_agent_privileged(agent_id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM agents a
                    WHERE a.id = agent_id AND a.active AND a.role IN ('supervisor', 'admin'))
$$;

-- post_messages: appends a batch of messages in one statement.
--
-- p_items is a JSON array of {"c": conversation id, "ak": author kind
-- (visitor|agent|system|api), "ai": author id, "p": privileged agent,
-- "pc": "p" is a socket's claim, to be narrowed by parley_agent_privileged
-- (callers that checked permissions in their own transaction omit it),
-- "k": kind (message|note|event), "b": body, "cm": client_msg_id, "mt": meta}.
-- Each element is checked (the conversation exists, the author may write to
-- it, it is not closed), deduplicated on client_msg_id per author (a key
-- someone else used in the conversation is refused, 'key_taken', showing
-- nothing of that message: it could be a note), then given the
-- conversation's next seq under the conversation's row lock, so seq is
-- gap-free and ordered by commit. Elements are processed in the order given;
-- callers sort by conversation to keep the lock order stable.
-- Result per element: status ok | duplicate | key_taken | not_found |
-- forbidden | closed, and the message as its author sees it.
--
-- NOTIFY (channel parley) carries the messages themselves: per message its
-- routing (conversation, visitor, team, assignee, queued) and both rendered
-- views, packed into payloads under PostgreSQL's 8000-byte limit; only a
-- message too large for a payload travels as a [conversation_id, seq]
-- reference to be loaded. (Measured with bench/chatload: one reference per
-- message, loaded by a query per notification on the single bus thread,
-- capped delivery at ~230 notifications a second.)
CREATE FUNCTION post_messages(p_items jsonb)
RETURNS TABLE (idx integer, status text, message jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    it jsonb;
    n integer := 0;
    conv record;
    msg messages;
    v_kind text;
    v_ak text;
    v_ai bigint;
    v_priv boolean;
    v_cm text;
    new_seq bigint;
    entry jsonb;
    entry_len integer;
    chunk jsonb := '[]'::jsonb;
    chunk_len integer := 0;
BEGIN
    FOR it IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        n := n + 1;
        idx := n;
        message := NULL;
        v_ak := it->>'ak';
        v_ai := (it->>'ai')::bigint;
        v_priv := coalesce((it->>'p')::boolean, false);
        IF v_priv AND coalesce((it->>'pc')::boolean, false) THEN
            v_priv := v_ak = 'agent' AND parley_agent_privileged(v_ai);
        END IF;
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
        RETURN NEXT;

        -- What every node needs to deliver it without reading it back.
        entry := jsonb_build_object(
            'c', conv.id, 'v', conv.visitor_id, 't', conv.team_id, 'a', conv.assignee_id,
            'q', conv.status = 'queued',
            'am', parley_message_json(msg, 'agent'),
            'vm', CASE WHEN v_kind = 'note' THEN NULL ELSE parley_message_json(msg, 'visitor') END);
        entry_len := octet_length(entry::text);
        IF entry_len > 7000 THEN
            entry := jsonb_build_array(conv.id, new_seq);
            entry_len := octet_length(entry::text);
        END IF;
        IF chunk_len + entry_len > 7000 THEN
            PERFORM pg_notify('parley', jsonb_build_object('e', 'msg', 'm', chunk)::text);
            chunk := '[]'::jsonb;
            chunk_len := 0;
        END IF;
        chunk := chunk || jsonb_build_array(entry);
        chunk_len := chunk_len + entry_len + 2;
    END LOOP;
    IF jsonb_array_length(chunk) > 0 THEN
        PERFORM pg_notify('parley', jsonb_build_object('e', 'msg', 'm', chunk)::text);
    END IF;
END;
$$;
