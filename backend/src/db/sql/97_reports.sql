-- Reports (migration 0014_reports; definitions in docs/reports.md).
--
-- The record: conversation_events, written here by triggers on
-- conversations and conversation_participants (every path that changes a
-- conversation, in its own transaction), and agent_activity, by triggers on
-- agents and agent_presence. Nothing in it is changed afterwards.
--
-- The table reports read, report_conversations, is recomputed from the
-- record set-based: an event only queues its conversation (report_pending);
-- parley_report_catch_up rebuilds what is queued, called by every node's
-- sweep each second and by each report request before it reads
-- (chat/reports.c). So the message path, which writes the first_reply
-- event, pays for one row of the record and one of the queue, not for the
-- recomputation; and a report still sees everything committed before it.

-- ------------------------------------------------------------ the record

-- Appends event p_kind about conversation p_conv and queues its report row.
CREATE OR REPLACE FUNCTION parley_report_event(p_conv bigint, p_kind text, p_agent bigint, p_team bigint,
                                               p_data jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO conversation_events (conversation_id, kind, agent_id, team_id, data)
    VALUES (p_conv, p_kind, p_agent, p_team, p_data);
    INSERT INTO report_pending (conversation_id) VALUES (p_conv) ON CONFLICT DO NOTHING;
$$;

-- What a change of a conversation's row means, in the order it happened.
CREATE OR REPLACE FUNCTION parley_report_conversation() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_agent bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM parley_report_event(NEW.id, 'started', NULL, NEW.team_id,
                                    jsonb_build_object('channel', NEW.channel, 'offline', NEW.offline));
        IF NEW.offline THEN
            PERFORM parley_report_event(NEW.id, 'offline', NULL, NEW.team_id, NULL);
        END IF;
        IF NEW.status = 'bot' THEN
            PERFORM parley_report_event(NEW.id, 'bot', NULL, NULL, NULL);
        ELSIF NEW.status = 'queued' THEN
            PERFORM parley_report_event(NEW.id, 'queued', NULL, NEW.team_id, NULL);
        ELSIF NEW.status = 'assigned' THEN
            PERFORM parley_report_event(NEW.id, 'assigned', NEW.assignee_id, NEW.team_id, NULL);
        END IF;
        RETURN NULL;
    END IF;
    IF OLD.status <> 'closed' AND NEW.status = 'closed' THEN
        PERFORM parley_report_event(NEW.id, 'closed', NULL, NEW.team_id,
                                    jsonb_build_object('by', NEW.closed_by_kind));
        -- It waited for a person who never answered, and the visitor left
        -- (or the idle sweep closed it).
        IF OLD.status IN ('queued', 'assigned') AND NEW.first_response_at IS NULL AND NOT NEW.offline
           AND NEW.closed_by_kind IN ('visitor', 'system') THEN
            PERFORM parley_report_event(NEW.id, 'missed', NULL, NEW.team_id, NULL);
        END IF;
    ELSIF OLD.status <> NEW.status OR OLD.team_id <> NEW.team_id
          OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id THEN
        IF OLD.status = 'closed' THEN
            PERFORM parley_report_event(NEW.id, 'reopened', NULL, NEW.team_id, NULL);
        END IF;
        IF NEW.status = 'bot' THEN
            PERFORM parley_report_event(NEW.id, 'bot', NULL, NULL, NULL);
        ELSIF OLD.status = 'assigned' AND (NEW.team_id <> OLD.team_id OR NEW.status = 'assigned') THEN
            -- Another owner or another team while an agent had it: a
            -- transfer (to an agent, or to a team's queue).
            PERFORM parley_report_event(NEW.id, 'transferred',
                                        CASE WHEN NEW.status = 'assigned' THEN NEW.assignee_id END, NEW.team_id, NULL);
        ELSIF OLD.status = 'queued' AND NEW.status = 'queued' THEN
            PERFORM parley_report_event(NEW.id, 'transferred', NULL, NEW.team_id, NULL);
        ELSIF NEW.status = 'assigned' THEN
            PERFORM parley_report_event(NEW.id, 'assigned', NEW.assignee_id, NEW.team_id, NULL);
        ELSIF NEW.status = 'queued' THEN
            -- From a bot (its handoff), a requeue (the agent was gone) or a
            -- reopen.
            PERFORM parley_report_event(NEW.id, 'queued', NULL, NEW.team_id, NULL);
        END IF;
    END IF;
    IF OLD.first_response_at IS NULL AND NEW.first_response_at IS NOT NULL THEN
        -- The first answer of a person: the agent who wrote it (none: an
        -- integration). This statement's messages are visible here (an
        -- AFTER trigger runs once its statement is complete).
        SELECT CASE WHEN m.author_kind = 'agent' THEN m.author_id END INTO v_agent
          FROM messages m
         WHERE m.conversation_id = NEW.id AND m.kind = 'message' AND m.author_kind IN ('agent', 'api')
         ORDER BY m.seq LIMIT 1;
        PERFORM parley_report_event(NEW.id, 'first_reply', v_agent, NEW.team_id, NULL);
    END IF;
    IF NEW.rating IS NOT NULL
       AND (NEW.rating IS DISTINCT FROM OLD.rating OR NEW.rating_comment IS DISTINCT FROM OLD.rating_comment) THEN
        PERFORM parley_report_event(NEW.id, 'rated', NULL, NEW.team_id,
                                    jsonb_build_object('rating', NEW.rating, 'comment', NEW.rating_comment IS NOT NULL));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER conversations_report_insert AFTER INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION parley_report_conversation();
-- A message's update of the row (seq, read markers, the clocks) does not
-- enter the function; the first answer does, once per conversation.
CREATE OR REPLACE TRIGGER conversations_report_update AFTER UPDATE ON conversations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.team_id IS DISTINCT FROM NEW.team_id
                       OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id
                       OR (OLD.first_response_at IS NULL AND NEW.first_response_at IS NOT NULL)
                       OR OLD.rating IS DISTINCT FROM NEW.rating
                       OR OLD.rating_comment IS DISTINCT FROM NEW.rating_comment)
    EXECUTE FUNCTION parley_report_conversation();

