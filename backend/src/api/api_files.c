/* Files over HTTP: uploads as raw request bodies, downloads, signed links,
 * and a conversation's file list.
 *
 *   POST /api/files?conversation_id=&name=          visitor (Bearer) or agent (cookie + CSRF)
 *   POST /api/v1/conversations/{id}/files?name=     API token, conversations:write
 *   GET  /api/files/{id}                            signed link, agent cookie, visitor or API Bearer
 *   GET  /api/v1/files/{id}                         API token, transcripts:read (401/403 like all of v1)
 *   GET  /api/files/{id}/link                       a signed link for <img> (same credentials)
 *   GET  /api/conversations/{id}/files              agent cookie: the visitor panel's list
 *
 * An upload is the request body itself (never multipart: no parser, no
 * temporary file), read in FILESTORE_CHUNK pieces into one buffer and
 * handed to chat/files chunk by chunk, so memory is one chunk per upload
 * whatever the file's size. Past the site's limit, past the time allowed,
 * or when the client goes away, the upload ends (413 / 408 with the
 * connection closed) and chat/files deletes what it had stored.
 *
 * Every file response carries nosniff, a sandboxing CSP and (unless a
 * raster image) Content-Disposition: attachment; anyone who may not see a
 * file gets the same 404 as for a file that does not exist. */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/filestore.h"
#include "chat/files.h"
#include "chat/visitors.h"
#include "core/clock.h"
#include "core/sniff.h"
#include "http/auth.h"
#include "http/bearer.h"
#include "http/params.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_CSP "sandbox; default-src 'none'"

/* ------------------------------------------------------------ credentials */

/* Who asks for a file, without answering: a visitor or API Bearer token, or
 * an agent's session cookie. Returns 0 with *a (and *notes for an API
 * token with the admin scope) or -1 (nobody we know: the caller answers
 * 404, as for a file that does not exist). */
static int file_reader(struct http_req *req, struct actor *a, int *notes)
{
    const char *token = api_bearer_token(req);
    *notes = 0;
    if (token && strncmp(token, APITOKEN_PREFIX, strlen(APITOKEN_PREFIX)) == 0) {
        struct apitoken t;
        if (apitokens_lookup(req->app->db, token, &t) != CHAT_OK || !apitokens_has(&t, APITOKEN_SCOPE_TRANSCRIPTS_READ))
            return -1;
        api_token_actor(&t, a);
        *notes = apitokens_has(&t, APITOKEN_SCOPE_ADMIN);
        return 0;
    }
    if (token)
        return api_visitor_from_bearer(req, token, a);
    char cookie[TOKEN_MAX_LEN + 8];
    struct session s;
    if (!http_cookie(req, SESSION_COOKIE, cookie, sizeof(cookie)) ||
        sessions_lookup(req->app->db, req->app->cfg, cookie, &s) != CHAT_OK)
        return -1;
    api_agent_actor(&s, a);
    return 0;
}

/* ----------------------------------------------------------------- upload */

static void send_upload_error(struct http_req *req, enum chat_err err, long long max_bytes, int retry_after,
                              const char *type)
{
    const struct chat_err_desc *d = chat_err_desc(err);
    char text[160];
    if (retry_after > 0) {
        char retry[16];
        snprintf(retry, sizeof(retry), "%d", retry_after);
        http_add_header(req, "Retry-After", retry);
    }
    switch (err) {
    case CHAT_E_FILE_TOO_LARGE:
        snprintf(text, sizeof(text), "the file is larger than this site allows (%lld bytes)", max_bytes);
        http_send_problem_members(req, 413, d->slug, text, json_pack("{s:I}", "max_bytes", (json_int_t)max_bytes));
        return;
    case CHAT_E_FILE_TYPE:
        snprintf(text, sizeof(text), "this site does not accept files of this type (%s)", type ? type : "unknown");
        http_send_problem_members(req, 415, d->slug, text, type ? json_pack("{s:s}", "file_type", type) : NULL);
        return;
    case CHAT_E_INVALID:
        http_send_problem(req, 400, "invalid_request", "the file is empty");
        return;
    case CHAT_E_AT_CAPACITY:
        http_send_problem(req, 503, "unavailable", "too many uploads on this server right now; retry");
        return;
    case CHAT_E_NOT_FOUND:
        http_send_problem(req, 404, "not_found", "no such conversation");
        return;
    default:
        http_send_problem(req, d->http_status, d->slug, d->text);
    }
}

