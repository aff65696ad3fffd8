-- The wire shapes: how rows become the JSON that clients see, per audience.
-- One definition each, used by acks, events, sync, the console and the REST API.

-- Timestamps on the wire: ISO 8601 in UTC with microseconds, the database's
-- own precision, so a time read from one answer is an exact boundary for the
-- next request (closed_after of an incremental export). STABLE, as to_char
-- is: a function declared IMMUTABLE around a STABLE one is never inlined,
-- and this one runs for every message rendered.
CREATE OR REPLACE FUNCTION parley_iso(ts timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- The name shown for the author of a message: an agent's, a visitor's, an
-- API token's (the integration's) or a bot's.
CREATE OR REPLACE FUNCTION parley_author_name(kind text, id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE kind
               WHEN 'agent' THEN (SELECT a.name FROM agents a WHERE a.id = parley_author_name.id)
               WHEN 'visitor' THEN (SELECT v.name FROM visitors v WHERE v.id = parley_author_name.id)
               WHEN 'api' THEN (SELECT t.name FROM api_tokens t WHERE t.id = parley_author_name.id)
               WHEN 'bot' THEN (SELECT b.name FROM bots b WHERE b.id = parley_author_name.id)
           END
$$;

-- The wire shape of a message for an audience ('visitor' or 'agent'):
-- visitors never see agent ids, meta, or other people's client_msg_id.
-- Event lines carry a stable code (assigned, transferred, reopened, closed,
-- requeued), the agent concerned and who closed, so a client can word them
-- in its own language instead of parsing the English body.
-- The shape itself, as JSON text, from the row, the names it shows (its
-- author's, and an event line's agent and team) and its time already
-- formatted: written out as text (fields that would be null left out)
-- because post_messages renders every message with it, twice, and building
-- a jsonb value field by field cost the message path ~15 µs a message and
-- ~140 µs of executor start per batch (docs/performance.md). No sub-select
-- and each costly argument used once, so that PostgreSQL inlines it where
-- it is called.
DROP FUNCTION IF EXISTS parley_message_shape(messages, text, text, text, text);
CREATE OR REPLACE FUNCTION parley_message_text(m messages, audience text, author_name text, event_agent text,
                                               event_team text, created_at text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT '{"id":' || m.id || ',"conversation_id":' || m.conversation_id || ',"seq":' || m.seq
        || ',"kind":' || to_json(m.kind)::text || ',"author":{"kind":' || to_json(m.author_kind)::text
        || CASE WHEN audience = 'agent' OR m.author_kind = 'visitor' THEN coalesce(',"id":' || m.author_id::text, '')
                ELSE '' END
        -- A system message speaking for someone (an invitation rule's
        -- sender name); event lines have none.
        || coalesce(',"name":' || to_json(CASE WHEN m.author_kind = 'system' THEN m.meta->>'sender_name'
                                               ELSE author_name END)::text, '')
        || '},"body":' || to_json(m.body)::text
        || coalesce(',"attachments":' || jsonb_strip_nulls(nullif(m.attachments, 'null'::jsonb))::text, '')
        || CASE WHEN audience = 'agent' AND m.meta <> '{}'::jsonb THEN ',"meta":' || jsonb_strip_nulls(m.meta)::text
                ELSE '' END
        || CASE WHEN m.kind = 'event' THEN
                coalesce(',"event":' || to_json(m.meta->>'event')::text, '')
                || coalesce(',"event_agent":' || to_json(event_agent)::text, '')
                || coalesce(',"event_by":' || to_json(m.meta->>'by')::text, '')
                || coalesce(',"event_team":' || to_json(event_team)::text, '')
                || coalesce(',"event_call":' || (m.meta->'call')::text, '')
                ELSE '' END
        || CASE WHEN audience = 'agent' OR m.author_kind = 'visitor' THEN
                coalesce(',"client_msg_id":' || to_json(m.client_msg_id)::text, '') ELSE '' END
        || ',"created_at":"' || created_at || '"}'
$$;

CREATE OR REPLACE FUNCTION parley_message_json(m messages, audience text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT parley_message_text(m, audience,
        -- Spelled out, not parley_author_name(): a SQL function with
        -- sub-selects is not inlined, and this runs for every message.
        CASE m.author_kind
            WHEN 'agent' THEN (SELECT a.name FROM agents a WHERE a.id = m.author_id)
            WHEN 'visitor' THEN (SELECT v.name FROM visitors v WHERE v.id = m.author_id)
            WHEN 'api' THEN (SELECT t.name FROM api_tokens t WHERE t.id = m.author_id)
            WHEN 'bot' THEN (SELECT b.name FROM bots b WHERE b.id = m.author_id)
        END,
        CASE WHEN m.kind = 'event' AND m.meta ? 'agent_id' THEN
            (SELECT a.name FROM agents a WHERE a.id = (m.meta->>'agent_id')::bigint) END,
        CASE WHEN m.kind = 'event' AND m.meta ? 'team_id' THEN
            (SELECT t.name FROM teams t WHERE t.id = (m.meta->>'team_id')::bigint) END,
        parley_iso(m.created_at))::jsonb
$$;

-- A conversation's priority on the wire (stored as 0..3 so that the queue
-- sorts by it).
CREATE OR REPLACE FUNCTION parley_priority_name(p smallint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (ARRAY['low', 'normal', 'high', 'urgent'])[p + 1]
$$;

CREATE OR REPLACE FUNCTION parley_priority_value(name text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (array_position(ARRAY['low', 'normal', 'high', 'urgent'], name) - 1)::smallint
$$;

-- A gap longer than this between two pages starts a new visit (the
-- usual web-analytics session).
CREATE OR REPLACE FUNCTION parley_visit_gap() RETURNS interval
LANGUAGE sql IMMUTABLE AS $$
    SELECT interval '30 minutes'
$$;

-- Where a visitor is, as the wire shows it (fields absent when unknown).
CREATE OR REPLACE FUNCTION parley_location_json(country text, region text, city text, time_zone text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object('country', nullif(country, ''), 'region', nullif(region, ''),
                                                'city', nullif(city, ''), 'time_zone', nullif(time_zone, '')))
$$;

-- How many conversations a visitor has had (the console's "3 past
-- conversations"; not in a conversation's own JSON, where a visitor with
-- thousands of API conversations would make every export quadratic).
CREATE OR REPLACE FUNCTION parley_visitor_conversations(visitor bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM conversations c WHERE c.visitor_id = visitor
$$;

-- The visitor's context the console's panel and the REST API show beside
-- identity: location, device, visits and past conversations.
CREATE OR REPLACE FUNCTION parley_visitor_context_json(v visitors) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'location', parley_location_json(v.country, v.region, v.city, v.time_zone),
        'device', v.device,
        'visits', v.visits,
        'returning', v.visits > 1)
$$;

-- The wire shape of a conversation for an audience. The agent's view also
-- carries what the visitor panel shows: identity mark, custom attributes,
-- user agent, and the rating.
CREATE OR REPLACE FUNCTION parley_conversation_json(c conversations, audience text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'id', c.id,
        'status', c.status,
        'site_id', CASE WHEN audience = 'agent' THEN c.site_id END,
        'team_id', CASE WHEN audience = 'agent' THEN c.team_id END,
        'team', CASE WHEN audience = 'agent' THEN (SELECT t.name FROM teams t WHERE t.id = c.team_id) END,
        -- What the site lets happen in calls (off, agent, visitor): every
        -- agent's console offers a call by it, not only those who may read sites.
        'site_calls', CASE WHEN audience = 'agent' THEN
            (SELECT coalesce(s.widget_settings->>'calls', 'agent') FROM sites s WHERE s.id = c.site_id) END,
        'visitor', CASE WHEN audience = 'agent' THEN
            (SELECT jsonb_build_object('id', v.id, 'name', v.name, 'email', v.email, 'verified', v.verified,
                                       'external_id', v.external_id, 'attributes', v.attributes,
                                       'user_agent', v.user_agent, 'country', v.country, 'city', v.city)
                    || parley_visitor_context_json(v)
               FROM visitors v WHERE v.id = c.visitor_id) END,
        -- The bot that handles it (status 'bot') or handled it before a human.
        'bot', (SELECT jsonb_strip_nulls(jsonb_build_object(
                    'id', CASE WHEN audience = 'agent' THEN b.id END, 'name', b.name))
                  FROM bots b WHERE b.id = c.bot_id),
        'assignee', (SELECT jsonb_strip_nulls(jsonb_build_object(
                         'id', CASE WHEN audience = 'agent' THEN a.id END, 'name', a.name))
                       FROM agents a WHERE a.id = c.assignee_id),
        -- Everyone else in it; the visitor sees their names only.
        'participants', CASE WHEN cardinality(c.participant_ids) > 0 THEN
            (SELECT jsonb_agg(CASE WHEN audience = 'agent' THEN jsonb_build_object('id', a.id, 'name', a.name,
                                       'role', p.role, 'joined_at', parley_iso(p.joined_at))
                                   ELSE jsonb_build_object('name', a.name) END ORDER BY p.joined_at, a.id)
               FROM conversation_participants p JOIN agents a ON a.id = p.agent_id
              WHERE p.conversation_id = c.id) END,
        'priority', CASE WHEN audience = 'agent' THEN parley_priority_name(c.priority) END,
        -- The SLA clocks still running, and the targets missed.
        'sla', CASE WHEN audience = 'agent' AND coalesce(c.sla_first_due_at, c.sla_next_due_at,
                                                         c.sla_resolution_due_at) IS NOT NULL THEN
            jsonb_strip_nulls(jsonb_build_object(
                'first_response_due_at', CASE WHEN c.first_response_at IS NULL AND c.status <> 'closed'
                                              THEN parley_iso(c.sla_first_due_at) END,
                'next_response_due_at', CASE WHEN c.awaiting_since IS NOT NULL AND c.status <> 'closed'
                                             THEN parley_iso(c.sla_next_due_at) END,
                'resolution_due_at', CASE WHEN c.status <> 'closed' THEN parley_iso(c.sla_resolution_due_at) END,
                'first_response_at', parley_iso(c.first_response_at),
                'breaches', coalesce((SELECT jsonb_agg(jsonb_build_object('kind', b.kind, 'due_at', parley_iso(b.due_at),
                                                                           'breached_at', parley_iso(b.breached_at))
                                                       ORDER BY b.breached_at)
                                        FROM sla_breaches b WHERE b.conversation_id = c.id), '[]'::jsonb))) END,
        'labels', CASE WHEN audience = 'agent' THEN
            coalesce((SELECT jsonb_agg(jsonb_build_object('id', l.id, 'name', l.name, 'colour', l.colour)
                                       ORDER BY lower(l.name))
                        FROM conversation_labels cl JOIN labels l ON l.id = cl.label_id
                       WHERE cl.conversation_id = c.id), '[]'::jsonb) END,
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

-- The wire shape of a visitor (REST API, webhooks): identity, attributes,
-- and the ids of their conversations, newest first.
CREATE OR REPLACE FUNCTION parley_visitor_json(v visitors) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', v.id, 'site_id', v.site_id, 'external_id', v.external_id,
        'verified', v.verified, 'name', v.name, 'email', v.email, 'attributes', v.attributes,
        'user_agent', v.user_agent, 'country', v.country, 'city', v.city,
        'created_at', parley_iso(v.created_at), 'last_seen_at', parley_iso(v.last_seen_at),
        'conversation_ids', coalesce((SELECT jsonb_agg(c.id ORDER BY c.id DESC) FROM conversations c
                                       WHERE c.visitor_id = v.id), '[]'::jsonb))
        || parley_visitor_context_json(v)
        || jsonb_build_object('conversations', parley_visitor_conversations(v.id))
$$;

-- Wire shapes of the workspace objects (console and REST API).
CREATE OR REPLACE FUNCTION parley_agent_json(a agents) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', a.id, 'email', a.email, 'name', a.name, 'role', a.role, 'status', a.status,
        'max_chats', a.max_chats, 'active', a.active,
        'team_ids', coalesce((SELECT jsonb_agg(tm.team_id ORDER BY tm.team_id)
                                FROM team_members tm WHERE tm.agent_id = a.id), '[]'::jsonb),
        'open_chats', (SELECT count(*) FROM conversations c WHERE c.assignee_id = a.id AND c.status = 'assigned'),
        'connected', parley_agent_live(a.id),
        'created_at', parley_iso(a.created_at))
$$;

CREATE OR REPLACE FUNCTION parley_team_json(t teams) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', t.id, 'name', t.name,
        'member_ids', coalesce((SELECT jsonb_agg(tm.agent_id ORDER BY tm.agent_id)
                                  FROM team_members tm WHERE tm.team_id = t.id), '[]'::jsonb),
        'business_hours', t.business_hours, 'sla', t.sla, 'escalation', t.escalation,
        'collaborators_use_capacity', t.collaborators_use_capacity,
        'created_at', parley_iso(t.created_at))
$$;

-- The server's ceiling on a file's size: PARLEY_UPLOAD_MAX_BYTES, which
-- parleyd sets on each of its database sessions (25 MiB for sessions it did
-- not open).
CREATE OR REPLACE FUNCTION parley_upload_ceiling() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('parley.upload_max_bytes', true), '')::bigint, 26214400)
$$;

