-- Agent bots (migrations/0008_bots.sql; the module chat/bots.c). A bot is
-- a webhook endpoint that hears the events of the conversations it handles
-- (status 'bot') and an API token it answers with; it hands a conversation
-- to the team's queue with a summary note for the agent, by the REST API or
-- a handoff action in its reply, and by itself when it leaves a visitor's
-- message unanswered for timeout_seconds or its endpoint is switched off.

-- The wire shape of a bot (console and REST API). Never a secret.
CREATE OR REPLACE FUNCTION parley_bot_json(b bots) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', b.id, 'name', b.name, 'timeout_seconds', b.timeout_seconds,
        'endpoint_id', b.endpoint_id, 'url', e.url, 'enabled', coalesce(e.enabled, false),
        'disabled_reason', e.disabled_reason,
        'site_ids', coalesce((SELECT jsonb_agg(s.id ORDER BY s.id) FROM sites s WHERE s.bot_id = b.id), '[]'::jsonb),
        'team_ids', coalesce((SELECT jsonb_agg(t.id ORDER BY t.id) FROM teams t WHERE t.bot_id = b.id), '[]'::jsonb),
        'handling', (SELECT count(*) FROM conversations c WHERE c.bot_id = b.id AND c.status = 'bot'),
        'token_last_used_at', (SELECT parley_iso(max(k.last_used_at)) FROM api_tokens k WHERE k.bot_id = b.id),
        'created_at', parley_iso(b.created_at))
    FROM (SELECT 1) one LEFT JOIN webhook_endpoints e ON e.id = b.endpoint_id
$$;

-- The events a bot's endpoint hears.
CREATE OR REPLACE FUNCTION parley_bot_events() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['conversation.created', 'message.created', 'conversation.closed', 'conversation.queued']
$$;

-- Creates a bot: its endpoint (p_secret sealed by parleyd), its token
-- (p_token_hash: SHA-256 of the token parleyd made), and hands it the
-- new conversations of the sites and teams given. Returns its shape, or
-- NULL when the name is taken by a bot that is not deleted.
CREATE OR REPLACE FUNCTION parley_bot_create(p_name text, p_url text, p_secret bytea, p_timeout integer,
                                             p_token_hash bytea, p_sites bigint[], p_teams bigint[],
                                             p_enabled boolean)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    ep bigint;
    b bots;
BEGIN
    IF EXISTS (SELECT 1 FROM bots x WHERE lower(x.name) = lower(p_name) AND x.deleted_at IS NULL) THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_endpoints (url, description, events, secret)
    VALUES (p_url, 'Bot ' || p_name, parley_bot_events(), p_secret) RETURNING id INTO ep;
    INSERT INTO bots (name, endpoint_id, timeout_seconds) VALUES (p_name, ep, p_timeout) RETURNING * INTO b;
    INSERT INTO api_tokens (name, token_hash, scopes, bot_id)
    VALUES (p_name, p_token_hash, ARRAY['conversations:read', 'conversations:write'], b.id);
    UPDATE sites SET bot_id = b.id WHERE id = ANY (p_sites);
    UPDATE teams SET bot_id = b.id WHERE id = ANY (p_teams);
    IF NOT p_enabled THEN
        PERFORM parley_webhook_update(ep, NULL, NULL, NULL, NULL, false);
    END IF;
    RETURN parley_bot_json(b);
END $$;

-- Changes a bot: NULL arguments leave things as they are; p_sites and
-- p_teams, when given, are the whole new lists. p_enabled switches its
-- endpoint (off: the conversations it handles are handed off by the next
-- sweep). Returns its shape, NULL when there is no such bot, or the text
-- 'taken' (as jsonb) when the new name is another bot's.
CREATE OR REPLACE FUNCTION parley_bot_update(p_id bigint, p_name text, p_url text, p_timeout integer,
                                             p_enabled boolean, p_sites bigint[], p_teams bigint[])
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b bots;
BEGIN
    SELECT * INTO b FROM bots WHERE id = p_id AND deleted_at IS NULL FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF p_name IS NOT NULL AND EXISTS (SELECT 1 FROM bots x WHERE lower(x.name) = lower(p_name)
                                         AND x.deleted_at IS NULL AND x.id <> p_id) THEN
        RETURN to_jsonb('taken'::text);
    END IF;
    UPDATE bots SET name = coalesce(p_name, name), timeout_seconds = coalesce(p_timeout, timeout_seconds)
     WHERE id = p_id RETURNING * INTO b;
    UPDATE api_tokens SET name = b.name WHERE bot_id = b.id AND p_name IS NOT NULL;
    PERFORM parley_webhook_update(b.endpoint_id, p_url, 'Bot ' || b.name, NULL, NULL, p_enabled);
    IF p_sites IS NOT NULL THEN
        UPDATE sites SET bot_id = NULL WHERE bot_id = b.id AND NOT (id = ANY (p_sites));
        UPDATE sites SET bot_id = b.id WHERE id = ANY (p_sites);
    END IF;
    IF p_teams IS NOT NULL THEN
        UPDATE teams SET bot_id = NULL WHERE bot_id = b.id AND NOT (id = ANY (p_teams));
        UPDATE teams SET bot_id = b.id WHERE id = ANY (p_teams);
    END IF;
    RETURN parley_bot_json(b);
END $$;

