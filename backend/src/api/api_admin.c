/* The console's workspace resources: agents, teams, sites, canned responses.
 *
 * Reads are open to every logged-in agent where the console needs them
 * (agents and teams for transfers, canned responses for the composer);
 * writes need an admin (canned responses: a supervisor). Every check is
 * made here, at the API. Wire shapes come from the SQL functions
 * parley_agent_json / parley_team_json / parley_site_json (migration 0003). */
#include "api/api.h"
#include "http/params.h"
#include "http/auth.h"
#include "chat/convo.h"
#include "db/db.h"
#include "core/jfield.h"
#include "core/log.h"
#include "core/password.h"
#include "chat/assign.h"
#include "chat/sessions.h"
#include "core/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IDS 200

static void send_invalid(struct http_req *req, const struct problem_field *err)
{
    http_send_problem_fields(req, 400, "invalid_request", NULL, err, 1);
}

/* Sends the JSON text in column 0 of row 0, or 404 without a row. */
static void send_row_json(struct http_req *req, int status, PGresult *res)
{
    if (PQntuples(res) != 1 || !db_get_str(res, 0, 0)) {
        http_send_problem(req, 404, "not_found", NULL);
        return;
    }
    const char *json = db_get_str(res, 0, 0);
    http_send_body(req, status, "application/json; charset=utf-8", json, strlen(json));
}

static void send_db_error(struct http_req *req, int rc, const char *unique_detail)
{
    if (rc == DB_E_UNIQUE)
        http_send_problem(req, 409, "conflict", unique_detail);
    else if (rc == DB_E_UNAVAILABLE)
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
    else if (rc == DB_E_NOT_FOUND)
        http_send_problem(req, 404, "not_found", NULL);
    else if (rc == DB_E_CONSTRAINT)
        http_send_problem(req, 400, "invalid_request", "a referenced item does not exist or a value is not allowed");
    else
        http_send_problem(req, 500, "internal", NULL);
}

/* Runs a query whose one column is the JSON to answer with. */
static void answer_query(struct http_req *req, int status, const char *sql, int n, const char *const *params,
                         const char *unique_detail)
{
    PGresult *res = NULL;
    int rc = db_query(req->app->db, &res, sql, n, params);
    if (rc != DB_OK)
        send_db_error(req, rc, unique_detail);
    else
        send_row_json(req, status, res);
    PQclear(res);
}

/* obj[key] as an array of positive ids, rendered as a PostgreSQL array
 * literal "{1,2,3}" into out (malloc'd, caller frees). Absent: *out NULL. */
static int read_ids(json_t *obj, const char *key, char **out, struct problem_field *err)
{
    json_t *arr = json_object_get(obj, key), *v;
    size_t i;
    *out = NULL;
    if (!arr)
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) > MAX_IDS) {
        err->field = key;
        err->message = "must be an array of at most 200 ids";
        return -1;
    }
    char *buf = malloc(json_array_size(arr) * 21 + 3);
    if (!buf)
        return -1;
    size_t len = 0;
    buf[len++] = '{';
    json_array_foreach(arr, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            free(buf);
            err->field = key;
            err->message = "must contain positive integer ids";
            return -1;
        }
        len += (size_t)sprintf(buf + len, "%s%lld", i ? "," : "", (long long)json_integer_value(v));
    }
    buf[len++] = '}';
    buf[len] = '\0';
    *out = buf;
    return 0;
}

/* 0 when every id of the array literal names a row of `which` (teams or
 * agents); otherwise 400 naming field, or 503, is sent and -1 returned.
 * NULL ids (the field was absent) pass. */
