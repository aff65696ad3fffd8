/* The console's conversation resources: search/list (the Closed view with
 * search, and any status) and one conversation with its visitor panel.
 * Regular agents see the conversations of their teams and those assigned
 * to them; supervisors and admins see all. Messages come over the socket
 * (sync); this is the browsing side. */
#include "api/api.h"
#include "http/params.h"
#include "http/auth.h"
#include "db/db.h"
#include "core/problem.h"

#include <civetweb.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The visibility rule for agent $1 (privileged $2) over conversations c. */
#define AGENT_SEES                                                                                                     \
    " ($2::boolean OR c.assignee_id = $1::bigint OR EXISTS (SELECT 1 FROM team_members tm"                             \
    "   WHERE tm.team_id = c.team_id AND tm.agent_id = $1::bigint))"

/* Copies the decoded query parameter into buf; leaves buf (its default)
 * alone when the parameter is absent. A value too long for buf is cut to
 * its size and then refused by the callers' length checks. */
static const char *query_param(struct http_req *req, const char *name, char *buf, size_t len)
{
    const char *qs = http_query_string(req);
    char value[512];
    if (!qs || mg_get_var(qs, strlen(qs), name, value, sizeof(value)) < 0)
        return NULL;
    size_t n = strlen(value);
    if (n >= len)
        n = len - 1;
    memcpy(buf, value, n);
    buf[n] = '\0';
    return buf;
}

void api_conversations_list(struct http_req *req)
{
    struct session s;
    char status[16] = "", q[512] = "", before[24] = "", limit[8] = "50", agent[24];
    PGresult *res = NULL;
    if (auth_require_agent(req, &s, 0) != 0)
        return;
    query_param(req, "status", status, sizeof(status));
    if (status[0] && strcmp(status, "queued") != 0 && strcmp(status, "assigned") != 0 &&
        strcmp(status, "closed") != 0 && strcmp(status, "open") != 0) {
        struct problem_field f = {"status", "must be queued, assigned, closed or open"};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        return;
    }
    if (query_param(req, "q", q, sizeof(q)) && strlen(q) > 200) {
        struct problem_field f = {"q", "is too long"};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        return;
    }
    if (query_param(req, "before", before, sizeof(before)) &&
        (strspn(before, "0123456789") != strlen(before) || !before[0] || strlen(before) > 18)) {
        struct problem_field f = {"before", "must be a conversation id"};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        return;
    }
    if (query_param(req, "limit", limit, sizeof(limit)) &&
        (strspn(limit, "0123456789") != strlen(limit) || atoi(limit) < 1 || atoi(limit) > 100)) {
        struct problem_field f = {"limit", "must be 1 to 100"};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        return;
    }
    snprintf(agent, sizeof(agent), "%lld", s.agent.id);
    /* q matches the visitor's name or email, or any message text; LIKE's
     * wildcards in q are escaped so they match themselves. */
    const char *params[6] = {
        agent, strcmp(s.agent.role, "agent") != 0 ? "true" : "false", status, q, before[0] ? before : NULL, limit};
    if (db_query(req->app->db, &res,
                 "WITH p AS (SELECT '%' || replace(replace(replace($4, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'"
                 "           AS pat),"
                 " hits AS (SELECT c.* FROM conversations c, p WHERE" AGENT_SEES
                 "  AND ($3 = '' OR ($3 = 'open' AND c.status <> 'closed') OR c.status = $3)"
                 "  AND ($5::bigint IS NULL OR c.id < $5::bigint)"
                 "  AND ($4 = '' OR EXISTS (SELECT 1 FROM visitors v WHERE v.id = c.visitor_id"
                 "        AND (v.name ILIKE p.pat OR v.email ILIKE p.pat))"
                 "      OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.kind <> 'event'"
                 "        AND m.body ILIKE p.pat))"
                 "  ORDER BY c.id DESC LIMIT $6::int + 1)"
                 " SELECT json_build_object("
                 "  'conversations', coalesce((SELECT json_agg(x.j ORDER BY x.id DESC) FROM"
                 "    (SELECT h.id, parley_conversation_json(h::conversations, 'agent') ||"
                 "       jsonb_build_object('last_message', (SELECT left(m.body, 200) FROM messages m"
                 "         WHERE m.conversation_id = h.id AND m.kind = 'message' ORDER BY m.seq DESC LIMIT 1)) AS j"
                 "     FROM hits h ORDER BY h.id DESC LIMIT $6::int) x), '[]'::json),"
                 "  'next', CASE WHEN (SELECT count(*) FROM hits) > $6::int"
                 "    THEN (SELECT min(id) FROM (SELECT id FROM hits ORDER BY id DESC LIMIT $6::int) y)::text END"
                 " )::text",
                 6, params) != DB_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return;
    }
    const char *json = db_get_str(res, 0, 0);
    http_send_body(req, 200, "application/json; charset=utf-8", json, strlen(json));
    PQclear(res);
}

void api_conversation_get(struct http_req *req)
{
    struct session s;
    char agent[24];
    PGresult *res = NULL;
    long long id;
    if (auth_require_agent(req, &s, 0) != 0 || params_path_id(req, NULL, &id) != 0)
        return;
    snprintf(agent, sizeof(agent), "%lld", s.agent.id);
    const char *params[3] = {agent, strcmp(s.agent.role, "agent") != 0 ? "true" : "false", req->params[0]};
    /* Not visible and not existing look the same: 404. */
    if (db_query(req->app->db, &res,
                 "SELECT json_build_object('conversation', parley_conversation_json(c, 'agent'),"
                 "  'earlier', coalesce((SELECT json_agg(parley_conversation_json(e, 'agent') ORDER BY e.id DESC)"
                 "    FROM (SELECT * FROM conversations e WHERE e.visitor_id = c.visitor_id AND e.id <> c.id"
                 "          ORDER BY e.id DESC LIMIT 20) e), '[]'::json))::text"
                 " FROM conversations c WHERE c.id = $3::bigint AND" AGENT_SEES,
                 3, params) != DB_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return;
    }
    if (PQntuples(res) != 1) {
        http_send_problem(req, 404, "not_found", NULL);
    } else {
        const char *json = db_get_str(res, 0, 0);
        http_send_body(req, 200, "application/json; charset=utf-8", json, strlen(json));
    }
    PQclear(res);
}