-- Hands conversation p_conv from its bot to its team's queue, with a
-- summary note (authored by the bot) for the agent who takes it; p_meta,
-- on the notes the server writes by itself, says why in a stable code
-- ({"handoff": "timeout", "seconds": n} | "bot_off" | "bot_removed") so a
-- console words it in its own language. p_by_bot:
-- the bot asking (NULL: an integration or the server), which must be the
-- conversation's. Result: ('ok', team), ('not_found', NULL) or
-- ('invalid_state', NULL) when no bot handles it now.
CREATE OR REPLACE FUNCTION parley_bot_handoff(p_conv bigint, p_summary text, p_by_bot bigint,
                                              p_meta jsonb DEFAULT NULL)
RETURNS TABLE (status text, team_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    c conversations;
BEGIN
    SELECT * INTO c FROM conversations x WHERE x.id = p_conv FOR UPDATE;
    IF NOT FOUND OR (p_by_bot IS NOT NULL AND c.bot_id IS DISTINCT FROM p_by_bot) THEN
        status := 'not_found';
        RETURN NEXT;
        RETURN;
    END IF;
    IF c.status <> 'bot' THEN
        status := 'invalid_state';
        RETURN NEXT;
        RETURN;
    END IF;
    PERFORM 1 FROM post_messages(jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
        'c', c.id, 'ak', 'bot', 'ai', c.bot_id, 'k', 'note',
        'b', coalesce(nullif(p_summary, ''), 'The bot handed this conversation over.'), 'mt', p_meta))));
    UPDATE conversations x SET status = 'queued', queued_at = now(), bot_waiting_since = NULL, updated_at = now()
     WHERE x.id = c.id;
    PERFORM parley_notify_conv(c.id, 'queued');
    status := 'ok';
    team_id := c.team_id;
    RETURN NEXT;
END $$;

-- Hands off, by themselves, up to 100 conversations whose bot left a
-- visitor's message unanswered past its timeout or whose bot's endpoint is
-- off (nobody would answer). SKIP LOCKED: nodes sweep at once without
-- waiting for each other. Returns the teams whose queues grew.
CREATE OR REPLACE FUNCTION parley_bot_timeouts() RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    h record;
BEGIN
    FOR r IN SELECT c.id, b.timeout_seconds, coalesce(e.enabled, false) AS on_air
               FROM conversations c JOIN bots b ON b.id = c.bot_id
               LEFT JOIN webhook_endpoints e ON e.id = b.endpoint_id
              WHERE c.status = 'bot'
                AND (c.bot_waiting_since < now() - make_interval(secs => b.timeout_seconds)
                     OR e.id IS NULL OR NOT e.enabled)
              ORDER BY c.id LIMIT 100
                FOR UPDATE OF c SKIP LOCKED LOOP
        SELECT * INTO h FROM parley_bot_handoff(r.id,
            CASE WHEN r.on_air THEN format('The bot did not answer within %s seconds.', r.timeout_seconds)
                 ELSE 'The bot is switched off.' END, NULL,
            CASE WHEN r.on_air THEN jsonb_build_object('handoff', 'timeout', 'seconds', r.timeout_seconds)
                 ELSE jsonb_build_object('handoff', 'bot_off') END);
        IF h.status = 'ok' AND h.team_id IS NOT NULL THEN
            RETURN NEXT h.team_id;
        END IF;
    END LOOP;
END $$;

-- Deletes a bot: its conversations go to their queues, its token is
-- revoked, its endpoint (and delivery log) deleted, its sites and teams
-- no longer hand anything to it. The row stays (deleted_at), so its
-- messages keep its name. Returns the teams whose queues grew, or NULL
-- (one row) when there is no such bot.
CREATE OR REPLACE FUNCTION parley_bot_delete(p_id bigint) RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
DECLARE
    b bots;
    r record;
    h record;
BEGIN
    SELECT * INTO b FROM bots WHERE id = p_id AND deleted_at IS NULL FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NEXT NULL;
        RETURN;
    END IF;
    FOR r IN SELECT c.id FROM conversations c WHERE c.bot_id = b.id AND c.status = 'bot' ORDER BY c.id LOOP
        SELECT * INTO h FROM parley_bot_handoff(r.id, 'The bot was removed.', NULL,
                                                jsonb_build_object('handoff', 'bot_removed'));
        IF h.status = 'ok' AND h.team_id IS NOT NULL THEN
            RETURN NEXT h.team_id;
        END IF;
    END LOOP;
    UPDATE api_tokens SET revoked_at = now() WHERE bot_id = b.id AND revoked_at IS NULL;
    UPDATE sites SET bot_id = NULL WHERE bot_id = b.id;
    UPDATE teams SET bot_id = NULL WHERE bot_id = b.id;
    UPDATE bots SET deleted_at = now() WHERE id = b.id;
    DELETE FROM webhook_endpoints WHERE id = b.endpoint_id;
END $$;

-- A new API token for bot p_id (p_token_hash: SHA-256 of the token parleyd
-- made); the old one is revoked. False when there is no such bot.
CREATE OR REPLACE FUNCTION parley_bot_new_token(p_id bigint, p_token_hash bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    b bots;
BEGIN
    SELECT * INTO b FROM bots WHERE id = p_id AND deleted_at IS NULL FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE api_tokens SET revoked_at = now() WHERE bot_id = b.id AND revoked_at IS NULL;
    INSERT INTO api_tokens (name, token_hash, scopes, bot_id)
    VALUES (b.name, p_token_hash, ARRAY['conversations:read', 'conversations:write'], b.id);
    RETURN true;
END $$;