static int ids_exist(struct http_req *req, const char *which, const char *ids, const char *field)
{
    PGresult *res = NULL;
    const char *params[1] = {ids};
    if (!ids)
        return 0;
    /* Two fixed statements: a table name is never a parameter. */
    int rc = db_query(req->app->db, &res,
                      strcmp(which, "teams") == 0 ? "SELECT (SELECT count(*) FROM teams WHERE id = ANY ($1::bigint[]))"
                                                    " = (SELECT count(DISTINCT x) FROM unnest($1::bigint[]) x)"
                                                  : "SELECT (SELECT count(*) FROM agents WHERE id = ANY ($1::bigint[]))"
                                                    " = (SELECT count(DISTINCT x) FROM unnest($1::bigint[]) x)",
                      1, params);
    int ok = rc == DB_OK && db_get_bool(res, 0, 0);
    PQclear(res);
    if (rc != DB_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return -1;
    }
    if (!ok) {
        struct problem_field f = {field, strcmp(which, "teams") == 0 ? "names a team that does not exist"
                                                                     : "names an agent that does not exist"};
        send_invalid(req, &f);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- agents */

void api_agents_list(struct http_req *req)
{
    struct session s;
    if (auth_require_agent(req, &s, 0) != 0)
        return;
    answer_query(req, 200,
                 "SELECT json_build_object('agents', coalesce(json_agg(parley_agent_json(a) ORDER BY a.id),"
                 " '[]'::json))::text FROM agents a",
                 0, NULL, NULL);
}

static const char *const roles[] = {"admin", "supervisor", "agent", NULL};

void api_agents_create(struct http_req *req)
{
    static const char *const fields[] = {"email", "name", "role", "password", "max_chats", "team_ids", NULL};
    struct session s;
    struct problem_field err;
    const char *email = NULL, *name = NULL, *role = NULL, *password = NULL, *message = NULL;
    char generated[TOKEN_MAX_LEN] = "", *team_ids = NULL, id[24], max[16];
    long long max_chats = 5, agent_id = 0;
    json_t *body;
    PGresult *res = NULL;

    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_ADMIN) != 0 || !(body = http_read_json(req)))
        return;
    if (jfield_only(body, fields, &err) != 0 || jfield_string(body, "email", JF_REQUIRED, 3, 254, &email, &err) != 0 ||
        jfield_string(body, "name", JF_REQUIRED | JF_NAME, 1, 100, &name, &err) != 0 ||
        jfield_enum(body, "role", JF_REQUIRED, roles, &role, &err) != 0 ||
        jfield_string(body, "password", 0, 1, PASSWORD_MAX_LEN, &password, &err) != 0 ||
        jfield_int(body, "max_chats", 0, 0, 100, &max_chats, &err) != 0 ||
        read_ids(body, "team_ids", &team_ids, &err) != 0) {
        send_invalid(req, &err);
        goto done;
    }
    if (ids_exist(req, "teams", team_ids, "team_ids") != 0)
        goto done;
    /* Without a password, invite with a random one, shown once. */
    if (!password) {
        if (token_generate("", generated, sizeof(generated)) != 0) {
            http_send_problem(req, 500, "internal", NULL);
            goto done;
        }
        generated[20] = '\0';
        password = generated;
    }
    int rc = agents_create(req->app->db, email, name, role, password, &agent_id, &message);
    if (rc == DB_E_QUERY && message) {
        struct problem_field f = {agents_email_error(email)         ? "email"
                                  : password_policy_error(password) ? "password"
                                                                    : "name",
                                  message};
        send_invalid(req, &f);
        goto done;
    }
    if (rc != DB_OK) {
        send_db_error(req, rc, "an agent with this email exists already");
        goto done;
    }
    snprintf(id, sizeof(id), "%lld", agent_id);
    snprintf(max, sizeof(max), "%lld", max_chats);
    const char *params[3] = {id, max, team_ids};
    rc = db_query(req->app->db, &res,
                  "WITH u AS (UPDATE agents SET max_chats = $2::int WHERE id = $1::bigint),"
                  " m AS (INSERT INTO team_members (team_id, agent_id)"
                  "       SELECT t.id, $1::bigint FROM teams t WHERE t.id = ANY ($3::bigint[]))"
                  " SELECT 1",
                  3, params);
    PQclear(res);
    res = NULL;
    if (rc != DB_OK) {
        send_db_error(req, rc, NULL);
        goto done;
    }
    rc = db_query(req->app->db, &res, "SELECT parley_agent_json(a)::text FROM agents a WHERE a.id = $1::bigint", 1,
                  (const char *const[]){id});
    if (rc != DB_OK) {
        send_db_error(req, rc, NULL);
        goto done;
    }
    json_t *agent = json_loads(db_get_str(res, 0, 0), 0, NULL);
    json_t *out = json_pack("{s:o}", "agent", agent ? agent : json_null());
    if (generated[0])
        json_object_set_new(out, "password", json_string(generated));
    http_send_json(req, 201, out);
done:
    PQclear(res);
    free(team_ids);
    json_decref(body);
}

