-- Files: starting an upload (every check and limit in one statement), who
-- may download, and the sweeps. The shapes are in 30_shapes.sql; attaching
-- a file to a message is part of post_messages (40_messages.sql).

-- Starts an upload of file p_id into conversation p_conv by p_kind/p_who
-- (visitor, agent or api; p_privileged: a supervisor/admin agent's claim,
-- narrowed here by their current role, or an API token). Checks, in order:
-- the conversation exists and the uploader may see it (not_found
-- otherwise, as for someone who may not), it is open (closed), visitors
-- may upload on this site (uploads_disabled), a declared size fits the
-- site's limit (too_large), the visitor's uploads this minute
-- (rate_limited) and the site's bytes today (quota) are under their
-- limits. Then the file row is created, pending, on node p_node. Counters
-- are shared by every node; a refused attempt still counts against the
-- visitor's minute. Returns the status, the site's limit in bytes, the
-- allowed types, and when refused for a limit the seconds until it resets.
CREATE OR REPLACE FUNCTION parley_file_begin(p_id text, p_conv bigint, p_kind text, p_who bigint, p_privileged boolean,
                                             p_name text, p_node text, p_storage text, p_declared bigint,
                                             p_visitor_per_minute integer, p_site_bytes_per_day bigint)
RETURNS TABLE (status text, max_bytes bigint, types text[], retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    used bigint;
BEGIN
    retry_after := 0;
    SELECT cv.id, cv.site_id, cv.visitor_id, cv.team_id, cv.assignee_id, cv.status,
           p_kind = 'agent' AND parley_agent_sees(cv, p_who, p_privileged) AS agent_sees,
           s.visitor_uploads, least(coalesce(s.upload_max_bytes, parley_upload_ceiling()), parley_upload_ceiling()) AS lim,
           coalesce(s.upload_types, parley_default_upload_types()) AS allowed
      INTO c FROM conversations cv JOIN sites s ON s.id = cv.site_id WHERE cv.id = p_conv;
    IF NOT FOUND
       OR (p_kind = 'visitor' AND c.visitor_id <> p_who)
       OR (p_kind = 'agent' AND NOT c.agent_sees) THEN
        status := 'not_found'; RETURN NEXT; RETURN;
    END IF;
    max_bytes := c.lim;
    types := c.allowed;
    IF c.status = 'closed' THEN
        status := 'closed'; RETURN NEXT; RETURN;
    END IF;
    IF p_kind = 'visitor' AND NOT c.visitor_uploads THEN
        status := 'uploads_disabled'; RETURN NEXT; RETURN;
    END IF;
    IF p_declared IS NOT NULL AND p_declared > c.lim THEN
        status := 'too_large'; RETURN NEXT; RETURN;
    END IF;
    IF p_kind = 'visitor' THEN
        INSERT INTO upload_counters AS u (scope, owner_id, window_start, n)
        VALUES ('visitor_minute', p_who, date_trunc('minute', now()), 1)
        ON CONFLICT (scope, owner_id, window_start) DO UPDATE SET n = u.n + 1
        RETURNING u.n INTO used;
        IF used > p_visitor_per_minute THEN
            status := 'rate_limited';
            retry_after := greatest(1, 60 - floor(extract(second FROM now()))::integer);
            RETURN NEXT; RETURN;
        END IF;
    END IF;
    SELECT u.n INTO used FROM upload_counters u
     WHERE u.scope = 'site_day_bytes' AND u.owner_id = c.site_id AND u.window_start = date_trunc('day', now());
    IF coalesce(used, 0) + coalesce(p_declared, 0) > p_site_bytes_per_day THEN
        status := 'quota';
        retry_after := greatest(1, extract(epoch FROM date_trunc('day', now()) + interval '1 day' - now())::integer);
        RETURN NEXT; RETURN;
    END IF;
    INSERT INTO files (id, site_id, conversation_id, uploader_kind, uploader_id, node_id, storage, name, content_type)
    VALUES (p_id, c.site_id, c.id, p_kind, p_who, p_node, p_storage, p_name, 'application/octet-stream');
    status := 'ok';
    RETURN NEXT;
END;
$$;

-- Counts bytes received against the site's day (finished or not: an
-- aborted upload cost as much to receive).
CREATE OR REPLACE FUNCTION parley_file_count_bytes(p_site bigint, p_bytes bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO upload_counters AS u (scope, owner_id, window_start, n)
    VALUES ('site_day_bytes', p_site, date_trunc('day', now()), p_bytes)
    ON CONFLICT (scope, owner_id, window_start) DO UPDATE SET n = u.n + excluded.n
$$;

-- Whether someone may download file f: the uploader while it is not yet
-- sent; once in a message, whoever may read that message: its
-- conversation's visitor (never a note's file), an agent who may see the
-- conversation (supervisors and admins, the assignee, the team), an API
-- token (notes' files only with with_notes, the admin scope).
CREATE OR REPLACE FUNCTION parley_file_visible(f files, who_kind text, who_id bigint, privileged boolean,
                                               with_notes boolean) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN f.message_id IS NULL THEN f.uploader_kind = who_kind AND f.uploader_id = who_id
    ELSE EXISTS (SELECT 1 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                  WHERE m.id = f.message_id AND CASE who_kind
                      WHEN 'visitor' THEN c.visitor_id = who_id AND m.kind <> 'note'
                      WHEN 'agent' THEN parley_agent_sees(c, who_id, privileged)
                      WHEN 'api' THEN m.kind <> 'note' OR with_notes
                      ELSE false END) END
$$;

-- The sweep's first part: files to delete outright, at most p_limit, each
-- returned once (rows locked, skipped by another node sweeping now):
-- pending uploads whose node is gone or that outlasted p_upload_seconds,
-- files never attached p_unattached_seconds after they were ready, and
-- rejected files after a day. Their rows are deleted here (pg chunks with
-- them); the caller removes bytes kept elsewhere.
CREATE OR REPLACE FUNCTION parley_files_sweep(p_limit integer, p_upload_seconds integer, p_unattached_seconds integer)
RETURNS TABLE (id text, storage text, site_id bigint, size bigint)
LANGUAGE sql AS $$
    WITH due AS (
        SELECT f.id FROM files f
         WHERE f.message_id IS NULL
           AND ((f.state = 'pending'
                 AND (f.created_at < now() - make_interval(secs => p_upload_seconds)
                      OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = f.node_id
                                        AND n.heartbeat_at > now() - parley_node_timeout())))
                OR (f.state = 'ready' AND f.ready_at < now() - make_interval(secs => p_unattached_seconds))
                OR (f.state = 'rejected' AND f.created_at < now() - interval '1 day'))
         ORDER BY f.created_at LIMIT p_limit FOR UPDATE SKIP LOCKED)
    DELETE FROM files f USING due WHERE f.id = due.id
    RETURNING f.id, f.storage, f.site_id, f.size
