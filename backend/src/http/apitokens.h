/* apitokens: bearer tokens for the REST API v1.
 *
 * Owns the token format (prl_ + 43 base64url chars, 256 random bits; only
 * the SHA-256 is stored), scopes (conversations:read, conversations:write,
 * transcripts:read, admin — admin implies all), expiry, revocation, the
 * last-used time, and applying the per-token request rate limit
 * (app->api_rate: per node, in memory, one-minute windows). */
#ifndef PARLEY_APITOKENS_H
#define PARLEY_APITOKENS_H

#include "db/db.h"
#include "http/http.h"
#include "core/token.h"

#define APITOKEN_PREFIX "prl_"

enum api_scope {
    SCOPE_CONVERSATIONS_READ = 1,
    SCOPE_CONVERSATIONS_WRITE = 2,
    SCOPE_TRANSCRIPTS_READ = 4,
    SCOPE_ADMIN = 8,
};

struct api_principal {
    long long token_id;
    unsigned scopes;
    char name[404];
};

/* The bit of a scope name, or 0 for an unknown one. */
unsigned apitokens_scope_bit(const char *name);

/* Creates a token; writes the secret (shown once) into token_out
 * (TOKEN_MAX_LEN) and the JSON description into *doc (caller frees).
 * scopes_json: a JSON array text of scope names (checked by the caller);
 * expires_at: ISO timestamp text or NULL. Returns a DB_* code. */
int apitokens_create(struct db_pool *pool, const char *name, const char *scopes_json, const char *expires_at,
                     long long created_by, char *token_out, json_t **doc);

/* Authenticates "Authorization: Bearer ..." and applies the rate limit.
 * On failure the response (401, 429, 503) is sent and -1 returned. */
int apitokens_authenticate(struct http_req *req, struct api_principal *out);

/* 403 insufficient_scope unless the principal has the scope (or admin). */
int apitokens_require(struct http_req *req, const struct api_principal *p, enum api_scope scope);

/* 1 when it has the scope (or admin). */
int apitokens_has(const struct api_principal *p, enum api_scope scope);

#endif
