#include "api/api.h"
#include "http/auth.h"
#include "core/jfield.h"
#include "core/log.h"
#include "core/password.h"

#include <stdio.h>
#include <string.h>

/* The same answer for an unknown email and a wrong password, so that the
 * response does not tell which accounts exist. */
static void send_bad_credentials(struct http_req *req)
{
    http_send_problem(req, 401, "invalid_credentials", "check the email and password and try again");
}

static json_t *session_json(const struct agent *a, const char *csrf)
{
    return json_pack("{s:o, s:s}", "agent", agents_to_json(a), "csrf_token", csrf);
}

void api_auth_login(struct http_req *req)
{
    static const char *const fields[] = {"email", "password", NULL};
    struct problem_field err;
    const char *email = NULL, *password = NULL;
    char token[TOKEN_MAX_LEN], csrf[SESSION_CSRF_LEN];
    const char *params[1];
    PGresult *res = NULL;
    struct agent agent;
    json_t *body = NULL;
    long long attempt = 0;
    int verdict;

    memset(&agent, 0, sizeof(agent));

    /* Login is a state change too: refusing foreign origins stops login CSRF. */
    if (http_require_same_origin(req) != 0)
        return;
    body = http_read_json(req);
    if (!body)
        return;
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "email", JF_REQUIRED, 3, AGENT_EMAIL_MAX, &email, &err) != 0 ||
        jfield_string(body, "password", JF_REQUIRED, 1, PASSWORD_MAX_LEN, &password, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    /* The attempt is reserved before the password is verified (known email
     * or not: the same statements either way). */
    if (auth_throttle_gate(req, email, &attempt) != 0)
        goto done;
    params[0] = email;
    if (db_query(req->app->db, &res,
                 "SELECT id, email, name, role, status, max_chats, password_hash FROM agents"
                 " WHERE lower(email) = lower($1) AND active",
                 1, params) != DB_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        goto done;
    }
    if (PQntuples(res) == 1) {
        verdict = password_verify(password, db_get_str(res, 0, 6));
        agents_from_row(res, 0, 0, &agent);
    } else {
        verdict = password_verify_dummy(password);
    }
    if (verdict != 1) {
        /* The reservation stays: it is the failure that counts. */
        log_info("login failed", "rid", req->request_id, "ip", http_remote_ip(req));
        send_bad_credentials(req);
        goto done;
    }
    sessions_clear_attempts(req->app->db, email, attempt);
    if (sessions_create(req->app->db, agent.id, http_remote_ip(req), http_header(req, "User-Agent"), token,
                        sizeof(token)) != CHAT_OK ||
        sessions_csrf_token(token, csrf) != 0) {
        http_send_problem(req, 503, "unavailable", "could not start a session");
        goto done;
    }
    auth_set_cookie(req, token);
    http_send_json(req, 200, session_json(&agent, csrf));
done:
    PQclear(res);
    json_decref(body);
}

void api_auth_logout(struct http_req *req)
{
    struct session s;
    if (auth_require_agent(req, &s, AUTH_STATE_CHANGE) != 0)
        return;
    if (sessions_delete(req->app->db, s.token_hash) != CHAT_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return;
    }
    auth_set_cookie(req, NULL);
    http_send_empty(req, 204);
}

void api_auth_me(struct http_req *req)
{
    struct session s;
    if (auth_require_agent(req, &s, 0) != 0)
        return;
    http_send_json(req, 200, session_json(&s.agent, s.csrf));
}

struct password_change {
    long long agent_id;
    const char *hash;
    const uint8_t *keep; /* the session that made the change */
};

static int password_change_tx(PGconn *conn, void *arg)
{
    struct password_change *pc = arg;
    char id[24];
    PGresult *res = NULL;
    snprintf(id, sizeof(id), "%lld", pc->agent_id);
    int rc = db_exec(conn, &res,
                     "UPDATE agents SET password_hash = $2, updated_at = now() WHERE id = $1::bigint AND active"
                     " RETURNING id",
                     2, (const char *const[]){id, pc->hash});
    if (rc == DB_OK && PQntuples(res) != 1)
        rc = DB_E_NOT_FOUND;
    PQclear(res);
    /* Whoever knew the old password may hold another session: end them
     * all, and their sockets on every node, in the same transaction. */
    if (rc == DB_OK)
        rc = sessions_end_tx(conn, pc->agent_id, pc->keep);
    return rc;
}

/* POST /api/auth/password: an agent changes their own password. The
 * current password is verified under the login throttle of the agent's
 * account and the client's IP (a stolen session cannot guess it faster
 * than a login could). Every other session of the agent ends with its
 * sockets; this one stays. */
void api_auth_password(struct http_req *req)
{
    static const char *const fields[] = {"current_password", "new_password", NULL};
    struct session s;
    struct problem_field err;
    const char *current = NULL, *fresh = NULL, *why;
    char hash[PASSWORD_HASH_MAX], id[24];
    PGresult *res = NULL;
    json_t *body = NULL;
    long long attempt = 0;
    int verdict;

    if (auth_require_agent(req, &s, AUTH_STATE_CHANGE) != 0)
        return;
    body = http_read_json(req);
    if (!body)
        return;
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "current_password", JF_REQUIRED, 1, PASSWORD_MAX_LEN, &current, &err) != 0 ||
        jfield_string(body, "new_password", JF_REQUIRED, 1, PASSWORD_MAX_LEN, &fresh, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    why = password_policy_error(fresh);
    if (!why && strcmp(fresh, current) == 0)
        why = "must differ from the current password";
    if (why) {
        struct problem_field f = {"new_password", why};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        goto done;
    }
    if (auth_throttle_gate(req, s.agent.email, &attempt) != 0)
        goto done;
    snprintf(id, sizeof(id), "%lld", s.agent.id);
    if (db_query(req->app->db, &res, "SELECT password_hash FROM agents WHERE id = $1::bigint AND active", 1,
                 (const char *const[]){id}) != DB_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        goto done;
    }
    verdict = PQntuples(res) == 1 ? password_verify(current, db_get_str(res, 0, 0)) : 0;
    if (verdict != 1) {
        /* Not 401: the session is fine, and the console takes 401 as "logged out". */
        log_info("password change refused", "rid", req->request_id, "ip", http_remote_ip(req));
        http_send_problem(req, 403, "invalid_credentials", "the current password is not right");
        goto done;
    }
    sessions_clear_attempts(req->app->db, s.agent.email, attempt);
    if (password_hash(fresh, hash, sizeof(hash)) != 0) {
        http_send_problem(req, 500, "internal", NULL);
        goto done;
    }
    struct password_change pc = {.agent_id = s.agent.id, .hash = hash, .keep = s.token_hash};
    int rc = db_transaction(req->app->db, password_change_tx, &pc);
    if (rc == DB_E_NOT_FOUND)
        http_send_problem(req, 401, "unauthenticated", "the session has ended; log in again");
    else if (rc != DB_OK)
        http_send_problem(req, 503, "unavailable", "the password was not changed; try again");
    else
        http_send_empty(req, 204);
done:
    PQclear(res);
    json_decref(body);
}
