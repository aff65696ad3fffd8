/* Agent bots, for admins: the console under /api/bots and the REST API
 * under /api/v1/bots, one set of handlers (api_require_admin). Creating a
 * bot answers, once, its endpoint's signing secret and the API token it
 * replies with. */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/bots.h"
#include "core/jfield.h"
#include "core/token.h"
#include "http/params.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define NO_BOT "no such bot"

/* obj[key]: ids that name rows (sites or teams) as JSON text (malloc'd);
 * absent: NULL. -1 with the answer sent. */
static int read_links(struct http_req *req, json_t *body, const char *key, int teams, char **out)
{
    long long *ids = NULL;
    int n = -1, rc = -1;
    struct problem_field err;
    *out = NULL;
    if (api_read_ids(body, key, &ids, &n, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        return -1;
    }
    if (n < 0)
        return 0;
    if (teams ? api_require_teams(req, ids, n, key) != 0 : api_require_sites(req, ids, n, key) != 0)
        goto done;
    json_t *arr = json_array();
    for (int i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_integer(ids[i]));
    *out = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!*out)
        http_send_problem(req, 500, "internal", NULL);
    rc = *out ? 0 : -1;
done:
    free(ids);
    return rc;
}

/* The fields of a create (name and url required) or an update; -1 with the
 * answer sent. *sites and *teams are the caller's to free. */
static int read_fields(struct http_req *req, json_t *body, int create, struct bot_fields *f, char **sites, char **teams)
{
    static const char *const allowed[] = {"name", "url", "timeout_seconds", "enabled", "site_ids", "team_ids", NULL};
    struct problem_field err;
    char refusal[WEBHOOKS_REFUSAL_MAX];
    long long timeout = -1;
    unsigned need = create ? JF_REQUIRED : 0;
    f->timeout_seconds = -1;
    f->enabled = -1;
    if (jfield_only(body, allowed, &err) != 0 ||
        jfield_string(body, "name", need | JF_NAME, 1, BOTS_NAME_MAX, &f->name, &err) != 0 ||
        jfield_string(body, "url", need, 8, WEBHOOKS_URL_MAX, &f->url, &err) != 0 ||
        jfield_int(body, "timeout_seconds", 0, 5, 86400, &timeout, &err) != 0 ||
        jfield_bool(body, "enabled", 0, &f->enabled, &err) != 0)
        goto bad;
    f->timeout_seconds = (int)timeout;
    if (f->url && (err.message = webhooks_url_refusal(req->app->hooks, f->url, refusal, sizeof(refusal))) != NULL) {
        err.field = "url";
        goto bad;
    }
    if (read_links(req, body, "site_ids", 0, sites) != 0 || read_links(req, body, "team_ids", 1, teams) != 0)
        return -1;
    f->sites = *sites;
    f->teams = *teams;
    return 0;
bad:
    http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
    return -1;
}

void api_bots_list(struct http_req *req)
{
    char *json = NULL;
    if (api_require_admin(req, 0) != 0)
        return;
    enum chat_err err = bots_list_json(req->app, &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

void api_bots_create(struct http_req *req)
{
    struct bot_fields f = {0};
    char *sites = NULL, *teams = NULL, *json = NULL, secret[WHSIG_SECRET_MAX], token[TOKEN_MAX_LEN];
    json_t *body = NULL, *doc = NULL;
    if (api_require_admin(req, 1) != 0 || !(body = http_read_json(req)))
        return;
    if (read_fields(req, body, 1, &f, &sites, &teams) != 0)
        goto done;
    enum chat_err err = bots_create(req->app, &f, secret, token, sizeof(token), &json);
    if (err != CHAT_OK) {
        api_send_error(req, err, NULL, "a bot with this name exists");
        goto done;
    }
    if (!(doc = json_loads(json, 0, NULL)) || json_object_set_new(doc, "secret", json_string(secret)) != 0 ||
        json_object_set_new(doc, "token", json_string(token)) != 0) {
        http_send_problem(req, 500, "internal", NULL);
        goto done;
    }
    http_send_json(req, 201, doc);
    doc = NULL;
done:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(token, sizeof(token));
    json_decref(doc);
    free(json);
    free(sites);
    free(teams);
    json_decref(body);
}

void api_bots_get(struct http_req *req)
{
    char *json = NULL;
    long long id;
    if (api_require_admin(req, 0) != 0 || params_path_id(req, NO_BOT, &id) != 0)
        return;
    enum chat_err err = bots_get_json(req->app, id, &json);
    api_answer(req, 200, err, json, NO_BOT, NULL);
    free(json);
}

void api_bots_update(struct http_req *req)
{
    struct bot_fields f = {0};
    char *sites = NULL, *teams = NULL, *json = NULL;
    long long id;
    json_t *body = NULL;
    if (api_require_admin(req, 1) != 0 || params_path_id(req, NO_BOT, &id) != 0 || !(body = http_read_json(req)))
        return;
    if (read_fields(req, body, 0, &f, &sites, &teams) == 0) {
        enum chat_err err = bots_update(req->app, id, &f, &json);
        api_answer(req, 200, err, json, NO_BOT, "a bot with this name exists");
    }
    free(json);
    free(sites);
    free(teams);
    json_decref(body);
}

void api_bots_delete(struct http_req *req)
{
    long long id;
    struct assign_work work = {.nteams = 0};
    if (api_require_admin(req, 1) != 0 || params_path_id(req, NO_BOT, &id) != 0)
        return;
    enum chat_err err = bots_delete(req->app, id, &work);
    if (err == CHAT_OK)
        http_send_empty(req, 204);
    else
        api_send_error(req, err, NO_BOT, NULL);
    assign_run(req->app, &work);
}

void api_bots_token(struct http_req *req)
{
    char token[TOKEN_MAX_LEN];
    long long id;
    if (api_require_admin(req, 1) != 0 || params_path_id(req, NO_BOT, &id) != 0)
        return;
    enum chat_err err = bots_new_token(req->app, id, token, sizeof(token));
    if (err == CHAT_OK)
        http_send_json(req, 200, json_pack("{s:s}", "token", token));
    else
        api_send_error(req, err, NO_BOT, NULL);
    OPENSSL_cleanse(token, sizeof(token));
}