struct agent_update {
    long long id;
    const char *name, *role, *password_hash;
    const uint8_t *keep_session; /* an admin changing their own password keeps this session */
    long long max_chats;
    int active; /* -1: unchanged */
    char *team_ids;
    int requeued;
    struct assign_work work; /* queues the deactivated agent's chats went back to */
};

static int agent_update_tx(PGconn *conn, void *arg)
{
    struct agent_update *u = arg;
    char id[24], max[16], active[8];
    PGresult *res = NULL;
    memset(&u->work, 0, sizeof(u->work)); /* a rerun starts over */
    snprintf(id, sizeof(id), "%lld", u->id);
    snprintf(max, sizeof(max), "%lld", u->max_chats);
    snprintf(active, sizeof(active), "%s", u->active < 0 ? "" : u->active ? "true" : "false");
    const char *params[6] = {
        id, u->name, u->role, u->max_chats >= 0 ? max : NULL, active[0] ? active : NULL, u->password_hash};
    int rc = db_exec(conn, &res,
                     "UPDATE agents SET name = coalesce($2, name), role = coalesce($3, role),"
                     " max_chats = coalesce($4::int, max_chats), active = coalesce($5::boolean, active),"
                     " password_hash = coalesce($6, password_hash), updated_at = now()"
                     " WHERE id = $1::bigint RETURNING id",
                     6, params);
    int found = rc == DB_OK && PQntuples(res) == 1;
    PQclear(res);
    if (rc != DB_OK)
        return rc;
    if (!found)
        return DB_E_NOT_FOUND;
    if (u->team_ids) {
        const char *p2[2] = {id, u->team_ids};
        rc = db_exec(
            conn, NULL,
            "WITH d AS (DELETE FROM team_members WHERE agent_id = $1::bigint AND NOT team_id = ANY ($2::bigint[]))"
            " INSERT INTO team_members (team_id, agent_id) SELECT t.id, $1::bigint FROM teams t"
            " WHERE t.id = ANY ($2::bigint[]) ON CONFLICT DO NOTHING",
            2, p2);
        if (rc != DB_OK)
            return rc;
    }
    /* A role or team change NOTIFYs agent_rights by trigger (migration
     * 0005): the agent's sockets close on every node and reconnect with
     * the new rights. */
    if (u->active == 0) {
        /* Deactivated: every socket is told to close (on every node; this
         * notification first, so they close with 4001 "deactivated"), every
         * session ends now, and their chats go back to the queue. */
        char agent[24];
        snprintf(agent, sizeof(agent), "%lld", u->id);
        rc = db_exec(conn, NULL, "SELECT parley_notify_agent_off($1::bigint)", 1, (const char *const[]){agent});
        if (rc == DB_OK)
            rc = sessions_end_tx(conn, u->id, NULL);
        if (rc == DB_OK) {
            u->requeued = convo_requeue_agent_tx(conn, u->id, &u->work);
            if (u->requeued < 0)
                rc = DB_E_QUERY;
        }
    } else if (u->password_hash) {
        /* A new password ends every session of the agent (but the admin's
         * own current one) and closes their sockets on every node. */
        rc = sessions_end_tx(conn, u->id, u->keep_session);
    }
    return rc;
}