-- An agent brought in by an escalation.
CREATE OR REPLACE FUNCTION parley_report_participant() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_report_event(NEW.conversation_id, 'escalated', NEW.agent_id, NULL, NULL);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER conversation_participants_report AFTER INSERT ON conversation_participants
    FOR EACH ROW WHEN (NEW.role = 'escalation') EXECUTE FUNCTION parley_report_participant();

-- The record is append-only.
CREATE OR REPLACE FUNCTION parley_report_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE TRIGGER conversation_events_append_only BEFORE UPDATE ON conversation_events
    FOR EACH ROW EXECUTE FUNCTION parley_report_append_only();
CREATE OR REPLACE TRIGGER agent_activity_append_only BEFORE UPDATE ON agent_activity
    FOR EACH ROW EXECUTE FUNCTION parley_report_append_only();

-- An agent's state: their status while they have a live connection,
-- offline otherwise. A row when it differs from their last one.
CREATE OR REPLACE FUNCTION parley_report_agent_state(p_agent bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
BEGIN
    SELECT CASE WHEN a.status <> 'offline' AND parley_agent_live(a.id) THEN a.status ELSE 'offline' END
      INTO v_state FROM agents a WHERE a.id = p_agent;
    IF v_state IS NOT NULL AND v_state IS DISTINCT FROM
           (SELECT x.state FROM agent_activity x WHERE x.agent_id = p_agent ORDER BY x.at DESC, x.id DESC LIMIT 1) THEN
        INSERT INTO agent_activity (agent_id, state) VALUES (p_agent, v_state);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION parley_report_agent_status() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM parley_report_agent_state(NEW.id);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER agents_report_status AFTER UPDATE OF status ON agents
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION parley_report_agent_status();

CREATE OR REPLACE FUNCTION parley_report_agent_presence() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM parley_report_agent_state(OLD.agent_id);
    ELSE
        PERFORM parley_report_agent_state(NEW.agent_id);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER agent_presence_report AFTER INSERT OR UPDATE OR DELETE ON agent_presence
    FOR EACH ROW EXECUTE FUNCTION parley_report_agent_presence();

-- ------------------------------------------- the table reports read

-- Seconds from p_from to p_to (none when either is missing; never
-- negative).
CREATE OR REPLACE FUNCTION parley_report_seconds(p_from timestamptz, p_to timestamptz) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_from IS NOT NULL AND p_to IS NOT NULL
                THEN greatest(0, extract(epoch FROM p_to - p_from))::float8 END
$$;

-- Recomputes the report rows (and the ownership spans) of conversations
-- p_ids from the record, set-based. Returns how many rows it wrote.
CREATE OR REPLACE FUNCTION parley_report_rebuild(p_ids bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM report_ownership o WHERE o.conversation_id = ANY (p_ids);
    -- Who owns it after each move, until the next move.
    INSERT INTO report_ownership (conversation_id, agent_id, during)
    SELECT s.conversation_id, s.owner, tstzrange(s.at, s.next_at, '[)')
      FROM (SELECT e.conversation_id, e.at,
                   CASE WHEN e.kind IN ('assigned', 'transferred') THEN e.agent_id END AS owner,
                   lead(e.at) OVER (PARTITION BY e.conversation_id ORDER BY e.id) AS next_at
              FROM conversation_events e
             WHERE e.conversation_id = ANY (p_ids)
               AND e.kind IN ('bot', 'queued', 'assigned', 'transferred', 'closed', 'reopened')) s
     WHERE s.owner IS NOT NULL AND (s.next_at IS NULL OR s.next_at > s.at);

    INSERT INTO report_conversations AS r (
        conversation_id, started_at, site_id, team_id, agent_id, channel, closed, outcome, queued_at,
        assigned_at, first_reply_at, closed_at, wait, first_response, handle, resolution, wait_business,
        first_response_business, resolution_business, business_due, messages, visitor_messages,
        agent_messages, bot_messages, transfers, reopens, escalations, rating, has_comment)
    SELECT x.id, x.started_at, x.site_id, x.team_id, x.agent_id, x.channel, x.closed, x.outcome, x.queued_at,
           x.assigned_at, x.first_reply_at, x.closed_at, x.wait, x.first_response, x.handle, x.resolution,
           CASE WHEN NOT x.biz THEN x.wait END, CASE WHEN NOT x.biz THEN x.first_response END,
           CASE WHEN NOT x.biz THEN x.resolution END,
           x.biz AND (x.wait IS NOT NULL OR x.first_response IS NOT NULL OR x.resolution IS NOT NULL),
           x.messages, x.visitor_messages, x.agent_messages, x.bot_messages, x.transfers, x.reopens,
           x.escalations, x.rating, x.has_comment
      FROM (SELECT c.id, ev.started_at, c.site_id, c.team_id,
                   coalesce(ev.reply_agent, ev.last_agent) AS agent_id, coalesce(ev.channel, c.channel) AS channel,
                   ev.closed,
                   CASE WHEN ev.offline THEN 'offline'
                        WHEN ev.first_reply_at IS NOT NULL THEN 'answered'
                        WHEN ev.closed AND ev.missed THEN 'missed'
                        WHEN ev.closed AND ev.had_bot AND ev.queued_at IS NULL THEN 'bot'
                        ELSE 'unanswered' END AS outcome,
                   coalesce(ev.queued_at, ev.assigned_at) AS queued_at, ev.assigned_at, ev.first_reply_at,
                   CASE WHEN ev.closed THEN ev.closed_at END AS closed_at,
                   parley_report_seconds(coalesce(ev.queued_at, ev.assigned_at), ev.assigned_at) AS wait,
                   CASE WHEN NOT ev.offline THEN
                       parley_report_seconds(coalesce(ev.queued_at, ev.assigned_at, ev.started_at), ev.first_reply_at)
                   END AS first_response,
                   (SELECT sum(extract(epoch FROM upper(o.during) - lower(o.during)))::float8
                      FROM report_ownership o WHERE o.conversation_id = c.id AND NOT upper_inf(o.during)) AS handle,
                   CASE WHEN ev.closed THEN parley_report_seconds(ev.started_at, ev.closed_at) END AS resolution,
                   t.business_hours IS NOT NULL AS biz,
                   coalesce(m.messages, 0) AS messages, coalesce(m.visitor_messages, 0) AS visitor_messages,
                   coalesce(m.agent_messages, 0) AS agent_messages, coalesce(m.bot_messages, 0) AS bot_messages,
                   ev.transfers, ev.reopens, ev.escalations, ev.rating, coalesce(ev.has_comment, false) AS has_comment
              FROM conversations c
              JOIN teams t ON t.id = c.team_id
              JOIN (SELECT e.conversation_id,
                           min(e.at) FILTER (WHERE e.kind = 'started') AS started_at,
                           min(e.at) FILTER (WHERE e.kind = 'queued') AS queued_at,
                           min(e.at) FILTER (WHERE e.kind IN ('assigned', 'transferred') AND e.agent_id IS NOT NULL)
                               AS assigned_at,
                           min(e.at) FILTER (WHERE e.kind = 'first_reply') AS first_reply_at,
                           (array_agg(e.agent_id ORDER BY e.id) FILTER (WHERE e.kind = 'first_reply'))[1]
                               AS reply_agent,
                           (array_agg(e.agent_id ORDER BY e.id DESC)
                               FILTER (WHERE e.kind IN ('assigned', 'transferred') AND e.agent_id IS NOT NULL))[1]
                               AS last_agent,
                           coalesce((array_agg(e.kind ORDER BY e.id DESC)
                                         FILTER (WHERE e.kind IN ('closed', 'reopened')))[1] = 'closed', false) AS closed,
                           max(e.at) FILTER (WHERE e.kind = 'closed') AS closed_at,
                           -- missed by the last close (a reopen starts again)
                           coalesce(max(e.id) FILTER (WHERE e.kind = 'missed')
                                        > max(e.id) FILTER (WHERE e.kind = 'reopened'),
                                    bool_or(e.kind = 'missed')) AS missed,
                           bool_or(e.kind = 'offline') AS offline,
                           bool_or(e.kind = 'bot') AS had_bot,
                           (array_agg(e.data->>'channel') FILTER (WHERE e.kind = 'started'))[1] AS channel,
                           count(*) FILTER (WHERE e.kind = 'transferred')::integer AS transfers,
                           count(*) FILTER (WHERE e.kind = 'reopened')::integer AS reopens,
                           count(*) FILTER (WHERE e.kind = 'escalated')::integer AS escalations,
                           (array_agg(e.data->>'rating' ORDER BY e.id DESC) FILTER (WHERE e.kind = 'rated'))[1]
                               AS rating,
                           (array_agg((e.data->>'comment')::boolean ORDER BY e.id DESC)
                               FILTER (WHERE e.kind = 'rated'))[1] AS has_comment
                      FROM conversation_events e
                     WHERE e.conversation_id = ANY (p_ids)
                     GROUP BY e.conversation_id) ev ON ev.conversation_id = c.id
              LEFT JOIN (SELECT mm.conversation_id, count(*)::integer AS messages,
                                count(*) FILTER (WHERE mm.author_kind = 'visitor')::integer AS visitor_messages,
                                count(*) FILTER (WHERE mm.author_kind IN ('agent', 'api'))::integer AS agent_messages,
                                count(*) FILTER (WHERE mm.author_kind = 'bot')::integer AS bot_messages
                           FROM messages mm
                          WHERE mm.conversation_id = ANY (p_ids) AND mm.kind = 'message'
                          GROUP BY mm.conversation_id) m ON m.conversation_id = c.id
             WHERE c.id = ANY (p_ids) AND ev.started_at IS NOT NULL) x
    ON CONFLICT (conversation_id) DO UPDATE SET
        started_at = excluded.started_at, site_id = excluded.site_id, team_id = excluded.team_id,
        agent_id = excluded.agent_id, channel = excluded.channel, closed = excluded.closed,
        outcome = excluded.outcome, queued_at = excluded.queued_at, assigned_at = excluded.assigned_at,
        first_reply_at = excluded.first_reply_at, closed_at = excluded.closed_at, wait = excluded.wait,
        first_response = excluded.first_response, handle = excluded.handle, resolution = excluded.resolution,
        wait_business = excluded.wait_business, first_response_business = excluded.first_response_business,
        resolution_business = excluded.resolution_business, business_due = excluded.business_due,
        messages = excluded.messages, visitor_messages = excluded.visitor_messages,
        agent_messages = excluded.agent_messages, bot_messages = excluded.bot_messages,
        transfers = excluded.transfers, reopens = excluded.reopens, escalations = excluded.escalations,
        rating = excluded.rating, has_comment = excluded.has_comment;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- Rebuilds up to p_limit queued conversations (the oldest queued first),
-- taking them off the queue. A caller that finds rows another caller is
-- rebuilding waits for it (and then finds them gone): a report that caught
-- up has seen them rebuilt. Returns how many it took.
CREATE OR REPLACE FUNCTION parley_report_catch_up(p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    WITH taken AS (
        DELETE FROM report_pending p
         WHERE p.conversation_id IN (SELECT q.conversation_id FROM report_pending q
                                      ORDER BY q.conversation_id LIMIT p_limit FOR UPDATE)
        RETURNING p.conversation_id)
    SELECT array_agg(conversation_id ORDER BY conversation_id) INTO ids FROM taken;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM parley_report_rebuild(ids);
    RETURN cardinality(ids);
END $$;

-- The rows whose business-time figures are due (chat/reports.c computes
-- them with the team's hours): the instants, in Unix seconds. Locked, so
-- that two nodes do not compute the same rows; the caller's transaction
-- writes them with parley_report_business_set.
CREATE OR REPLACE FUNCTION parley_report_business_due(p_limit integer)
RETURNS TABLE (conversation_id bigint, hours text, queued double precision, assigned double precision,
               replied double precision, started double precision, closed double precision)
LANGUAGE sql AS $$
    SELECT r.conversation_id, t.business_hours::text, extract(epoch FROM r.queued_at)::float8,
           extract(epoch FROM r.assigned_at)::float8, extract(epoch FROM r.first_reply_at)::float8,
           extract(epoch FROM r.started_at)::float8,
           CASE WHEN r.resolution IS NOT NULL THEN extract(epoch FROM r.closed_at)::float8 END
      FROM (SELECT x.* FROM report_conversations x WHERE x.business_due
             ORDER BY x.conversation_id LIMIT p_limit FOR UPDATE SKIP LOCKED) r
      JOIN teams t ON t.id = r.team_id
$$;

-- p_rows: a JSON array of [conversation, wait, first response, resolution]
-- in business seconds (null: none).
CREATE OR REPLACE FUNCTION parley_report_business_set(p_rows jsonb) RETURNS integer
LANGUAGE sql AS $$
    WITH u AS (
        UPDATE report_conversations r
           SET wait_business = CASE WHEN r.wait IS NOT NULL THEN (x.v->>1)::float8 END,
               first_response_business = CASE WHEN r.first_response IS NOT NULL THEN (x.v->>2)::float8 END,
               resolution_business = CASE WHEN r.resolution IS NOT NULL THEN (x.v->>3)::float8 END,
               business_due = false
          FROM jsonb_array_elements(p_rows) x(v)
         WHERE r.conversation_id = (x.v->>0)::bigint
        RETURNING 1)
    SELECT count(*)::integer FROM u
$$;

-- ------------------------------------------------------------ reports
--
-- A report's filter: the period [p_start, p_end) of start times, and
-- optional team, credited agent, site, label and channel (NULL: any).

-- The report rows a filter selects (inlined into each caller).
CREATE OR REPLACE FUNCTION parley_report_rows(p_start timestamptz, p_end timestamptz, p_team bigint, p_agent bigint,
                                              p_site bigint, p_label bigint, p_channel text)
RETURNS SETOF report_conversations
LANGUAGE sql STABLE AS $$
    SELECT r.* FROM report_conversations r
     WHERE r.started_at >= p_start AND r.started_at < p_end
       AND (p_team IS NULL OR r.team_id = p_team) AND (p_agent IS NULL OR r.agent_id = p_agent)
       AND (p_site IS NULL OR r.site_id = p_site) AND (p_channel IS NULL OR r.channel = p_channel)
       AND (p_label IS NULL OR EXISTS (SELECT 1 FROM conversation_labels cl
                                        WHERE cl.conversation_id = r.conversation_id AND cl.label_id = p_label))
$$;

-- A duration's figures: {count, avg, median, p90}, seconds rounded to the
-- millisecond (null: none).
CREATE OR REPLACE FUNCTION parley_report_dist(p_count bigint, p_avg double precision, p_pct double precision[])
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('count', p_count, 'avg', round(p_avg::numeric, 3),
                              'median', round(p_pct[1]::numeric, 3), 'p90', round(p_pct[2]::numeric, 3))
$$;

-- The metrics of the rows a filter selects, grouped by p_by: 'all' (one
-- group, key ''), 'agent' (the credited agent's id; rows without one are
-- left out), 'day', 'hour', 'week' (the local date, hour or week's Monday
-- in zone p_tz). One definition of every metric for the summary, the bars
-- per agent and the time series.
CREATE OR REPLACE FUNCTION parley_report_metrics(p_by text, p_tz text, p_start timestamptz, p_end timestamptz,
                                                 p_team bigint, p_agent bigint, p_site bigint, p_label bigint,
                                                 p_channel text)
RETURNS TABLE (k text, m jsonb)
LANGUAGE sql STABLE AS $$
    SELECT g.k, jsonb_build_object(
        'started', count(*), 'answered', count(*) FILTER (WHERE g.outcome = 'answered'),
        'missed', count(*) FILTER (WHERE g.outcome = 'missed'),
        'offline', count(*) FILTER (WHERE g.outcome = 'offline'),
        'bot', count(*) FILTER (WHERE g.outcome = 'bot'),
        'unanswered', count(*) FILTER (WHERE g.outcome = 'unanswered'),
        'wait', parley_report_dist(count(g.wait), avg(g.wait),
                                   percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY g.wait)),
        'wait_business', parley_report_dist(count(g.wait_business), avg(g.wait_business),
                                            percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY g.wait_business)),
        'first_response', parley_report_dist(count(g.first_response), avg(g.first_response),
                                             percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY g.first_response)),
        'first_response_business', parley_report_dist(count(g.first_response_business), avg(g.first_response_business),
                                                      percentile_cont(ARRAY[0.5, 0.9])
                                                          WITHIN GROUP (ORDER BY g.first_response_business)),
        'handle', parley_report_dist(count(g.handle), avg(g.handle),
                                     percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY g.handle)),
        'resolution', parley_report_dist(count(g.resolution), avg(g.resolution),
                                         percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY g.resolution)),
        'resolution_business', parley_report_dist(count(g.resolution_business), avg(g.resolution_business),
                                                  percentile_cont(ARRAY[0.5, 0.9])
                                                      WITHIN GROUP (ORDER BY g.resolution_business)),
        'messages', jsonb_build_object('total', sum(g.messages), 'per_conversation', round(avg(g.messages), 2),
                                       'visitor', sum(g.visitor_messages), 'agent', sum(g.agent_messages),
                                       'bot', sum(g.bot_messages)),
        'transfers', sum(g.transfers), 'reopens', sum(g.reopens), 'escalations', sum(g.escalations),
        'csat', jsonb_build_object(
            'ratings', count(g.rating), 'good', count(*) FILTER (WHERE g.rating = 'good'),
            'bad', count(*) FILTER (WHERE g.rating = 'bad'),
            'good_share', round((count(*) FILTER (WHERE g.rating = 'good'))::numeric / nullif(count(g.rating), 0), 4),
            'comments', count(*) FILTER (WHERE g.rating IS NOT NULL AND g.has_comment)))
      FROM (SELECT CASE p_by WHEN 'all' THEN ''
                             WHEN 'agent' THEN r.agent_id::text
                             WHEN 'day' THEN to_char(r.started_at AT TIME ZONE p_tz, 'YYYY-MM-DD')
                             WHEN 'hour' THEN to_char(r.started_at AT TIME ZONE p_tz, 'YYYY-MM-DD"T"HH24:00')
                             WHEN 'week' THEN to_char(date_trunc('week', r.started_at AT TIME ZONE p_tz), 'YYYY-MM-DD')
                   END AS k, r.*
              FROM parley_report_rows(p_start, p_end, p_team, p_agent, p_site, p_label, p_channel) r) g
     WHERE g.k IS NOT NULL
     GROUP BY g.k
