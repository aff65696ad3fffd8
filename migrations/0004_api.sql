-- 0004_api: what the REST API v1 needs.

-- Full-text search over message bodies ('simple': no language stemming,
-- so any language's words match as typed).
CREATE INDEX messages_body_fts_idx ON messages USING gin (to_tsvector('simple', body));

-- Filters of GET /api/v1/conversations.
CREATE INDEX conversations_created_idx ON conversations (created_at DESC, id DESC);
CREATE INDEX conversations_assignee_all_idx ON conversations (assignee_id, id DESC);
CREATE INDEX conversations_closed_at_id_idx ON conversations (closed_at, id) WHERE closed_at IS NOT NULL;

-- The whole conversation as one JSON document: the transcript and the
-- bulk export line. include_notes adds internal notes.
CREATE FUNCTION parley_transcript_json(c conversations, include_notes boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'conversation', parley_conversation_json(c, 'agent'),
        'participants', coalesce((
            SELECT jsonb_agg(p ORDER BY p->>'kind', p->>'name') FROM (
                SELECT DISTINCT jsonb_strip_nulls(jsonb_build_object(
                    'kind', m.author_kind, 'id', m.author_id,
                    'name', CASE m.author_kind
                                WHEN 'agent' THEN (SELECT a.name FROM agents a WHERE a.id = m.author_id)
                                WHEN 'visitor' THEN (SELECT v.name FROM visitors v WHERE v.id = m.author_id)
                                WHEN 'api' THEN (SELECT t.name FROM api_tokens t WHERE t.id = m.author_id)
                            END)) AS p
                FROM messages m
                WHERE m.conversation_id = c.id AND m.author_kind <> 'system'
                  AND (include_notes OR m.kind <> 'note')) x), '[]'::jsonb),
        'messages', coalesce((
            SELECT jsonb_agg(parley_message_json(m, 'agent') ORDER BY m.seq)
            FROM messages m WHERE m.conversation_id = c.id AND (include_notes OR m.kind <> 'note')), '[]'::jsonb))
$$;

-- The API token's author name in messages it posts, and a stable code for
-- event messages.
CREATE OR REPLACE FUNCTION parley_message_json(m messages, audience text) RETURNS jsonb
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

-- Timestamps on the wire carry microseconds, the database's own precision:
-- a time read from one answer is an exact boundary for the next request
-- (closed_after of an incremental export).
CREATE OR REPLACE FUNCTION parley_iso(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;
