/* The console's team resource: list (every logged-in agent: the console
 * needs them for transfers), create and change with members (admins). */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/calendar.h"
#include "chat/sla.h"
#include "chat/teams.h"
#include "core/jfield.h"
#include "http/auth.h"
#include "http/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_teams_list(struct http_req *req)
{
    struct session s;
    char *json = NULL;
    if (auth_require_agent(req, &s, 0) != 0)
        return;
    enum chat_err err = teams_list_json(req->app->db, req->app->zones, "teams", &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

/* body[key] as JSON text for teams_save: NULL when absent (kept), "null"
 * for null (cleared), else the document checked by check. 0, or -1 with
 * the 400 sent. *text is malloc'd (the caller frees). */
typedef int (*settings_check_fn)(struct http_req *req, json_t *doc, char *field, size_t flen, char *reason,
                                 size_t rlen);

static int settings_member(struct http_req *req, json_t *body, const char *key, settings_check_fn check, char **text)
{
    char field[96], reason[160];
    json_t *v = json_object_get(body, key);
    *text = NULL;
    if (!v)
        return 0;
    if (!json_is_null(v) && check(req, v, field, sizeof(field), reason, sizeof(reason)) != 0) {
        struct problem_field f = {field, reason};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        return -1;
    }
    if (!(*text = json_is_null(v) ? strdup("null") : json_dumps(v, JSON_COMPACT))) {
        http_send_problem(req, 500, "internal", NULL);
        return -1;
    }
    return 0;
}

static int check_hours(struct http_req *req, json_t *doc, char *field, size_t flen, char *reason, size_t rlen)
{
    return calendar_validate(req->app->zones, doc, field, flen, reason, rlen);
}

static int check_sla(struct http_req *req, json_t *doc, char *field, size_t flen, char *reason, size_t rlen)
{
    (void)req;
    return sla_validate_policy(doc, field, flen, reason, rlen);
}

static int check_escalation(struct http_req *req, json_t *doc, char *field, size_t flen, char *reason, size_t rlen)
{
    long long to_team = 0;
    int all = 0;
    if (sla_validate_escalation(doc, &to_team, field, flen, reason, rlen) != 0)
        return -1;
    if (to_team && (teams_all_exist(req->app->db, &to_team, 1, &all) != CHAT_OK || !all)) {
        snprintf(field, flen, "escalation.queue_wait.to_team_id");
        snprintf(reason, rlen, "no such team");
        return -1;
    }
    return 0;
}

/* Creates (id 0) or updates a team; members replaced when given. */
static void team_write(struct http_req *req, long long team_id)
{
    static const char *const fields[] = {
        "name", "member_ids", "business_hours", "sla", "escalation", "collaborators_use_capacity", NULL};
    struct team_settings settings = {.capacity = -1};
    char *hours = NULL, *sla = NULL, *escalation = NULL;
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
    if (jfield_bool(body, "collaborators_use_capacity", 0, &settings.capacity, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    if (api_require_agents(req, members, nmembers, "member_ids") != 0 ||
        settings_member(req, body, "business_hours", check_hours, &hours) != 0 ||
        settings_member(req, body, "sla", check_sla, &sla) != 0 ||
        settings_member(req, body, "escalation", check_escalation, &escalation) != 0)
        goto done;
    settings.business_hours = hours;
    settings.sla = sla;
    settings.escalation = escalation;
    enum chat_err e = teams_save(req->app->db, team_id, name, &settings, members, nmembers, &json, &work);
    api_answer(req, team_id ? 200 : 201, e, json, NULL, "a team with this name exists already");
    /* After the answer: new members may take waiting conversations. */
    assign_run(req->app, &work);
done:
    free(hours);
    free(sla);
    free(escalation);
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