/* Receives the body into a new file of conversation conv for who. */
static void receive_upload(struct http_req *req, const struct actor *who, long long conv)
{
    char raw[SNIFF_NAME_MAX * 4 + 1], name[SNIFF_NAME_MAX + 1], *json = NULL;
    struct file_upload *u = NULL;
    unsigned char *buf = NULL;
    struct file_refusal why;
    enum chat_err err;
    long long declared = http_content_length(req);

    /* The name: decoded, then cleaned (a NUL, a path, a bidi trick). */
    const char *qs = http_query_string(req);
    int got = qs ? mg_get_var(qs, strlen(qs), "name", raw, sizeof(raw)) : -1;
    if (got < -1 || (got >= 0 && sniff_clean_name(raw, (size_t)got, name) != 0)) {
        params_invalid(req, "name", "must be UTF-8 text of at most 255 characters");
        return;
    }
    if (got < 0)
        snprintf(name, sizeof(name), "file");
    if (declared < 0 && !http_body_is_chunked(req)) {
        http_send_problem(req, 411, "length_required", "send Content-Length or a chunked body");
        return;
    }
    err = files_upload_begin(req->app, who, conv, name, declared, &u, &why);
    if (err != CHAT_OK) {
        if (err == CHAT_E_FILE_TOO_LARGE)
            http_add_header(req, "Connection", "close");
        send_upload_error(req, err, why.max_bytes, why.retry_after, NULL);
        return;
    }
    buf = malloc(FILESTORE_CHUNK);
    if (!buf) {
        err = CHAT_E_INTERNAL;
        goto fail;
    }
    double deadline = clock_now() + req->app->cfg->upload_timeout_seconds;
    size_t fill = 0;
    long long total = 0;
    for (;;) {
        long n = http_body_read(req, buf + fill, FILESTORE_CHUNK - fill);
        /* An error, a stall past the socket timeout, or an end before the
         * announced length: the client went away in the middle. */
        if (n < 0 || (n == 0 && declared >= 0 && total != declared))
            goto gone;
        fill += (size_t)n;
        total += n;
        if (clock_now() > deadline) {
            http_add_header(req, "Connection", "close");
            http_send_problem(req, 408, "request_timeout", "the file did not arrive in time");
            goto out;
        }
        if (fill == FILESTORE_CHUNK || (n == 0 && fill > 0)) {
            err = files_upload_write(u, buf, fill);
            if (err != CHAT_OK)
                goto fail;
            fill = 0;
        }
        if (n == 0)
            break;
    }
    err = files_upload_finish(u, &json);
    if (err != CHAT_OK)
        goto fail;
    json_t *file = json_loads(json, 0, NULL);
    http_send_json(req, 201, json_pack("{s:o}", "file", file ? file : json_null()));
    goto out;
gone:
    /* Nobody to answer; the upload ends (and is deleted) below. */
    req->status = 499;
    goto out;
fail:
    /* The rest of the body is not read: close rather than drain it. */
    if (err == CHAT_E_FILE_TOO_LARGE || err == CHAT_E_FILE_TYPE)
        http_add_header(req, "Connection", "close");
    send_upload_error(req, err, files_upload_limit(u), 0, files_upload_type(u));
out:
    free(buf);
    free(json);
    files_upload_end(u);
}

void api_files_upload(struct http_req *req)
{
    struct actor who;
    char conv_text[24];
    const char *token = api_bearer_token(req);
    if (token) {
        /* The widget's frame: its visitor token, as its socket uses. */
        if (api_visitor_from_bearer(req, token, &who) != 0) {
            http_send_problem(req, 401, "unauthenticated", "the visitor token is not valid");
            return;
        }
    } else {
        struct session s;
        if (auth_require_agent(req, &s, AUTH_STATE_CHANGE) != 0)
            return;
        api_agent_actor(&s, &who);
    }
    if (params_int(req, "conversation_id", 1, INT64_MAX, conv_text) < 0)
        return;
    if (!conv_text[0]) {
        params_invalid(req, "conversation_id", "is required");
        return;
    }
    receive_upload(req, &who, strtoll(conv_text, NULL, 10));
}

void api_v1_files_upload(struct http_req *req)
{
    struct apitoken t;
    struct actor who;
    long long conv;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_WRITE) != 0 ||
        params_path_id(req, "no such conversation", &conv) != 0)
        return;
    api_token_actor(&t, &who);
    receive_upload(req, &who, conv);
}

