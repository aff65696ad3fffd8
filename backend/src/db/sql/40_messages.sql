-- post_messages: the one way a message is written.

-- post_messages: appends a batch of messages in one statement.
--
-- p_items is a JSON array of {"c": conversation id, "ak": author kind
-- (visitor|agent|system|api|bot), "ai": author id, "p": privileged agent,
-- "pc": "p" is a socket's claim, to be narrowed by parley_agent_privileged
-- (callers that checked permissions in their own transaction omit it),
-- "k": kind (message|note|event), "b": body, "cm": client_msg_id, "mt": meta,
-- "f": ids of files to attach, "w": a whisper (a supervisor's or admin's
-- note to the agents: meta whisper, kind note)}.
-- Each element is checked (the conversation exists, the author may write to
-- it, it is not closed), deduplicated on client_msg_id per author (a key
-- someone else used in the conversation is refused, 'key_taken', showing
-- nothing of that message: it could be a note), then given the
-- conversation's next seq under the conversation's row lock, so seq is
-- gap-free and ordered by commit. Elements are processed in the order given;
-- callers sort by conversation to keep the lock order stable.
-- Files to attach must be the author's own uploads into this
-- conversation, ready and not yet sent ('file_invalid' otherwise); the
-- message keeps a copy of their shapes (attachments) and each file its
-- message, so that whoever may read the message may download them.
-- Result per element: status ok | duplicate | key_taken | not_found |
-- forbidden | closed | file_invalid, and the message as its author sees it.
--
-- NOTIFY (channel parley) carries the messages themselves, as text that a
-- node forwards without parsing JSON: a payload is "M\n" and a line per
-- message, "c v t a q p<TAB>agent frame<TAB>visitor frame\n" (routing:
-- conversation, visitor, team, assignee -- 0 for none --, 1 when it waits
-- in the queue, the participants comma-separated or "-"; then the complete
-- message.created frames, the visitor's empty for a note and "=" when it
-- is the agents' frame, as for a visitor's own message). Lines are packed
-- under PostgreSQL's 8000-byte payload limit; a line over 3800 bytes
-- travels as "R c seq\n", a reference to be loaded (chat/messages).
--
-- Webhooks: each message (not event lines) is written to the outbox here,
-- in the same transaction (message.created, db/sql/70_hooks.sql).
--
-- Set-based (docs/performance.md): a few statements for the whole batch,
-- whatever its size, and each message rendered once (the visitor's view is
-- the agents' minus what only agents see). The semantics are those of
-- storing the elements one after the other: the checks see the database,
-- and within the batch a client_msg_id taken by an earlier element counts
-- as taken; a file named by two elements of one batch is refused to the
-- later one (even when the earlier one is refused for another reason).
-- Files cost statements of their own, only in a batch that has some.
DROP FUNCTION IF EXISTS post_messages(jsonb);
CREATE FUNCTION post_messages(p_items jsonb)
RETURNS TABLE (idx integer, status text, message text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    -- Webhooks: whether any endpoint wants messages (or notes), asked once
    -- per batch.
    hook_msgs boolean;
    hook_notes boolean;
    has_files boolean := jsonb_path_exists(p_items, '$[*].f[*]');
    -- {"<idx>": [file shapes]} for the elements whose files may be
    -- attached, {"<idx>": null} for the others.
    atts jsonb := '{}'::jsonb;
    posted parley_posted[];
    payload text;
    h parley_posted;
    -- now(), the time of every message of the batch, as the wire shows it.
    created_iso text := parley_iso(now());
BEGIN
    -- 1. The conversations' row locks in id order (one order on every
    --    node), then the files'. In a statement of their own: the next
    --    statement's snapshot, taken once they are held, sees every message
    --    and attachment committed by whoever held them before.
    --    Each looked up by its key, in that order (as `c.id IN (...)` the
    --    planner, guessing a hundred elements, scanned and hashed the whole
    --    table while it was small).
    PERFORM 1
       FROM (SELECT DISTINCT (e->>'c')::bigint AS id FROM jsonb_array_elements(p_items) e ORDER BY 1) x,
            LATERAL (SELECT 1 FROM conversations c WHERE c.id = x.id LIMIT 1 FOR UPDATE) l;
    IF has_files THEN
        PERFORM 1
           FROM (SELECT DISTINCT x.fid AS id
                   FROM jsonb_array_elements(p_items) e, jsonb_array_elements_text(e->'f') x(fid)
                  WHERE jsonb_typeof(e->'f') = 'array' ORDER BY 1) x,
                LATERAL (SELECT 1 FROM files f WHERE f.id = x.id LIMIT 1 FOR UPDATE) l;
        -- The author's own uploads into this conversation, ready, not yet
        -- sent and not named by an earlier element; their shapes, in the
        -- order given.
        SELECT jsonb_object_agg(x.ord, CASE WHEN x.n = jsonb_array_length(x.f) AND NOT x.reused THEN x.shapes END)
          INTO atts
          FROM (SELECT e.ord, e.v->'f' AS f,
                       (SELECT count(DISTINCT fl.id) FROM files fl
                         WHERE fl.id IN (SELECT jsonb_array_elements_text(e.v->'f'))
                           AND fl.conversation_id = (e.v->>'c')::bigint AND fl.state = 'ready'
                           AND fl.message_id IS NULL AND fl.uploader_kind = e.v->>'ak'
                           AND fl.uploader_id = (e.v->>'ai')::bigint) AS n,
                       EXISTS (SELECT 1 FROM jsonb_array_elements(p_items) WITH ORDINALITY AS o(v, ord)
                                WHERE o.ord < e.ord AND jsonb_typeof(o.v->'f') = 'array'
                                  AND o.v->'f' ?| ARRAY(SELECT jsonb_array_elements_text(e.v->'f'))) AS reused,
                       (SELECT jsonb_agg(parley_file_json(fl) ORDER BY x.ord)
                          FROM jsonb_array_elements_text(e.v->'f') WITH ORDINALITY AS x(fid, ord)
                          JOIN files fl ON fl.id = x.fid) AS shapes
                  FROM jsonb_array_elements(p_items) WITH ORDINALITY AS e(v, ord)
                 WHERE jsonb_typeof(e.v->'f') = 'array' AND jsonb_array_length(e.v->'f') > 0) x;
    END IF;
    SELECT coalesce(bool_or(true), false), coalesce(bool_or(e.include_notes), false) INTO hook_msgs, hook_notes
      FROM webhook_endpoints e WHERE e.enabled AND 'message.created' = ANY (e.events);

    -- 2. Every element checked; the accepted ones numbered, stored and
    --    rendered; the conversations moved on: one statement.
    WITH chk AS (
        -- Looked up element by element through the indexes (LIMIT 1 keeps
        -- each lateral a lookup: the planner, guessing a hundred elements,
        -- would otherwise scan whole tables to hash them).
        SELECT x.ord::integer AS idx, x.c, x.ak, x.ai, coalesce(x.k, 'message') AS k, x.b, x.cm,
               coalesce(x.mt, '{}'::jsonb) AS mt, coalesce(x.w, false) AS w,
               jsonb_typeof(x.f) = 'array' AND jsonb_array_length(x.f) > 0 AS has_f,
               cv.id IS NOT NULL AS found, cv.visitor_id, cv.team_id, cv.assignee_id, cv.status AS cstatus,
               cv.bot_id, cv.participant_ids, cv.last_seq,
               -- A socket's claim is narrowed by the agent's current role.
               CASE WHEN x.p AND x.pc THEN x.ak = 'agent' AND parley_agent_privileged(x.ai)
                    ELSE coalesce(x.p, false) END AS priv,
               dd.dup
          FROM ROWS FROM (jsonb_to_recordset(p_items) AS (c bigint, ak text, ai bigint, p boolean, pc boolean,
                                                          k text, b text, cm text, mt jsonb, f jsonb, w boolean))
               WITH ORDINALITY AS x(c, ak, ai, p, pc, k, b, cm, mt, f, w, ord)
          LEFT JOIN LATERAL (SELECT c.id, c.visitor_id, c.team_id, c.assignee_id, c.status, c.bot_id, c.participant_ids,
                                    c.last_seq
                               FROM conversations c WHERE c.id = x.c LIMIT 1) cv ON true
          LEFT JOIN LATERAL (SELECT d AS dup FROM messages d
                              WHERE x.cm IS NOT NULL AND d.conversation_id = x.c AND d.client_msg_id = x.cm
                              LIMIT 1) dd ON true
    ), st AS (
        SELECT chk.*, CASE
            WHEN NOT chk.found OR (chk.ak = 'visitor' AND chk.visitor_id <> chk.ai) THEN 'not_found'
            -- The same author resending: the original, not a second copy.
            -- Someone else's message under that key: refused, and nothing
            -- of it is shown (it could be an internal note).
            WHEN (chk.dup).id IS NOT NULL AND (chk.dup).author_kind = chk.ak
                 AND (chk.dup).author_id IS NOT DISTINCT FROM chk.ai THEN 'duplicate'
            WHEN (chk.dup).id IS NOT NULL THEN 'key_taken'
            -- The assignee and the participants write to the visitor; their
            -- team may add notes; supervisors and admins anything, and only
            -- they whisper.
            WHEN chk.ak = 'agent' AND NOT chk.priv AND chk.assignee_id IS DISTINCT FROM chk.ai
                 AND NOT chk.ai = ANY (chk.participant_ids)
                 AND (chk.k = 'message'
                      OR NOT EXISTS (SELECT 1 FROM team_members tm
                                      WHERE tm.team_id = chk.team_id AND tm.agent_id = chk.ai)) THEN 'forbidden'
            WHEN chk.w AND (NOT chk.priv OR chk.k <> 'note') THEN 'forbidden'
            -- A bot writes only while the conversation is its own; while it
            -- is, agents write only notes (a person takes over by the handoff).
            WHEN (chk.ak = 'bot' AND (chk.cstatus <> 'bot' OR chk.bot_id IS DISTINCT FROM chk.ai))
                 OR (chk.ak = 'agent' AND chk.cstatus = 'bot' AND chk.k = 'message') THEN 'forbidden'
            WHEN chk.cstatus = 'closed' AND chk.k <> 'event' THEN 'closed'
            WHEN chk.has_f AND jsonb_typeof(atts->(chk.idx::text)) IS DISTINCT FROM 'array' THEN 'file_invalid'
            ELSE 'ok' END AS status0
          FROM chk
    ), res AS (
        -- A client_msg_id an earlier accepted element of the batch uses.
        SELECT st.*, first_value(st.idx) OVER w AS first_idx, first_value(st.ak) OVER w AS first_ak,
               first_value(st.ai) OVER w AS first_ai
          FROM st
        WINDOW w AS (PARTITION BY st.c, st.cm, st.status0 = 'ok' ORDER BY st.idx)
    ), ok AS (
        -- The id is taken here, so that each message is rendered from its
        -- element (a join of the inserted rows back to the elements would
        -- cost the square of the batch).
        SELECT r.*, r.last_seq + row_number() OVER (PARTITION BY r.c ORDER BY r.idx) AS seq,
               nextval('messages_id_seq') AS id,
               -- A person's answer (an agent's or an integration's; not a
               -- bot's, not an automatic message) ends the visitor's wait.
               r.k = 'message' AND r.ak IN ('agent', 'api') AS answer,
               r.k = 'message' AND r.ak = 'visitor' AS vmsg,
               CASE WHEN r.w THEN r.mt || '{"whisper": true}'::jsonb ELSE r.mt END AS meta,
               -- The message keeps a copy of its files' shapes (and each
               -- file its message, step 3), so that whoever may read the
               -- message may download them.
               CASE WHEN r.has_f THEN atts->(r.idx::text) END AS attachments
          FROM res r WHERE r.status0 = 'ok' AND (r.cm IS NULL OR r.first_idx = r.idx)
    ), agg AS (
        SELECT ok.c, count(*) AS n, max(ok.idx) FILTER (WHERE ok.answer) AS last_answer,
               max(ok.idx) FILTER (WHERE ok.vmsg) AS last_vmsg, max(ok.idx) FILTER (WHERE ok.ak = 'bot') AS last_bot
          FROM ok GROUP BY ok.c
    ), upd AS (
        -- What the SLA clocks, the escalation rules and the bots' timeouts
        -- read, as if the messages had come one after the other: an answer
        -- ends the visitor's wait, a visitor's message starts one (or
        -- keeps it); while a bot handles it, a visitor's message waits for
        -- the bot's answer.
        UPDATE conversations cv SET last_seq = cv.last_seq + agg.n, updated_at = now(),
               awaiting_since = CASE WHEN agg.last_vmsg IS NULL THEN
                                         CASE WHEN agg.last_answer IS NULL THEN cv.awaiting_since END
                                     WHEN agg.last_answer IS NULL THEN coalesce(cv.awaiting_since, now())
                                     WHEN agg.last_answer < agg.last_vmsg THEN now() END,
               first_response_at = CASE WHEN agg.last_answer IS NOT NULL THEN coalesce(cv.first_response_at, now())
                                        ELSE cv.first_response_at END,
               last_reply_at = CASE WHEN agg.last_answer IS NOT NULL THEN now() ELSE cv.last_reply_at END,
               last_visitor_at = CASE WHEN agg.last_vmsg IS NOT NULL THEN now() ELSE cv.last_visitor_at END,
               sla_next_due_at = CASE WHEN agg.last_answer IS NOT NULL THEN NULL ELSE cv.sla_next_due_at END,
               bot_waiting_since = CASE WHEN cv.status <> 'bot' THEN NULL
                                        WHEN agg.last_vmsg IS NULL AND agg.last_bot IS NULL THEN cv.bot_waiting_since
                                        WHEN agg.last_vmsg > coalesce(agg.last_bot, 0) THEN
                                            CASE WHEN agg.last_bot IS NULL THEN coalesce(cv.bot_waiting_since, now())
                                                 ELSE now() END END
          FROM agg WHERE cv.id = agg.c
        RETURNING cv.id
    ), ins AS (
        INSERT INTO messages (id, conversation_id, seq, author_kind, author_id, kind, body, meta, client_msg_id,
                              created_at, attachments)
        OVERRIDING SYSTEM VALUE
        SELECT ok.id, ok.c, ok.seq, ok.ak, ok.ai, ok.k, ok.b, ok.meta, ok.cm, now(), ok.attachments
          FROM ok ORDER BY ok.c, ok.seq
        RETURNING id
    ), named AS MATERIALIZED (
        -- The names each message shows, looked up once (rendered twice
        -- below: a CTE that is not materialized would be inlined, and the
        -- sub-selects evaluated once per rendering).
        SELECT ok.idx, ok.id, ok.c, ok.seq, ok.ak, ok.ai, ok.k, ok.b, ok.meta, ok.cm, ok.attachments,
               coalesce((SELECT a.name FROM agents a WHERE ok.ak = 'agent' AND a.id = ok.ai),
                        (SELECT v.name FROM visitors v WHERE ok.ak = 'visitor' AND v.id = ok.ai),
                        (SELECT t.name FROM api_tokens t WHERE ok.ak = 'api' AND t.id = ok.ai),
                        (SELECT b.name FROM bots b WHERE ok.ak = 'bot' AND b.id = ok.ai)) AS author_name,
               CASE WHEN ok.k = 'event' AND ok.meta ? 'agent_id' THEN
                   (SELECT a.name FROM agents a WHERE a.id = (ok.meta->>'agent_id')::bigint) END AS event_agent,
               CASE WHEN ok.k = 'event' AND ok.meta ? 'team_id' THEN
                   (SELECT t.name FROM teams t WHERE t.id = (ok.meta->>'team_id')::bigint) END AS event_team
          FROM ok
    ), texts AS (
        -- Rendered from the element (the row as stored: messages' columns
        -- in their order; the time, now(), formatted once per batch), for
        -- the agents and, but for a note, for the visitor.
        SELECT n.idx, n.id, n.seq,
               parley_message_text(ROW(n.id, n.c, n.seq, n.ak, n.ai, n.k, n.b, n.meta, n.cm, now(),
                                       n.attachments)::messages, 'agent',
                                   n.author_name, n.event_agent, n.event_team, created_iso) AS am_t,
               CASE WHEN n.k <> 'note' THEN
                   parley_message_text(ROW(n.id, n.c, n.seq, n.ak, n.ai, n.k, n.b, n.meta, n.cm, now(),
                                           n.attachments)::messages, 'visitor',
                                       n.author_name, n.event_agent, n.event_team, created_iso) END AS vm_t
          FROM named n
    ), lines AS MATERIALIZED (
        SELECT r.idx, r.c, r.ak, r.k, r.cstatus, r.bot_id, r.dup, t.id, t.seq, t.am_t, t.vm_t,
               CASE WHEN r.status0 <> 'ok' OR r.cm IS NULL OR r.first_idx = r.idx THEN r.status0
                    WHEN r.first_ak = r.ak AND r.first_ai IS NOT DISTINCT FROM r.ai THEN 'duplicate'
                    ELSE 'key_taken' END AS status,
               r.c || ' ' || coalesce(r.visitor_id, 0) || ' ' || coalesce(r.team_id, 0) || ' '
                   || coalesce(r.assignee_id, 0) || ' ' || CASE WHEN r.cstatus = 'queued' THEN '1' ELSE '0' END
                   || ' ' || coalesce(nullif(array_to_string(r.participant_ids, ','), ''), '-')
                   || E'\t{"type":"message.created","message":' || t.am_t || E'}\t'
                   -- The visitor's frame, "=" when it is the agents' (a visitor's
                   -- own message): a notification's bytes are PostgreSQL's work
                   -- twice, written to its queue and read back by every node.
                   || CASE WHEN t.vm_t IS NULL THEN '' WHEN t.vm_t = t.am_t THEN '='
                           ELSE '{"type":"message.created","message":' || t.vm_t || '}' END
                   || E'\n' AS line,
               CASE WHEN r.first_idx <> r.idx THEN r.first_idx END AS first_idx
          FROM res r LEFT JOIN texts t ON t.idx = r.idx
    )
    SELECT array_agg(ROW(
               l.idx, l.status,
               CASE WHEN l.status = 'ok' THEN CASE WHEN l.ak = 'visitor' THEN l.vm_t ELSE l.am_t END
                    WHEN l.status = 'duplicate' AND (l.dup).id IS NOT NULL THEN
                        parley_message_json(l.dup, CASE WHEN l.ak = 'visitor' THEN 'visitor' ELSE 'agent' END)::text
                    -- The earlier element of this batch, as its author (this one) sees it.
                    WHEN l.status = 'duplicate' THEN
                        (SELECT CASE WHEN l.ak = 'visitor' THEN f.vm_t ELSE f.am_t END FROM lines f
                          WHERE f.idx = l.first_idx)
               END,
               CASE WHEN l.status <> 'ok' THEN NULL
                    WHEN octet_length(l.line) > 3800 THEN 'R ' || l.c || ' ' || l.seq || E'\n'
                    ELSE l.line END,
               l.c, l.id, l.k = 'note',
               -- A bot hears the messages of the conversation it handles, not its own.
               CASE WHEN l.cstatus = 'bot' AND l.ak <> 'bot' THEN l.bot_id END,
               CASE WHEN l.status = 'ok' AND ((l.k = 'message' AND hook_msgs) OR (l.k = 'note' AND hook_notes))
                    THEN l.am_t::jsonb END)::parley_posted ORDER BY l.idx)
      INTO posted
      FROM lines l;

    -- 3. Each attached file knows its message.
    IF has_files THEN
        UPDATE files fl SET message_id = u.msg, attached_at = now()
          FROM unnest(posted) u, jsonb_array_elements(atts->(u.idx::text)) AS a(shape)
         WHERE u.status = 'ok' AND jsonb_typeof(atts->(u.idx::text)) = 'array' AND fl.id = a.shape->>'id';
    END IF;

    -- 4. The notifications: lines packed by their offset in the batch
    --    (string_agg, no copying per line), 3800 bytes of line starts per
    --    payload, so that a payload stays under 7600 bytes.
    FOR payload IN
        SELECT E'M\n' || string_agg(p.entry, '' ORDER BY p.idx)
          FROM (SELECT u.idx, u.entry,
                       (sum(octet_length(u.entry)) OVER (ORDER BY u.idx) - octet_length(u.entry)) / 3800 AS chunk
                  FROM unnest(posted) u WHERE u.entry IS NOT NULL) p
         GROUP BY p.chunk ORDER BY p.chunk
    LOOP
        PERFORM pg_notify('parley', payload);
    END LOOP;

    -- 5. message.created into the webhook outbox, in this transaction.
    IF hook_msgs OR hook_notes THEN
        FOR h IN SELECT * FROM unnest(posted) u WHERE u.hook IS NOT NULL ORDER BY u.idx LOOP
            PERFORM parley_hook_emit('message.created', h.conv, h.hook, h.note, NULL, h.bot);
        END LOOP;
    END IF;

    RETURN QUERY SELECT u.idx, u.status, u.message FROM unnest(posted) u ORDER BY u.idx;
END;
$$;
