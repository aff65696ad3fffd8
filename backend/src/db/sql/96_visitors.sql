-- Visitors on the sites now, their visits and pages, and invitations
-- (chat/online.c batches the beats; chat/invitations.c the rest).

-- How long a visitor stays "online" after their last beat:
-- PARLEY_ONLINE_TIMEOUT_SECONDS, which parleyd sets on its database
-- sessions; 45 for sessions it did not open.
CREATE OR REPLACE FUNCTION parley_online_timeout() RETURNS interval
LANGUAGE sql STABLE AS $$
    SELECT make_interval(secs => coalesce(nullif(current_setting('parley.online_timeout_seconds', true), '')::int, 45))
$$;

-- Weekly partitions of page_views: from a week back to two weeks ahead
-- exist, and those wholly older than retention_days are dropped.
CREATE OR REPLACE FUNCTION parley_page_views_maintain(retention_days int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    week date;
    part record;
    horizon timestamptz := now() - make_interval(days => retention_days);
BEGIN
    FOR i IN -1..2 LOOP
        week := date_trunc('week', now() AT TIME ZONE 'UTC')::date + 7 * i;
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF page_views FOR VALUES FROM (%L) TO (%L)',
                       'page_views_' || to_char(week, 'IYYY"w"IW'), week::timestamp AT TIME ZONE 'UTC',
                       (week + 7)::timestamp AT TIME ZONE 'UTC');
    END LOOP;
    FOR part IN
        SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'page_views'::regclass
    LOOP
        IF substring(part.bound FROM 'TO \(''([^'']+)''\)')::timestamptz < horizon THEN
            EXECUTE format('DROP TABLE %I', part.relname);
        END IF;
    END LOOP;
    DELETE FROM visits WHERE id IN (SELECT id FROM visits WHERE last_seen_at < horizon LIMIT 10000);
END
$$;

-- Whether an invitation rule's conditions hold for an online visitor.
CREATE OR REPLACE FUNCTION parley_invitation_rule_holds(cond jsonb, o visitors_online, v visitors, referrer text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (NOT cond ? 'time_on_page_seconds'
                OR now() - o.page_since >= make_interval(secs => (cond ->> 'time_on_page_seconds')::int))
       AND (NOT cond ? 'url_contains' OR strpos(lower(o.page_url), lower(cond ->> 'url_contains')) > 0)
       AND (NOT cond ? 'min_visits' OR v.visits >= (cond ->> 'min_visits')::int)
       AND (NOT cond ? 'countries' OR v.country IN (SELECT jsonb_array_elements_text(cond -> 'countries')))
       AND (NOT cond ? 'referrer_contains'
                OR strpos(lower(coalesce(referrer, '')), lower(cond ->> 'referrer_contains')) > 0)
$$;

-- One node's beats of the last second, in arrival order: [{v: visitor,
-- s: site, at: epoch ms, k: 'b' beat | 'v' page view | 'q' leaving, u, n:
-- title, r: referrer, c: widget closed, m: utm {}, x: {ip, country, region,
-- city, time_zone, device {}} on page views}]. Plain beats of visitors
-- already online are one UPDATE of the unlogged table; page views, leaves
-- and visitors coming back go one by one under the visitor's advisory
-- lock (two nodes may hold beats of one visitor). Then: visitors silent
-- past parley_online_timeout() (or gone 10 s after leaving) go offline,
-- rules may invite the visitors of this batch, and the answer is every
-- visitor with a pending invitation (what the nodes answer beats with).
DROP FUNCTION IF EXISTS parley_beats_flush(jsonb);
CREATE OR REPLACE FUNCTION parley_beats_flush(p_beats jsonb) RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
DECLARE
    b record;
    o visitors_online;
    plain bigint[];
    batch bigint[];
    vid bigint;
    vstart timestamptz;
    pv record;
    n int;
    first_at timestamptz;
    x jsonb;