/* --------------------------------------------------------------- download */

/* Content-Disposition with the name as RFC 6266 / 5987 want it: an ASCII
 * fallback in quotes, and the UTF-8 name percent-encoded in filename*. */
static void content_disposition(struct http_req *req, const char *how, const char *name)
{
    char ascii[SNIFF_NAME_MAX + 1], encoded[SNIFF_NAME_MAX * 3 + 1], value[sizeof(ascii) + sizeof(encoded) + 64];
    size_t a = 0, e = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && a < SNIFF_NAME_MAX; p++)
        ascii[a++] = (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != '%') ? (char)*p : '_';
    ascii[a] = '\0';
    for (const unsigned char *p = (const unsigned char *)name; *p && e + 3 < sizeof(encoded); p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("!#$&+-.^_`|~", *p))
            encoded[e++] = (char)*p;
        else
            e += (size_t)snprintf(encoded + e, 4, "%%%02X", *p);
    }
    encoded[e] = '\0';
    snprintf(value, sizeof(value), "%s; filename=\"%s\"; filename*=UTF-8''%s", how, ascii, encoded);
    http_add_header(req, "Content-Disposition", value);
}

/* A single "Range: bytes=a-b" / "bytes=a-" / "bytes=-n" of a file of size
 * bytes: 1 with [*first, *last], 0 when absent or not one plain byte range
 * (then the whole file is sent, as RFC 9110 allows), -1 when unsatisfiable. */
static int byte_range(const char *h, long long size, long long *first, long long *last)
{
    char *end = NULL;
    long long a, z = size - 1;
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    h += 6;
    if (*h == '-') {
        long long n = strtoll(h + 1, &end, 10);
        if (end == h + 1 || *end || n <= 0)
            return 0;
        a = n >= size ? 0 : size - n;
    } else {
        if (*h < '0' || *h > '9')
            return 0;
        a = strtoll(h, &end, 10);
        if (*end != '-')
            return 0;
        const char *b = end + 1;
        if (*b) {
            if (*b < '0' || *b > '9')
                return 0;
            long long l = strtoll(b, &end, 10);
            if (*end || l < a)
                return 0;
            if (l < z)
                z = l;
        }
    }
    if (a >= size)
        return -1;
    *first = a;
    *last = z;
    return 1;
}

static void send_file(struct http_req *req, const struct file_meta *m)
{
    int download = 0;
    unsigned char *buf = malloc(FILESTORE_CHUNK);
    if (!buf) {
        http_send_problem(req, 500, "internal", NULL);
        return;
    }
    if (params_bool(req, "download", &download) < 0) {
        free(buf);
        return;
    }
    /* Only raster images are ever shown by the browser itself; everything
     * else (SVG, HTML, PDF, text, anything unknown) is a download, and the
     * sandbox keeps even a file opened directly from running anything. */
    req->csp = FILE_CSP;
    req->cache_control = "private, max-age=300";
    http_add_header(req, "Cross-Origin-Resource-Policy", "same-origin");
    content_disposition(req, sniff_is_raster(m->type) && !download ? "inline" : "attachment", m->name);
    /* Markup is labelled as bytes, not as markup: one more layer under the
     * sandbox and the attachment disposition. Text is labelled UTF-8 (what
     * the sniffer checked), never left to guessing. */
    char type[160];
    int markup = strcmp(m->type, SNIFF_TYPE_HTML) == 0 || strcmp(m->type, SNIFF_TYPE_SVG) == 0;
    snprintf(type, sizeof(type), "%s%s", markup ? SNIFF_TYPE_UNKNOWN : m->type,
             !markup && strncmp(m->type, "text/", 5) == 0 ? "; charset=utf-8" : "");
    /* One byte range (a resumed download, a PDF viewer's seek): 206 with
     * the part, read from the chunk that holds its first byte. */
    long long first = 0, last = m->size - 1;
    char range[96];
    int ranged = byte_range(http_header(req, "Range"), m->size, &first, &last);
    http_add_header(req, "Accept-Ranges", "bytes");
    if (ranged < 0) {
        snprintf(range, sizeof(range), "bytes */%lld", m->size);
        http_add_header(req, "Content-Range", range);
        req->csp = NULL;
        http_send_problem(req, 416, "range_not_satisfiable", "the range starts past the end of the file");
        free(buf);
        return;
    }
    /* The first chunk is read before any header goes out, so a storage
     * failure can still be answered with a status. */
    int n = (int)(first / FILESTORE_CHUNK);
    size_t len = 0, off = (size_t)(first % FILESTORE_CHUNK);
    enum chat_err err = files_read(req->app, m, n, buf, &len);
    if (err != CHAT_OK) {
        req->csp = NULL;
        api_send_error(req, err, "no such file", NULL);
        free(buf);
        return;
    }
    if (ranged) {
        snprintf(range, sizeof(range), "bytes %lld-%lld/%lld", first, last, m->size);
        http_add_header(req, "Content-Range", range);
    }
    http_body_begin(req, ranged ? 206 : 200, type, last - first + 1);
    long long left = last - first + 1;
    while (left > 0 && len > off) {
        size_t part = len - off < (unsigned long long)left ? len - off : (size_t)left;
        if (http_body_write(req, buf + off, part) != 0)
            break; /* the client went away */
        left -= (long long)part;
        off = 0;
        if (left > 0 && files_read(req->app, m, ++n, buf, &len) != CHAT_OK)
            break;
    }
    free(buf);
}

