#include "chat/visitors.h"

#include "core/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum chat_err visitors_authenticate(struct db_pool *db, const char *token, const char *origin,
                                    const char *public_origin, struct visitor_session *out, enum visitor_auth *result)
{
    uint8_t digest[TOKEN_DIGEST_LEN];
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3];
    PGresult *res = NULL;
    memset(out, 0, sizeof(*out));
    *result = VISITOR_AUTH_UNKNOWN;
    if (!token || !token_well_formed(VISITOR_TOKEN_PREFIX, token))
        return CHAT_OK;
    token_digest(token, strlen(token), digest);
    db_bytea_hex(digest, sizeof(digest), hash_hex);
    enum chat_err err = chat_err_of(
        db_query(db, &res,
                 "WITH t AS (UPDATE visitor_tokens SET last_used_at = now() WHERE token_hash = $1::bytea"
                 "           RETURNING visitor_id, site_id)"
                 " SELECT v.id, v.site_id, ($2 = '' OR $2 = ANY (s.allowed_origins) OR $2 = $3),"
                 "   json_build_object('id', v.id, 'name', v.name, 'email', v.email, 'verified', v.verified)::text,"
                 "   s.identity_required AND NOT v.verified, v.verified"
                 " FROM t JOIN visitors v ON v.id = t.visitor_id JOIN sites s ON s.id = t.site_id",
                 3, (const char *const[]){hash_hex, origin, public_origin}));
    if (err != CHAT_OK || PQntuples(res) != 1) {
        PQclear(res);
        return err;
    }
    if (!db_get_bool(res, 0, 2)) {
        *result = VISITOR_AUTH_ORIGIN;
    } else if (db_get_bool(res, 0, 4)) {
        /* A token issued before the site turned identity_required on. */
        *result = VISITOR_AUTH_IDENTITY_REQUIRED;
    } else {
        out->visitor_id = db_get_ll(res, 0, 0, 0);
        out->site_id = db_get_ll(res, 0, 1, 0);
        out->verified = db_get_bool(res, 0, 5);
        out->visitor_json = strdup(db_get_str(res, 0, 3));
        *result = VISITOR_AUTH_OK;
        if (!out->visitor_json)
            err = CHAT_E_INTERNAL;
    }
    PQclear(res);
    return err;
}

void visitors_session_free(struct visitor_session *s)
{
    free(s->visitor_json);
    s->visitor_json = NULL;
}

enum chat_err visitors_site_requires_identity(struct db_pool *db, long long site_id, int *required)
{
    PGresult *res = NULL;
    enum chat_err err = chat_err_of(db_query(db, &res, "SELECT identity_required FROM sites WHERE id = $1::bigint", 1,
                                             (const char *const[]){DB_ID(site_id)}));
    if (err == CHAT_OK)
        *required = PQntuples(res) != 1 || db_get_bool(res, 0, 0);
    PQclear(res);
    return err;
}

struct start_tx {
    const struct visitor_start *in;
    char *token_out;
    json_t *visitor;
};

/* NULL for "" (unknown: keep what is stored). */
static const char *nonempty(const char *s)
{
    return s && s[0] ? s : NULL;
}

