/* Webhook endpoints and their delivery log, for admins: the console under
 * /api/webhooks and the REST API under /api/v1/webhooks, one set of
 * handlers (api_require_admin). A secret is in the answer of create and
 * rotate only. */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/webhooks.h"
#include "core/jfield.h"
#include "http/auth.h"
#include "http/bearer.h"
#include "http/params.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define NO_ENDPOINT   "no such webhook endpoint"
#define NO_DELIVERY   "no such delivery"
#define BOTS_ENDPOINT "this endpoint belongs to a bot: change or delete it with the bot (/bots)"

/* An endpoint's answer, with the bot's endpoint refusal in words. */
static void answer_endpoint(struct http_req *req, int status, enum chat_err err, const char *json)
{
    if (err == CHAT_E_INVALID_STATE)
        http_send_problem(req, 409, "conflict", BOTS_ENDPOINT);
    else if (err == CHAT_OK && !json)
        http_send_empty(req, status);
    else
        api_answer(req, status, err, json, NO_ENDPOINT, NULL);
}

/* events: 1 to 9 known event types, no repeats, as JSON text (malloc'd). */
static int read_events(json_t *body, unsigned flags, char **out, struct problem_field *err)
{
    json_t *arr = json_object_get(body, "events"), *v, *w;
    size_t i, j;
    *out = NULL;
    err->field = "events";
    err->message = "must be a non-empty array of event types (see docs/webhooks.md), each at most once";
    if (!arr && !(flags & JF_REQUIRED))
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 16)
        return -1;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) || !webhooks_event_known(json_string_value(v)))
            return -1;
        json_array_foreach(arr, j, w) if (j < i && json_equal(v, w)) return -1;
    }
    *out = json_dumps(arr, JSON_COMPACT);
    return *out ? 0 : -1;
}

/* The fields of a create (required: url, events) or an update. Sends 400
 * and returns -1 on the first bad one; *events is the caller's to free. */
static int read_fields(struct http_req *req, json_t *body, int create, struct webhook_fields *f, char **events)
{
    static const char *const allowed[] = {"url", "description", "events", "include_notes", "enabled", NULL};
    struct problem_field err;
    char refusal[WEBHOOKS_REFUSAL_MAX];
    unsigned req_flag = create ? JF_REQUIRED : 0;
    f->include_notes = -1;
    f->enabled = -1;
    if (jfield_only(body, allowed, &err) != 0 ||
        jfield_string(body, "url", req_flag, 8, WEBHOOKS_URL_MAX, &f->url, &err) != 0 ||
        jfield_string(body, "description", JF_TEXT, 0, WEBHOOKS_DESCRIPTION_MAX, &f->description, &err) != 0 ||
        read_events(body, req_flag, events, &err) != 0 ||
        jfield_bool(body, "include_notes", 0, &f->include_notes, &err) != 0 ||
        jfield_bool(body, "enabled", 0, &f->enabled, &err) != 0)
        goto bad;
    f->events = *events;
    if (f->url && (err.message = webhooks_url_refusal(req->app->hooks, f->url, refusal, sizeof(refusal))) != NULL) {
        err.field = "url";
        goto bad;
    }
    return 0;
bad:
    http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
    return -1;
}

/* An endpoint's shape with its new secret, for create (201) and rotate. */
static void send_with_secret(struct http_req *req, int status, char *json, const char *secret)
{
    json_t *doc = json_loads(json, 0, NULL);
    if (!doc || json_object_set_new(doc, "secret", json_string(secret)) != 0) {
        json_decref(doc);
        http_send_problem(req, 500, "internal", NULL);
        return;
    }
    http_send_json(req, status, doc);
}

