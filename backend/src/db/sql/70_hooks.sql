-- Webhooks: the outbox is written by triggers on the tables whose changes
-- are events (messages: by post_messages, their one writer, which asks once
-- per batch), so every statement that changes a conversation, a message or
-- a visitor (today's and tomorrow's, the REST API's and a manual UPDATE's)
-- writes its event in its own transaction: a committed change always has
-- its event, a rolled-back one never. AFTER ROW triggers run once the
-- statement is complete, so the shapes they render are the final rows.
-- The delivery worker (backend/src/hooks/sender.c, through
-- chat/webhooks.c) claims, records and sweeps with the functions below.

-- Whether some enabled endpoint wants events of this type (notes: only
-- endpoints that asked for internal notes). The common case, no endpoint,
-- costs one index-less scan of a table of a few rows.
CREATE OR REPLACE FUNCTION parley_hook_wanted(p_type text, p_note boolean) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM webhook_endpoints e
                    WHERE e.enabled AND p_type = ANY (e.events) AND (NOT p_note OR e.include_notes))
$$;

-- Writes event p_type about conversation p_conv (NULL: none) with data
-- p_data into the outbox, and one delivery per endpoint that wants it;
-- wakes the workers (NOTIFY parley_hooks; PostgreSQL sends one per
-- transaction however many events it wrote). Returns the event's row id,
-- or NULL when no endpoint wanted it (nothing is written).
-- A bot's endpoint wants only the events of the conversation it handles:
-- p_bot is that bot (NULL: none), never for internal notes.
-- p_only: just this endpoint (a test event), whatever it subscribed to.
CREATE OR REPLACE FUNCTION parley_hook_emit(p_type text, p_conv bigint, p_data jsonb, p_note boolean DEFAULT false,
                                            p_only bigint DEFAULT NULL, p_bot bigint DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    ev bigint;
    targets bigint[];
BEGIN
    SELECT array_agg(e.id) INTO targets
      FROM webhook_endpoints e LEFT JOIN bots b ON b.endpoint_id = e.id
     WHERE CASE WHEN p_only IS NOT NULL THEN e.id = p_only
                ELSE e.enabled AND p_type = ANY (e.events) AND (NOT p_note OR e.include_notes)
                     AND (b.id IS NULL OR (b.id = p_bot AND NOT p_note)) END;
    IF targets IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_events (uid, type, conversation_id, body)
    VALUES ('evt_' || replace(gen_random_uuid()::text, '-', ''), p_type, p_conv,
            format('{"type":%s,"timestamp":%s,"data":%s}', to_json(p_type), to_json(parley_iso(clock_timestamp())),
                   p_data::text))
    RETURNING id INTO ev;
    -- Behind an earlier pending delivery of the same endpoint and
    -- conversation, a delivery waits blocked (the conversation's row lock,
    -- which every writer of its events holds, keeps this check exact; a
    -- delivery ending at this moment may miss it, parley_hook_maintain
    -- mends that).
    INSERT INTO webhook_deliveries (endpoint_id, event_id, conversation_id, blocked)
    SELECT t, ev, p_conv,
           p_conv IS NOT NULL AND EXISTS (SELECT 1 FROM webhook_deliveries p
                                           WHERE p.endpoint_id = t AND p.conversation_id = p_conv
                                             AND p.status = 'pending')
      FROM unnest(targets) t;
    PERFORM pg_notify('parley_hooks', '');
    RETURN ev;
END $$;

-- conversation.created / queued / assigned / transferred / closed /
-- reopened / rated, from what changed in the row.
CREATE OR REPLACE FUNCTION parley_hook_conversation() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    types text[] := '{}';
    t text;
    data jsonb;
    v_bot bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        types := ARRAY['conversation.created'];
        IF NEW.status = 'queued' THEN
            types := types || 'conversation.queued'::text;
        END IF;
    ELSE
        IF OLD.status = 'closed' AND NEW.status <> 'closed' THEN
            types := types || 'conversation.reopened'::text;
        ELSIF NEW.status = 'closed' AND OLD.status <> 'closed' THEN
            types := types || 'conversation.closed'::text;
        ELSIF NEW.team_id IS DISTINCT FROM OLD.team_id
              OR (NEW.status = 'assigned' AND OLD.status = 'assigned' AND NEW.assignee_id <> OLD.assignee_id) THEN
            types := types || 'conversation.transferred'::text;
        ELSIF NEW.status = 'assigned' AND OLD.status <> 'assigned' THEN
            types := types || 'conversation.assigned'::text;
        ELSIF NEW.status = 'queued' AND OLD.status <> 'queued' THEN
            types := types || 'conversation.queued'::text;
        END IF;
        IF NEW.rating IS DISTINCT FROM OLD.rating OR NEW.rating_comment IS DISTINCT FROM OLD.rating_comment THEN
            types := types || 'conversation.rated'::text;
        END IF;
    END IF;
    -- The moment a human takes a conversation from its bot (handoff, an
    -- assignment, a close), the bot's undelivered events of it are dropped.
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status = 'bot' AND NEW.status <> 'bot' THEN
            UPDATE webhook_deliveries d SET status = 'cancelled', finished_at = now()
              FROM bots b
             WHERE b.id = OLD.bot_id AND d.endpoint_id = b.endpoint_id AND d.conversation_id = NEW.id
               AND d.status = 'pending' AND d.lease_node IS NULL;
        END IF;
    END IF;
    -- The bot hears of the conversation it handles, and of the change
    -- that ends its part (handoff, assignment, close).
    IF NEW.status = 'bot' THEN
        v_bot := NEW.bot_id;
    ELSIF TG_OP = 'UPDATE' THEN
        IF OLD.status = 'bot' THEN
            v_bot := NEW.bot_id;
        END IF;
    END IF;
    FOREACH t IN ARRAY types LOOP
        IF parley_hook_wanted(t, false) THEN
            data := coalesce(data, parley_conversation_json(NEW, 'agent'));
            PERFORM parley_hook_emit(t, NEW.id, data, false, NULL, v_bot);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER conversations_hook_insert AFTER INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION parley_hook_conversation();
-- Most updates of a conversation are a message's seq or a read marker:
-- those do not even enter the function.
CREATE OR REPLACE TRIGGER conversations_hook_update AFTER UPDATE ON conversations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.team_id IS DISTINCT FROM NEW.team_id
                       OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id OR OLD.rating IS DISTINCT FROM NEW.rating
                       OR OLD.rating_comment IS DISTINCT FROM NEW.rating_comment)
    EXECUTE FUNCTION parley_hook_conversation();

