/* The console's API-token resource (admins): list, create (the secret is
 * shown once, in the answer), revoke. */
#include "api/api.h"
#include "http/params.h"
#include "http/apitokens.h"
#include "http/auth.h"
#include "core/jfield.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_tokens_list(struct http_req *req)
{
    struct session s;
    PGresult *res = NULL;
    if (auth_require_role(req, &s, 0, AUTH_ROLE_ADMIN) != 0)
        return;
    if (db_query(req->app->db, &res,
                 "SELECT json_build_object('tokens', coalesce(json_agg(json_build_object('id', t.id, 'name', t.name,"
                 " 'scopes', t.scopes, 'created_at', parley_iso(t.created_at), 'expires_at', parley_iso(t.expires_at),"
                 " 'last_used_at', parley_iso(t.last_used_at), 'revoked_at', parley_iso(t.revoked_at),"
                 " 'created_by', t.created_by) ORDER BY t.id DESC), '[]'::json))::text FROM api_tokens t",
                 0, NULL) != DB_OK) {
        http_send_problem(req, 503, "unavailable", NULL);
        return;
    }
    const char *json = db_get_str(res, 0, 0);
    http_send_body(req, 200, "application/json; charset=utf-8", json, strlen(json));
    PQclear(res);
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
        jfield_string(body, "name", JF_REQUIRED | JF_NAME, 1, 100, &name, &err) != 0 ||
        read_scopes(body, &scopes, &err) != 0 || jfield_int(body, "expires_in_days", 0, 1, 3650, &days, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    int rc = apitokens_create(req->app->db, name, scopes, NULL, s.agent.id, token, &doc);
    if (rc == DB_OK && days) {
        /* Expiry relative to the database's clock, like every other check. */
        char id[24], d[16];
        snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(doc, "id")));
        snprintf(d, sizeof(d), "%lld", days);
        PGresult *res = NULL;
        rc = db_query(req->app->db, &res,
                      "UPDATE api_tokens SET expires_at = now() + make_interval(days => $2::int) WHERE id = $1::bigint"
                      " RETURNING parley_iso(expires_at)",
                      2, (const char *const[]){id, d});
        if (rc == DB_OK)
            json_object_set_new(doc, "expires_at", json_string(db_get_str(res, 0, 0)));
        PQclear(res);
    }
    if (rc != DB_OK || !doc) {
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
    PGresult *res = NULL;
    long long id;
    char text[24];
    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_ADMIN) != 0 || params_path_id(req, NULL, &id) != 0)
        return;
    snprintf(text, sizeof(text), "%lld", id);
    if (db_query(req->app->db, &res,
                 "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1::bigint RETURNING id", 1,
                 (const char *const[]){text}) != DB_OK) {
        http_send_problem(req, 503, "unavailable", NULL);
        return;
    }
    if (PQntuples(res) != 1)
        http_send_problem(req, 404, "not_found", NULL);
    else
        http_send_empty(req, 204);
    PQclear(res);
}
