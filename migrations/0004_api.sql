-- 0004_api: what the REST API v1 needs.

-- Full-text search over message bodies ('simple': no language stemming,
-- so any language's words match as typed).
CREATE INDEX messages_body_fts_idx ON messages USING gin (to_tsvector('simple', body));

-- Filters of GET /api/v1/conversations.
CREATE INDEX conversations_created_idx ON conversations (created_at DESC, id DESC);
CREATE INDEX conversations_assignee_all_idx ON conversations (assignee_id, id DESC);
CREATE INDEX conversations_closed_at_id_idx ON conversations (closed_at, id) WHERE closed_at IS NOT NULL;