void api_agents_update(struct http_req *req)
{
    static const char *const fields[] = {"name", "role", "password", "max_chats", "active", "team_ids", NULL};
    struct session s;
    struct problem_field err;
    struct agent_update u = {.max_chats = -1, .active = -1};
    const char *password = NULL;
    char hash[PASSWORD_HASH_MAX], id[24];
    json_t *body;
    PGresult *res = NULL;

    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_ADMIN) != 0 || params_path_id(req, NULL, &u.id) != 0 ||
        !(body = http_read_json(req)))
        return;
    if (jfield_only(body, fields, &err) != 0 || jfield_string(body, "name", JF_NAME, 1, 100, &u.name, &err) != 0 ||
        jfield_enum(body, "role", 0, roles, &u.role, &err) != 0 ||
        jfield_string(body, "password", 0, 1, PASSWORD_MAX_LEN, &password, &err) != 0 ||
        jfield_int(body, "max_chats", 0, 0, 100, &u.max_chats, &err) != 0 ||
        jfield_bool(body, "active", 0, &u.active, &err) != 0 || read_ids(body, "team_ids", &u.team_ids, &err) != 0) {
        send_invalid(req, &err);
        goto done;
    }
    if (ids_exist(req, "teams", u.team_ids, "team_ids") != 0)
        goto done;
    if (u.name && agents_name_error(u.name)) {
        struct problem_field f = {"name", agents_name_error(u.name)};
        send_invalid(req, &f);
        goto done;
    }
    if (password) {
        const char *why = password_policy_error(password);
        if (why) {
            struct problem_field f = {"password", why};
            send_invalid(req, &f);
            goto done;
        }
        if (password_hash(password, hash, sizeof(hash)) != 0) {
            http_send_problem(req, 500, "internal", NULL);
            goto done;
        }
        u.password_hash = hash;
        if (u.id == s.agent.id)
            u.keep_session = s.token_hash;
    }
    /* An admin cannot lock themselves out by accident. */
    if (u.id == s.agent.id && (u.active == 0 || (u.role && strcmp(u.role, "admin") != 0))) {
        struct problem_field f = {u.active == 0 ? "active" : "role", "you cannot deactivate or demote yourself"};
        send_invalid(req, &f);
        goto done;
    }
    int rc = db_transaction(req->app->db, agent_update_tx, &u);
    if (rc != DB_OK) {
        memset(&u.work, 0, sizeof(u.work));
        send_db_error(req, rc, NULL);
        goto done;
    }
    /* More capacity, new teams, or freed chats: someone may be waiting. */
    if (u.max_chats >= 0 || u.team_ids)
        assign_work_agent(&u.work, u.id);
    snprintf(id, sizeof(id), "%lld", u.id);
    if (db_query(req->app->db, &res,
                 "SELECT json_build_object('agent', parley_agent_json(a))::text FROM agents a WHERE a.id = $1::bigint",
                 1, (const char *const[]){id}) != DB_OK) {
        http_send_problem(req, 503, "unavailable", NULL);
        goto done;
    }
    send_row_json(req, 200, res);
done:
    assign_run(req->app, &u.work); /* after the answer: see chat/assign.h */
    PQclear(res);
    free(u.team_ids);
    json_decref(body);
}

/* ----------------------------------------------------------------- teams */

void api_teams_list(struct http_req *req)
{
    struct session s;
    if (auth_require_agent(req, &s, 0) != 0)
        return;
    answer_query(req, 200,
                 "SELECT json_build_object('teams', coalesce(json_agg(parley_team_json(t) ORDER BY t.id),"
                 " '[]'::json))::text FROM teams t",
                 0, NULL, NULL);
}

/* Creates (id 0) or updates a team; members replaced when given. */
static void team_write(struct http_req *req, long long team_id)
{
    static const char *const fields[] = {"name", "member_ids", NULL};
    struct problem_field err;
    const char *name = NULL;
    char *members = NULL, id[24];
    PGresult *res = NULL;
    json_t *body = http_read_json(req);
    if (!body)
        return;
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "name", (team_id ? 0 : JF_REQUIRED) | JF_NAME, 1, 100, &name, &err) != 0 ||
        read_ids(body, "member_ids", &members, &err) != 0) {
        send_invalid(req, &err);
        goto done;
    }
    if (ids_exist(req, "agents", members, "member_ids") != 0)
        goto done;
    snprintf(id, sizeof(id), "%lld", team_id);
    const char *params[3] = {id, name, members};
    /* The id comes back from the write itself: a second query for "the
     * newest team" would race with another admin's insert. */
    int rc = db_query(req->app->db, &res,
                      "WITH t AS ("
                      "  INSERT INTO teams (name) SELECT $2 WHERE $1::bigint = 0 RETURNING id),"
                      " u AS (UPDATE teams SET name = coalesce($2, name) WHERE id = $1::bigint AND $1::bigint <> 0"
                      "  RETURNING id),"
                      " target AS (SELECT id FROM t UNION ALL SELECT id FROM u),"
                      " d AS (DELETE FROM team_members WHERE $3::bigint[] IS NOT NULL"
                      "  AND team_id = (SELECT id FROM target) AND NOT agent_id = ANY ($3::bigint[])),"
                      " m AS (INSERT INTO team_members (team_id, agent_id)"
                      "  SELECT (SELECT id FROM target), a.id FROM agents a WHERE a.id = ANY ($3::bigint[])"
                      "  ON CONFLICT DO NOTHING)"
                      " SELECT json_build_object('team', json_build_object('id', target.id, 'name',"
                      "   coalesce($2, (SELECT name FROM teams WHERE id = target.id))))::text, target.id FROM target",
                      3, params);
    if (rc != DB_OK) {
        send_db_error(req, rc, "a team with this name exists already");
        goto done;
    }
    send_row_json(req, team_id ? 200 : 201, res);
    if (PQntuples(res) == 1) {
        /* New members may take waiting conversations. */
        struct assign_work work = {.nteams = 0};
        assign_work_team(&work, db_get_ll(res, 0, 1, 0));
        assign_run(req->app, &work);
    }