static int start_tx(PGconn *conn, void *arg)
{
    struct start_tx *ctx = arg;
    const struct visitor_start *in = ctx->in;
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3], *json = NULL;
    uint8_t digest[TOKEN_DIGEST_LEN];
    PGresult *res = NULL;
    long long visitor = 0, known = 0;
    const char *site = DB_ID(in->site_id);
    int rc;

    ctx->token_out[0] = '\0'; /* a rerun starts over */
    json_decref(ctx->visitor);
    ctx->visitor = NULL;
    if (in->token && token_well_formed(VISITOR_TOKEN_PREFIX, in->token)) {
        token_digest(in->token, strlen(in->token), digest);
        db_bytea_hex(digest, sizeof(digest), hash_hex);
        rc = db_exec(conn, &res,
                     "SELECT visitor_id FROM visitor_tokens WHERE token_hash = $1::bytea AND site_id = $2::bigint", 2,
                     (const char *const[]){hash_hex, site});
        if (rc != DB_OK)
            return rc;
        known = PQntuples(res) == 1 ? db_get_ll(res, 0, 0, 0) : 0;
        PQclear(res);
        res = NULL;
    }
    if (in->identity_id) {
        /* A verified identity is the one way to set a verified visitor's
         * name and email: replaced when given, kept when not. */
        const char *params[4] = {site, in->identity_id, in->name, in->email};
        rc = db_exec(conn, &res,
                     "INSERT INTO visitors (site_id, external_id, verified, name, email)"
                     " VALUES ($1::bigint, $2, true, $3, $4)"
                     " ON CONFLICT (site_id, external_id) WHERE external_id IS NOT NULL DO UPDATE"
                     "   SET verified = true, name = coalesce(EXCLUDED.name, visitors.name),"
                     "       email = coalesce(EXCLUDED.email, visitors.email), last_seen_at = now()"
                     " RETURNING id",
                     4, params);
        if (rc != DB_OK)
            return rc;
        visitor = db_get_ll(res, 0, 0, 0);
        PQclear(res);
        res = NULL;
        /* A token of another visitor (another identity, or anonymous) does
         * not carry over to this one. */
        if (known == visitor)
            snprintf(ctx->token_out, TOKEN_MAX_LEN, "%s", in->token);
    } else if (known) {
        visitor = known;
        snprintf(ctx->token_out, TOKEN_MAX_LEN, "%s", in->token);
    } else {
        rc = db_exec(conn, &res, "INSERT INTO visitors (site_id) VALUES ($1::bigint) RETURNING id", 1,
                     (const char *const[]){site});
        if (rc != DB_OK)
            return rc;
        visitor = db_get_ll(res, 0, 0, 0);
        PQclear(res);
        res = NULL;
    }
    const char *vid = DB_ID(visitor);
    if (!ctx->token_out[0]) {
        if (token_generate(VISITOR_TOKEN_PREFIX, ctx->token_out, TOKEN_MAX_LEN) != 0)
            return DB_E_QUERY;
        token_digest(ctx->token_out, strlen(ctx->token_out), digest);
        db_bytea_hex(digest, sizeof(digest), hash_hex);
        rc = db_exec(
            conn, NULL,
            "INSERT INTO visitor_tokens (token_hash, visitor_id, site_id) VALUES ($1::bytea, $2::bigint, $3::bigint)",
            3, (const char *const[]){hash_hex, vid, site});
        if (rc != DB_OK)
            return rc;
    }
    rc =
        db_exec_text(conn, &json,
                     "UPDATE visitors SET last_seen_at = now(), user_agent = coalesce(left($2, 1000), user_agent),"
                     "  ip = nullif($3, '')::inet, country = coalesce($4, country), region = coalesce($5, region),"
                     "  city = coalesce($6, city), time_zone = coalesce($7, time_zone),"
                     "  device = device || coalesce($8::jsonb, '{}') WHERE id = $1::bigint"
                     " RETURNING json_build_object('id', id, 'name', name, 'email', email, 'verified', verified)::text",
                     8,
                     (const char *const[]){vid, in->user_agent, in->ip, nonempty(in->country), nonempty(in->region),
                                           nonempty(in->city), nonempty(in->time_zone), in->device_json});
    if (rc == DB_OK && !(ctx->visitor = json_loads(json, 0, NULL)))
        rc = DB_E_QUERY;
    free(json);
    return rc;
}

enum chat_err visitors_start(struct db_pool *db, const struct visitor_start *in, char *token_out, json_t **visitor)
{
    struct start_tx ctx = {.in = in, .token_out = token_out};
    enum chat_err err = chat_err_of(db_transaction(db, start_tx, &ctx));
    *visitor = NULL;
    if (err == CHAT_OK)
        *visitor = ctx.visitor;
    else
        json_decref(ctx.visitor);
    return err;
}

enum chat_err visitors_get_json(struct db_pool *db, long long id, char **json)
{
    return chat_err_of(db_query_text(db, json,
                                     "SELECT parley_visitor_json(v)::text"
                                     " FROM visitors v WHERE v.id = $1::bigint",
                                     1, (const char *const[]){DB_ID(id)}));
}
