/* The console's agent resource: list (every logged-in agent: the console
 * needs them for transfers), create and change (admins). Every check is
 * made here, at the API; the writes and what follows them (sessions ended,
 * chats requeued) are chat/roster. */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/agents.h"
#include "chat/roster.h"
#include "core/jfield.h"
#include "core/password.h"
#include "core/token.h"
#include "http/auth.h"
#include "http/params.h"

#include <stdlib.h>
#include <string.h>

static const char *const roles[] = {"admin", "supervisor", "agent", NULL};

void api_agents_list(struct http_req *req)
{
    struct session s;
    char *json = NULL;
    if (auth_require_agent(req, &s, 0) != 0)
        return;
    enum chat_err err = agents_list_json(req->app->db, "agents", &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

void api_agents_create(struct http_req *req)
{
    static const char *const fields[] = {"email", "name", "role", "password", "max_chats", "team_ids", NULL};
    struct session s;
    struct problem_field err;
    struct roster_new n = {.max_chats = 5};
    char generated[TOKEN_MAX_LEN] = "";
    long long *team_ids = NULL;
    const char *field = NULL, *message = NULL;
    json_t *body, *agent = NULL;

    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_ADMIN) != 0 || !(body = http_read_json(req)))
        return;
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "email", JF_REQUIRED, 3, AGENT_EMAIL_MAX, &n.email, &err) != 0 ||
        jfield_string(body, "name", JF_REQUIRED | JF_NAME, 1, AGENT_NAME_MAX, &n.name, &err) != 0 ||
        jfield_enum(body, "role", JF_REQUIRED, roles, &n.role, &err) != 0 ||
        jfield_string(body, "password", 0, 1, PASSWORD_MAX_LEN, &n.password, &err) != 0 ||
        jfield_int(body, "max_chats", 0, 0, 100, &n.max_chats, &err) != 0 ||
        api_read_ids(body, "team_ids", &team_ids, &n.nteam_ids, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    n.team_ids = team_ids;
    if (api_require_teams(req, team_ids, n.nteam_ids, "team_ids") != 0)
        goto done;
    /* Without a password, invite with a random one, shown once. */
    if (!n.password) {
        if (token_generate("", generated, sizeof(generated)) != 0) {
            http_send_problem(req, 500, "internal", NULL);
            goto done;
        }
        generated[20] = '\0';
        n.password = generated;
    }
    enum chat_err e = roster_add(req->app->db, &n, &agent, &field, &message);
    if (e == CHAT_E_INVALID && field) {
        struct problem_field f = {field, message};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        goto done;
    }
    if (e != CHAT_OK) {
        api_send_error(req, e, NULL, "an agent with this email exists already");
        goto done;
    }
    json_t *out = json_pack("{s:o}", "agent", agent);
    agent = NULL; /* now out's */
    if (generated[0])
        json_object_set_new(out, "password", json_string(generated));
    http_send_json(req, 201, out);
done:
    json_decref(agent);
    free(team_ids);
    json_decref(body);
}

void api_agents_update(struct http_req *req)
{
    static const char *const fields[] = {"name", "role", "password", "max_chats", "active", "team_ids", NULL};
    struct session s;
    struct problem_field err;
    struct roster_change c = {.max_chats = -1, .active = -1, .nteam_ids = -1};
    struct assign_work work = {.nteams = 0};
    const char *password = NULL;
    char hash[PASSWORD_HASH_MAX], *json = NULL;
    long long *team_ids = NULL;
    json_t *body;

    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_ADMIN) != 0 || params_path_id(req, NULL, &c.id) != 0 ||
        !(body = http_read_json(req)))
        return;
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "name", JF_NAME, 1, AGENT_NAME_MAX, &c.name, &err) != 0 ||
        jfield_enum(body, "role", 0, roles, &c.role, &err) != 0 ||
        jfield_string(body, "password", 0, 1, PASSWORD_MAX_LEN, &password, &err) != 0 ||
        jfield_int(body, "max_chats", 0, 0, 100, &c.max_chats, &err) != 0 ||
        jfield_bool(body, "active", 0, &c.active, &err) != 0 ||
        api_read_ids(body, "team_ids", &team_ids, &c.nteam_ids, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    c.team_ids = team_ids;
    if (api_require_teams(req, team_ids, c.nteam_ids, "team_ids") != 0)
        goto done;
    if (c.name && agents_name_error(c.name)) {
        struct problem_field f = {"name", agents_name_error(c.name)};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        goto done;
    }
    if (password) {
        const char *why = password_policy_error(password);
        if (why) {
            struct problem_field f = {"password", why};
            http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
            goto done;
        }
        if (password_hash(password, hash, sizeof(hash)) != 0) {
            http_send_problem(req, 500, "internal", NULL);
            goto done;
        }
        c.password_hash = hash;
        if (c.id == s.agent.id)
            c.keep_session = s.token_hash; /* an admin changing their own password stays logged in */
    }
    /* An admin cannot lock themselves out by accident. */
    if (c.id == s.agent.id && (c.active == 0 || (c.role && strcmp(c.role, "admin") != 0))) {
        struct problem_field f = {c.active == 0 ? "active" : "role", "you cannot deactivate or demote yourself"};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        goto done;
    }
    enum chat_err e = roster_change(req->app->db, &c, &json, &work);
    api_answer(req, 200, e, json, NULL, NULL);
done:
    assign_run(req->app, &work); /* after the answer: see chat/assign.h */
    free(json);
    free(team_ids);
    json_decref(body);
}