static int file_id_param(struct http_req *req, char id[FILE_ID_LEN + 1])
{
    if (!messages_file_id_valid(req->params[0])) {
        http_send_problem(req, 404, "not_found", "no such file");
        return -1;
    }
    memcpy(id, req->params[0], FILE_ID_LEN + 1); /* checked: exactly FILE_ID_LEN characters */
    return 0;
}

void api_files_get(struct http_req *req)
{
    char id[FILE_ID_LEN + 1], expires[24], sig[80];
    struct actor who;
    struct file_meta m;
    int notes = 0, signed_link;
    enum chat_err err;
    if (file_id_param(req, id) != 0 || params_query(req, "expires", expires, sizeof(expires)) < 0 ||
        (signed_link = params_query(req, "sig", sig, sizeof(sig))) < 0)
        return;
    if (signed_link) {
        err = files_link_valid(req->app, id, expires, sig) ? files_find(req->app, id, NULL, 0, &m) : CHAT_E_NOT_FOUND;
    } else {
        err = file_reader(req, &who, &notes) == 0 ? files_find(req->app, id, &who, notes, &m) : CHAT_E_NOT_FOUND;
    }
    if (err != CHAT_OK) {
        api_send_error(req, err, "no such file", NULL);
        return;
    }
    send_file(req, &m);
}

void api_v1_files_get(struct http_req *req)
{
    char id[FILE_ID_LEN + 1];
    struct apitoken t;
    struct file_meta m;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_TRANSCRIPTS_READ) != 0 || file_id_param(req, id) != 0)
        return;
    struct actor who;
    api_token_actor(&t, &who);
    enum chat_err err = files_find(req->app, id, &who, apitokens_has(&t, APITOKEN_SCOPE_ADMIN), &m);
    if (err != CHAT_OK) {
        api_send_error(req, err, "no such file", NULL);
        return;
    }
    send_file(req, &m);
}

void api_files_link(struct http_req *req)
{
    char id[FILE_ID_LEN + 1], url[200], at[40];
    struct actor who;
    struct file_meta m;
    int notes = 0;
    long long expires = 0;
    if (file_id_param(req, id) != 0)
        return;
    enum chat_err err =
        file_reader(req, &who, &notes) == 0 ? files_find(req->app, id, &who, notes, &m) : CHAT_E_NOT_FOUND;
    if (err != CHAT_OK) {
        api_send_error(req, err, "no such file", NULL);
        return;
    }
    files_link(req->app, id, url, sizeof(url), &expires);
    time_t t = (time_t)expires;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    http_send_json(req, 200, json_pack("{s:s, s:s}", "url", url, "expires_at", at));
}

void api_conversation_files(struct http_req *req)
{
    struct session s;
    struct actor who;
    long long conv;
    char *json = NULL;
    if (auth_require_agent(req, &s, 0) != 0 || params_path_id(req, "no such conversation", &conv) != 0)
        return;
    api_agent_actor(&s, &who);
    enum chat_err err = files_list_json(req->app, &who, conv, &json);
    api_answer(req, 200, err, json, "no such conversation", NULL);
    free(json);
}
