/* The console's team resource: list (every logged-in agent: the console
 * needs them for transfers), create and change with members (admins). */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/teams.h"
#include "core/jfield.h"
#include "http/auth.h"
#include "http/params.h"

#include <stdlib.h>

void api_teams_list(struct http_req *req)
{
    struct session s;
    char *json = NULL;
    if (auth_require_agent(req, &s, 0) != 0)
        return;
    enum chat_err err = teams_list_json(req->app->db, "teams", &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

/* Creates (id 0) or updates a team; members replaced when given. */
static void team_write(struct http_req *req, long long team_id)
{
    static const char *const fields[] = {"name", "member_ids", NULL};
    struct problem_field err;
    struct assign_work work = {.nteams = 0};
    const char *name = NULL;
    char *json = NULL;
    long long *members = NULL;
    int nmembers = -1;
    json_t *body = http_read_json(req);
    if (!body)
        return;
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "name", (team_id ? 0 : JF_REQUIRED) | JF_NAME, 1, TEAM_NAME_MAX, &name, &err) != 0 ||
        api_read_ids(body, "member_ids", &members, &nmembers, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    if (api_require_agents(req, members, nmembers, "member_ids") != 0)
        goto done;
    enum chat_err e = teams_save(req->app->db, team_id, name, members, nmembers, &json, &work);
    api_answer(req, team_id ? 200 : 201, e, json, NULL, "a team with this name exists already");
    /* After the answer: new members may take waiting conversations. */
    assign_run(req->app, &work);
done:
    free(json);
    free(members);
    json_decref(body);
}

void api_teams_create(struct http_req *req)
{
    struct session s;
    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_ADMIN) != 0)
        return;
    team_write(req, 0);
}

void api_teams_update(struct http_req *req)
{
    struct session s;
    long long id;
    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_ADMIN) != 0 || params_path_id(req, NULL, &id) != 0)
        return;
    team_write(req, id);
}
