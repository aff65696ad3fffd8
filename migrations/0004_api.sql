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
