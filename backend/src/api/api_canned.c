/* The console's canned responses: list (every logged-in agent: the
 * composer inserts them), create, change and delete (supervisors and
 * admins). */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/canned.h"
#include "core/jfield.h"
#include "http/auth.h"
#include "http/params.h"

#include <stdlib.h>
#include <string.h>

void api_canned_list(struct http_req *req)
{
    struct session s;
    char *json = NULL;
    if (auth_require_agent(req, &s, 0) != 0)
        return;
    enum chat_err err = canned_list_json(req->app->db, &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

static void canned_write(struct http_req *req, struct session *s, long long canned_id)
{
    static const char *const fields[] = {"shortcut", "body", NULL};
    struct problem_field err;
    const char *shortcut = NULL, *text = NULL;
    char *json = NULL;
    json_t *body = http_read_json(req);
    if (!body)
        return;
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "shortcut", canned_id ? 0 : JF_REQUIRED, 1, 32, &shortcut, &err) != 0 ||
        jfield_string(body, "body", (canned_id ? 0 : JF_REQUIRED) | JF_MULTILINE | JF_TEXT, 1, 4000, &text, &err) !=
            0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    if (shortcut && (strspn(shortcut, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(shortcut) ||
                     shortcut[0] == '_' || shortcut[0] == '-')) {
        struct problem_field f = {"shortcut", "use lower-case letters, digits, - and _"};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        goto done;
    }
    enum chat_err e = canned_save(req->app->db, canned_id, shortcut, text, s->agent.id, &json);
    api_answer(req, canned_id ? 200 : 201, e, json, NULL, "this shortcut is taken");
done:
    free(json);
    json_decref(body);
}

void api_canned_create(struct http_req *req)
{
    struct session s;
    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_SUPERVISOR) != 0)
        return;
    canned_write(req, &s, 0);
}

void api_canned_update(struct http_req *req)
{
    struct session s;
    long long id;
    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_SUPERVISOR) != 0 || params_path_id(req, NULL, &id) != 0)
        return;
    canned_write(req, &s, id);
}

void api_canned_delete(struct http_req *req)
{
    struct session s;
    long long id;
    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_SUPERVISOR) != 0 || params_path_id(req, NULL, &id) != 0)
        return;
    enum chat_err e = canned_delete(req->app->db, id);
    if (e == CHAT_OK)
        http_send_empty(req, 204);
    else
        api_send_error(req, e, NULL, NULL);
}