$$;

-- The sweep's second part: files whose site's retention period has passed
-- since they were sent become 'removed' (at most p_limit); their messages'
-- attachments say so. The caller deletes the bytes.
CREATE OR REPLACE FUNCTION parley_files_expire(p_limit integer)
RETURNS TABLE (id text, storage text)
LANGUAGE plpgsql AS $$
DECLARE
    gone text[];
BEGIN
    WITH due AS (
        SELECT f.id FROM files f JOIN sites s ON s.id = f.site_id
         WHERE f.state = 'ready' AND f.message_id IS NOT NULL AND s.file_retention_days IS NOT NULL
           AND f.attached_at < now() - make_interval(days => s.file_retention_days)
         ORDER BY f.attached_at LIMIT p_limit FOR UPDATE OF f SKIP LOCKED),
    upd AS (UPDATE files f SET state = 'removed', removed_at = now() FROM due WHERE f.id = due.id RETURNING f.id)
    SELECT array_agg(upd.id) INTO gone FROM upd;
    IF gone IS NULL THEN
        RETURN;
    END IF;
    UPDATE messages m SET attachments = (
        SELECT jsonb_agg(CASE WHEN e->>'id' = ANY (gone)
                              THEN jsonb_build_object('id', e->'id', 'name', e->'name', 'removed', true)
                              ELSE e END ORDER BY x.ord)
          FROM jsonb_array_elements(m.attachments) WITH ORDINALITY AS x(e, ord))
     WHERE m.id IN (SELECT f.message_id FROM files f WHERE f.id = ANY (gone));
    RETURN QUERY SELECT f.id, f.storage FROM files f WHERE f.id = ANY (gone);
END;
$$;