BEGIN
    -- One beat per visitor, the latest (an UPDATE ... FROM with several
    -- matching rows would apply an arbitrary one).
    WITH beats AS (SELECT DISTINCT ON (e.v) e.*
                     FROM jsonb_to_recordset(p_beats) AS e(v bigint, s bigint, at bigint, k text, n text, c boolean)
                    WHERE e.k = 'b' ORDER BY e.v, e.at DESC)
    , upd AS (
        UPDATE visitors_online ol
           SET last_beat_at = greatest(ol.last_beat_at, to_timestamp(bt.at / 1000.0)),
               widget_closed = coalesce(bt.c, false), page_title = coalesce(bt.n, ol.page_title), leaving_at = NULL
          FROM beats bt
         WHERE ol.visitor_id = bt.v AND ol.site_id = bt.s
        RETURNING ol.visitor_id)
    SELECT array_agg(upd.visitor_id) INTO plain FROM upd;

    -- The rest in arrival order per visitor (a join, not `= ANY (plain)`,
    -- which a generic plan evaluates as a scan of the array per beat).
    FOR b IN SELECT e.*, t.ord
               FROM jsonb_array_elements(p_beats) WITH ORDINALITY AS t(j, ord)
               CROSS JOIN LATERAL jsonb_to_record(t.j) AS e(v bigint, s bigint, at bigint, k text, u text, n text,
                                                            r text, c boolean, m jsonb, x jsonb)
               LEFT JOIN unnest(plain) AS done(id) ON done.id = e.v AND e.k = 'b'
              WHERE done.id IS NULL
              ORDER BY e.v, t.ord
    LOOP
        PERFORM pg_advisory_xact_lock(7352, (b.v % 2147483647)::int);
        first_at := to_timestamp(b.at / 1000.0);
        SELECT * INTO o FROM visitors_online ol WHERE ol.visitor_id = b.v;
        IF b.k = 'q' THEN
            -- Leaving: gone in a few seconds unless the next page comes.
            IF o.visitor_id IS NOT NULL AND o.last_beat_at <= first_at THEN
                UPDATE visitors_online SET leaving_at = first_at WHERE visitors_online.visitor_id = b.v;
            END IF;
            CONTINUE;
        END IF;
        IF b.k = 'b' AND o.visitor_id IS NOT NULL THEN
            CONTINUE; -- a plain beat handled above (its row came in this batch)
        END IF;
        -- A page view, or a beat of a visitor who was offline (a hidden
        -- tab came back, or the table was emptied by a crash): the page
        -- they are on starts now.
        IF NOT EXISTS (SELECT 1 FROM visitors WHERE id = b.v AND site_id = b.s) THEN
            CONTINUE; -- deleted meanwhile
        END IF;
        vid := o.visit_id;
        vstart := o.visit_started_at;
        IF vid IS NULL THEN
            SELECT vi.id, vi.started_at INTO vid, vstart FROM visits vi
             WHERE vi.visitor_id = b.v AND vi.last_seen_at > first_at - parley_visit_gap()
             ORDER BY vi.started_at DESC LIMIT 1;
        END IF;
        x := coalesce(b.x, '{}'::jsonb);
        IF vid IS NULL THEN
            INSERT INTO visits (visitor_id, site_id, started_at, last_seen_at, landing_url, referrer, utm, ip,
                                country, region, city, time_zone)
            VALUES (b.v, b.s, first_at, first_at, b.u, nullif(b.r, ''), coalesce(b.m, '{}'::jsonb),
                    nullif(x ->> 'ip', '')::inet, x ->> 'country', x ->> 'region', x ->> 'city', x ->> 'time_zone')
            RETURNING id, started_at INTO vid, vstart;
            UPDATE visitors SET visits = visits + 1 WHERE id = b.v;
            o := NULL;
        END IF;
        IF b.x IS NOT NULL THEN
            UPDATE visitors SET last_seen_at = greatest(last_seen_at, first_at),
                   ip = CASE WHEN x ? 'ip' THEN nullif(x ->> 'ip', '')::inet ELSE ip END,
                   country = coalesce(x ->> 'country', country), region = coalesce(x ->> 'region', region),
                   city = coalesce(x ->> 'city', city), time_zone = coalesce(x ->> 'time_zone', time_zone),
                   device = device || coalesce(x -> 'device', '{}'::jsonb)
             WHERE id = b.v;
        END IF;
        -- The page before ends where this one starts.
        IF o.page_view_id IS NOT NULL THEN
            UPDATE page_views SET seconds = greatest(0, extract(epoch FROM first_at - o.page_since))::int
             WHERE id = o.page_view_id AND viewed_at = o.page_since AND seconds IS NULL;
        END IF;
        INSERT INTO page_views (visit_id, visitor_id, url, title, viewed_at)
        VALUES (vid, b.v, b.u, nullif(b.n, ''), first_at) RETURNING id, viewed_at INTO pv;
        UPDATE visits SET last_seen_at = greatest(last_seen_at, first_at), pages = pages + 1 WHERE id = vid;
        INSERT INTO visitors_online AS ol (visitor_id, site_id, visit_id, visit_started_at, page_view_id, page_url,
                                           page_title, page_since, referrer, pages, widget_closed, last_beat_at)
        VALUES (b.v, b.s, vid, vstart, pv.id, b.u, nullif(b.n, ''), first_at,
                (SELECT vi.referrer FROM visits vi WHERE vi.id = vid), 1, coalesce(b.c, false), first_at)
        ON CONFLICT (visitor_id) DO UPDATE
           SET visit_id = excluded.visit_id, visit_started_at = excluded.visit_started_at,
               page_view_id = excluded.page_view_id, page_url = excluded.page_url, page_title = excluded.page_title,
               page_since = excluded.page_since, referrer = excluded.referrer,
               pages = CASE WHEN ol.visit_id = excluded.visit_id THEN ol.pages + 1 ELSE 1 END,
               widget_closed = excluded.widget_closed,
               last_beat_at = greatest(ol.last_beat_at, excluded.last_beat_at), leaving_at = NULL;
    END LOOP;

    -- Offline: silent too long, or left and not back.
    WITH gone AS (
        DELETE FROM visitors_online ol
         WHERE ol.last_beat_at < now() - parley_online_timeout()
            OR ol.leaving_at < now() - interval '10 seconds'
        RETURNING ol.*)
    , pages AS (
        UPDATE page_views p
           SET seconds = greatest(0, extract(epoch FROM coalesce(g.leaving_at, g.last_beat_at) - g.page_since))::int
          FROM gone g
         WHERE p.id = g.page_view_id AND p.viewed_at = g.page_since AND p.seconds IS NULL)
    , seen AS (
        UPDATE visits vi SET last_seen_at = greatest(vi.last_seen_at, coalesce(g.leaving_at, g.last_beat_at))
          FROM gone g WHERE vi.id = g.visit_id)
    UPDATE invitations i SET status = 'ignored', ended_at = now()
      FROM gone g WHERE i.visitor_id = g.visitor_id AND i.status IN ('pending', 'shown');

    -- Automatic invitations for the visitors of this batch: the first rule
    -- of their site (by position) that holds, once per rule and visitor a
    -- day, never to a visitor who closed the widget, is chatting, or has an
    -- invitation open.
    SELECT array_agg(DISTINCT e.v) INTO batch
      FROM jsonb_to_recordset(p_beats) AS e(v bigint, k text) WHERE e.k <> 'q';
    IF batch IS NOT NULL AND EXISTS (SELECT 1 FROM invitation_rules WHERE enabled) THEN
        INSERT INTO invitations (site_id, visitor_id, rule_id, automatic, message, sender_name)
        SELECT DISTINCT ON (ol.visitor_id) ol.site_id, ol.visitor_id, r.id, true, r.message,
               left(coalesce(nullif(r.sender_name, ''), s.name), 200)
          FROM visitors_online ol
          JOIN visitors v ON v.id = ol.visitor_id
          JOIN sites s ON s.id = ol.site_id
          JOIN invitation_rules r ON r.site_id = ol.site_id AND r.enabled
         WHERE ol.visitor_id = ANY (batch) AND NOT ol.widget_closed AND ol.leaving_at IS NULL
           AND parley_invitation_rule_holds(r.conditions, ol, v, ol.referrer)
           AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = ol.visitor_id AND c.status <> 'closed')
           AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.visitor_id = ol.visitor_id
                                                          AND i.status IN ('pending', 'shown'))
           AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.rule_id = r.id AND i.visitor_id = ol.visitor_id
                                                          AND i.created_at > now() - interval '1 day')
         ORDER BY ol.visitor_id, r.position, r.id
        ON CONFLICT DO NOTHING;
    END IF;

    RETURN QUERY SELECT i.visitor_id FROM invitations i WHERE i.status = 'pending' ORDER BY 1;
