#include "http/bearer.h"

#include "core/clock.h"
#include "core/ratelimit.h"
#include "core/token.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int bearer_authenticate(struct http_req *req, struct apitoken *out)
{
    const char *auth = http_header(req, "Authorization");
    char key[32];

    memset(out, 0, sizeof(*out));
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || !token_well_formed(APITOKEN_PREFIX, auth + 7)) {
        http_add_header(req, "WWW-Authenticate", "Bearer realm=\"parley\"");
        http_send_problem(req, 401, "unauthenticated", "send Authorization: Bearer <API token>");
        return -1;
    }
    enum chat_err err = apitokens_lookup(req->app->db, auth + 7, out);
    if (err == CHAT_E_NOT_FOUND) {
        http_add_header(req, "WWW-Authenticate", "Bearer realm=\"parley\", error=\"invalid_token\"");
        http_send_problem(req, 401, "unauthenticated", "the token is unknown, revoked or expired");
        return -1;
    }
    if (err != CHAT_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return -1;
    }
    snprintf(key, sizeof(key), "t%lld", out->id);
    int wait = ratelimit_take(req->app->api_rate, key, clock_now());
    if (wait > 0) {
        http_send_rate_limited(req, wait, "this token made too many requests; wait and retry");
        return -1;
    }
    return 0;
}

int bearer_require(struct http_req *req, const struct apitoken *t, enum apitoken_scope scope)
{
    const char *name = apitokens_scope_name(scope);
    char detail[96];
    if (apitokens_has(t, scope))
        return 0;
    if (name)
        snprintf(detail, sizeof(detail), "this needs the %s scope", name);
    http_send_problem(req, 403, "insufficient_scope", name ? detail : NULL);
    return -1;
}

int bearer_require_scope(struct http_req *req, struct apitoken *out, enum apitoken_scope scope)
{
    return bearer_authenticate(req, out) != 0 || bearer_require(req, out, scope) != 0 ? -1 : 0;
}