-- message.created is written by post_messages (db/sql/40_messages.sql),
-- the one way a message is stored, with the webhooks question asked once
-- per batch rather than by a trigger once per row (the message path's cost;
-- docs/performance.md).
-- visitor.updated: what the visitor panel shows changed (not last_seen_at).
CREATE OR REPLACE FUNCTION parley_hook_visitor() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF parley_hook_wanted('visitor.updated', false) THEN
        PERFORM parley_hook_emit('visitor.updated', NULL, parley_visitor_json(NEW));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER visitors_hook AFTER UPDATE ON visitors
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email
                       OR OLD.attributes IS DISTINCT FROM NEW.attributes OR OLD.verified IS DISTINCT FROM NEW.verified
                       OR OLD.external_id IS DISTINCT FROM NEW.external_id)
    EXECUTE FUNCTION parley_hook_visitor();

-- The wire shape of an endpoint (console and REST API), with the counts
-- its page shows. Never the secret.
CREATE OR REPLACE FUNCTION parley_webhook_json(e webhook_endpoints) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', e.id, 'url', e.url, 'description', e.description, 'events', to_jsonb(e.events),
        'bot_id', (SELECT b.id FROM bots b WHERE b.endpoint_id = e.id),
        'include_notes', e.include_notes, 'enabled', e.enabled, 'disabled_reason', e.disabled_reason,
        'disabled_at', parley_iso(e.disabled_at), 'failing_since', parley_iso(e.failing_since),
        'secret_rotated_at', parley_iso(e.secret_rotated_at),
        'previous_secret_expires_at', CASE WHEN e.previous_secret_expires_at > now()
                                           THEN parley_iso(e.previous_secret_expires_at) END,
        'created_at', parley_iso(e.created_at),
        'stats', (SELECT jsonb_build_object(
                      'pending', count(*) FILTER (WHERE d.status = 'pending'),
                      'delivered_24h', count(*) FILTER (WHERE d.status = 'delivered'
                                                          AND d.finished_at > now() - interval '1 day'),
                      'failed_24h', count(*) FILTER (WHERE d.status = 'failed'
                                                       AND d.finished_at > now() - interval '1 day'),
                      'last_status', (SELECT a.response_status FROM webhook_attempts a
                                        JOIN webhook_deliveries x ON x.id = a.delivery_id
                                       WHERE x.endpoint_id = e.id ORDER BY a.id DESC LIMIT 1),
                      'last_attempt_at', (SELECT parley_iso(a.started_at) FROM webhook_attempts a
                                            JOIN webhook_deliveries x ON x.id = a.delivery_id
                                           WHERE x.endpoint_id = e.id ORDER BY a.id DESC LIMIT 1))
                    FROM webhook_deliveries d WHERE d.endpoint_id = e.id
                     AND (d.status = 'pending' OR d.finished_at > now() - interval '1 day')))