-- The types a site allows when it has not chosen (core/sniff.c has the
-- catalogue they come from): all but SVG and "any other file".
CREATE OR REPLACE FUNCTION parley_default_upload_types() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain', 'text/csv',
                 'application/zip',
                 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
                 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
                 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
                 'application/vnd.oasis.opendocument.text', 'application/vnd.oasis.opendocument.spreadsheet',
                 'application/vnd.oasis.opendocument.presentation', 'application/x-ole-storage']
$$;

-- A site's file settings as they apply: for the admin (full) or for the
-- widget (what it may check before uploading).
CREATE OR REPLACE FUNCTION parley_site_files_json(s sites, full_view boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'max_bytes', least(coalesce(s.upload_max_bytes, parley_upload_ceiling()), parley_upload_ceiling()),
        'types', to_jsonb(coalesce(s.upload_types, parley_default_upload_types())),
        'visitor_uploads', s.visitor_uploads)
        || CASE WHEN full_view THEN jsonb_build_object(
               'retention_days', s.file_retention_days, 'ceiling_bytes', parley_upload_ceiling())
           ELSE '{}'::jsonb END
$$;

-- The wire shape of a file (upload answers, attachments, file lists). A
-- removed file keeps its id and name, so its message can say what is gone.
CREATE OR REPLACE FUNCTION parley_file_json(f files) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN f.state = 'removed' THEN jsonb_build_object('id', f.id, 'name', f.name, 'removed', true)
           ELSE jsonb_strip_nulls(jsonb_build_object(
               'id', f.id, 'name', f.name, 'size', f.size, 'type', f.content_type,
               'width', f.width, 'height', f.height, 'url', '/api/files/' || f.id)) END
