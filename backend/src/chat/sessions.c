#include "chat/sessions.h"

#include "core/log.h"

#include <stdio.h>
#include <string.h>

static const char csrf_label[] = "parley-csrf-v1";

int sessions_csrf_token(const char *secret, char out[SESSION_CSRF_LEN])
{
    uint8_t mac[32];
    if (token_hmac(secret, strlen(secret), csrf_label, sizeof(csrf_label) - 1, mac) != 0)
        return -1;
    return token_b64url_encode(mac, sizeof(mac), out, SESSION_CSRF_LEN) == TOKEN_B64_LEN ? 0 : -1;
}

enum chat_err sessions_lookup(struct db_pool *db, const struct config *cfg, const char *cookie, struct session *out)
{
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3], idle[16], max[16];
    const char *params[3] = {hash_hex, idle, max};
    PGresult *res = NULL;

    memset(out, 0, sizeof(*out));
    if (!cookie || !token_well_formed("", cookie))
        return CHAT_E_NOT_FOUND;
    token_digest(cookie, strlen(cookie), out->token_hash);
    db_bytea_hex(out->token_hash, TOKEN_DIGEST_LEN, hash_hex);
    snprintf(idle, sizeof(idle), "%d", cfg->session_idle_seconds);
    snprintf(max, sizeof(max), "%d", cfg->session_max_seconds);
    /* One round trip: find the live session and, at most once a minute,
     * push its idle deadline forward. */
    static const struct db_stmt lookup = {"WITH live AS ("
                                          "  SELECT s.token_hash, a.id, a.email, a.name, a.role, a.status,"
                                          "    a.max_chats, s.last_seen_at"
                                          "  FROM agent_sessions s JOIN agents a ON a.id = s.agent_id"
                                          "  WHERE s.token_hash = $1::bytea AND a.active"
                                          "    AND s.last_seen_at > now() - make_interval(secs => $2::int)"
                                          "    AND s.created_at > now() - make_interval(secs => $3::int)),"
                                          " touched AS ("
                                          "  UPDATE agent_sessions SET last_seen_at = now()"
                                          "  WHERE token_hash = (SELECT token_hash FROM live)"
                                          "    AND last_seen_at < now() - interval '60 seconds')"
                                          " SELECT id, email, name, role, status, max_chats FROM live",
                                          3};
    /* The touch may safely run twice: a read as far as retrying goes. */
    enum chat_err err = chat_err_of(db_read_stmt(db, &res, &lookup, params));
    if (err == CHAT_OK) {
        err = CHAT_E_NOT_FOUND;
        if (PQntuples(res) == 1 && sessions_csrf_token(cookie, out->csrf) == 0) {
            agents_from_row(res, 0, 0, &out->agent);
            err = CHAT_OK;
        }
    }
    PQclear(res);
    return err;
}

enum chat_err sessions_create(struct db_pool *db, long long agent_id, const char *ip, const char *user_agent,
                              char *token, size_t tokenlen)
{
    uint8_t digest[TOKEN_DIGEST_LEN];
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3], ua[1001];
    const char *params[4] = {hash_hex, DB_ID(agent_id), ip, ua};
    if (token_generate("", token, tokenlen) != 0)
        return CHAT_E_INTERNAL;
    token_digest(token, strlen(token), digest);
    db_bytea_hex(digest, sizeof(digest), hash_hex);
    /* Stored for the agent's own "where am I logged in"; clipped, and
     * invalid UTF-8 would be refused by PostgreSQL, so keep ASCII only. */
    size_t n = 0;
    for (const char *p = user_agent ? user_agent : ""; *p && n < sizeof(ua) - 1; p++)
        ua[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
    ua[n] = '\0';
    return chat_err_of(db_query(db, NULL,
                                "INSERT INTO agent_sessions (token_hash, agent_id, ip, user_agent)"
                                " VALUES ($1::bytea, $2::bigint, $3::inet, $4)",
                                4, params));
}

/* The sessions deleted by the statement's CTE "d" (agent_id, token_hash)
 * notified as session_off, grouped per agent, at most 100 hashes a payload
 * (parley_notify_sessions_off). */
#define SESSION_OFF_NOTIFY                                                                                             \
    " SELECT parley_notify_sessions_off(agent_id, array_agg(h))"                                                       \
    " FROM (SELECT agent_id, encode(token_hash, 'hex') AS h,"                                                          \
    "         (row_number() OVER (PARTITION BY agent_id ORDER BY token_hash) - 1) / 100 AS chunk FROM d) x"            \
    " GROUP BY agent_id, chunk"

enum chat_err sessions_delete(struct db_pool *db, const uint8_t token_hash[TOKEN_DIGEST_LEN])
{
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3];
    db_bytea_hex(token_hash, TOKEN_DIGEST_LEN, hash_hex);
    /* And tell every node to close the sockets opened with it. */
    return chat_err_of(db_query(db, NULL,
                                "WITH d AS (DELETE FROM agent_sessions WHERE token_hash = $1::bytea"
                                "           RETURNING agent_id, token_hash)" SESSION_OFF_NOTIFY,
                                1, (const char *const[]){hash_hex}));
}