$$;

-- Changes endpoint p_id (NULL arguments leave a member as it is; p_events
-- a JSON array of types). Switching it off records why ('admin') and when;
-- switching it on clears that and the failing period. The row after, or
-- NULL when there is no such endpoint. (Webhook PATCH and bot PATCH.)
CREATE OR REPLACE FUNCTION parley_webhook_update(p_id bigint, p_url text, p_description text, p_events jsonb,
                                                 p_include_notes boolean, p_enabled boolean)
RETURNS webhook_endpoints
LANGUAGE sql AS $$
    UPDATE webhook_endpoints e SET url = coalesce(p_url, e.url), description = coalesce(p_description, e.description),
           events = CASE WHEN p_events IS NULL THEN e.events
                         ELSE ARRAY(SELECT jsonb_array_elements_text(p_events)) END,
           include_notes = coalesce(p_include_notes, e.include_notes),
           enabled = coalesce(p_enabled, e.enabled),
           disabled_reason = CASE WHEN p_enabled THEN NULL WHEN NOT p_enabled AND e.enabled THEN 'admin'
                                  ELSE e.disabled_reason END,
           disabled_at = CASE WHEN p_enabled THEN NULL WHEN NOT p_enabled AND e.enabled THEN now()
                              ELSE e.disabled_at END,
           failing_since = CASE WHEN p_enabled THEN NULL ELSE e.failing_since END,
           updated_at = now()
     WHERE e.id = p_id
    RETURNING e.*
$$;

-- The wire shape of a delivery (the log).
CREATE OR REPLACE FUNCTION parley_webhook_delivery_json(d webhook_deliveries) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', d.id, 'endpoint_id', d.endpoint_id, 'event_id', ev.uid, 'type', ev.type,
        'conversation_id', d.conversation_id, 'status', d.status, 'attempts', d.attempts,
        'next_attempt_at', CASE WHEN d.status = 'pending' THEN parley_iso(d.next_attempt_at) END,
        'created_at', parley_iso(d.created_at),
        'delivered_at', CASE WHEN d.status = 'delivered' THEN parley_iso(d.finished_at) END,
        'last_status', d.last_status, 'last_error', d.last_error)
    FROM webhook_events ev WHERE ev.id = d.event_id
$$;

