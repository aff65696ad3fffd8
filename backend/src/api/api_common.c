#include "api/api_common.h"

#include "http/params.h"

#include <stdlib.h>
#include <string.h>

void api_send_json_text(struct http_req *req, int status, const char *json)
{
    http_send_body(req, status, "application/json; charset=utf-8", json, strlen(json));
}

void api_send_error(struct http_req *req, enum chat_err err, const char *not_found, const char *taken)
{
    const struct chat_err_desc *d = chat_err_desc(err);
    const char *detail = d->text;
    if (err == CHAT_E_NOT_FOUND)
        detail = not_found;
    else if (err == CHAT_E_TAKEN)
        detail = taken;
    else if (err == CHAT_E_UNAVAILABLE)
        detail = "the database is not reachable"; /* what the API documents say */
    http_send_problem(req, d->http_status, d->slug, detail);
}

void api_answer(struct http_req *req, int status, enum chat_err err, const char *json, const char *not_found,
                const char *taken)
{
    if (err == CHAT_OK)
        api_send_json_text(req, status, json);
    else
        api_send_error(req, err, not_found, taken);
}

int api_want_notes(struct http_req *req, const struct apitoken *t, int *notes)
{
    if (params_bool(req, "include_notes", notes) < 0)
        return -1;
    if (*notes && !apitokens_has(t, APITOKEN_SCOPE_ADMIN)) {
        http_send_problem(req, 403, "insufficient_scope", "include_notes needs the admin scope");
        return -1;
    }
    return 0;
}
