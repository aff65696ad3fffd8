#include "api.h"
#include "auth.h"
#include "jfield.h"
#include "log.h"
#include "password.h"

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
    char token[TOKEN_MAX_LEN], csrf[AUTH_CSRF_LEN];
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
    auth_throttle_clear(req, email, attempt);
    if (auth_session_create(req, agent.id, token, sizeof(token)) != DB_OK || auth_csrf_token(token, csrf) != 0) {
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
    struct auth_session s;
    if (auth_require_agent(req, &s, AUTH_STATE_CHANGE) != 0)
        return;
    if (auth_session_delete(req->app->db, s.token_hash) != DB_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return;
    }
    auth_set_cookie(req, NULL);
    http_send_empty(req, 204);
}

void api_auth_me(struct http_req *req)
{
    struct auth_session s;
    if (auth_require_agent(req, &s, 0) != 0)
        return;
    http_send_json(req, 200, session_json(&s.agent, s.csrf));
}
