/* The console's sessions: login, logout, who am I, and an agent's own
 * password change. The sessions, the login throttle and the password
 * checks are chat/sessions and chat/agents; here are the HTTP answers. */
#include "api/api.h"
#include "chat/agents.h"
#include "core/jfield.h"
#include "core/log.h"
#include "core/password.h"
#include "http/auth.h"

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
    struct agent agent;
    json_t *body = NULL;
    long long attempt = 0;
    int verified = 0;

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
    if (agents_check_login(req->app->db, email, password, &agent, &verified) != CHAT_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        goto done;
    }
    if (!verified) {
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
    char hash[PASSWORD_HASH_MAX];
    json_t *body = NULL;
    long long attempt = 0;
    int verified = 0;

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
    if (agents_check_password(req->app->db, s.agent.id, current, &verified) != CHAT_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        goto done;
    }
    if (!verified) {
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
    enum chat_err e = sessions_change_password(req->app->db, s.agent.id, hash, s.token_hash);
    if (e == CHAT_E_NOT_FOUND)
        http_send_problem(req, 401, "unauthenticated", "the session has ended; log in again");
    else if (e != CHAT_OK)
        http_send_problem(req, 503, "unavailable", "the password was not changed; try again");
    else
        http_send_empty(req, 204);
done:
    json_decref(body);
}