done:
    PQclear(res);
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

/* ----------------------------------------------------------------- sites */

void api_sites_list(struct http_req *req)
{
    struct session s;
    if (auth_require_role(req, &s, 0, AUTH_ROLE_ADMIN) != 0)
        return;
    answer_query(req, 200,
                 "SELECT json_build_object('sites', coalesce(json_agg(parley_site_json(s, true) ORDER BY s.id),"
                 " '[]'::json))::text FROM sites s",
                 0, NULL, NULL);
}

/* "http(s)://host[:port]" and nothing more: what browsers send as Origin. */
static int origin_valid(const char *o)
{
    const char *rest = strncmp(o, "https://", 8) == 0 ? o + 8 : strncmp(o, "http://", 7) == 0 ? o + 7 : NULL;
    if (!rest || !*rest || strlen(o) > 255)
        return 0;
    for (const char *p = rest; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == ':' ||
              *p == '[' || *p == ']'))
            return 0;
    return 1;
}

static int read_origins(json_t *body, char **out, struct problem_field *err)
{
    json_t *arr = json_object_get(body, "allowed_origins"), *v;
    size_t i;
    *out = NULL;
    if (!arr)
        return 0;
    err->field = "allowed_origins";
    if (!json_is_array(arr) || json_array_size(arr) > 50) {
        err->message = "must be an array of at most 50 origins";
        return -1;
    }
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) || !origin_valid(json_string_value(v))) {
            err->message = "each origin must look like https://shop.example.com (lower case, no path)";
            return -1;
        }
    }
    /* A JSON array of checked strings; the SQL turns it into text[]. */
    *out = json_dumps(arr, JSON_COMPACT);
    return *out ? 0 : -1;
}

static int color_valid(const char *c)
{
    if (strlen(c) != 7 || c[0] != '#')
        return 0;
    for (int i = 1; i < 7; i++)
        if (!strchr("0123456789abcdefABCDEF", c[i]))
            return 0;
    return 1;
}

/* widget_settings: known keys only, each checked; the widget trusts none of
 * it either, but bad data never gets stored. */