$$;

-- Metrics with no conversation: parley_report_metrics's shape with zeros
-- and nulls (that function returns no group at all for no rows).
CREATE OR REPLACE FUNCTION parley_report_empty() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('started', 0, 'answered', 0, 'missed', 0, 'offline', 0, 'bot', 0, 'unanswered', 0,
               'wait', parley_report_dist(0, NULL, NULL), 'wait_business', parley_report_dist(0, NULL, NULL),
               'first_response', parley_report_dist(0, NULL, NULL),
               'first_response_business', parley_report_dist(0, NULL, NULL),
               'handle', parley_report_dist(0, NULL, NULL), 'resolution', parley_report_dist(0, NULL, NULL),
               'resolution_business', parley_report_dist(0, NULL, NULL),
               'messages', jsonb_build_object('total', 0, 'per_conversation', NULL, 'visitor', 0, 'agent', 0, 'bot', 0),
               'transfers', 0, 'reopens', 0, 'escalations', 0,
               'csat', jsonb_build_object('ratings', 0, 'good', 0, 'bad', 0, 'good_share', NULL, 'comments', 0))
$$;

-- A period's description: {from, to, tz, start, end}.
CREATE OR REPLACE FUNCTION parley_report_period(p_from date, p_to date, p_tz text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('from', p_from::text, 'to', p_to::text, 'tz', p_tz,
                              'start', parley_iso(p_from::timestamp AT TIME ZONE p_tz),
                              'end', parley_iso((p_to + 1)::timestamp AT TIME ZONE p_tz))
$$;

-- Proactive invitations sent in [p_start, p_end) (a site's; an agent's own)
-- and of those accepted.
CREATE OR REPLACE FUNCTION parley_report_invitations(p_start timestamptz, p_end timestamptz, p_agent bigint,
                                                     p_site bigint)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('sent', count(*), 'accepted', count(*) FILTER (WHERE i.status = 'accepted'))
      FROM invitations i
     WHERE i.created_at >= p_start AND i.created_at < p_end
       AND (p_agent IS NULL OR i.agent_id = p_agent) AND (p_site IS NULL OR i.site_id = p_site)
$$;

-- GET reports/summary: the period and the one before it, of as many days.
CREATE OR REPLACE FUNCTION parley_report_summary(p_from date, p_to date, p_tz text, p_team bigint, p_agent bigint,
                                                 p_site bigint, p_label bigint, p_channel text)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    days integer := p_to - p_from + 1;
    s timestamptz := p_from::timestamp AT TIME ZONE p_tz;
    e timestamptz := (p_to + 1)::timestamp AT TIME ZONE p_tz;
    ps timestamptz := (p_from - days)::timestamp AT TIME ZONE p_tz;
BEGIN
    RETURN jsonb_build_object(
        'period', parley_report_period(p_from, p_to, p_tz),
        'previous_period', parley_report_period(p_from - days, p_from - 1, p_tz),
        'current', coalesce((SELECT m FROM parley_report_metrics('all', p_tz, s, e, p_team, p_agent, p_site,
                                                                 p_label, p_channel)), parley_report_empty())
                   || jsonb_build_object('invitations', parley_report_invitations(s, e, p_agent, p_site)),
        'previous', coalesce((SELECT m FROM parley_report_metrics('all', p_tz, ps, s, p_team, p_agent, p_site,
                                                                  p_label, p_channel)), parley_report_empty())
                    || jsonb_build_object('invitations', parley_report_invitations(ps, s, p_agent, p_site)))::text;
END $$;

-- GET reports/timeseries: every bucket of the period (interval day, hour
-- or week), empty ones too.
CREATE OR REPLACE FUNCTION parley_report_timeseries(p_from date, p_to date, p_tz text, p_interval text,
                                                    p_team bigint, p_agent bigint, p_site bigint, p_label bigint,
                                                    p_channel text)
RETURNS text
LANGUAGE sql STABLE AS $$
    WITH b AS (
        SELECT CASE p_interval WHEN 'hour' THEN to_char(x, 'YYYY-MM-DD"T"HH24:00')
                               ELSE to_char(x, 'YYYY-MM-DD') END AS k, x
          FROM generate_series(CASE WHEN p_interval = 'week' THEN date_trunc('week', p_from::timestamp)
                                    ELSE p_from::timestamp END,
                               (p_to + 1)::timestamp - interval '1 second',
                               CASE p_interval WHEN 'hour' THEN interval '1 hour' WHEN 'week' THEN interval '1 week'
                                               ELSE interval '1 day' END) x),
    g AS (SELECT * FROM parley_report_metrics(p_interval, p_tz, p_from::timestamp AT TIME ZONE p_tz,
                                              (p_to + 1)::timestamp AT TIME ZONE p_tz, p_team, p_agent, p_site,
                                              p_label, p_channel)),
    z AS (SELECT parley_report_empty() AS m)
    SELECT jsonb_build_object(
        'period', parley_report_period(p_from, p_to, p_tz), 'interval', p_interval,
        'buckets', coalesce(jsonb_agg(jsonb_build_object(
            'start', b.k, 'started', mm->'started', 'answered', mm->'answered', 'missed', mm->'missed',
            'offline', mm->'offline', 'unanswered', mm->'unanswered', 'bot', mm->'bot',
            'wait_median', mm->'wait'->'median', 'first_response_median', mm->'first_response'->'median',
            'first_response_p90', mm->'first_response'->'p90', 'resolution_median', mm->'resolution'->'median',
            'ratings', mm->'csat'->'ratings', 'good', mm->'csat'->'good', 'good_share', mm->'csat'->'good_share')
            ORDER BY b.x), '[]'::jsonb))::text
      FROM b CROSS JOIN z LEFT JOIN g ON g.k = b.k
     CROSS JOIN LATERAL (SELECT coalesce(g.m, z.m) AS mm) q
$$;

-- GET reports/agents: a row per credited agent, busiest first.
CREATE OR REPLACE FUNCTION parley_report_agents(p_from date, p_to date, p_tz text, p_team bigint, p_agent bigint,
                                                p_site bigint, p_label bigint, p_channel text)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'period', parley_report_period(p_from, p_to, p_tz),
        'agents', coalesce(jsonb_agg(jsonb_build_object('agent_id', a.id, 'name', a.name) || g.m
                                     ORDER BY (g.m->>'started')::bigint DESC, a.name, a.id), '[]'::jsonb))::text
      FROM parley_report_metrics('agent', p_tz, p_from::timestamp AT TIME ZONE p_tz,
                                 (p_to + 1)::timestamp AT TIME ZONE p_tz, p_team, p_agent, p_site, p_label,
                                 p_channel) g
      JOIN agents a ON a.id = g.k::bigint
