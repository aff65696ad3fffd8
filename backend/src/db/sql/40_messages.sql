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
-- NOTIFY (channel parley) carries the messages themselves: per message its
-- routing (conversation, visitor, team, assignee, queued) and both rendered
-- views, packed into payloads under PostgreSQL's 8000-byte limit; only a
-- message too large for a payload travels as a [conversation_id, seq]
-- reference to be loaded.
--
-- Webhooks: each message (not event lines) is written to the outbox here,
-- in the same transaction (message.created, db/sql/70_hooks.sql). (Measured with bench/chatload: one reference per
-- message, loaded by a query per notification on the single bus thread,
-- capped delivery at ~230 notifications a second.)
CREATE OR REPLACE FUNCTION post_messages(p_items jsonb)
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
    v_files jsonb;
    v_nfiles integer;
    chunk jsonb := '[]'::jsonb;
    chunk_len integer := 0;
    -- Webhooks: whether any endpoint wants messages (or notes), asked once
    -- per batch, in this function's own cached plan (a call of the SQL
    -- function parley_hook_wanted would be planned again on every call).
    hook_msgs boolean;
    hook_notes boolean;
    v_answer boolean;
BEGIN
    SELECT coalesce(bool_or(true), false), coalesce(bool_or(e.include_notes), false) INTO hook_msgs, hook_notes
      FROM webhook_endpoints e WHERE e.enabled AND 'message.created' = ANY (e.events);
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
        SELECT c.id, c.visitor_id, c.team_id, c.assignee_id, c.status, c.bot_id, c.participant_ids
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
        -- The assignee and the participants write to the visitor; their
        -- team may add notes; supervisors and admins anything, and only
        -- they whisper.
        IF v_ak = 'agent' AND NOT v_priv AND conv.assignee_id IS DISTINCT FROM v_ai
           AND NOT v_ai = ANY (conv.participant_ids)
           AND (v_kind = 'message'
                OR NOT EXISTS (SELECT 1 FROM team_members tm
                                WHERE tm.team_id = conv.team_id AND tm.agent_id = v_ai)) THEN
            status := 'forbidden'; RETURN NEXT; CONTINUE;
        END IF;
        IF coalesce((it->>'w')::boolean, false) THEN
            IF NOT v_priv OR v_kind <> 'note' THEN
                status := 'forbidden'; RETURN NEXT; CONTINUE;
            END IF;
            it := jsonb_set(it, '{mt}', coalesce(it->'mt', '{}'::jsonb) || '{"whisper": true}'::jsonb);
        END IF;
        -- A bot writes only while the conversation is its own; while it is,
        -- agents write only notes (a person takes over by the handoff).
        IF (v_ak = 'bot' AND (conv.status <> 'bot' OR conv.bot_id IS DISTINCT FROM v_ai))
           OR (v_ak = 'agent' AND conv.status = 'bot' AND v_kind = 'message') THEN
            status := 'forbidden'; RETURN NEXT; CONTINUE;
        END IF;
        IF conv.status = 'closed' AND v_kind <> 'event' THEN
            status := 'closed'; RETURN NEXT; CONTINUE;
        END IF;
        v_files := NULL;
        IF jsonb_typeof(it->'f') = 'array' AND jsonb_array_length(it->'f') > 0 THEN
            -- Locked: two messages cannot both take a file.
            PERFORM 1 FROM files f WHERE f.id IN (SELECT jsonb_array_elements_text(it->'f')) FOR UPDATE;
            SELECT jsonb_agg(parley_file_json(f) ORDER BY x.ord), count(DISTINCT f.id)
              INTO v_files, v_nfiles
              FROM jsonb_array_elements_text(it->'f') WITH ORDINALITY AS x(fid, ord)
              JOIN files f ON f.id = x.fid
             WHERE f.conversation_id = conv.id AND f.state = 'ready' AND f.message_id IS NULL
               AND f.uploader_kind = v_ak AND f.uploader_id = v_ai;
            IF v_nfiles <> jsonb_array_length(it->'f') THEN
                status := 'file_invalid'; RETURN NEXT; CONTINUE;
            END IF;
        END IF;
        -- While a bot handles it, a visitor's message waits for the bot's
        -- answer (its timeout hands the conversation off), which ends it.
        -- The SLA clocks and the escalation rules read who spoke last: a
        -- person's answer (an agent's or an integration's; not a bot's, not
        -- an automatic message) ends the visitor's wait.
        v_answer := v_kind = 'message' AND v_ak IN ('agent', 'api');
        UPDATE conversations c SET last_seq = c.last_seq + 1, updated_at = now(),
               awaiting_since = CASE WHEN v_answer THEN NULL
                                     WHEN v_kind = 'message' AND v_ak = 'visitor'
                                         THEN coalesce(c.awaiting_since, now())
                                     ELSE c.awaiting_since END,
               first_response_at = CASE WHEN v_answer THEN coalesce(c.first_response_at, now())
                                        ELSE c.first_response_at END,
               last_reply_at = CASE WHEN v_answer THEN now() ELSE c.last_reply_at END,
               last_visitor_at = CASE WHEN v_kind = 'message' AND v_ak = 'visitor' THEN now()
                                      ELSE c.last_visitor_at END,
               sla_next_due_at = CASE WHEN v_answer THEN NULL ELSE c.sla_next_due_at END,
               bot_waiting_since = CASE WHEN c.status <> 'bot' THEN NULL
                                        WHEN v_ak = 'visitor' AND v_kind = 'message'
                                            THEN coalesce(c.bot_waiting_since, now())
                                        WHEN v_ak = 'bot' THEN NULL
                                        ELSE c.bot_waiting_since END
         WHERE c.id = conv.id RETURNING c.last_seq INTO new_seq;
        INSERT INTO messages (conversation_id, seq, author_kind, author_id, kind, body, meta, client_msg_id, attachments)
        VALUES (conv.id, new_seq, v_ak, v_ai, v_kind, it->>'b', coalesce(it->'mt', '{}'::jsonb), v_cm, v_files)
        RETURNING * INTO msg;
        IF v_files IS NOT NULL THEN
            UPDATE files f SET message_id = msg.id, attached_at = now()
             WHERE f.id IN (SELECT jsonb_array_elements_text(it->'f'));
        END IF;
        status := 'ok';
        message := parley_message_json(msg, CASE WHEN v_ak = 'visitor' THEN 'visitor' ELSE 'agent' END);
        RETURN NEXT;

        -- message.created into the webhook outbox, in this transaction (a
        -- bot hears the messages of the conversation it handles, not its own).
        IF (v_kind = 'message' AND hook_msgs) OR (v_kind = 'note' AND hook_notes) THEN
            PERFORM parley_hook_emit('message.created', conv.id, parley_message_json(msg, 'agent'), v_kind = 'note',
                                     NULL, CASE WHEN conv.status = 'bot' AND v_ak <> 'bot' THEN conv.bot_id END);
        END IF;

        -- What every node needs to deliver it without reading it back.
        entry := jsonb_build_object(
            'c', conv.id, 'v', conv.visitor_id, 't', conv.team_id, 'a', conv.assignee_id,
            'p', CASE WHEN cardinality(conv.participant_ids) > 0 THEN conv.participant_ids END,
            'q', conv.status = 'queued',
            'am', parley_message_json(msg, 'agent'),
            'vm', CASE WHEN v_kind = 'note' THEN NULL ELSE parley_message_json(msg, 'visitor') END);
        entry_len := octet_length(entry::text);
        IF entry_len > 7000 THEN
            entry := jsonb_build_array(conv.id, new_seq);
            entry_len := octet_length(entry::text);
        END IF;
        IF chunk_len + entry_len > 7000 THEN
            PERFORM parley_notify(jsonb_build_object('e', 'msg', 'm', chunk));
            chunk := '[]'::jsonb;
            chunk_len := 0;
        END IF;
        chunk := chunk || jsonb_build_array(entry);
        chunk_len := chunk_len + entry_len + 2;
    END LOOP;
    IF jsonb_array_length(chunk) > 0 THEN
        PERFORM parley_notify(jsonb_build_object('e', 'msg', 'm', chunk));
    END IF;
END;
$$;