-- Takes up to p_limit deliveries that are due for node p_node: the head
-- of the due index (pending, not blocked, time come), in time order. SKIP
-- LOCKED lets several nodes claim at once without waiting for each other.
-- The claim is a lease: lease_node, and next_attempt_at moved
-- p_lease_seconds (more than an attempt can take) ahead, so the delivery
-- leaves the head of the index while it is in flight and comes due again
-- by itself if the node never records it. A test event goes to a disabled
-- endpoint too; other deliveries of a disabled endpoint are blocked. The
-- previous secret comes while its grace period runs.
CREATE OR REPLACE FUNCTION parley_hook_claim(p_node text, p_limit integer, p_lease_seconds integer)
RETURNS TABLE (delivery_id bigint, attempt integer, endpoint_id bigint, url text, secret bytea,
               previous_secret bytea, event_uid text, body text)
LANGUAGE sql AS $$
    WITH due AS (
        SELECT d.id FROM webhook_deliveries d
         WHERE d.status = 'pending' AND NOT d.blocked AND d.next_attempt_at <= now()
         ORDER BY d.next_attempt_at, d.id
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED),
    taken AS (
        UPDATE webhook_deliveries d
           SET lease_node = p_node, next_attempt_at = now() + make_interval(secs => p_lease_seconds),
               attempts = d.attempts + 1
          FROM due WHERE d.id = due.id
        RETURNING d.*)
    SELECT t.id, t.attempts, e.id, e.url, e.secret,
           CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END, ev.uid, ev.body
      FROM taken t JOIN webhook_endpoints e ON e.id = t.endpoint_id JOIN webhook_events ev ON ev.id = t.event_id
     ORDER BY t.id
$$;

-- Milliseconds until the next delivery comes due (0: one is due now), or
-- NULL when none waits: the first entry of the due index.
CREATE OR REPLACE FUNCTION parley_hook_next_due_ms() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT greatest(0, (extract(epoch FROM d.next_attempt_at - now()) * 1000)::bigint)
      FROM webhook_deliveries d
     WHERE d.status = 'pending' AND NOT d.blocked
     ORDER BY d.next_attempt_at, d.id LIMIT 1
$$;

-- Records attempt p_attempt of delivery p_delivery by node p_node and what
-- follows from it. p_outcome: 'delivered' (2xx), 'retry' (try again in
-- p_delay_seconds), 'failed' (no attempts left), 'gone' (410: the endpoint
-- is disabled at once). A failure starts or continues the endpoint's
-- failing period; one that has lasted p_disable_after seconds disables the
-- endpoint ('failing'); a success ends it. The delivery changes only while
-- the node still holds its lease (another node may have taken over).
-- Returns the endpoint's disabled_reason when this call disabled it.
CREATE OR REPLACE FUNCTION parley_hook_record(p_delivery bigint, p_node text, p_attempt integer,
                                              p_started timestamptz, p_latency_ms integer, p_status integer,
                                              p_error text, p_excerpt text, p_headers jsonb, p_outcome text,
                                              p_delay_seconds double precision, p_disable_after integer)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    d webhook_deliveries;
    off text;
BEGIN
    INSERT INTO webhook_attempts (delivery_id, attempt, node_id, started_at, latency_ms, response_status,
                                  response_excerpt, error, request_headers)
    VALUES (p_delivery, p_attempt, p_node, p_started, p_latency_ms, p_status, p_excerpt, p_error, p_headers);
    UPDATE webhook_deliveries x
       SET status = CASE p_outcome WHEN 'delivered' THEN 'delivered' WHEN 'retry' THEN 'pending' ELSE 'failed' END,
           next_attempt_at = CASE WHEN p_outcome = 'retry'
                                  THEN now() + make_interval(secs => p_delay_seconds) ELSE x.next_attempt_at END,
           finished_at = CASE WHEN p_outcome = 'retry' THEN NULL ELSE now() END,
           lease_node = NULL, last_status = p_status, last_error = p_error
     WHERE x.id = p_delivery AND x.lease_node = p_node AND x.status = 'pending'
    RETURNING x.* INTO d;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF d.status <> 'pending' THEN
        PERFORM parley_hook_unblock_next(d.endpoint_id, d.conversation_id);
    END IF;
    IF p_outcome = 'delivered' THEN
        UPDATE webhook_endpoints SET failing_since = NULL WHERE id = d.endpoint_id AND failing_since IS NOT NULL;
    ELSIF p_outcome = 'gone' THEN
        UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'gone', disabled_at = now(),
               updated_at = now()
         WHERE id = d.endpoint_id AND enabled RETURNING disabled_reason INTO off;
    ELSE
        UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now())
         WHERE id = d.endpoint_id;
        UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing', disabled_at = now(),
               updated_at = now()
         WHERE id = d.endpoint_id AND enabled AND failing_since <= now() - make_interval(secs => p_disable_after)
        RETURNING disabled_reason INTO off;
    END IF;
    RETURN off;
