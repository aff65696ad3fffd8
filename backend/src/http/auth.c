#include "http/auth.h"

#include "core/log.h"

#include <stdio.h>
#include <string.h>

static const char csrf_label[] = "parley-csrf-v1";

int auth_csrf_token(const char *session_token, char out[AUTH_CSRF_LEN])
{
    uint8_t mac[32];
    if (token_hmac(session_token, strlen(session_token), csrf_label, sizeof(csrf_label) - 1, mac) != 0)
        return -1;
    return token_b64url_encode(mac, sizeof(mac), out, AUTH_CSRF_LEN) == TOKEN_B64_LEN ? 0 : -1;
}

int auth_session_lookup(struct app *app, const char *cookie, struct auth_session *out)
{
    const struct config *cfg = app->cfg;
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3], idle[16], max[16];
    const char *params[3] = {hash_hex, idle, max};
    PGresult *res = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!token_well_formed("", cookie))
        return 1;
    token_digest(cookie, strlen(cookie), out->token_hash);
    db_bytea_hex(out->token_hash, TOKEN_DIGEST_LEN, hash_hex);
    snprintf(idle, sizeof(idle), "%d", cfg->session_idle_seconds);
    snprintf(max, sizeof(max), "%d", cfg->session_max_seconds);
    /* One round trip: find the live session and, at most once a minute,
     * push its idle deadline forward. */
    if (db_query(app->db, &res,
                 "WITH live AS ("
                 "  SELECT s.token_hash, a.id, a.email, a.name, a.role, a.status, a.max_chats, s.last_seen_at"
                 "  FROM agent_sessions s JOIN agents a ON a.id = s.agent_id"
                 "  WHERE s.token_hash = $1::bytea AND a.active"
                 "    AND s.last_seen_at > now() - make_interval(secs => $2::int)"
                 "    AND s.created_at > now() - make_interval(secs => $3::int)),"
                 " touched AS ("
                 "  UPDATE agent_sessions SET last_seen_at = now()"
                 "  WHERE token_hash = (SELECT token_hash FROM live)"
                 "    AND last_seen_at < now() - interval '60 seconds')"
                 " SELECT id, email, name, role, status, max_chats FROM live",
                 3, params) != DB_OK)
        return -1;
    rc = 1;
    if (PQntuples(res) == 1 && auth_csrf_token(cookie, out->csrf) == 0) {
        agents_from_row(res, 0, 0, &out->agent);
        rc = 0;
    }
    PQclear(res);
    return rc;
}

int auth_require_agent(struct http_req *req, struct auth_session *out, unsigned flags)
{
    char cookie[TOKEN_MAX_LEN + 8];
    int found;

    memset(out, 0, sizeof(*out));
    if ((flags & AUTH_STATE_CHANGE) && http_require_same_origin(req) != 0)
        return -1;
    if (!http_cookie(req, AUTH_COOKIE, cookie, sizeof(cookie))) {
        http_send_problem(req, 401, "unauthenticated", "log in first");
        return -1;
    }
    found = auth_session_lookup(req->app, cookie, out);
    if (found < 0) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return -1;
    }
    if (found > 0) {
        http_send_problem(req, 401, "unauthenticated", "the session has ended; log in again");
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

int auth_require_role(struct http_req *req, struct auth_session *out, unsigned flags, enum auth_role min_role)
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

int auth_session_create(struct http_req *req, long long agent_id, char *token, size_t tokenlen)
{
    uint8_t digest[TOKEN_DIGEST_LEN];
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3], id[24], ua[1001];
    const char *agent_ua = http_header(req, "User-Agent");
    const char *params[4] = {hash_hex, id, http_remote_ip(req), ua};
    if (token_generate("", token, tokenlen) != 0)
        return DB_E_QUERY;
    token_digest(token, strlen(token), digest);
    db_bytea_hex(digest, sizeof(digest), hash_hex);
    snprintf(id, sizeof(id), "%lld", agent_id);
    /* Stored for the agent's own "where am I logged in"; clipped, and
     * invalid UTF-8 would be refused by PostgreSQL, so keep ASCII only. */
    size_t n = 0;
    for (const char *p = agent_ua ? agent_ua : ""; *p && n < sizeof(ua) - 1; p++)
        ua[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
    ua[n] = '\0';
    return db_query(req->app->db, NULL,
                    "INSERT INTO agent_sessions (token_hash, agent_id, ip, user_agent)"
                    " VALUES ($1::bytea, $2::bigint, $3::inet, $4)",
                    4, params);
}

/* The sessions deleted by the statement's CTE "d" (agent_id, token_hash)
 * NOTIFYed as session_off, grouped per agent, at most 100 hashes (6.7 kB)
 * a payload so that it stays under PostgreSQL's 8000-byte limit. */
#define SESSION_OFF_NOTIFY                                                                                             \
    " SELECT parley_notify_sessions_off(agent_id, array_agg(h))"                                                       \
    " FROM (SELECT agent_id, encode(token_hash, 'hex') AS h,"                                                          \
    "         (row_number() OVER (PARTITION BY agent_id ORDER BY token_hash) - 1) / 100 AS chunk FROM d) x"            \
    " GROUP BY agent_id, chunk"

int auth_session_delete(struct db_pool *pool, const uint8_t token_hash[TOKEN_DIGEST_LEN])
{
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3];
    const char *params[1] = {hash_hex};
    db_bytea_hex(token_hash, TOKEN_DIGEST_LEN, hash_hex);
    /* And tell every node to close the sockets opened with it. */
    return db_query(pool, NULL,
                    "WITH d AS (DELETE FROM agent_sessions WHERE token_hash = $1::bytea RETURNING agent_id, "
                    "token_hash)" SESSION_OFF_NOTIFY,
                    1, params);
}

