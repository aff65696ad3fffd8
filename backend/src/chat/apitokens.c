#include "chat/apitokens.h"

#include "core/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    enum apitoken_scope bit;
} scope_names[] = {
    {"conversations:read", APITOKEN_SCOPE_CONVERSATIONS_READ},
    {"conversations:write", APITOKEN_SCOPE_CONVERSATIONS_WRITE},
    {"transcripts:read", APITOKEN_SCOPE_TRANSCRIPTS_READ},
    {"admin", APITOKEN_SCOPE_ADMIN},
    {"reports:read", APITOKEN_SCOPE_REPORTS_READ},
};

unsigned apitokens_scope_bit(const char *name)
{
    for (size_t i = 0; i < sizeof(scope_names) / sizeof(scope_names[0]); i++)
        if (strcmp(scope_names[i].name, name) == 0)
            return scope_names[i].bit;
    return 0;
}

const char *apitokens_scope_name(enum apitoken_scope scope)
{
    for (size_t i = 0; i < sizeof(scope_names) / sizeof(scope_names[0]); i++)
        if (scope_names[i].bit == scope)
            return scope_names[i].name;
    return NULL;
}

int apitokens_has(const struct apitoken *t, enum apitoken_scope scope)
{
    return (t->scopes & (unsigned)scope) || (t->scopes & APITOKEN_SCOPE_ADMIN);
}

enum chat_err apitokens_create(struct db_pool *db, const char *name, const char *scopes_json, int expires_days,
                               long long created_by, char *token_out, json_t **doc)
{
    uint8_t digest[TOKEN_DIGEST_LEN];
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3], days[16], *text = NULL;
    *doc = NULL;
    if (token_generate(APITOKEN_PREFIX, token_out, TOKEN_MAX_LEN) != 0)
        return CHAT_E_INTERNAL;
    token_digest(token_out, strlen(token_out), digest);
    db_bytea_hex(digest, sizeof(digest), hash_hex);
    snprintf(days, sizeof(days), "%d", expires_days);
    const char *params[5] = {name, hash_hex, scopes_json, expires_days > 0 ? days : NULL,
                             created_by ? DB_ID(created_by) : NULL};
    /* The expiry is counted from the database's now(), like the checks. */
    enum chat_err err = chat_err_of(
        db_query_text(db, &text,
                      "INSERT INTO api_tokens (name, token_hash, scopes, expires_at, created_by)"
                      " VALUES ($1, $2::bytea, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)),"
                      "         now() + make_interval(days => $4::int), $5::bigint)"
                      " RETURNING json_build_object('id', id, 'name', name, 'scopes', scopes,"
                      "   'expires_at', parley_iso(expires_at), 'created_at', parley_iso(created_at))::text",
                      5, params));
    if (err == CHAT_OK && !(*doc = json_loads(text, 0, NULL)))
        err = CHAT_E_INTERNAL;
    free(text);
    return err;
}

enum chat_err apitokens_list_json(struct db_pool *db, char **json)
{
    return chat_err_of(db_query_text(
        db, json,
        "SELECT json_build_object('tokens', coalesce(json_agg(json_build_object('id', t.id, 'name', t.name,"
        " 'scopes', t.scopes, 'created_at', parley_iso(t.created_at), 'expires_at', parley_iso(t.expires_at),"
        " 'last_used_at', parley_iso(t.last_used_at), 'revoked_at', parley_iso(t.revoked_at),"
        " 'created_by', t.created_by, 'bot_id', t.bot_id) ORDER BY t.id DESC), '[]'::json))::text FROM api_tokens t",
        0, NULL));
}

enum chat_err apitokens_revoke(struct db_pool *db, long long id)
{
    char *found = NULL;
    /* The first revocation's time stays. A bot's token is replaced with
     * the bot (bots_new_token): revoked here it would leave the bot mute. */
    enum chat_err err =
        chat_err_of(db_query_text(db, &found,
                                  "WITH u AS (UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())"
                                  "  WHERE id = $1::bigint AND bot_id IS NULL RETURNING id)"
                                  " SELECT CASE WHEN EXISTS (SELECT 1 FROM u) THEN 'revoked'"
                                  "  WHEN EXISTS (SELECT 1 FROM api_tokens WHERE id = $1::bigint) THEN 'bot' END",
                                  1, (const char *const[]){DB_ID(id)}));
    if (err == CHAT_OK && strcmp(found, "bot") == 0)
        err = CHAT_E_INVALID_STATE;
    free(found);
    return err;
}

enum chat_err apitokens_lookup(struct db_pool *db, const char *token, struct apitoken *out)
{
    uint8_t digest[TOKEN_DIGEST_LEN];
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3], scopes[256];
    PGresult *res = NULL;
    memset(out, 0, sizeof(*out));
    if (!token || !token_well_formed(APITOKEN_PREFIX, token))
        return CHAT_E_NOT_FOUND;
    token_digest(token, strlen(token), digest);
    db_bytea_hex(digest, sizeof(digest), hash_hex);
    /* Live tokens only; last_used_at is written at most once a minute. */
    enum chat_err err =
        chat_err_of(db_query(db, &res,
                             "WITH t AS (SELECT id, name, scopes, last_used_at, bot_id FROM api_tokens"
                             "  WHERE token_hash = $1::bytea AND revoked_at IS NULL"
                             "    AND (expires_at IS NULL OR expires_at > now())),"
                             " u AS (UPDATE api_tokens SET last_used_at = now()"
                             "  WHERE id = (SELECT id FROM t)"
                             "  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))"
                             " SELECT id, name, array_to_string(scopes, ','), bot_id FROM t",
                             1, (const char *const[]){hash_hex}));
    if (err == CHAT_OK && PQntuples(res) != 1)
        err = CHAT_E_NOT_FOUND;
    if (err == CHAT_OK) {
        out->id = db_get_ll(res, 0, 0, 0);
        out->bot_id = db_get_ll(res, 0, 3, 0);
        snprintf(out->name, sizeof(out->name), "%s", db_get_str(res, 0, 1));
        snprintf(scopes, sizeof(scopes), "%s", db_get_str(res, 0, 2));
        for (char *save = NULL, *s = strtok_r(scopes, ",", &save); s; s = strtok_r(NULL, ",", &save))
            out->scopes |= apitokens_scope_bit(s);
    }
    PQclear(res);
    return err;
}
