-- Webhooks: the outbox is written by triggers on the tables whose changes
-- are events, so every statement that changes a conversation, a message or
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
    INSERT INTO webhook_deliveries (endpoint_id, event_id, conversation_id)
    SELECT t, ev, p_conv FROM unnest(targets) t;
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

-- message.created: visitor, agent, bot and API messages, and notes (to
-- endpoints that asked for them); not the event lines (assigned, closed...),
-- which are conversation events of their own.
CREATE OR REPLACE FUNCTION parley_hook_message() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF parley_hook_wanted('message.created', NEW.kind = 'note') THEN
        -- A bot hears the messages of the conversation it handles, not its own.
        PERFORM parley_hook_emit('message.created', NEW.conversation_id, parley_message_json(NEW, 'agent'),
                                 NEW.kind = 'note', NULL,
                                 (SELECT c.bot_id FROM conversations c
                                   WHERE c.id = NEW.conversation_id AND c.status = 'bot' AND NEW.author_kind <> 'bot'));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER messages_hook AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.kind <> 'event') EXECUTE FUNCTION parley_hook_message();

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

-- Takes up to p_limit deliveries that are due for node p_node: pending,
-- their endpoint enabled, not leased (or the lease ran out, or the node
-- that holds it stopped beating: parley_node_timeout, like a dead node's
-- sockets), and the first pending one of their endpoint and
-- conversation (one conversation's events reach an endpoint in order: a
-- later one waits while an earlier one is retried); a test event goes to a
-- disabled endpoint too (checking a receiver before switching it back
-- on). SKIP LOCKED lets
-- several nodes claim at once without waiting for each other; the lease
-- (p_lease_seconds: more than a delivery can take) keeps the claim after
-- this transaction. The previous secret comes while its grace period runs.
CREATE OR REPLACE FUNCTION parley_hook_claim(p_node text, p_limit integer, p_lease_seconds integer)
RETURNS TABLE (delivery_id bigint, attempt integer, endpoint_id bigint, url text, secret bytea,
               previous_secret bytea, event_uid text, body text)
LANGUAGE sql AS $$
    WITH due AS (
        SELECT d.id FROM webhook_deliveries d
          JOIN webhook_endpoints e ON e.id = d.endpoint_id
          JOIN webhook_events v ON v.id = d.event_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND (e.enabled OR v.type = 'webhook.test')
           AND (d.lease_until IS NULL OR d.lease_until < now()
                OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = d.lease_node
                                  AND n.heartbeat_at > now() - parley_node_timeout()))
           AND (d.conversation_id IS NULL OR NOT EXISTS (
                    SELECT 1 FROM webhook_deliveries p
                     WHERE p.endpoint_id = d.endpoint_id AND p.conversation_id = d.conversation_id
                       AND p.status = 'pending' AND p.id < d.id))
         ORDER BY d.next_attempt_at, d.id
         LIMIT p_limit
           FOR UPDATE OF d SKIP LOCKED),
    taken AS (
        UPDATE webhook_deliveries d
           SET lease_node = p_node, lease_until = now() + make_interval(secs => p_lease_seconds),
               attempts = d.attempts + 1
          FROM due WHERE d.id = due.id
        RETURNING d.*)
    SELECT t.id, t.attempts, e.id, e.url, e.secret,
           CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END, ev.uid, ev.body
      FROM taken t JOIN webhook_endpoints e ON e.id = t.endpoint_id JOIN webhook_events ev ON ev.id = t.event_id
     ORDER BY t.id
$$;

-- Milliseconds until the next delivery may become due (bounded by the
-- caller's wait), or NULL when nothing is pending.
CREATE OR REPLACE FUNCTION parley_hook_next_due_ms() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT greatest(0, (extract(epoch FROM min(greatest(d.next_attempt_at, coalesce(d.lease_until, d.next_attempt_at)))
                                           - now()) * 1000)::bigint)
      FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
     WHERE d.status = 'pending' AND (e.enabled OR d.conversation_id IS NULL)
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
           lease_node = NULL, lease_until = NULL, last_status = p_status, last_error = p_error
     WHERE x.id = p_delivery AND x.lease_node = p_node AND x.status = 'pending'
    RETURNING x.* INTO d;
    IF NOT FOUND THEN
        RETURN NULL;
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

-- Gives back the leases node p_node holds (it is stopping): those
-- deliveries are due again at once, for whichever node comes first.
CREATE OR REPLACE FUNCTION parley_hook_release(p_node text) RETURNS integer
LANGUAGE sql AS $$
    WITH r AS (UPDATE webhook_deliveries SET lease_node = NULL, lease_until = NULL, attempts = attempts - 1
                WHERE lease_node = p_node AND status = 'pending' RETURNING 1)
    SELECT count(*)::integer FROM r
$$;

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
        INSERT INTO webhook_deliveries (endpoint_id, event_id, conversation_id)
        SELECT d.endpoint_id, d.event_id, d.conversation_id FROM webhook_deliveries d
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