int auth_sessions_end_tx(PGconn *conn, long long agent_id, const uint8_t *keep)
{
    char id[24], keep_hex[2 * TOKEN_DIGEST_LEN + 3];
    const char *params[2] = {id, keep ? keep_hex : NULL};
    snprintf(id, sizeof(id), "%lld", agent_id);
    if (keep)
        db_bytea_hex(keep, TOKEN_DIGEST_LEN, keep_hex);
    return db_exec(
        conn, NULL,
        "WITH d AS (DELETE FROM agent_sessions WHERE agent_id = $1::bigint"
        "           AND token_hash IS DISTINCT FROM $2::bytea RETURNING agent_id, token_hash)" SESSION_OFF_NOTIFY,
        2, params);
}

void auth_set_cookie(struct http_req *req, const char *token)
{
    char value[256];
    snprintf(value, sizeof(value), "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d%s", AUTH_COOKIE,
             token ? token : "", token ? req->app->cfg->session_max_seconds : 0, http_is_tls(req) ? "; Secure" : "");
    http_add_header(req, "Set-Cookie", value);
}

int auth_throttle_reserve(struct http_req *req, const char *email, long long *attempt, int *retry_after)
{
    const struct config *cfg = req->app->cfg;
    char window[16], account[16], ip[16];
    const char *params[5] = {email, http_remote_ip(req), window, account, ip};
    PGresult *res = NULL;
    int rc;
    snprintf(window, sizeof(window), "%d", cfg->login_window_seconds);
    snprintf(account, sizeof(account), "%d", cfg->login_account_limit);
    snprintf(ip, sizeof(ip), "%d", cfg->login_ip_limit);
    *attempt = 0;
    *retry_after = 0;
    /* One call decides and records under the account's and the IP's locks
     * (migration 0005): checking first and recording after the password
     * was verified let 30 parallel guesses all through. */
    if (db_query(req->app->db, &res,
                 "SELECT attempt, retry_after FROM parley_login_reserve($1, $2::inet, $3::int, $4::int, $5::int)", 5,
                 params) != DB_OK)
        return -1;
    rc = -1;
    if (PQntuples(res) == 1) {
        *attempt = db_get_ll(res, 0, 0, 0);
        *retry_after = (int)db_get_ll(res, 0, 1, 1);
        rc = *attempt > 0 ? 0 : 1;
        if (rc == 1 && *retry_after < 1)
            *retry_after = 1;
    }
    PQclear(res);
    return rc;
}

int auth_throttle_gate(struct http_req *req, const char *email, long long *attempt)
{
    char retry[16];
    int retry_after = 0;
    switch (auth_throttle_reserve(req, email, attempt, &retry_after)) {
    case 0:
        return 0;
    case 1:
        snprintf(retry, sizeof(retry), "%d", retry_after);
        http_add_header(req, "Retry-After", retry);
        http_send_problem(req, 429, "too_many_attempts", "too many failed attempts; wait before trying again");
        return -1;
    default:
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return -1;
    }
}

void auth_throttle_clear(struct http_req *req, const char *email, long long attempt)
{
    char id[24];
    const char *params[2] = {email, id};
    snprintf(id, sizeof(id), "%lld", attempt);
    db_query(req->app->db, NULL, "DELETE FROM login_attempts WHERE lower(email) = lower($1) AND id <= $2::bigint", 2,
             params);
}