$$;

-- Agents' online/away spans clipped to [p_start, p_end): the agents of
-- team p_team (NULL: all), or agent p_agent alone.
CREATE OR REPLACE FUNCTION parley_report_presence(p_start timestamptz, p_end timestamptz, p_team bigint,
                                                  p_agent bigint)
RETURNS TABLE (agent_id bigint, state text, during tstzrange)
LANGUAGE sql STABLE AS $$
    SELECT s.agent_id, s.state, tstzrange(greatest(s.at, p_start), least(coalesce(s.next_at, now()), p_end), '[)')
      FROM (SELECT x.agent_id, x.state, x.at, lead(x.at) OVER (PARTITION BY x.agent_id ORDER BY x.at, x.id) AS next_at
              FROM agents a
              CROSS JOIN LATERAL (
                  -- the state at the start, and the changes in the period
                  (SELECT y.* FROM agent_activity y WHERE y.agent_id = a.id AND y.at < p_start
                    ORDER BY y.at DESC, y.id DESC LIMIT 1)
                  UNION ALL
                  SELECT y.* FROM agent_activity y WHERE y.agent_id = a.id AND y.at >= p_start AND y.at < p_end) x
             WHERE (p_agent IS NULL OR a.id = p_agent)
               AND (p_team IS NULL OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = p_team
                                                                            AND tm.agent_id = a.id))) s
     WHERE s.state IN ('online', 'away') AND greatest(s.at, p_start) < least(coalesce(s.next_at, now()), p_end)