enum chat_err sessions_end_tx(PGconn *conn, long long agent_id, const uint8_t *keep)
{
    char keep_hex[2 * TOKEN_DIGEST_LEN + 3];
    const char *params[2] = {DB_ID(agent_id), keep ? keep_hex : NULL};
    if (keep)
        db_bytea_hex(keep, TOKEN_DIGEST_LEN, keep_hex);
    return chat_err_of(db_exec(
        conn, NULL,
        "WITH d AS (DELETE FROM agent_sessions WHERE agent_id = $1::bigint"
        "           AND token_hash IS DISTINCT FROM $2::bytea RETURNING agent_id, token_hash)" SESSION_OFF_NOTIFY,
        2, params));
}

enum chat_err sessions_rights(struct db_pool *db, const uint8_t token_hash[TOKEN_DIGEST_LEN],
                              struct session_rights *out)
{
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3];
    PGresult *res = NULL;
    db_bytea_hex(token_hash, TOKEN_DIGEST_LEN, hash_hex);
    memset(out, 0, sizeof(*out));
    enum chat_err err = chat_err_of(
        db_query(db, &res,
                 "SELECT a.role, tm.team_id FROM agent_sessions s JOIN agents a ON a.id = s.agent_id AND a.active"
                 " LEFT JOIN team_members tm ON tm.agent_id = a.id"
                 " WHERE s.token_hash = $1::bytea ORDER BY tm.team_id",
                 1, (const char *const[]){hash_hex}));
    if (err == CHAT_OK && PQntuples(res) == 0)
        err = CHAT_E_NOT_FOUND;
    if (err == CHAT_OK)
        snprintf(out->role, sizeof(out->role), "%s", db_get_str(res, 0, 0));
    for (int i = 0; err == CHAT_OK && i < PQntuples(res) && out->nteams < SESSION_MAX_TEAMS; i++)
        if (db_get_str(res, i, 1))
            out->teams[out->nteams++] = db_get_ll(res, i, 1, 0);
    PQclear(res);
    return err;
}

int sessions_rights_equal(const struct session_rights *a, const struct session_rights *b)
{
    return strcmp(a->role, b->role) == 0 && a->nteams == b->nteams &&
           memcmp(a->teams, b->teams, (size_t)a->nteams * sizeof(a->teams[0])) == 0;
}

enum chat_err sessions_reserve_attempt(struct db_pool *db, const struct config *cfg, const char *email, const char *ip,
                                       long long *attempt, int *retry_after)
{
    char window[16], account[16], per_ip[16];
    const char *params[5] = {email, ip, window, account, per_ip};
    PGresult *res = NULL;
    snprintf(window, sizeof(window), "%d", cfg->login_window_seconds);
    snprintf(account, sizeof(account), "%d", cfg->login_account_limit);
    snprintf(per_ip, sizeof(per_ip), "%d", cfg->login_ip_limit);
    *attempt = 0;
    *retry_after = 0;
    /* One call decides and records under the account's and the IP's locks:
     * checking first and recording after the password was verified let 30
     * parallel guesses all through. */
    enum chat_err err = chat_err_of(db_query(
        db, &res, "SELECT attempt, retry_after FROM parley_login_reserve($1, $2::inet, $3::int, $4::int, $5::int)", 5,
        params));
    if (err == CHAT_OK && PQntuples(res) != 1)
        err = CHAT_E_INTERNAL;
    if (err == CHAT_OK) {
        *attempt = db_get_ll(res, 0, 0, 0);
        *retry_after = (int)db_get_ll(res, 0, 1, 1);
        if (*attempt <= 0) {
            err = CHAT_E_AT_CAPACITY;
            if (*retry_after < 1)
                *retry_after = 1;
        }
    }
    PQclear(res);
    return err;
}

void sessions_clear_attempts(struct db_pool *db, const char *email, long long attempt)
{
    /* Best effort: a failure leaves the attempt counting against the
     * account until it leaves the window. */
    if (db_query(db, NULL, "DELETE FROM login_attempts WHERE lower(email) = lower($1) AND id <= $2::bigint", 2,
                 (const char *const[]){email, DB_ID(attempt)}) != DB_OK)
        log_warn("login attempts not cleared");
}

struct password_change {
    long long agent_id;
    const char *hash;
    const uint8_t *keep;
};

static int password_change_tx(PGconn *conn, void *arg)
{
    struct password_change *pc = arg;
    PGresult *res = NULL;
    int rc = db_exec(conn, &res,
                     "UPDATE agents SET password_hash = $2, updated_at = now() WHERE id = $1::bigint AND active"
                     " RETURNING id",
                     2, (const char *const[]){DB_ID(pc->agent_id), pc->hash});
    if (rc == DB_OK && PQntuples(res) != 1)
        rc = CHAT_E_NOT_FOUND;
    PQclear(res);
    /* Whoever knew the old password may hold another session: end them
     * all, and their sockets on every node, in the same transaction. */
    if (rc == DB_OK)
        rc = sessions_end_tx(conn, pc->agent_id, pc->keep);
    return rc;
}

enum chat_err sessions_change_password(struct db_pool *db, long long agent_id, const char *hash,
                                       const uint8_t keep[TOKEN_DIGEST_LEN])
{
    struct password_change pc = {.agent_id = agent_id, .hash = hash, .keep = keep};
    return chat_err_of(db_transaction(db, password_change_tx, &pc));
}
