#include "api/api_common.h"
#include "http/bearer.h"

#include "chat/agents.h"
#include "chat/sites.h"
#include "chat/teams.h"
#include "chat/visitors.h"
#include "http/auth.h"
#include "http/params.h"
#include "core/log.h"
#include "db/db.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void api_send_json_text(struct http_req *req, int status, const char *json)
{
    http_send_body(req, status, "application/json; charset=utf-8", json, strlen(json));
}

void api_send_error(struct http_req *req, enum chat_err err, const char *not_found, const char *taken)
{
    const struct chat_err_desc *d = chat_err_desc(err);
    const char *detail = d->text;
    if (err == CHAT_E_NOT_FOUND)
        detail = not_found;
    else if (err == CHAT_E_TAKEN)
        detail = taken;
    else if (err == CHAT_E_UNAVAILABLE)
        detail = "the database is not reachable"; /* what the API documents say */
    http_send_problem(req, d->http_status, d->slug, detail);
}

void api_answer(struct http_req *req, int status, enum chat_err err, const char *json, const char *not_found,
                const char *taken)
{
    if (err == CHAT_OK)
        api_send_json_text(req, status, json);
    else
        api_send_error(req, err, not_found, taken);
}

int api_read_ids(json_t *obj, const char *key, long long **ids, int *n, struct problem_field *err)
{
    json_t *arr = json_object_get(obj, key), *v;
    size_t i;
    *ids = NULL;
    *n = -1;
    if (!arr)
        return 0;
    err->field = key;
    if (!json_is_array(arr) || json_array_size(arr) > API_MAX_IDS) {
        err->message = "must be an array of at most 200 ids";
        return -1;
    }
    long long *out = malloc((json_array_size(arr) + 1) * sizeof(*out)); /* + 1: never malloc(0) */
    if (!out) {
        err->message = "could not be read";
        return -1;
    }
    json_array_foreach(arr, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            free(out);
            err->message = "must contain positive integer ids";
            return -1;
        }
        out[i] = (long long)json_integer_value(v);
    }
    *ids = out;
    *n = (int)json_array_size(arr);
    return 0;
}

typedef enum chat_err (*ids_exist_fn)(struct db_pool *db, const long long *ids, int n, int *all);

static int require_ids(struct http_req *req, ids_exist_fn exist, const char *missing, const long long *ids, int n,
                       const char *field)
{
    int all = 0;
    if (n < 0)
        return 0;
    if (exist(req->app->db, ids, n, &all) != CHAT_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return -1;
    }
    if (!all) {
        struct problem_field f = {field, missing};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        return -1;
    }
    return 0;
}

int api_require_teams(struct http_req *req, const long long *ids, int n, const char *field)
{
    return require_ids(req, teams_all_exist, "names a team that does not exist", ids, n, field);
}

int api_require_agents(struct http_req *req, const long long *ids, int n, const char *field)
{
    return require_ids(req, agents_all_exist, "names an agent that does not exist", ids, n, field);
}

int api_require_sites(struct http_req *req, const long long *ids, int n, const char *field)
{
    return require_ids(req, sites_all_exist, "names a site that does not exist", ids, n, field);
}

void api_token_actor(const struct apitoken *t, struct actor *a)
{
    memset(a, 0, sizeof(*a));
    /* A bot's token speaks as the bot. */
    a->kind = t->bot_id ? ACTOR_BOT : ACTOR_API;
    a->id = t->bot_id ? t->bot_id : t->id;
    a->privileged = 1;
}

void api_agent_actor(const struct session *s, struct actor *a)
{
    memset(a, 0, sizeof(*a));
    a->kind = ACTOR_AGENT;
    a->id = s->agent.id;
    a->privileged = auth_role_rank(s->agent.role) >= AUTH_ROLE_SUPERVISOR;
}

int api_want_notes(struct http_req *req, const struct apitoken *t, int *notes)
{
    if (params_bool(req, "include_notes", notes) < 0)
        return -1;
    if (*notes && !apitokens_has(t, APITOKEN_SCOPE_ADMIN)) {
        http_send_problem(req, 403, "insufficient_scope", "include_notes needs the admin scope");
        return -1;
    }
    return 0;
}

int api_require_admin(struct http_req *req, int change)
{
    if (strncmp(req->path, "/api/v1/", 8) == 0) {
        struct apitoken t;
        return bearer_require_scope(req, &t, APITOKEN_SCOPE_ADMIN);
    }
    struct session s;
    return auth_require_role(req, &s, change ? AUTH_STATE_CHANGE : 0, AUTH_ROLE_ADMIN);
}

void api_answer_move(struct http_req *req, enum chat_err err, json_t *result, const struct assign_work *work)
{
    if (err == CHAT_OK) {
        http_send_json(req, 200, result);
    } else {
        const struct chat_err_desc *d = chat_err_desc(err);
        json_decref(result);
        http_send_problem(req, d->http_status, d->slug, d->text);
    }
    if (work)
        assign_run(req->app, work);
}

struct row_stream {
    struct http_req *req;
    const char *sep;
    int gone; /* a write failed: the client is gone */
};

static int stream_row(const char *text, size_t len, void *arg)
{
    struct row_stream *st = arg;
    if (http_stream_write(st->req, text, len) != 0 || http_stream_write(st->req, st->sep, strlen(st->sep)) != 0)
        st->gone = 1;
    return st->gone ? -1 : 0;
}

void api_stream_rows(struct http_req *req, struct db_cursor *cur, int batch, const char *content_type, const char *head,
                     const char *sep, const char *what)
{
    struct row_stream st = {.req = req, .sep = sep};
    int more = 1, failed = 0;
    http_stream_begin(req, 200, content_type);
    if (head && http_stream_write(req, head, strlen(head)) != 0)
        failed = 1;
    while (more && !failed)
        failed = db_cursor_next(cur, batch, stream_row, &st, &more) != DB_OK || st.gone;
    if (!failed)
        http_stream_end(req);
    else
        log_warn("streamed answer ended early", "what", what, "rid", req->request_id);
    db_cursor_close(cur); /* rolls the read-only transaction back */
}

int api_visitor_from_bearer(struct http_req *req, const char *token, struct actor *a)
{
    struct visitor_session vs;
    enum visitor_auth result;
    const char *origin = http_header(req, "Origin");
    if (visitors_authenticate(req->app->db, token, origin ? origin : "", req->app->cfg->public_origin, &vs, &result) !=
            CHAT_OK ||
        result != VISITOR_AUTH_OK)
        return -1;
    memset(a, 0, sizeof(*a));
    a->kind = ACTOR_VISITOR;
    a->id = vs.visitor_id;
    a->site_id = vs.site_id;
    visitors_session_free(&vs);
    return 0;
}

const char *api_bearer_token(struct http_req *req)
{
    const char *h = http_header(req, "Authorization");
    return h && strncasecmp(h, "Bearer ", 7) == 0 ? h + 7 : NULL;
}