END
$$;

-- The inviting agent hears what became of their invitation.
CREATE OR REPLACE FUNCTION parley_invitation_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_notify(jsonb_build_object('e', 'invitation', 'ag', NEW.agent_id,
        'i', jsonb_strip_nulls(jsonb_build_object('id', NEW.id, 'visitor_id', NEW.visitor_id, 'status', NEW.status,
                                                  'conversation_id', NEW.conversation_id))));
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS invitations_changed ON invitations;
CREATE TRIGGER invitations_changed AFTER UPDATE OF status ON invitations
    FOR EACH ROW WHEN (NEW.agent_id IS NOT NULL AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION parley_invitation_changed();

-- An online visitor as the console's list shows them.
CREATE OR REPLACE FUNCTION parley_online_json(ol visitors_online, v visitors, site_name text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'visitor_id', v.id, 'site_id', ol.site_id, 'site_name', site_name, 'name', v.name, 'email', v.email,
        'page', jsonb_strip_nulls(jsonb_build_object('url', ol.page_url, 'title', ol.page_title,
                                                     'since', parley_iso(ol.page_since))),
        'visit_started_at', parley_iso(ol.visit_started_at), 'last_beat_at', parley_iso(ol.last_beat_at),
        'referrer', ol.referrer, 'pages_this_visit', ol.pages, 'widget_closed', ol.widget_closed,
        'chatting', (SELECT c.id FROM conversations c WHERE c.visitor_id = v.id AND c.status <> 'closed'
                      ORDER BY c.id DESC LIMIT 1),
        'invitation', (SELECT jsonb_build_object('id', i.id, 'status', i.status) FROM invitations i
                        WHERE i.visitor_id = v.id AND i.status IN ('pending', 'shown')))
        || parley_visitor_context_json(v) || jsonb_build_object('conversations', parley_visitor_conversations(v.id))
$$;

-- A rule as the admin API shows it, with what its invitations became.
CREATE OR REPLACE FUNCTION parley_invitation_rule_json(r invitation_rules) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', r.id, 'site_id', r.site_id, 'name', r.name, 'enabled', r.enabled, 'position', r.position,
        'message', r.message, 'sender_name', r.sender_name, 'conditions', r.conditions,
        'stats', (SELECT jsonb_build_object('sent', count(*),
                                            'accepted', count(*) FILTER (WHERE i.status = 'accepted'),
                                            'ignored', count(*) FILTER (WHERE i.status = 'ignored'))
                    FROM invitations i WHERE i.rule_id = r.id),
        'created_at', parley_iso(r.created_at), 'updated_at', parley_iso(r.updated_at))
$$;

-- Whether an agent sees a site's visitors (online list, journeys,
-- invitations): a supervisor or admin (claimed, narrowed by the current
-- role), or a member of the site's default team.
CREATE OR REPLACE FUNCTION parley_agent_sees_site(agent_id bigint, claimed boolean, site bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (claimed AND parley_agent_privileged(agent_id))
        OR EXISTS (SELECT 1 FROM sites s JOIN team_members tm ON tm.team_id = s.default_team_id
                    WHERE s.id = site AND tm.agent_id = parley_agent_sees_site.agent_id)
$$;
