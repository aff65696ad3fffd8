/* The console's view of the people on the sites: who is online now, one
 * visitor's context and journey, inviting one to chat, the automatic
 * invitation rules (admins change them, supervisors read them), and which
 * geolocation database answers (its attribution). */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/invitations.h"
#include "chat/journey.h"
#include "chat/online.h"
#include "core/geoip.h"
#include "core/jfield.h"
#include "core/text.h"
#include "http/auth.h"
#include "http/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -1 any, 0 false, 1 true; -2 after sending 400. */
static int tri_state(struct http_req *req, const char *name)
{
    char v[8];
    int got = params_query(req, name, v, sizeof(v));
    if (got < 0)
        return -2;
    if (got == 0 || !v[0])
        return -1;
    if (strcmp(v, "true") == 0)
        return 1;
    if (strcmp(v, "false") == 0)
        return 0;
    params_invalid(req, name, "must be true or false");
    return -2;
}

void api_visitors_online(struct http_req *req)
{
    struct session s;
    struct actor a;
    char site[24], limit[24], country[3], q[256] = "", *json = NULL;
    struct journey_filter f = {.limit = 200};
    if (auth_require_agent(req, &s, 0) != 0)
        return;
    api_agent_actor(&s, &a);
    if (params_int(req, "site_id", 1, 9007199254740991LL, site) < 0 ||
        params_int(req, "limit", 1, JOURNEY_ONLINE_LIMIT_MAX, limit) < 0 ||
        params_country(req, "country", country) < 0 || params_query(req, "q", q, sizeof(q)) < 0 ||
        (f.chatting = tri_state(req, "chatting")) == -2 || (f.returning = tri_state(req, "returning")) == -2)
        return;
    if (q[0] && (strlen(q) > 200 || text_utf8_chars(q, strlen(q)) < 0 || text_has_controls(q, strlen(q), 0))) {
        params_invalid(req, "q", "must be text of at most 200 bytes");
        return;
    }
    f.site_id = site[0] ? strtoll(site, NULL, 10) : 0;
    f.limit = limit[0] ? atoi(limit) : 200;
    f.country = country[0] ? country : NULL;
    f.q = q;
    enum chat_err e = journey_online(req->app->db, &a, &f, &json);
    api_answer(req, 200, e, json, NULL, NULL);
    free(json);
}

void api_visitor_context(struct http_req *req)
{
    struct session s;
    struct actor a;
    long long id;
    char *json = NULL;
    if (auth_require_agent(req, &s, 0) != 0 || params_path_id(req, "no such visitor", &id) != 0)
        return;
    api_agent_actor(&s, &a);
    enum chat_err e = journey_context(req->app->db, &a, id, &json);
    api_answer(req, 200, e, json, "no such visitor", NULL);
    free(json);
}