$$;

-- with_secret: only admins see the identity-verification secret.
CREATE OR REPLACE FUNCTION parley_site_json(s sites, with_secret boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'id', s.id, 'name', s.name, 'public_key', s.public_key,
        'allowed_origins', to_jsonb(s.allowed_origins), 'default_team_id', s.default_team_id,
        'widget_settings', s.widget_settings, 'identity_required', s.identity_required,
        'files', parley_site_files_json(s, true),
        'identity_secret', CASE WHEN with_secret THEN s.identity_secret END,
        'created_at', parley_iso(s.created_at)))
$$;

-- The whole conversation as one JSON document: the transcript and the
-- bulk export line. include_notes adds internal notes.
CREATE OR REPLACE FUNCTION parley_transcript_json(c conversations, include_notes boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'conversation', parley_conversation_json(c, 'agent'),
        'participants', coalesce((
            SELECT jsonb_agg(p ORDER BY p->>'kind', p->>'name') FROM (
                SELECT DISTINCT jsonb_strip_nulls(jsonb_build_object(
                    'kind', m.author_kind, 'id', m.author_id,
                    'name', parley_author_name(m.author_kind, m.author_id))) AS p
                FROM messages m
                WHERE m.conversation_id = c.id AND m.author_kind <> 'system'
                  AND (include_notes OR m.kind <> 'note')) x), '[]'::jsonb),
        'messages', coalesce((
            SELECT jsonb_agg(parley_message_json(m, 'agent') ORDER BY m.seq)
            FROM messages m WHERE m.conversation_id = c.id AND (include_notes OR m.kind <> 'note')), '[]'::jsonb))
$$;
