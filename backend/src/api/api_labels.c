/* Labels: the workspace's list, served twice like the other admin
 * resources: /api/labels for the console (every signed-in agent reads it to
 * label conversations; admins change it) and /api/v1/labels for
 * integrations (conversations:read reads, the admin scope changes). */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/triage.h"
#include "core/jfield.h"
#include "core/text.h"
#include "http/auth.h"
#include "http/bearer.h"
#include "http/params.h"

#include <stdlib.h>
#include <string.h>

void api_labels_list(struct http_req *req)
{
    char *json = NULL;
    if (strncmp(req->path, "/api/v1/", 8) == 0) {
        struct apitoken t;
        if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0)
            return;
    } else {
        struct session s;
        if (auth_require_agent(req, &s, 0) != 0)
            return;
    }
    enum chat_err err = triage_labels_json(req->app->db, &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

/* A colour as the console's picker gives it: #rrggbb, lower-cased here. */
static int colour_ok(char *c)
{
    if (strlen(c) != 7 || c[0] != '#')
        return 0;
    for (int i = 1; i < 7; i++) {
        if (c[i] >= 'A' && c[i] <= 'F')
            c[i] = (char)(c[i] - 'A' + 'a');
        if (!strchr("0123456789abcdef", c[i]))
            return 0;
    }
    return 1;
}

static void label_write(struct http_req *req, long long id)
{
    static const char *const fields[] = {"name", "colour", NULL};
    struct problem_field err;
    const char *name = NULL, *colour_in = NULL;
    char colour[8] = "", *json = NULL;
    json_t *body = http_read_json(req);
    if (!body)
        return;
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "name", (id ? 0 : JF_REQUIRED) | JF_NAME_CLEAN, 1, TRIAGE_LABEL_NAME_MAX, &name, &err) !=
            0 ||
        jfield_string(body, "colour", 0, 7, 7, &colour_in, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    if (name && text_ident_blank(name, strlen(name))) {
        params_invalid(req, "name", "must not be empty");
        goto done;
    }
    if (colour_in) {
        memcpy(colour, colour_in, 7);
        if (!colour_ok(colour)) {
            params_invalid(req, "colour", "must be a colour as #rrggbb");
            goto done;
        }
    }
    enum chat_err e = triage_label_save(req->app->db, id, name, colour_in ? colour : NULL, &json);
    if (e == CHAT_E_LIMIT)
        http_send_problem(req, 409, "limit_reached", "the workspace has the most labels it may have (500)");
    else
        api_answer(req, id ? 200 : 201, e, json, "no such label", "another label has this name");
done:
    free(json);
    json_decref(body);
}

void api_labels_create(struct http_req *req)
{
    if (api_require_admin(req, 1) == 0)
        label_write(req, 0);
}

void api_labels_update(struct http_req *req)
{
    long long id;
    if (api_require_admin(req, 1) == 0 && params_path_id(req, "no such label", &id) == 0)
        label_write(req, id);
}

void api_labels_delete(struct http_req *req)
{
    long long id;
    if (api_require_admin(req, 1) != 0 || params_path_id(req, "no such label", &id) != 0)
        return;
    enum chat_err e = triage_label_delete(req->app->db, id);
    if (e == CHAT_OK)
        http_send_empty(req, 204);
    else
        api_send_error(req, e, "no such label", NULL);
}
