/* The console's conversation resources: search/list (the Closed view with
 * search, and any status) and one conversation with its visitor panel.
 * Regular agents see the conversations of their teams and those assigned
 * to them; supervisors and admins see all. Messages come over the socket
 * (sync); this is the browsing side (chat/transcripts). */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/transcripts.h"
#include "core/problem.h"
#include "http/auth.h"
#include "http/params.h"

#include <civetweb.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    char status[16] = "", q[512] = "", before[24] = "", limit[8] = "50", *json = NULL;
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
    char country[3];
    if (params_country(req, "country", country) < 0)
        return;
    struct transcripts_search search = {.agent_id = s.agent.id,
                                        .country = country[0] ? country : NULL,
                                        .privileged = strcmp(s.agent.role, "agent") != 0,
                                        .status = status,
                                        .q = q,
                                        .before = strtoll(before, NULL, 10),
                                        .limit = atoi(limit)};
    enum chat_err err = transcripts_search(req->app->db, &search, &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

void api_conversation_get(struct http_req *req)
{
    struct session s;
    char *json = NULL;
    long long id;
    if (auth_require_agent(req, &s, 0) != 0 || params_path_id(req, NULL, &id) != 0)
        return;
    /* Not visible and not existing look the same: 404. */
    enum chat_err err = transcripts_for_agent(req->app->db, s.agent.id, strcmp(s.agent.role, "agent") != 0, id, &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}
