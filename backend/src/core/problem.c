#include "core/problem.h"

#include <stdlib.h>
#include <string.h>

struct slug_title {
    const char *slug;
    const char *title;
};

static const struct slug_title titles[] = {
    {"invalid_request", "The request is not valid"},
    {"unauthenticated", "Authentication required"},
    {"invalid_credentials", "Email or password is wrong"},
    {"csrf_failed", "Missing or wrong CSRF token"},
    {"origin_forbidden", "Request origin not allowed"},
    {"forbidden", "Not allowed"},
    {"insufficient_scope", "The token lacks the scope this needs"},
    {"identity_invalid", "Visitor identity could not be verified"},
    {"identity_required", "Visitor identity required"},
    {"not_found", "Not found"},
    {"method_not_allowed", "Method not allowed"},
    {"conflict", "Conflict"},
    {"payload_too_large", "Request body too large"},
    {"request_timeout", "The request did not arrive in time"},
    {"unsupported_media_type", "Unsupported media type"},
    {"too_many_attempts", "Too many attempts; try again later"},
    {"rate_limited", "Too many requests"},
    {"too_many_requests", "Busy with other requests; try again shortly"},
    {"too_many_connections", "Too many connections from your address"},
    {"not_ready", "Service not ready"},
    {"unavailable", "Service temporarily unavailable"},
    {"internal", "Internal server error"},
};

const char *problem_title(const char *slug)
{
    for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
        if (strcmp(titles[i].slug, slug) == 0)
            return titles[i].title;
    return "Request failed";
}

static int slug_valid(const char *slug)
{
    if (!slug || !*slug || strlen(slug) > 64)
        return 0;
    for (const char *p = slug; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

char *problem_render(int status, const char *slug, const char *title, const char *detail, const char *request_id,
                     const struct problem_field *fields, size_t nfields)
{
    return problem_render_with(status, slug, title, detail, request_id, fields, nfields, NULL);
}

char *problem_render_with(int status, const char *slug, const char *title, const char *detail, const char *request_id,
                          const struct problem_field *fields, size_t nfields, json_t *members)
{
    char type[96];
    char *out = NULL;
    json_t *doc = NULL;

    if (status < 400 || status > 599 || !slug_valid(slug) || (nfields && !fields))
        return NULL;
    strcpy(type, PROBLEM_TYPE_PREFIX);
    strcat(type, slug);
    doc = json_pack("{s:s, s:s, s:i}", "type", type, "title", title ? title : problem_title(slug), "status", status);
    if (!doc)
        goto done;
    if (detail && json_object_set_new(doc, "detail", json_string(detail)) != 0)
        goto done;
    if (request_id && json_object_set_new(doc, "request_id", json_string(request_id)) != 0)
        goto done;
    if (nfields) {
        json_t *errs = json_array();
        if (!errs || json_object_set_new(doc, "errors", errs) != 0)
            goto done;
        for (size_t i = 0; i < nfields; i++) {
            json_t *e = json_pack("{s:s, s:s}", "field", fields[i].field, "message", fields[i].message);
            if (!e || json_array_append_new(errs, e) != 0)
                goto done;
        }
    }
    if (members && json_object_update_missing(doc, members) != 0)
        goto done;
    out = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
done:
    json_decref(doc);
    return out;
}
