#include "http/auth.h"

#include <stdio.h>
#include <string.h>

int auth_require_agent(struct http_req *req, struct session *out, unsigned flags)
{
    char cookie[TOKEN_MAX_LEN + 8];
    memset(out, 0, sizeof(*out));
    if ((flags & AUTH_STATE_CHANGE) && http_require_same_origin(req) != 0)
        return -1;
    if (!http_cookie(req, SESSION_COOKIE, cookie, sizeof(cookie))) {
        http_send_problem(req, 401, "unauthenticated", "log in first");
        return -1;
    }
    enum chat_err err = sessions_lookup(req->app->db, req->app->cfg, cookie, out);
    if (err == CHAT_E_NOT_FOUND) {
        http_send_problem(req, 401, "unauthenticated", "the session has ended; log in again");
        return -1;
    }
    if (err != CHAT_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return -1;
    }
    if (flags & AUTH_STATE_CHANGE) {
        const char *sent = http_header(req, AUTH_CSRF_HEADER);
        if (!sent || !token_equal(sent, out->csrf)) {
            http_send_problem(req, 403, "csrf_failed", "send the X-CSRF-Token header from /api/auth/me");
            return -1;
        }
    }
    return 0;
}

enum auth_role auth_role_rank(const char *role)
{
    if (strcmp(role, "admin") == 0)
        return AUTH_ROLE_ADMIN;
    if (strcmp(role, "supervisor") == 0)
        return AUTH_ROLE_SUPERVISOR;
    return AUTH_ROLE_AGENT;
}

int auth_require_role(struct http_req *req, struct session *out, unsigned flags, enum auth_role min_role)
{
    if (auth_require_agent(req, out, flags) != 0)
        return -1;
    if (auth_role_rank(out->agent.role) < min_role) {
        http_send_problem(req, 403, "forbidden",
                          min_role == AUTH_ROLE_ADMIN ? "only admins may do this"
                                                      : "only supervisors and admins may do this");
        return -1;
    }
    return 0;
}

void auth_set_cookie(struct http_req *req, const char *token)
{
    char value[256];
    snprintf(value, sizeof(value), "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d%s", SESSION_COOKIE,
             token ? token : "", token ? req->app->cfg->session_max_seconds : 0, http_is_tls(req) ? "; Secure" : "");
    http_add_header(req, "Set-Cookie", value);
}

int auth_throttle_gate(struct http_req *req, const char *email, long long *attempt)
{
    char retry[16];
    int retry_after = 0;
    switch (sessions_reserve_attempt(req->app->db, req->app->cfg, email, http_remote_ip(req), attempt, &retry_after)) {
    case CHAT_OK:
        return 0;
    case CHAT_E_AT_CAPACITY:
        snprintf(retry, sizeof(retry), "%d", retry_after);
        http_add_header(req, "Retry-After", retry);
        http_send_problem(req, 429, "too_many_attempts", "too many failed attempts; wait before trying again");
        return -1;
    default:
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return -1;
    }
}
