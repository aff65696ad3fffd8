/* REST API v1, the workspace around conversations (conversations:read):
 * a visitor with their conversation ids, and the lists of agents, teams
 * and sites (without identity secrets). */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/agents.h"
#include "chat/journey.h"
#include "chat/sites.h"
#include "chat/teams.h"
#include "chat/visitors.h"
#include "http/bearer.h"
#include "http/params.h"

#include <stdlib.h>

void api_v1_visitor_get(struct http_req *req)
{
    struct apitoken t;
    char *json = NULL;
    long long id;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0 ||
        params_path_id(req, "no such visitor", &id) != 0)
        return;
    enum chat_err err = visitors_get_json(req->app->db, id, &json);
    api_answer(req, 200, err, json, "no such visitor", NULL);
    free(json);
}

void api_v1_visitor_journey(struct http_req *req)
{
    struct apitoken t;
    struct actor a;
    char *json = NULL;
    long long id;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0 ||
        params_path_id(req, "no such visitor", &id) != 0)
        return;
    api_token_actor(&t, &a);
    enum chat_err err = journey_context(req->app->db, &a, id, &json);
    api_answer(req, 200, err, json, "no such visitor", NULL);
    free(json);
}

void api_v1_agents(struct http_req *req)
{
    struct apitoken t;
    char *json = NULL;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0)
        return;
    enum chat_err err = agents_list_json(req->app->db, "data", &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

void api_v1_teams(struct http_req *req)
{
    struct apitoken t;
    char *json = NULL;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0)
        return;
    enum chat_err err = teams_list_json(req->app->db, req->app->zones, "data", &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

void api_v1_sites(struct http_req *req)
{
    struct apitoken t;
    char *json = NULL;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0)
        return;
    enum chat_err err = sites_list_json(req->app->db, "data", 0, &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}