$$;

-- GET reports/heatmap: conversations started per weekday (0 = Monday) and
-- hour of zone p_tz, and the mean number of agents online in that hour.
CREATE OR REPLACE FUNCTION parley_report_heatmap(p_from date, p_to date, p_tz text, p_team bigint, p_agent bigint,
                                                 p_site bigint, p_label bigint, p_channel text)
RETURNS text
LANGUAGE sql STABLE AS $$
    WITH span AS (SELECT p_from::timestamp AT TIME ZONE p_tz AS s, (p_to + 1)::timestamp AT TIME ZONE p_tz AS e),
    started AS (
        SELECT (extract(isodow FROM r.started_at AT TIME ZONE p_tz) - 1)::int AS d,
               extract(hour FROM r.started_at AT TIME ZONE p_tz)::int AS h, count(*) AS n
          FROM span, parley_report_rows(span.s, span.e, p_team, p_agent, p_site, p_label, p_channel) r
         GROUP BY 1, 2),
    -- each hour of the period: slot k is [start + k hours, start + k + 1
    -- hours), labelled by the zone's weekday and hour (a DST day has 23 or
    -- 25 of them)
    hours AS (SELECT k, (extract(isodow FROM (span.s + k * interval '1 hour') AT TIME ZONE p_tz) - 1)::int AS d,
                     extract(hour FROM (span.s + k * interval '1 hour') AT TIME ZONE p_tz)::int AS h
                FROM span, generate_series(0, (extract(epoch FROM span.e - span.s) / 3600)::int - 1) k),
    online AS (SELECT extract(epoch FROM lower(p.during) - span.s) AS a, extract(epoch FROM upper(p.during) - span.s) AS b
                 FROM span, parley_report_presence(span.s, span.e, p_team, p_agent) p
                WHERE p.state = 'online'),
    -- the seconds each online span covers of each slot it touches
    covered AS (SELECT k, sum(least(o.b, (k + 1) * 3600.0) - greatest(o.a, k * 3600.0)) AS seconds
                  FROM online o, generate_series(floor(o.a / 3600)::int, ceil(o.b / 3600)::int - 1) k
                 GROUP BY k),
    per_hour AS (SELECT hr.d, hr.h, coalesce(c.seconds, 0) / 3600.0 AS agents
                   FROM hours hr LEFT JOIN covered c ON c.k = hr.k),
    per_cell AS (SELECT ph.d, ph.h, round(avg(ph.agents)::numeric, 2) AS agents FROM per_hour ph GROUP BY 1, 2),
    cells AS (SELECT d.d, h.h FROM generate_series(0, 6) d(d), generate_series(0, 23) h(h))
    SELECT jsonb_build_object(
        'period', parley_report_period(p_from, p_to, p_tz),
        'started', (SELECT jsonb_agg(row ORDER BY d) FROM (
                        SELECT c.d, jsonb_agg(coalesce(st.n, 0) ORDER BY c.h) AS row
                          FROM cells c LEFT JOIN started st ON st.d = c.d AND st.h = c.h GROUP BY c.d) x),
        'agents_online', (SELECT jsonb_agg(row ORDER BY d) FROM (
                              SELECT c.d, jsonb_agg(coalesce(pc.agents, 0) ORDER BY c.h) AS row
                                FROM cells c LEFT JOIN per_cell pc ON pc.d = c.d AND pc.h = c.h GROUP BY c.d) x))::text
