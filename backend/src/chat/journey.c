#include "chat/journey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum chat_err journey_online(struct db_pool *db, const struct actor *agent, const struct journey_filter *f, char **json)
{
    char limit[16];
    snprintf(limit, sizeof(limit), "%d", f->limit);
    const char *params[9] = {DB_ID(agent->id),
                             agent->privileged ? "true" : "false",
                             f->site_id ? DB_ID(f->site_id) : NULL,
                             f->country,
                             f->chatting < 0 ? NULL
                             : f->chatting   ? "true"
                                             : "false",
                             f->returning < 0 ? NULL
                             : f->returning   ? "true"
                                              : "false",
                             f->q && f->q[0] ? f->q : NULL,
                             limit,
                             NULL};
    return chat_err_of(db_query_text(
        db, json,
        /* The filter keeps ids only; the 200 rows shown are built after
         * the LIMIT (building 10,000 composite rows to show 200 cost most
         * of the time). */
        "WITH m AS ("
        "  SELECT o.visitor_id, o.visit_started_at FROM visitors_online o JOIN visitors v ON v.id = o.visitor_id"
        "   WHERE o.site_id IN (SELECT x.id FROM sites x WHERE parley_agent_sees_site($1::bigint, $2::boolean, x.id))"
        "     AND o.leaving_at IS NULL"
        "     AND ($3::bigint IS NULL OR o.site_id = $3::bigint)"
        "     AND ($4::text IS NULL OR v.country = $4)"
        "     AND ($5::boolean IS NULL OR EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = v.id"
        "                                           AND c.status <> 'closed') = $5::boolean)"
        "     AND ($6::boolean IS NULL OR (v.visits > 1) = $6::boolean)"
        "     AND ($7::text IS NULL OR strpos(lower(concat_ws(' ', o.page_url, o.page_title, v.name, v.email, v.city)),"
        "                                     lower($7)) > 0)),"
        " shown AS (SELECT visitor_id FROM m ORDER BY visit_started_at DESC, visitor_id DESC LIMIT $8::int)"
        " SELECT json_build_object('visitors', coalesce((SELECT json_agg(parley_online_json(o, v, s.name)"
        "                                                 ORDER BY o.visit_started_at DESC, v.id DESC)"
        "     FROM shown JOIN visitors_online o USING (visitor_id) JOIN visitors v ON v.id = o.visitor_id"
        "     JOIN sites s ON s.id = o.site_id), '[]'::json),"
        "   'total', (SELECT count(*) FROM m), 'now', parley_iso(now()))::text",
        8, params));
}

enum chat_err journey_context(struct db_pool *db, const struct actor *agent, long long visitor_id, char **json)
{
    char visits[8], pages[8];
    snprintf(visits, sizeof(visits), "%d", JOURNEY_VISITS);
    snprintf(pages, sizeof(pages), "%d", JOURNEY_PAGES);
    /* An API token reads every visitor (its scope was checked). */
    int api = agent->kind == ACTOR_API;
    const char *params[5] = {DB_ID(visitor_id), api ? NULL : DB_ID(agent->id), agent->privileged ? "true" : "false",
                             visits, pages};
    *json = NULL;
    int rc = db_query_text(
        db, json,
        "SELECT json_build_object("
        "  'visitor', jsonb_build_object('id', v.id, 'site_id', v.site_id, 'name', v.name, 'email', v.email,"
        "     'first_seen_at', parley_iso(v.created_at), 'last_seen_at', parley_iso(v.last_seen_at),"
        "     'online', EXISTS (SELECT 1 FROM visitors_online o WHERE o.visitor_id = v.id AND o.leaving_at IS NULL))"
        "     || parley_visitor_context_json(v)"
        "     || jsonb_build_object('conversations', parley_visitor_conversations(v.id)),"
        "  'visits', coalesce((SELECT json_agg(json_build_object('id', vi.id, 'started_at', parley_iso(vi.started_at),"
        "       'last_seen_at', parley_iso(greatest(vi.last_seen_at, o.last_beat_at)), 'referrer', vi.referrer,"
        "       'landing_url', vi.landing_url, 'utm', vi.utm, 'pages_count', vi.pages,"
        "       'location', parley_location_json(vi.country, vi.region, vi.city, vi.time_zone),"
        "       'pages', coalesce((SELECT json_agg(json_build_object('url', p.url, 'title', p.title,"
        "                            'at', parley_iso(p.viewed_at), 'seconds', p.seconds) ORDER BY p.viewed_at, p.id)"
        "                          FROM (SELECT * FROM page_views pv WHERE pv.visit_id = vi.id"
        "                                 ORDER BY pv.viewed_at DESC, pv.id DESC LIMIT $5::int) p), '[]'::json))"
        "       ORDER BY vi.started_at DESC)"
        "     FROM (SELECT * FROM visits x WHERE x.visitor_id = v.id ORDER BY x.started_at DESC LIMIT $4::int) vi"
        "     LEFT JOIN visitors_online o ON o.visit_id = vi.id), '[]'::json))::text"
        " FROM visitors v WHERE v.id = $1::bigint"
        "   AND ($2::bigint IS NULL OR parley_agent_sees_site($2::bigint, $3::boolean, v.site_id)"
        "        OR EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = v.id"
        "                     AND parley_agent_sees(c, $2::bigint, $3::boolean)))",
        5, params);
    if (rc == DB_OK && !*json)
        rc = CHAT_E_NOT_FOUND;
    return chat_err_of(rc);
}