END $$;

-- parley_hook_record for each result of p_results, a JSON array of
-- {"d": delivery, "a": attempt, "s": start (Unix seconds), "l": latency ms,
--  "st": status, "e": error, "x": excerpt, "h": headers, "o": outcome,
--  "w": delay seconds}: one round trip for all the attempts that ended
-- together. Returns the endpoints disabled, as "<id>:<reason>".
CREATE OR REPLACE FUNCTION parley_hook_record_all(p_node text, p_results jsonb, p_disable_after integer)
RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    off text;
BEGIN
    FOR r IN SELECT * FROM jsonb_to_recordset(p_results)
                 AS x(d bigint, a integer, s double precision, l integer, st integer, e text, x text, h jsonb,
                      o text, w double precision) LOOP
        off := parley_hook_record(r.d, p_node, r.a, to_timestamp(r.s), r.l, r.st, r.e, r.x, r.h, r.o, r.w,
                                  p_disable_after);
        IF off IS NOT NULL THEN
            RETURN NEXT (SELECT d.endpoint_id FROM webhook_deliveries d WHERE d.id = r.d) || ':' || off;
        END IF;
    END LOOP;
END $$;

-- Gives back the leases node p_node holds (it is stopping): those
-- deliveries are due again at once, for whichever node comes first.
CREATE OR REPLACE FUNCTION parley_hook_release(p_node text) RETURNS integer
LANGUAGE sql AS $$
    WITH r AS (UPDATE webhook_deliveries SET lease_node = NULL, next_attempt_at = now(), attempts = attempts - 1
                WHERE lease_node = p_node AND status = 'pending' RETURNING 1)
    SELECT count(*)::integer FROM r
$$;

-- The next pending delivery of an endpoint and a conversation, blocked
-- behind the one that just ended, may go now.
CREATE OR REPLACE FUNCTION parley_hook_unblock_next(p_endpoint bigint, p_conv bigint) RETURNS void
LANGUAGE sql AS $$
    UPDATE webhook_deliveries SET blocked = false
     WHERE id = (SELECT d.id FROM webhook_deliveries d
                  WHERE d.endpoint_id = p_endpoint AND d.conversation_id = p_conv AND d.status = 'pending'
                  ORDER BY d.id LIMIT 1)
       AND blocked AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = p_endpoint AND e.enabled)
$$;

-- Unblocks the first pending delivery of each conversation of endpoint
-- p_endpoint (NULL: of every endpoint), if the endpoint is enabled: what
-- may go now. Returns how many.
CREATE OR REPLACE FUNCTION parley_hook_unblock_heads(p_endpoint bigint) RETURNS integer
LANGUAGE sql AS $$
    WITH u AS (
        UPDATE webhook_deliveries d SET blocked = false
         WHERE d.status = 'pending' AND d.blocked AND (p_endpoint IS NULL OR d.endpoint_id = p_endpoint)
           AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.enabled)
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                            WHERE p.endpoint_id = d.endpoint_id AND p.conversation_id = d.conversation_id
                              AND p.status = 'pending' AND p.id < d.id)
        RETURNING 1)
    SELECT count(*)::integer FROM u