$$;

-- GET reports/activity: per agent (of team p_team, or agent p_agent
-- alone), within the period: seconds online and away, the conversations
-- owned, the most owned at one instant, and the owned time per online time.
CREATE OR REPLACE FUNCTION parley_report_activity(p_from date, p_to date, p_tz text, p_team bigint, p_agent bigint)
RETURNS text
LANGUAGE sql STABLE AS $$
    WITH span AS (SELECT p_from::timestamp AT TIME ZONE p_tz AS s, (p_to + 1)::timestamp AT TIME ZONE p_tz AS e),
    pres AS (
        SELECT p.agent_id, sum(extract(epoch FROM upper(p.during) - lower(p.during)))
                               FILTER (WHERE p.state = 'online') AS online,
               sum(extract(epoch FROM upper(p.during) - lower(p.during))) FILTER (WHERE p.state = 'away') AS away
          FROM span, parley_report_presence(span.s, span.e, p_team, p_agent) p
         GROUP BY p.agent_id),
    own AS (
        SELECT o.conversation_id, o.agent_id,
               o.during * tstzrange(span.s, least(span.e, now()), '[)') AS during
          FROM span, report_ownership o
         WHERE o.during && tstzrange(span.s, span.e, '[)')
           AND (p_agent IS NULL OR o.agent_id = p_agent)
           AND (p_team IS NULL OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = p_team
                                                                        AND tm.agent_id = o.agent_id))),
    owned AS (
        SELECT own.agent_id, count(DISTINCT own.conversation_id) AS chats,
               sum(extract(epoch FROM upper(own.during) - lower(own.during))) AS seconds
          FROM own GROUP BY own.agent_id),
    -- the most at one instant: a running count over starts (+1) and ends
    -- (-1), an end before a start at the same instant
    steps AS (
        SELECT x.agent_id, max(x.n) AS peak
          FROM (SELECT e.agent_id, sum(e.delta) OVER (PARTITION BY e.agent_id ORDER BY e.at, e.delta
                                                      ROWS UNBOUNDED PRECEDING) AS n
                  FROM (SELECT own.agent_id, lower(own.during) AS at, 1 AS delta FROM own WHERE NOT isempty(own.during)
                        UNION ALL
                        SELECT own.agent_id, upper(own.during), -1 FROM own WHERE NOT isempty(own.during)) e) x
         GROUP BY x.agent_id),
    who AS (SELECT agent_id FROM pres UNION SELECT agent_id FROM owned)
    SELECT jsonb_build_object(
        'period', parley_report_period(p_from, p_to, p_tz),
        'agents', coalesce(jsonb_agg(jsonb_build_object(
            'agent_id', a.id, 'name', a.name, 'online', round(coalesce(pres.online, 0)::numeric, 3),
            'away', round(coalesce(pres.away, 0)::numeric, 3), 'chats', coalesce(owned.chats, 0),
            'peak_concurrent', coalesce(steps.peak, 0),
            'avg_concurrent', round((owned.seconds / nullif(pres.online, 0))::numeric, 2))
            ORDER BY coalesce(pres.online, 0) DESC, a.name, a.id), '[]'::jsonb))::text
      FROM who JOIN agents a ON a.id = who.agent_id
      LEFT JOIN pres ON pres.agent_id = a.id LEFT JOIN owned ON owned.agent_id = a.id
      LEFT JOIN steps ON steps.agent_id = a.id
