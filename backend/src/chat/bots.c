#include "chat/bots.h"

#include "chat/apitokens.h"
#include "core/log.h"
#include "core/token.h"
#include "db/db.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOT_JSON "parley_bot_json(b)::text"

enum chat_err bots_create(struct app *app, const struct bot_fields *f, char secret[WHSIG_SECRET_MAX], char *token,
                          size_t token_len, char **json)
{
    char hex[WEBHOOKS_SEALED_HEX], hash_hex[2 * TOKEN_DIGEST_LEN + 3], timeout[16], max[16];
    uint8_t digest[TOKEN_DIGEST_LEN];
    char *count = NULL;
    enum chat_err err;
    *json = NULL;
    snprintf(max, sizeof(max), "%d", BOTS_MAX);
    /* The limit is checked here, not under a lock: two admins creating
     * the fiftieth bot at once may make fifty-one. */
    err = chat_err_of(db_query_text(app->db, &count, "SELECT count(*) >= $1::int FROM bots WHERE deleted_at IS NULL", 1,
                                    (const char *const[]){max}));
    if (err == CHAT_OK && strcmp(count, "t") == 0)
        err = CHAT_E_LIMIT;
    free(count);
    if (err != CHAT_OK)
        return err;
    if (webhooks_new_secret(app->hooks, secret, hex) != 0 || token_generate(APITOKEN_PREFIX, token, token_len) != 0)
        return CHAT_E_INTERNAL;
    token_digest(token, strlen(token), digest);
    db_bytea_hex(digest, sizeof(digest), hash_hex);
    snprintf(timeout, sizeof(timeout), "%d", f->timeout_seconds > 0 ? f->timeout_seconds : 60);
    const char *params[8] = {f->name,
                             f->url,
                             hex,
                             timeout,
                             hash_hex,
                             f->sites ? f->sites : "[]",
                             f->teams ? f->teams : "[]",
                             f->enabled == 0 ? "false" : "true"};
    err = chat_err_of_write(db_query_text(app->db, json,
                                          "SELECT coalesce(parley_bot_create($1, $2, $3::bytea, $4::int, $5::bytea,"
                                          "  ARRAY(SELECT jsonb_array_elements_text($6::jsonb)::bigint),"
                                          "  ARRAY(SELECT jsonb_array_elements_text($7::jsonb)::bigint), $8::boolean)"
                                          "  ::text, '')",
                                          8, params));
    if (err == CHAT_OK && (*json)[0] == '\0') {
        free(*json);
        *json = NULL;
        err = CHAT_E_TAKEN;
    }
    if (err != CHAT_OK) {
        OPENSSL_cleanse(secret, WHSIG_SECRET_MAX);
        OPENSSL_cleanse(token, token_len);
    }
    return err;
}

enum chat_err bots_new_token(struct app *app, long long id, char *token, size_t token_len)
{
    uint8_t digest[TOKEN_DIGEST_LEN];
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3], *ok = NULL;
    if (token_generate(APITOKEN_PREFIX, token, token_len) != 0)
        return CHAT_E_INTERNAL;
    token_digest(token, strlen(token), digest);
    db_bytea_hex(digest, sizeof(digest), hash_hex);
    enum chat_err err = chat_err_of(db_query_text(app->db, &ok, "SELECT parley_bot_new_token($1::bigint, $2::bytea)", 2,
                                                  (const char *const[]){DB_ID(id), hash_hex}));
    if (err == CHAT_OK && strcmp(ok, "t") != 0)
        err = CHAT_E_NOT_FOUND;
    free(ok);
    if (err != CHAT_OK)
        OPENSSL_cleanse(token, token_len);
    return err;
}

