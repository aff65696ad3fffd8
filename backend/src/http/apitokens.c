#include "http/apitokens.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const struct {
    const char *name;
    enum api_scope bit;
} scope_names[] = {
    {"conversations:read", SCOPE_CONVERSATIONS_READ},
    {"conversations:write", SCOPE_CONVERSATIONS_WRITE},
    {"transcripts:read", SCOPE_TRANSCRIPTS_READ},
    {"admin", SCOPE_ADMIN},
};

unsigned apitokens_scope_bit(const char *name)
{
    for (size_t i = 0; i < sizeof(scope_names) / sizeof(scope_names[0]); i++)
        if (strcmp(scope_names[i].name, name) == 0)
            return scope_names[i].bit;
    return 0;
}

int apitokens_create(struct db_pool *pool, const char *name, const char *scopes_json, const char *expires_at,
                     long long created_by, char *token_out, json_t **doc)
{
    uint8_t digest[TOKEN_DIGEST_LEN];
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3], by[24];
    PGresult *res = NULL;
    *doc = NULL;
    if (token_generate(APITOKEN_PREFIX, token_out, TOKEN_MAX_LEN) != 0)
        return DB_E_QUERY;
    token_digest(token_out, strlen(token_out), digest);
    db_bytea_hex(digest, sizeof(digest), hash_hex);
    snprintf(by, sizeof(by), "%lld", created_by);
    const char *params[5] = {name, hash_hex, scopes_json, expires_at, created_by ? by : NULL};
    int rc = db_query(pool, &res,
                      "INSERT INTO api_tokens (name, token_hash, scopes, expires_at, created_by)"
                      " VALUES ($1, $2::bytea, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)),"
                      "         $4::timestamptz, $5::bigint)"
                      " RETURNING json_build_object('id', id, 'name', name, 'scopes', scopes,"
                      "   'expires_at', parley_iso(expires_at), 'created_at', parley_iso(created_at))::text",
                      5, params);
    if (rc == DB_OK)
        *doc = json_loads(db_get_str(res, 0, 0), 0, NULL);
    PQclear(res);
    return rc;
}

int apitokens_authenticate(struct http_req *req, struct api_principal *out)
{
    const char *auth = http_header(req, "Authorization");
    uint8_t digest[TOKEN_DIGEST_LEN];
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3], retry[16];
    PGresult *res = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || !token_well_formed(APITOKEN_PREFIX, auth + 7)) {
        http_add_header(req, "WWW-Authenticate", "Bearer realm=\"parley\"");
        http_send_problem(req, 401, "unauthenticated", "send Authorization: Bearer <API token>");
        return -1;
    }
    token_digest(auth + 7, strlen(auth + 7), digest);
    db_bytea_hex(digest, sizeof(digest), hash_hex);
    const char *params[1] = {hash_hex};
    /* Live tokens only; last_used_at is written at most once a minute. */
    if (db_query(req->app->db, &res,
                 "WITH t AS (SELECT id, name, scopes, last_used_at FROM api_tokens"
                 "  WHERE token_hash = $1::bytea AND revoked_at IS NULL"
                 "    AND (expires_at IS NULL OR expires_at > now())),"
                 " u AS (UPDATE api_tokens SET last_used_at = now() WHERE id = (SELECT id FROM t)"
                 "  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))"
                 " SELECT id, name, array_to_string(scopes, ',') FROM t",
                 1, params) != DB_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        goto done;
    }
    if (PQntuples(res) != 1) {
        http_add_header(req, "WWW-Authenticate", "Bearer realm=\"parley\", error=\"invalid_token\"");
        http_send_problem(req, 401, "unauthenticated", "the token is unknown, revoked or expired");
        goto done;
    }
    out->token_id = db_get_ll(res, 0, 0, 0);
    snprintf(out->name, sizeof(out->name), "%s", db_get_str(res, 0, 1));
    char scopes[256];
    snprintf(scopes, sizeof(scopes), "%s", db_get_str(res, 0, 2));
    for (char *save = NULL, *s = strtok_r(scopes, ",", &save); s; s = strtok_r(NULL, ",", &save))
        out->scopes |= apitokens_scope_bit(s);
    char key[32];
    snprintf(key, sizeof(key), "t%lld", out->token_id);
    int wait = ratelimit_take(req->app->api_rate, key, clock_now());
    if (wait > 0) {
        snprintf(retry, sizeof(retry), "%d", wait);
        http_add_header(req, "Retry-After", retry);
        http_send_problem(req, 429, "rate_limited", "this token made too many requests; wait and retry");
        goto done;
    }
    rc = 0;
done:
    PQclear(res);
    return rc;
}

int apitokens_has(const struct api_principal *p, enum api_scope scope)
{
    return (p->scopes & (unsigned)scope) || (p->scopes & SCOPE_ADMIN);
}

int apitokens_require(struct http_req *req, const struct api_principal *p, enum api_scope scope)
{
    if (apitokens_has(p, scope))
        return 0;
    for (size_t i = 0; i < sizeof(scope_names) / sizeof(scope_names[0]); i++) {
        if (scope_names[i].bit == scope) {
            char detail[96];
            snprintf(detail, sizeof(detail), "this needs the %s scope", scope_names[i].name);
            http_send_problem(req, 403, "insufficient_scope", detail);
            return -1;
        }
    }
    http_send_problem(req, 403, "insufficient_scope", NULL);
    return -1;
}