$$;

-- One conversation of a report as a row (the API's, and the CSV's columns
-- in this order: a json object keeps its keys' order).
CREATE OR REPLACE FUNCTION parley_report_row(r report_conversations) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'conversation_id', r.conversation_id, 'started_at', parley_iso(r.started_at),
        'closed_at', parley_iso(r.closed_at), 'status', c.status, 'outcome', r.outcome, 'channel', r.channel,
        'site_id', r.site_id, 'site', (SELECT s.name FROM sites s WHERE s.id = r.site_id),
        'team_id', r.team_id, 'team', (SELECT t.name FROM teams t WHERE t.id = r.team_id),
        'agent_id', r.agent_id, 'agent', (SELECT a.name FROM agents a WHERE a.id = r.agent_id),
        'labels', (SELECT string_agg(l.name, '; ' ORDER BY l.name) FROM conversation_labels cl
                     JOIN labels l ON l.id = cl.label_id WHERE cl.conversation_id = r.conversation_id),
        'wait', round(r.wait::numeric, 3), 'wait_business', round(r.wait_business::numeric, 3),
        'first_response', round(r.first_response::numeric, 3),
        'first_response_business', round(r.first_response_business::numeric, 3),
        'handle', round(r.handle::numeric, 3), 'resolution', round(r.resolution::numeric, 3),
        'resolution_business', round(r.resolution_business::numeric, 3),
        'messages', r.messages, 'visitor_messages', r.visitor_messages, 'agent_messages', r.agent_messages,
        'bot_messages', r.bot_messages, 'transfers', r.transfers, 'reopens', r.reopens,
        'escalations', r.escalations, 'rating', r.rating, 'rating_comment', c.rating_comment)
      FROM (SELECT 1) one LEFT JOIN conversations c ON c.id = r.conversation_id
