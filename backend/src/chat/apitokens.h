/* apitokens: bearer tokens for the REST API v1, as data.
 *
 * Owns the token format (prl_ + 43 base64url chars, 256 random bits; only
 * the SHA-256 is stored), the scopes (conversations:read,
 * conversations:write, transcripts:read, reports:read, admin — admin
 * implies all),
 * creation, expiry (counted on the database's clock, like every check),
 * listing, revocation, and the lookup of a live token by its secret (which
 * also records when it was last used). Reading the Authorization header,
 * the per-token rate limit and the HTTP answers are http/bearer. */
#ifndef PARLEY_APITOKENS_H
#define PARLEY_APITOKENS_H

#include "chat/errors.h"
#include "db/db.h"

#include <jansson.h>

#define APITOKEN_PREFIX   "prl_"
#define APITOKEN_NAME_MAX 100 /* characters */

enum apitoken_scope {
    APITOKEN_SCOPE_CONVERSATIONS_READ = 1,
    APITOKEN_SCOPE_CONVERSATIONS_WRITE = 2,
    APITOKEN_SCOPE_TRANSCRIPTS_READ = 4,
    APITOKEN_SCOPE_ADMIN = 8,
    APITOKEN_SCOPE_REPORTS_READ = 16,
};

/* A live token, as its lookup found it. */
struct apitoken {
    long long id;
    long long bot_id; /* the bot that answers with this token, or 0 */
    unsigned scopes;  /* enum apitoken_scope bits */
    char name[APITOKEN_NAME_MAX * 4 + 4];
};

/* The bit of a scope name, or 0 for an unknown one. */
unsigned apitokens_scope_bit(const char *name);

/* The name of one scope bit, or NULL. */
const char *apitokens_scope_name(enum apitoken_scope scope);

/* 1 when the token has the scope (or admin). */
int apitokens_has(const struct apitoken *t, enum apitoken_scope scope);

/* Creates a token. scopes_json: a JSON array text of scope names (checked
 * by the caller); expires_days: 0 for never, else days from now. Writes
 * the secret (shown once, never stored) into token_out (TOKEN_MAX_LEN) and
 * sets *doc to its description {id, name, scopes, expires_at, created_at}
 * (the caller decrefs). */
enum chat_err apitokens_create(struct db_pool *db, const char *name, const char *scopes_json, int expires_days,
                               long long created_by, char *token_out, json_t **doc) CHAT_CHECKED;

/* Every token, newest first, as {"tokens": [...]} JSON text (the caller
 * frees *json). */
enum chat_err apitokens_list_json(struct db_pool *db, char **json) CHAT_CHECKED;

/* Revokes a token (again: no change). CHAT_E_NOT_FOUND when there is none,
 * CHAT_E_INVALID_STATE when it is a bot's (replaced with the bot). */
enum chat_err apitokens_revoke(struct db_pool *db, long long id) CHAT_CHECKED;

/* The live token (not revoked, not expired) whose secret is token, and
 * records its use (at most once a minute). CHAT_E_NOT_FOUND for a
 * malformed, unknown, revoked or expired token. */
enum chat_err apitokens_lookup(struct db_pool *db, const char *token, struct apitoken *out) CHAT_CHECKED;

#endif
