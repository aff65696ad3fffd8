/* The console's site resource (admins): list, create and change a site:
 * its name, the origins whose pages may run the widget, the widget's
 * settings, its team, and identity verification. Every value is checked
 * here; the rows are chat/sites. */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/sites.h"
#include "core/jfield.h"
#include "core/sniff.h"
#include "http/auth.h"
#include "http/params.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void api_sites_list(struct http_req *req)
{
    struct session s;
    char *json = NULL;
    if (auth_require_role(req, &s, 0, AUTH_ROLE_ADMIN) != 0)
        return;
    enum chat_err err = sites_list_json(req->app->db, "sites", 1, &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
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
                                       "prechat_fields", "language", "calls",    NULL};
    static const char *const calls[] = {"off", "agent", "visitor", NULL};
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
        jfield_enum(ws, "language", 0, languages, &s, err) != 0 || jfield_enum(ws, "calls", 0, calls, &s, err) != 0) {
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

/* files: the site's upload rules, each checked against the server's
 * ceiling and the type catalogue (core/sniff.h); retention_days null keeps
 * files for ever. */
static int read_file_settings(json_t *body, long ceiling, char **out, struct problem_field *err)
{
    static const char *const keys[] = {"max_bytes", "types", "visitor_uploads", "retention_days", NULL};
    json_t *fs = json_object_get(body, "files"), *types, *t;
    long long n;
    int b;
    size_t i;
    *out = NULL;
    if (!fs)
        return 0;
    if (!json_is_object(fs)) {
        err->field = "files";
        err->message = "must be an object";
        return -1;
    }
    if (jfield_only(fs, keys, err) != 0 || jfield_int(fs, "max_bytes", 0, 1, ceiling, &n, err) != 0 ||
        jfield_bool(fs, "visitor_uploads", 0, &b, err) != 0) {
        err->field = "files";
        return -1;
    }
    json_t *days = json_object_get(fs, "retention_days");
    if (days && !json_is_null(days) && jfield_int(fs, "retention_days", 0, 1, 3650, &n, err) != 0) {
        err->field = "files";
        err->message = "retention_days must be null (keep for ever) or 1 to 3650";
        return -1;
    }
    types = json_object_get(fs, "types");
    if (types) {
        if (!json_is_array(types) || json_array_size(types) > 64) {
            err->field = "files";
            err->message = "types must be an array of types from the catalogue";
            return -1;
        }
        json_array_foreach(types, i, t)
        {
            if (!json_is_string(t) || !sniff_known(json_string_value(t))) {
                err->field = "files";
                err->message = "types: each must be a type from the catalogue (docs/openapi.yaml, FileSettings)";
                return -1;
            }
        }
    }
    *out = json_dumps(fs, JSON_COMPACT);
    return *out ? 0 : -1;
}

static void site_write(struct http_req *req, long long site_id)
{
    static const char *const fields[] = {"name",
                                         "allowed_origins",
                                         "widget_settings",
                                         "default_team_id",
                                         "identity_required",
                                         "rotate_identity_secret",
                                         "files",
                                         NULL};
    struct problem_field err;
    struct site_fields f = {.identity_required = -1};
    char *origins = NULL, *settings = NULL, *files = NULL, *json = NULL;
    json_t *body = http_read_json(req);
    if (!body)
        return;
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "name", (site_id ? 0 : JF_REQUIRED) | JF_NAME, 1, SITE_NAME_MAX, &f.name, &err) != 0 ||
        read_origins(body, &origins, &err) != 0 || read_widget_settings(body, &settings, &err) != 0 ||
        jfield_int(body, "default_team_id", 0, 1, INT64_MAX, &f.default_team_id, &err) != 0 ||
        jfield_bool(body, "identity_required", 0, &f.identity_required, &err) != 0 ||
        jfield_bool(body, "rotate_identity_secret", 0, &f.rotate_identity_secret, &err) != 0 ||
        read_file_settings(body, req->app->cfg->upload_max_bytes, &files, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    if (f.default_team_id && api_require_teams(req, &f.default_team_id, 1, "default_team_id") != 0)
        goto done;
    f.origins_json = origins;
    f.settings_json = settings;
    f.files_json = files;
    enum chat_err e = sites_save(req->app->db, site_id, &f, &json);
    api_answer(req, site_id ? 200 : 201, e, json, NULL, "a site with this key exists already");
done:
    free(json);
    free(origins);
    free(settings);
    free(files);
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