$$;

-- Every node, every few seconds: deliveries leased by a node that stopped
-- heartbeating (killed) come due now, not at their lease's end; and a
-- conversation's first pending delivery left blocked (it was written while
-- the one before it was ending) is unblocked. Returns how many it moved.
CREATE OR REPLACE FUNCTION parley_hook_maintain() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    a integer;
BEGIN
    UPDATE webhook_deliveries d SET lease_node = NULL, next_attempt_at = now()
     WHERE d.lease_node IS NOT NULL AND d.status = 'pending'
       AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = d.lease_node
                          AND n.heartbeat_at > now() - parley_node_timeout());
    GET DIAGNOSTICS a = ROW_COUNT;
    RETURN a + parley_hook_unblock_heads(NULL);
END $$;

-- An endpoint switched off (by an admin, a 410, a failing period) keeps its
-- pending deliveries, blocked, so that the due index holds only what may go;
-- switched on again, each conversation's first one is unblocked.
CREATE OR REPLACE FUNCTION parley_hook_endpoint_switched() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT NEW.enabled THEN
        UPDATE webhook_deliveries d SET blocked = true
         WHERE d.endpoint_id = NEW.id AND d.status = 'pending' AND NOT d.blocked AND d.lease_node IS NULL
           AND NOT EXISTS (SELECT 1 FROM webhook_events v WHERE v.id = d.event_id AND v.type = 'webhook.test');
    ELSE
        PERFORM parley_hook_unblock_heads(NEW.id);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER webhook_endpoints_switched AFTER UPDATE OF enabled ON webhook_endpoints
    FOR EACH ROW WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled)
    EXECUTE FUNCTION parley_hook_endpoint_switched();

-- A webhook.test event for endpoint p_endpoint alone (enabled or not: an
-- admin checks a receiver before switching it on): its delivery's shape.
CREATE OR REPLACE FUNCTION parley_hook_test(p_endpoint bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    ev bigint;
    d webhook_deliveries;
BEGIN
    ev := parley_hook_emit('webhook.test', NULL,
                           jsonb_build_object('endpoint_id', p_endpoint, 'message', 'test event from Parley'),
                           false, p_endpoint);
    SELECT * INTO d FROM webhook_deliveries WHERE event_id = ev;
    RETURN parley_webhook_delivery_json(d);
END $$;

-- A new delivery of delivery p_delivery's event to its endpoint (the
-- event's id stays: receivers dedupe on it). NULL when p_delivery is not
-- the endpoint's.
CREATE OR REPLACE FUNCTION parley_hook_redeliver(p_endpoint bigint, p_delivery bigint) RETURNS jsonb
LANGUAGE sql AS $$
    WITH n AS (
        INSERT INTO webhook_deliveries (endpoint_id, event_id, conversation_id, blocked)
        SELECT d.endpoint_id, d.event_id, d.conversation_id,
               NOT e.enabled OR (d.conversation_id IS NOT NULL AND EXISTS (
                   SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id
                      AND p.conversation_id = d.conversation_id AND p.status = 'pending'))
          FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
         WHERE d.id = p_delivery AND d.endpoint_id = p_endpoint
        RETURNING *),
    w AS (SELECT pg_notify('parley_hooks', '') FROM n)
    SELECT parley_webhook_delivery_json(n) FROM n, (SELECT count(*) FROM w) x
$$;

-- Deletes events older than p_days that wait for no delivery, and with
-- them (ON DELETE CASCADE) their deliveries and attempts: the log keeps
-- p_days. Returns how many events went.
CREATE OR REPLACE FUNCTION parley_hook_sweep(p_days integer) RETURNS integer
LANGUAGE sql AS $$
    WITH ev AS (DELETE FROM webhook_events ev
                 WHERE ev.created_at < now() - make_interval(days => p_days)
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                                    WHERE d.event_id = ev.id AND d.status = 'pending')
                RETURNING 1)
    SELECT count(*)::integer FROM ev
$$;