void api_visitor_invite(struct http_req *req)
{
    static const char *const fields[] = {"message", NULL};
    struct session s;
    struct actor a;
    struct problem_field err;
    long long id;
    const char *message = NULL;
    char *json = NULL;
    json_t *body = NULL;
    if (auth_require_agent(req, &s, AUTH_STATE_CHANGE) != 0 || params_path_id(req, "no such visitor", &id) != 0 ||
        !(body = http_read_json(req)))
        return;
    if (jfield_only(body, fields, &err) != 0 || jfield_string(body, "message", JF_REQUIRED | JF_TEXT | JF_MULTILINE, 1,
                                                              INVITATION_MESSAGE_MAX, &message, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    api_agent_actor(&s, &a);
    enum chat_err e = invitations_send(req->app->db, &a, id, message, &json);
    if (e == CHAT_OK)
        online_note_invited(req->app->online, id);
    api_answer(req, 201, e, json, "no such visitor", NULL);
done:
    free(json);
    json_decref(body);
}

void api_geo(struct http_req *req)
{
    struct session s;
    if (auth_require_agent(req, &s, 0) != 0)
        return;
    const char *db = geoip_description(req->app->geoip), *credit = geoip_attribution(req->app->geoip);
    /* DB-IP's free databases are CC BY 4.0: wherever their data shows, so
     * does this credit. */
    json_t *attribution = credit[0] ? json_pack("{s:s, s:s}", "text", credit, "url", GEOIP_DBIP_URL) : json_null();
    http_send_json(
        req, 200,
        json_pack("{s:o, s:o}", "attribution", attribution, "database", db[0] ? json_string(db) : json_null()));
}

/* ---------------------------------------------------------------- rules */

void api_invitation_rules_list(struct http_req *req)
{
    struct session s;
    char *json = NULL;
    if (auth_require_role(req, &s, 0, AUTH_ROLE_SUPERVISOR) != 0)
        return;
    enum chat_err e = invitations_rules_json(req->app->db, &json);
    api_answer(req, 200, e, json, NULL, NULL);
    free(json);
}

/* sender_name: a name, or "" for the site's name. */
static int sender_name_of(json_t *body, const char **out, struct problem_field *err)
{
    json_t *v = json_object_get(body, "sender_name");
    if (json_is_string(v) && json_string_length(v) == 0) {
        *out = "";
        return 0;
    }
    return jfield_string(body, "sender_name", JF_NAME, 1, INVITATION_NAME_MAX, out, err);
}

static void rule_write(struct http_req *req, long long id)
{
    static const char *const fields[] = {"site_id", "name",        "enabled",    "position",
                                         "message", "sender_name", "conditions", NULL};
    struct problem_field err;
    struct invitation_rule_in in = {.enabled = -1, .position = -1};
    long long site = 0, position = -1;
    char field[INVITATION_FIELD_MAX], reason[INVITATION_REASON_MAX], *json = NULL;
    json_t *body = http_read_json(req);
    if (!body)
        return;
    in.conditions = json_object_get(body, "conditions");
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_int(body, "site_id", id ? 0 : JF_REQUIRED, 1, 9007199254740991LL, &site, &err) != 0 ||
        jfield_string(body, "name", (id ? 0 : JF_REQUIRED) | JF_NAME, 1, INVITATION_NAME_MAX, &in.name, &err) != 0 ||
        jfield_bool(body, "enabled", 0, &in.enabled, &err) != 0 ||
        jfield_int(body, "position", 0, 0, 10000, &position, &err) != 0 ||
        jfield_string(body, "message", (id ? 0 : JF_REQUIRED) | JF_TEXT | JF_MULTILINE, 1, INVITATION_MESSAGE_MAX,
                      &in.message, &err) != 0 ||
        sender_name_of(body, &in.sender_name, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    if (in.conditions && invitations_conditions_check(in.conditions, field, sizeof(field), reason, sizeof(reason))) {
        struct problem_field f = {field, reason};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        goto done;
    }
    in.site_id = site;
    in.position = (int)position;
    enum chat_err e = invitations_rule_save(req->app->db, id, &in, &json);
    if (e == CHAT_E_INVALID) {
        struct problem_field f = {"site_id", "names no site"};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
    } else if (e == CHAT_E_LIMIT) {
        http_send_problem(req, 409, "limit_reached", "the site has the most invitation rules it may have (50)");
    } else {
        api_answer(req, id ? 200 : 201, e, json, "no such invitation rule", NULL);
    }
done:
    free(json);
    json_decref(body);
}

void api_invitation_rules_create(struct http_req *req)
{
    if (api_require_admin(req, 1) == 0)
        rule_write(req, 0);
}

void api_invitation_rules_update(struct http_req *req)
{
    long long id;
    if (api_require_admin(req, 1) == 0 && params_path_id(req, "no such invitation rule", &id) == 0)
        rule_write(req, id);
}

void api_invitation_rules_delete(struct http_req *req)
{
    long long id;
    if (api_require_admin(req, 1) != 0 || params_path_id(req, "no such invitation rule", &id) != 0)
        return;
    enum chat_err e = invitations_rule_delete(req->app->db, id);
    if (e == CHAT_OK)
        http_send_empty(req, 204);
    else
        api_send_error(req, e, "no such invitation rule", NULL);
}