void api_webhooks_list(struct http_req *req)
{
    char *json = NULL;
    if (api_require_admin(req, 0) != 0)
        return;
    enum chat_err err = webhooks_list_json(req->app->hooks, &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

void api_webhooks_create(struct http_req *req)
{
    struct webhook_fields f = {0};
    char *events = NULL, *json = NULL, secret[WHSIG_SECRET_MAX];
    json_t *body = NULL;
    if (api_require_admin(req, 1) != 0 || !(body = http_read_json(req)))
        return;
    if (read_fields(req, body, 1, &f, &events) != 0)
        goto done;
    enum chat_err err = webhooks_create(req->app->hooks, &f, secret, &json);
    if (err == CHAT_OK)
        send_with_secret(req, 201, json, secret);
    else
        api_send_error(req, err, NULL, NULL);
    OPENSSL_cleanse(secret, sizeof(secret));
done:
    free(json);
    free(events);
    json_decref(body);
}

void api_webhooks_get(struct http_req *req)
{
    char *json = NULL;
    long long id;
    if (api_require_admin(req, 0) != 0 || params_path_id(req, NO_ENDPOINT, &id) != 0)
        return;
    enum chat_err err = webhooks_get_json(req->app->hooks, id, &json);
    api_answer(req, 200, err, json, NO_ENDPOINT, NULL);
    free(json);
}

void api_webhooks_update(struct http_req *req)
{
    struct webhook_fields f = {0};
    char *events = NULL, *json = NULL;
    long long id;
    json_t *body = NULL;
    if (api_require_admin(req, 1) != 0 || params_path_id(req, NO_ENDPOINT, &id) != 0 || !(body = http_read_json(req)))
        return;
    if (read_fields(req, body, 0, &f, &events) == 0) {
        enum chat_err err = webhooks_update(req->app->hooks, id, &f, &json);
        answer_endpoint(req, 200, err, json);
    }
    free(json);
    free(events);
    json_decref(body);
}

void api_webhooks_delete(struct http_req *req)
{
    long long id;
    if (api_require_admin(req, 1) != 0 || params_path_id(req, NO_ENDPOINT, &id) != 0)
        return;
    answer_endpoint(req, 204, webhooks_delete(req->app->hooks, id), NULL);
}

void api_webhooks_rotate(struct http_req *req)
{
    static const char *const allowed[] = {"grace_seconds", NULL};
    struct problem_field perr;
    char *json = NULL, secret[WHSIG_SECRET_MAX];
    long long id, grace = 86400;
    json_t *body = NULL;
    if (api_require_admin(req, 1) != 0 || params_path_id(req, NO_ENDPOINT, &id) != 0 || !(body = http_read_json(req)))
        return;
    if (jfield_only(body, allowed, &perr) != 0 ||
        jfield_int(body, "grace_seconds", 0, 0, WEBHOOKS_GRACE_MAX, &grace, &perr) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &perr, 1);
        goto done;
    }
    enum chat_err err = webhooks_rotate(req->app->hooks, id, (int)grace, secret, &json);
    if (err == CHAT_OK)
        send_with_secret(req, 200, json, secret);
    else
        api_send_error(req, err, NO_ENDPOINT, NULL);
    OPENSSL_cleanse(secret, sizeof(secret));
done:
    free(json);
    json_decref(body);
}

void api_webhooks_test(struct http_req *req)
{
    char *json = NULL;
    long long id;
    if (api_require_admin(req, 1) != 0 || params_path_id(req, NO_ENDPOINT, &id) != 0)
        return;
    enum chat_err err = webhooks_send_test(req->app->hooks, id, &json);
    api_answer(req, 202, err, json, NO_ENDPOINT, NULL);
    free(json);
}

void api_webhooks_deliveries(struct http_req *req)
{
    char *json = NULL, status[16] = "", limit[24], before[24];
    long long id;
    if (api_require_admin(req, 0) != 0 || params_path_id(req, NO_ENDPOINT, &id) != 0 ||
        params_query(req, "status", status, sizeof(status)) < 0 || params_int(req, "limit", 1, 100, limit) < 0 ||
        params_int(req, "before", 1, 999999999999999999LL, before) < 0)
        return;
    if (status[0] && strcmp(status, "pending") != 0 && strcmp(status, "delivered") != 0 &&
        strcmp(status, "failed") != 0 && strcmp(status, "cancelled") != 0) {
        params_invalid(req, "status", "must be pending, delivered, failed or cancelled");
        return;
    }
    enum chat_err err = webhooks_deliveries_json(req->app->hooks, id, status[0] ? status : NULL,
                                                 limit[0] ? atoi(limit) : 50, before[0] ? atoll(before) : 0, &json);
    api_answer(req, 200, err, json, NO_ENDPOINT, NULL);
    free(json);
}

void api_webhooks_delivery(struct http_req *req)
{
    char *json = NULL;
    long long id, did;
    if (api_require_admin(req, 0) != 0 || params_path_id(req, NO_ENDPOINT, &id) != 0 ||
        params_path_id_at(req, 1, NO_DELIVERY, &did) != 0)
        return;
    enum chat_err err = webhooks_delivery_json(req->app->hooks, id, did, &json);
    api_answer(req, 200, err, json, NO_DELIVERY, NULL);
    free(json);
}

void api_webhooks_redeliver(struct http_req *req)
{
    char *json = NULL;
    long long id, did;
    if (api_require_admin(req, 1) != 0 || params_path_id(req, NO_ENDPOINT, &id) != 0 ||
        params_path_id_at(req, 1, NO_DELIVERY, &did) != 0)
        return;
    enum chat_err err = webhooks_redeliver(req->app->hooks, id, did, &json);
    api_answer(req, 202, err, json, NO_DELIVERY, NULL);
    free(json);
}