static int read_widget_settings(json_t *body, char **out, struct problem_field *err)
{
    static const char *const keys[] = {"color",          "position", "greeting", "launcher_text",
                                       "prechat_fields", "language", NULL};
    static const char *const positions[] = {"left", "right", NULL};
    static const char *const languages[] = {"auto", "en", "zh-CN", NULL};
    static const char *const field_keys[] = {"name", "label", "type", "required", NULL};
    static const char *const field_types[] = {"text", "email", NULL};
    json_t *ws = json_object_get(body, "widget_settings"), *fields, *f;
    const char *s;
    size_t i;
    int b;
    *out = NULL;
    if (!ws)
        return 0;
    if (!json_is_object(ws)) {
        err->field = "widget_settings";
        err->message = "must be an object";
        return -1;
    }
    if (jfield_only(ws, keys, err) != 0 || jfield_string(ws, "color", 0, 7, 7, &s, err) != 0 ||
        (s && !color_valid(s) && (err->field = "color", err->message = "must look like #1f6feb", 1)) ||
        jfield_enum(ws, "position", 0, positions, &s, err) != 0 ||
        jfield_string(ws, "greeting", JF_MULTILINE | JF_TEXT, 0, 500, &s, err) != 0 ||
        jfield_string(ws, "launcher_text", JF_TEXT, 0, 40, &s, err) != 0 ||
        jfield_enum(ws, "language", 0, languages, &s, err) != 0) {
        err->field = "widget_settings";
        return -1;
    }
    fields = json_object_get(ws, "prechat_fields");
    if (fields) {
        if (!json_is_array(fields) || json_array_size(fields) > 10) {
            err->field = "widget_settings";
            err->message = "prechat_fields must be an array of at most 10 fields";
            return -1;
        }
        json_array_foreach(fields, i, f)
        {
            const char *name = NULL;
            if (!json_is_object(f) || jfield_only(f, field_keys, err) != 0 ||
                jfield_string(f, "name", JF_REQUIRED, 1, 40, &name, err) != 0 ||
                strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name) ||
                jfield_string(f, "label", JF_REQUIRED | JF_TEXT, 1, 100, &s, err) != 0 ||
                jfield_enum(f, "type", 0, field_types, &s, err) != 0 || jfield_bool(f, "required", 0, &b, err) != 0) {
                err->field = "widget_settings";
                err->message = "each pre-chat field needs a name ([a-z0-9_]), a label, a type text|email, required";
                return -1;
            }
        }
    }
    *out = json_dumps(ws, JSON_COMPACT);
    return *out ? 0 : -1;
}

static void site_write(struct http_req *req, long long site_id)
{
    static const char *const fields[] = {
        "name", "allowed_origins", "widget_settings", "default_team_id", "identity_required", "rotate_identity_secret",
        NULL};
    struct problem_field err;
    const char *name = NULL;
    char *origins = NULL, *settings = NULL, id[24], team[24] = "", key[TOKEN_MAX_LEN], secret[TOKEN_MAX_LEN];
    long long team_id = 0;
    int required = -1, rotate = 0;
    json_t *body = http_read_json(req);
    if (!body)
        return;
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "name", (site_id ? 0 : JF_REQUIRED) | JF_NAME, 1, 100, &name, &err) != 0 ||
        read_origins(body, &origins, &err) != 0 || read_widget_settings(body, &settings, &err) != 0 ||
        jfield_int(body, "default_team_id", 0, 1, INT64_MAX, &team_id, &err) != 0 ||
        jfield_bool(body, "identity_required", 0, &required, &err) != 0 ||
        jfield_bool(body, "rotate_identity_secret", 0, &rotate, &err) != 0) {
        send_invalid(req, &err);
        goto done;
    }
    if (team_id) {
        char one[32];
        snprintf(one, sizeof(one), "{%lld}", team_id);
        if (ids_exist(req, "teams", one, "default_team_id") != 0)
            goto done;
    }
    if (token_generate("", key, sizeof(key)) != 0 || token_generate("", secret, sizeof(secret)) != 0) {
        http_send_problem(req, 500, "internal", NULL);
        goto done;
    }
    key[24] = '\0';
    snprintf(id, sizeof(id), "%lld", site_id);
    if (team_id)
        snprintf(team, sizeof(team), "%lld", team_id);
    const char *params[8] = {id,
                             name,
                             origins,
                             settings,
                             team[0] ? team : NULL,
                             required < 0 ? NULL
                             : required   ? "true"
                                          : "false",
                             key,
                             (rotate || !site_id) ? secret : NULL};
    /* A new site without a team goes to the first team. */
    answer_query(req, site_id ? 200 : 201,
                 "WITH ins AS (INSERT INTO sites (name, public_key, allowed_origins, widget_settings, default_team_id,"
                 "    identity_required, identity_secret)"
                 "  SELECT $2, $7, coalesce(ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), '{}'),"
                 "   coalesce($4::jsonb, '{}'), coalesce($5::bigint, (SELECT min(id) FROM teams)),"
                 "   coalesce($6::boolean, false), $8"
                 "  WHERE $1::bigint = 0 RETURNING *),"
                 " upd AS (UPDATE sites SET name = coalesce($2, name),"
                 "   allowed_origins = CASE WHEN $3::jsonb IS NULL THEN allowed_origins"
                 "     ELSE ARRAY(SELECT jsonb_array_elements_text($3::jsonb)) END,"
                 "   widget_settings = coalesce($4::jsonb, widget_settings),"
                 "   default_team_id = coalesce($5::bigint, default_team_id),"
                 "   identity_required = coalesce($6::boolean, identity_required),"
                 "   identity_secret = coalesce($8, identity_secret)"
                 "  WHERE id = $1::bigint AND $1::bigint <> 0 RETURNING *)"
                 " SELECT json_build_object('site', parley_site_json(ROW(s.*)::sites, true))::text"
                 " FROM (SELECT * FROM ins UNION ALL SELECT * FROM upd) s",
                 8, params, "a site with this key exists already");
