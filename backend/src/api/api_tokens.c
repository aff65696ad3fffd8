/* The console's API-token resource (admins): list, create (the secret is
 * shown once, in the answer), revoke. */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/apitokens.h"
#include "core/jfield.h"
#include "http/auth.h"
#include "http/params.h"

#include <stdlib.h>

void api_tokens_list(struct http_req *req)
{
    struct session s;
    char *json = NULL;
    if (auth_require_role(req, &s, 0, AUTH_ROLE_ADMIN) != 0)
        return;
    enum chat_err err = apitokens_list_json(req->app->db, &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

/* scopes: a non-empty array of known scope names, no repeats. */
static int read_scopes(json_t *body, char **out, struct problem_field *err)
{
    json_t *arr = json_object_get(body, "scopes"), *v;
    unsigned seen = 0;
    size_t i;
    err->field = "scopes";
    err->message = "must be a non-empty array of conversations:read, conversations:write, transcripts:read, admin";
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 4)
        return -1;
    json_array_foreach(arr, i, v)
    {
        unsigned bit = json_is_string(v) ? apitokens_scope_bit(json_string_value(v)) : 0;
        if (!bit || (seen & bit))
            return -1;
        seen |= bit;
    }
    *out = json_dumps(arr, JSON_COMPACT);
    return *out ? 0 : -1;
}

void api_tokens_create(struct http_req *req)
{
    static const char *const fields[] = {"name", "scopes", "expires_in_days", NULL};
    struct session s;
    struct problem_field err;
    const char *name = NULL;
    char *scopes = NULL, token[TOKEN_MAX_LEN];
    long long days = 0;
    json_t *body, *doc = NULL;
    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_ADMIN) != 0 || !(body = http_read_json(req)))
        return;
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "name", JF_REQUIRED | JF_NAME, 1, APITOKEN_NAME_MAX, &name, &err) != 0 ||
        read_scopes(body, &scopes, &err) != 0 || jfield_int(body, "expires_in_days", 0, 1, 3650, &days, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    if (apitokens_create(req->app->db, name, scopes, (int)days, s.agent.id, token, &doc) != CHAT_OK) {
        http_send_problem(req, 503, "unavailable", "the token was not created");
        goto done;
    }
    json_object_set_new(doc, "token", json_string(token));
    http_send_json(req, 201, json_pack("{s:O}", "token", doc));
done:
    json_decref(doc);
    free(scopes);
    json_decref(body);
}

void api_tokens_revoke(struct http_req *req)
{
    struct session s;
    long long id;
    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_ADMIN) != 0 || params_path_id(req, NULL, &id) != 0)
        return;
    enum chat_err err = apitokens_revoke(req->app->db, id);
    if (err == CHAT_OK)
        http_send_empty(req, 204);
    else if (err == CHAT_E_INVALID_STATE)
        http_send_problem(req, 409, "conflict", "this token belongs to a bot: give the bot a new token (Admin → Bots)");
    else
        api_send_error(req, err, NULL, NULL);
}
