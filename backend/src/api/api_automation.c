/* Automation rules, served twice like the other admin resources:
 * /api/automation-rules for the console (admins) and
 * /api/v1/automation-rules for integrations (the admin scope). A rule is
 * checked by chat/rules (400 naming the field inside "rule") and the ids its
 * actions name must exist. */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/automation.h"
#include "chat/rules.h"
#include "core/jfield.h"
#include "core/text.h"
#include "http/params.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_automation_list(struct http_req *req)
{
    char *json = NULL;
    if (api_require_admin(req, 0) != 0)
        return;
    enum chat_err err = automation_list_json(req->app->db, &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

static void rule_write(struct http_req *req, long long id)
{
    static const char *const fields[] = {"name", "enabled", "position", "rule", NULL};
    struct problem_field err;
    const char *name = NULL;
    int enabled = -1;
    long long position = -1;
    char field[RULES_FIELD_MAX + 8], inner[RULES_FIELD_MAX], reason[RULES_REASON_MAX], *json = NULL;
    json_t *body = http_read_json(req), *rule;
    if (!body)
        return;
    rule = json_object_get(body, "rule");
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "name", (id ? 0 : JF_REQUIRED) | JF_NAME, 1, AUTOMATION_NAME_MAX, &name, &err) != 0 ||
        jfield_bool(body, "enabled", 0, &enabled, &err) != 0 ||
        jfield_int(body, "position", 0, 0, 10000, &position, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    if (!rule && !id) {
        params_invalid(req, "rule", "is required");
        goto done;
    }
    if (rule && rules_validate(rule, inner, sizeof(inner), reason, sizeof(reason)) != 0) {
        snprintf(field, sizeof(field), "rule%s%s", *inner ? "." : "", inner);
        struct problem_field f = {field, reason};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        goto done;
    }
    enum chat_err e = automation_save(req->app, id, name, enabled, (int)position, rule, field, sizeof(field), &json);
    if (e == CHAT_E_INVALID) {
        struct problem_field f = {field, "names nothing that exists (an agent must be active)"};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
    } else if (e == CHAT_E_LIMIT) {
        http_send_problem(req, 409, "limit_reached", "the workspace has the most automation rules it may have (100)");
    } else {
        api_answer(req, id ? 200 : 201, e, json, "no such automation rule", NULL);
    }
done:
    free(json);
    json_decref(body);
}

void api_automation_create(struct http_req *req)
{
    if (api_require_admin(req, 1) == 0)
        rule_write(req, 0);
}

void api_automation_update(struct http_req *req)
{
    long long id;
    if (api_require_admin(req, 1) == 0 && params_path_id(req, "no such automation rule", &id) == 0)
        rule_write(req, id);
}

void api_automation_delete(struct http_req *req)
{
    long long id;
    if (api_require_admin(req, 1) != 0 || params_path_id(req, "no such automation rule", &id) != 0)
        return;
    enum chat_err e = automation_delete(req->app, id);
    if (e == CHAT_OK)
        http_send_empty(req, 204);
    else
        api_send_error(req, e, "no such automation rule", NULL);
}