$$;

-- A row as a CSV line (RFC 4180, with its CR LF), or the header of its
-- keys: a field is quoted when it holds a comma, a quote or a line break;
-- a text that a spreadsheet would run as a formula (=, +, -, @, tab,
-- carriage return first) gets a ' before it. (Written out here rather than
-- as a function per field: a function call per field was most of a row's
-- cost.)
CREATE OR REPLACE FUNCTION parley_csv_line(p_row json, p_header boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(CASE WHEN p_header THEN e.key
                           WHEN y.x IS NULL THEN ''
                           WHEN y.x ~ '[",\r\n]' THEN '"' || replace(y.x, '"', '""') || '"'
                           ELSE y.x END,
                      ',' ORDER BY e.ord) || E'\r\n'
      FROM json_each(p_row) WITH ORDINALITY AS e(key, value, ord)
     CROSS JOIN LATERAL (SELECT CASE WHEN json_typeof(e.value) = 'string' AND (e.value #>> '{}') ~ '^[=+\-@\t\r]'
                                     THEN '''' || (e.value #>> '{}') ELSE e.value #>> '{}' END AS x) y
$$;

-- The conversations behind a number: a filter's rows, narrowed to a local
-- day (p_day), a weekday and hour (p_dow 0 = Monday, p_hour), an outcome
-- or a rating, newest first (by start, then id), after cursor p_after
-- ("<started_at ISO>,<id>", from the previous page). p_limit NULL: all.
CREATE OR REPLACE FUNCTION parley_report_list(p_from date, p_to date, p_tz text, p_team bigint, p_agent bigint,
                                              p_site bigint, p_label bigint, p_channel text, p_day date,
                                              p_dow integer, p_hour integer, p_outcome text, p_rating text,
                                              p_after_at timestamptz, p_after_id bigint, p_limit integer)
RETURNS SETOF report_conversations
LANGUAGE sql STABLE AS $$
    SELECT r.*
      FROM parley_report_rows(p_from::timestamp AT TIME ZONE p_tz, (p_to + 1)::timestamp AT TIME ZONE p_tz,
                              p_team, p_agent, p_site, p_label, p_channel) r
     WHERE (p_day IS NULL OR (r.started_at >= p_day::timestamp AT TIME ZONE p_tz
                              AND r.started_at < (p_day + 1)::timestamp AT TIME ZONE p_tz))
       AND (p_dow IS NULL OR extract(isodow FROM r.started_at AT TIME ZONE p_tz) - 1 = p_dow)
       AND (p_hour IS NULL OR extract(hour FROM r.started_at AT TIME ZONE p_tz) = p_hour)
       AND (p_outcome IS NULL OR r.outcome = p_outcome) AND (p_rating IS NULL OR r.rating = p_rating)
       AND (p_after_at IS NULL OR (r.started_at, r.conversation_id) < (p_after_at, p_after_id))
     ORDER BY r.started_at DESC, r.conversation_id DESC
     LIMIT p_limit
$$;