enum chat_err bots_update(struct app *app, long long id, const struct bot_fields *f, char **json)
{
    char timeout[16];
    snprintf(timeout, sizeof(timeout), "%d", f->timeout_seconds);
    const char *params[7] = {DB_ID(id),
                             f->name,
                             f->url,
                             f->timeout_seconds > 0 ? timeout : NULL,
                             f->enabled < 0 ? NULL
                             : f->enabled   ? "true"
                                            : "false",
                             f->sites,
                             f->teams};
    enum chat_err err = chat_err_of_write(db_query_text(
        app->db, json,
        "SELECT parley_bot_update($1::bigint, $2, $3, $4::int, $5::boolean,"
        "  CASE WHEN $6::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text($6::jsonb)::bigint) END,"
        "  CASE WHEN $7::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text($7::jsonb)::bigint) END)"
        "  ::text",
        7, params));
    if (err == CHAT_OK && strcmp(*json, "\"taken\"") == 0) {
        free(*json);
        *json = NULL;
        err = CHAT_E_TAKEN;
    }
    return err;
}

/* Adds each team id of res's first column to work; 1 when a row was NULL
 * (the functions' "no such bot"). */
static int teams_into(PGresult *res, struct assign_work *work)
{
    int missing = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        if (PQgetisnull(res, i, 0))
            missing = 1;
        else
            assign_work_team(work, db_get_ll(res, i, 0, 0));
    }
    return missing;
}

enum chat_err bots_delete(struct app *app, long long id, struct assign_work *work)
{
    PGresult *res = NULL;
    enum chat_err err = chat_err_of(
        db_query(app->db, &res, "SELECT t FROM parley_bot_delete($1::bigint) t", 1, (const char *const[]){DB_ID(id)}));
    if (err == CHAT_OK && teams_into(res, work))
        err = CHAT_E_NOT_FOUND;
    PQclear(res);
    return err;
}

enum chat_err bots_list_json(struct app *app, char **json)
{
    return chat_err_of(db_query_text(app->db, json,
                                     "SELECT json_build_object('data', coalesce(json_agg(parley_bot_json(b)"
                                     " ORDER BY b.id DESC), '[]'::json))::text FROM bots b WHERE b.deleted_at IS NULL",
                                     0, NULL));
}

enum chat_err bots_get_json(struct app *app, long long id, char **json)
{
    return chat_err_of(db_query_text(app->db, json,
                                     "SELECT " BOT_JSON " FROM bots b WHERE b.id = $1::bigint AND b.deleted_at IS NULL",
                                     1, (const char *const[]){DB_ID(id)}));
}

enum chat_err bots_handoff(struct app *app, const struct actor *who, long long conv, const char *summary,
                           struct assign_work *work)
{
    PGresult *res = NULL;
    const char *params[3] = {DB_ID(conv), summary, who->kind == ACTOR_BOT ? DB_ID(who->id) : NULL};
    enum chat_err err = chat_err_of(db_query(
        app->db, &res, "SELECT status, team_id FROM parley_bot_handoff($1::bigint, $2, $3::bigint)", 3, params));
    if (err == CHAT_OK) {
        const char *status = db_get_str(res, 0, 0);
        if (status && strcmp(status, "ok") == 0) {
            if (!PQgetisnull(res, 0, 1))
                assign_work_team(work, db_get_ll(res, 0, 1, 0));
        } else {
            err = status && strcmp(status, "invalid_state") == 0 ? CHAT_E_INVALID_STATE : CHAT_E_NOT_FOUND;
        }
    }
    PQclear(res);
    return err;
}

void bots_sweep(struct app *app, struct assign_work *work)
{
    PGresult *res = NULL;
    if (db_query(app->db, &res, "SELECT t FROM parley_bot_timeouts() t", 0, NULL) != DB_OK) {
        log_warn("bot timeouts not swept; the next sweep retries");
        return;
    }
    if (PQntuples(res) > 0) {
        char n[16];
        snprintf(n, sizeof(n), "%d", PQntuples(res));
        log_info("bots: conversations handed off by themselves", "count", n);
    }
    (void)teams_into(res, work);
    PQclear(res);
}