done:
    free(origins);
    free(settings);
    json_decref(body);
}

void api_sites_create(struct http_req *req)
{
    struct session s;
    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_ADMIN) != 0)
        return;
    site_write(req, 0);
}

void api_sites_update(struct http_req *req)
{
    struct session s;
    long long id;
    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_ADMIN) != 0 || params_path_id(req, NULL, &id) != 0)
        return;
    site_write(req, id);
}

/* ------------------------------------------------------ canned responses */

void api_canned_list(struct http_req *req)
{
    struct session s;
    if (auth_require_agent(req, &s, 0) != 0)
        return;
    answer_query(req, 200,
                 "SELECT json_build_object('canned', coalesce(json_agg(json_build_object('id', id, 'shortcut',"
                 " shortcut, 'body', body, 'updated_at', parley_iso(updated_at)) ORDER BY shortcut), '[]'::json))::text"
                 " FROM canned_responses",
                 0, NULL, NULL);
}

static void canned_write(struct http_req *req, struct session *s, long long canned_id)
{
    static const char *const fields[] = {"shortcut", "body", NULL};
    struct problem_field err;
    const char *shortcut = NULL, *text = NULL;
    char id[24], author[24];
    json_t *body = http_read_json(req);
    if (!body)
        return;
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "shortcut", canned_id ? 0 : JF_REQUIRED, 1, 32, &shortcut, &err) != 0 ||
        jfield_string(body, "body", (canned_id ? 0 : JF_REQUIRED) | JF_MULTILINE | JF_TEXT, 1, 4000, &text, &err) !=
            0) {
        send_invalid(req, &err);
        goto done;
    }
    if (shortcut && (strspn(shortcut, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(shortcut) ||
                     shortcut[0] == '_' || shortcut[0] == '-')) {
        struct problem_field f = {"shortcut", "use lower-case letters, digits, - and _"};
        send_invalid(req, &f);
        goto done;
    }
    snprintf(id, sizeof(id), "%lld", canned_id);
    snprintf(author, sizeof(author), "%lld", s->agent.id);
    const char *params[4] = {id, shortcut, text, author};
    answer_query(req, canned_id ? 200 : 201,
                 "WITH ins AS (INSERT INTO canned_responses (shortcut, body, created_by)"
                 "  SELECT $2, $3, $4::bigint WHERE $1::bigint = 0 RETURNING *),"
                 " upd AS (UPDATE canned_responses SET shortcut = coalesce($2, shortcut), body = coalesce($3, body),"
                 "  updated_at = now() WHERE id = $1::bigint AND $1::bigint <> 0 RETURNING *)"
                 " SELECT json_build_object('canned', json_build_object('id', c.id, 'shortcut', c.shortcut,"
                 "  'body', c.body, 'updated_at', parley_iso(c.updated_at)))::text"
                 " FROM (SELECT * FROM ins UNION ALL SELECT * FROM upd) c",
                 4, params, "this shortcut is taken");
done:
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
    char text[24];
    PGresult *res = NULL;
    if (auth_require_role(req, &s, AUTH_STATE_CHANGE, AUTH_ROLE_SUPERVISOR) != 0 || params_path_id(req, NULL, &id) != 0)
        return;
    snprintf(text, sizeof(text), "%lld", id);
    int rc = db_query(req->app->db, &res, "DELETE FROM canned_responses WHERE id = $1::bigint RETURNING id", 1,
                      (const char *const[]){text});
    if (rc != DB_OK)
        send_db_error(req, rc, NULL);
    else if (PQntuples(res) != 1)
        http_send_problem(req, 404, "not_found", NULL);
    else
        http_send_empty(req, 204);
    PQclear(res);
}
