#include "http/http.h"
#include "core/text.h"

#include "core/clock.h"
#include "core/connlimit.h"
#include "core/peer.h"
#include "core/jfield.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/problem.h"
#include "core/token.h"

#include <civetweb.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATIC_MAX_BYTES (16L * 1024 * 1024)

/* Sent with every response. The console and API never need to be framed or
 * to load anything from another origin. */
static const char security_headers[] = "X-Content-Type-Options: nosniff\r\n"
                                       "Referrer-Policy: strict-origin-when-cross-origin\r\n";

#define CSP_COMMON                                                                                                     \
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "                               \
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; media-src 'self'; object-src 'none'; "           \
    "base-uri 'none'; form-action 'self'; "

/* Calls (issue 17) need the camera, the microphone and screen capture, in
 * the console and in the widget's frame (whose embedding page delegates
 * them with the iframe's allow attribute); nothing else a page could ask
 * the browser for is ever used. WebRTC itself is not a CSP fetch: the
 * media flows peer to peer and is shown through srcObject, so the CSP
 * below needs nothing more for it. */
#define PERMISSIONS_POLICY                                                                                             \
    "Permissions-Policy: camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), "       \
    "usb=(), serial=(), bluetooth=(), hid=()\r\n"

/* The console and API are never framed... */
static const char own_page_headers[] =
    "X-Frame-Options: DENY\r\n"
    "Cross-Origin-Opener-Policy: same-origin\r\n" PERMISSIONS_POLICY CSP_COMMON "frame-ancestors 'none'\r\n";

/* ...while the widget's files are loaded by, and framed in, any site. */
static const char embeddable_headers[] =
    "Cross-Origin-Resource-Policy: cross-origin\r\n" PERMISSIONS_POLICY CSP_COMMON "frame-ancestors *\r\n";

struct http_server {
    struct app *app;
    const struct http_route *routes;
    size_t nroutes;
    http_register_fn register_more;
    atomic_int inflight; /* requests inside on_request */
    pthread_mutex_t drain_lock;
    pthread_cond_t drained; /* inflight reached 0 while draining */
};

/* civetweb holds a pointer to this for the life of the context. */
static struct http_server server = {.drain_lock = PTHREAD_MUTEX_INITIALIZER};

void http_add_header(struct http_req *req, const char *name, const char *value)
{
    size_t used = strlen(req->extra_headers);
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) {
        log_error("refused header with CR/LF", "name", name, "rid", req->request_id);
        return;
    }
    int n = snprintf(req->extra_headers + used, sizeof(req->extra_headers) - used, "%s: %s\r\n", name, value);
    if (n < 0 || (size_t)n >= sizeof(req->extra_headers) - used) {
        req->extra_headers[used] = '\0';
        log_error("response headers overflow", "name", name, "rid", req->request_id);
    }
}

/* len < 0: a chunked body follows. */
static void send_headers(struct http_req *req, int status, const char *content_type, long long len)
{
    char length[24];
    struct mg_connection *c = req->conn;
    req->status = status;
    mg_response_header_start(c, status);
    mg_response_header_add_lines(c, security_headers);
    if (req->csp) {
        mg_response_header_add(c, "X-Frame-Options", "DENY", -1);
        mg_response_header_add(c, "Content-Security-Policy", req->csp, -1);
    } else {
        mg_response_header_add_lines(c, req->embeddable ? embeddable_headers : own_page_headers);
    }
    if (req->ri->is_ssl)
        mg_response_header_add(c, "Strict-Transport-Security", "max-age=31536000", -1);
    mg_response_header_add(c, "X-Request-Id", req->request_id, -1);
    mg_response_header_add(c, "Cache-Control", req->cache_control ? req->cache_control : "no-store", -1);
    if (content_type)
        mg_response_header_add(c, "Content-Type", content_type, -1);
    if (len < 0) {
        mg_response_header_add(c, "Transfer-Encoding", "chunked", -1);
    } else if (status != 204 && status != 304) {
        snprintf(length, sizeof(length), "%lld", len);
        mg_response_header_add(c, "Content-Length", length, -1);
    }
    if (req->extra_headers[0])
        mg_response_header_add_lines(c, req->extra_headers);
    mg_response_header_send(c);
}

static void send_response(struct http_req *req, int status, const char *content_type, const char *body, size_t len)
{
    send_headers(req, status, content_type, (long long)len);
    if (len && strcmp(req->ri->request_method, "HEAD") != 0)
        mg_write(req->conn, body, len);
}

void http_stream_begin(struct http_req *req, int status, const char *content_type)
{
    send_headers(req, status, content_type, -1);
}

int http_stream_write(struct http_req *req, const char *data, size_t len)
{
    if (len == 0)
        return 0; /* an empty chunk would end the body */
    return mg_send_chunk(req->conn, data, (unsigned)len) > 0 ? 0 : -1;
}

void http_stream_end(struct http_req *req)
{
    mg_send_chunk(req->conn, "", 0);
}

void http_body_begin(struct http_req *req, int status, const char *content_type, long long len)
{
    send_headers(req, status, content_type, len);
}

int http_body_write(struct http_req *req, const void *data, size_t len)
{
    return mg_write(req->conn, data, len) == (int)len ? 0 : -1;
}

long long http_content_length(struct http_req *req)
{
    return req->ri->content_length;
}

int http_body_is_chunked(struct http_req *req)
{
    const char *te = http_header(req, "Transfer-Encoding");
    return te && strcasecmp(te, "chunked") == 0;
}

long http_body_read(struct http_req *req, void *buf, size_t len)
{
    int n = mg_read(req->conn, buf, len);
    return n < 0 ? -1 : n;
}

void http_send_body(struct http_req *req, int status, const char *content_type, const char *body, size_t len)
{
    send_response(req, status, content_type, body, len);
}

void http_send_empty(struct http_req *req, int status)
{
    send_response(req, status, NULL, NULL, 0);
}

void http_send_json(struct http_req *req, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        http_send_problem(req, 500, "internal", NULL);
        return;
    }
    send_response(req, status, "application/json; charset=utf-8", text, strlen(text));
    free(text);
}

/* Every problem answer: rendered once, with a fixed fallback if it cannot be. */
static void send_problem(struct http_req *req, int status, const char *slug, const char *detail,
                         const struct problem_field *fields, size_t nfields, json_t *members)
{
    char *text = problem_render_with(status, slug, NULL, detail, req->request_id, fields, nfields, members);
    if (!text) {
        static const char fallback[] = "{\"type\":\"" PROBLEM_TYPE_PREFIX "internal\",\"status\":500}";
        send_response(req, 500, "application/problem+json", fallback, sizeof(fallback) - 1);
        return;
    }
    send_response(req, status, "application/problem+json", text, strlen(text));
    free(text);
}

void http_send_rate_limited(struct http_req *req, int seconds, const char *detail)
{
    char retry[16];
    snprintf(retry, sizeof(retry), "%d", seconds);
    http_add_header(req, "Retry-After", retry);
    http_send_problem(req, 429, "rate_limited", detail);
}

void http_send_problem_fields(struct http_req *req, int status, const char *slug, const char *detail,
                              const struct problem_field *fields, size_t nfields)
{
    send_problem(req, status, slug, detail, fields, nfields, NULL);
}

void http_send_problem_members(struct http_req *req, int status, const char *slug, const char *detail, json_t *members)
{
    send_problem(req, status, slug, detail, NULL, 0, members);
    json_decref(members);
}

void http_send_problem(struct http_req *req, int status, const char *slug, const char *detail)
{
    http_send_problem_fields(req, status, slug, detail, NULL, 0);
}

const char *http_query_string(struct http_req *req)
{
    return req->ri->query_string;
}

const char *http_header(struct http_req *req, const char *name)
{
    return mg_get_header(req->conn, name);
}

int http_is_tls(struct http_req *req)
{
    return req->ri->is_ssl;
}

const char *http_remote_ip(struct http_req *req)
{
    return req->client_ip;
}

int http_is_trusted_proxy(const struct app *app, const char *ip)
{
    return peer_in_list(ip, app->cfg->trusted_proxies);
}

void http_client_address(const struct app *app, const struct mg_connection *conn, char *out, size_t outlen)
{
    peer_client_address(app->cfg->trusted_proxies, mg_get_request_info(conn)->remote_addr,
                        mg_get_header(conn, "X-Forwarded-For"), out, outlen);
}

const char *http_cookie(struct http_req *req, const char *name, char *buf, size_t len)
{
    const char *header = mg_get_header(req->conn, "Cookie");
    if (!header || mg_get_cookie(header, name, buf, len) < 0)
        return NULL;
    return buf;
}

enum body_error { BODY_OK, BODY_TOO_LARGE, BODY_TOO_SLOW, BODY_NO_MEMORY };

/* Reads the whole body into a malloc'd, NUL-terminated buffer (caller frees).
 * Returns NULL with *why set when it exceeds max, or does not arrive within
 * PARLEY_REQUEST_TIMEOUT_MS as a whole: each read waits at most that long,
 * so without a total a body trickled a byte at a time held the thread for
 * as long as the client liked. */
static char *read_body(struct http_req *req, long max, size_t *outlen, enum body_error *why)
{
    long long declared = req->ri->content_length;
    size_t cap = declared > 0 ? (size_t)declared + 1 : 4096, len = 0;
    double deadline = clock_now() + req->app->cfg->request_timeout_ms / 1000.0;
    char *buf;
    *why = BODY_NO_MEMORY;
    if (declared > max) {
        *why = BODY_TOO_LARGE;
        return NULL;
    }
    buf = malloc(cap);
    if (!buf)
        return NULL;
    for (;;) {
        if (len + 1 >= cap) {
            char *grown;
            cap *= 2;
            if (cap > (size_t)max + 2)
                cap = (size_t)max + 2;
            grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                return NULL;
            }
            buf = grown;
        }
        int n = mg_read(req->conn, buf + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len > (size_t)max || clock_now() > deadline) {
            free(buf);
            *why = len > (size_t)max ? BODY_TOO_LARGE : BODY_TOO_SLOW;
            return NULL;
        }
    }
    buf[len] = '\0';
    *outlen = len;
    return buf;
}

static int media_type_is(const char *type, const char *want)
{
    size_t n = strlen(want);
    return type && strncasecmp(type, want, n) == 0 && (type[n] == '\0' || type[n] == ';');
}

json_t *http_read_json(struct http_req *req)
{
    return http_read_json_limited(req, req->app->cfg->max_body_bytes, 0);
}

json_t *http_read_json_limited(struct http_req *req, long max_bytes, int text_plain_ok)
{
    const char *type = http_header(req, "Content-Type");
    json_t *doc = NULL;
    size_t len = 0;
    enum body_error why;
    char *body;

    if (!media_type_is(type, "application/json") && !(text_plain_ok && media_type_is(type, "text/plain"))) {
        http_send_problem(req, 415, "unsupported_media_type", "send Content-Type: application/json");
        return NULL;
    }
    body = read_body(req, max_bytes, &len, &why);
    if (!body) {
        if (why == BODY_TOO_LARGE) {
            char detail[80];
            snprintf(detail, sizeof(detail), "the body must be at most %ld bytes", max_bytes);
            http_add_header(req, "Connection", "close");
            http_send_problem(req, 413, "payload_too_large", detail);
        } else if (why == BODY_TOO_SLOW) {
            http_add_header(req, "Connection", "close");
            http_send_problem(req, 408, "request_timeout", "the body did not arrive in time");
        } else {
            http_send_problem(req, 500, "internal", NULL);
        }
        return NULL;
    }
    doc = jfield_parse(body, len);
    free(body);
    if (!doc) {
        http_send_problem(req, 400, "invalid_request",
                          "the body is not valid JSON (or nests deeper than " JFIELD_MAX_DEPTH_TEXT " levels)");
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        http_send_problem(req, 400, "invalid_request", "the body must be a JSON object");
        return NULL;
    }
    return doc;
}

int http_origin_is_self(struct http_req *req)
{
    return peer_origin_is_self(http_header(req, "Origin"), req->app->cfg->public_origin, http_header(req, "Host"),
                               req->ri->is_ssl);
}

int http_require_same_origin(struct http_req *req)
{
    if (http_origin_is_self(req))
        return 0;
    http_send_problem(req, 403, "origin_forbidden",
                      http_header(req, "Origin") ? "requests from this origin are not accepted"
                                                 : "the Origin header is required");
    return -1;
}

/* Matches path against pattern segment by segment; {name} takes one
 * non-empty segment. Fills req->params on success. */
static int route_match(const char *pattern, const char *path, struct http_req *req)
{
    int nparams = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *pend = strchr(p, '}');
            size_t seglen = strcspn(s, "/");
            if (!pend || seglen == 0 || seglen >= HTTP_PARAM_MAX || nparams >= HTTP_MAX_PARAMS)
                return 0;
            memcpy(req->params[nparams], s, seglen);
            req->params[nparams][seglen] = '\0';
            nparams++;
            p = pend + 1;
            s += seglen;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    if (*p || *s)
        return 0;
    req->nparams = nparams;
    return 1;
}

static const char *mime_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".mp3", "audio/mpeg"},
        {".ogg", "audio/ogg"},
        {".wav", "audio/wav"},
        {".yaml", "text/yaml; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* A request path is served from the static root only if it is plain: no
 * dot segments, no backslashes or control bytes, and it resolves (after
 * symlinks) to a regular file inside the root. */
static int static_resolve(struct app *app, const char *uri, char *out, size_t outlen, struct stat *st)
{
    char joined[PATH_MAX];
    char resolved[PATH_MAX];
    size_t rootlen = strlen(app->static_root);
    if (!rootlen || uri[0] != '/' || strstr(uri, "/..") || strstr(uri, "//") || strchr(uri, '\\'))
        return -1;
    for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return -1;
    if (snprintf(joined, sizeof(joined), "%s%s", app->static_root, uri) >= (int)sizeof(joined))
        return -1;
    if (!realpath(joined, resolved))
        return -1;
    if (strncmp(resolved, app->static_root, rootlen) != 0 || (resolved[rootlen] != '/' && resolved[rootlen] != '\0'))
        return -1;
    if (stat(resolved, st) != 0)
        return -1;
    if (S_ISDIR(st->st_mode)) {
        /* A directory is served only through its index.html; never listed. */
        if (strlen(resolved) + sizeof("/index.html") > sizeof(resolved))
            return -1;
        strcat(resolved, "/index.html");
        if (stat(resolved, st) != 0)
            return -1;
    }
    if (!S_ISREG(st->st_mode) || st->st_size > STATIC_MAX_BYTES)
        return -1;
    if (strlen(resolved) >= outlen)
        return -1;
    strcpy(out, resolved);
    return 0;
}

/* Returns 1 if the request was answered from the static root. */
static int serve_static(struct http_req *req)
{
    char path[PATH_MAX], etag[64], modified[64];
    struct stat st;
    const char *uri = req->path;
    const char *inm;
    char *data = NULL;
    int fd = -1;
    ssize_t got = 0;

    if (static_resolve(req->app, uri, path, sizeof(path), &st) != 0)
        return 0;
    req->route = "static";
    /* The widget's loader and frame run inside other sites' pages. Files
     * are revalidated with their ETag; the loader may be cached briefly. */
    if (strncmp(uri, "/widget", 7) == 0)
        req->embeddable = 1;
    req->cache_control = strcmp(uri, "/widget.js") == 0 ? "public, max-age=300" : "no-cache";
    snprintf(etag, sizeof(etag), "\"%lx-%lx\"", (unsigned long)st.st_mtime, (unsigned long)st.st_size);
    struct tm tm;
    strftime(modified, sizeof(modified), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&st.st_mtime, &tm));
    inm = http_header(req, "If-None-Match");
    http_add_header(req, "ETag", etag);
    http_add_header(req, "Last-Modified", modified);
    if (inm && strcmp(inm, etag) == 0) {
        http_send_empty(req, 304);
        return 1;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    data = malloc((size_t)st.st_size + 1);
    if (fd < 0 || !data)
        goto fail;
    while (got < st.st_size) {
        ssize_t n = read(fd, data + got, (size_t)(st.st_size - got));
        if (n <= 0)
            goto fail;
        got += n;
    }
    close(fd);
    send_response(req, 200, mime_type(path), data, (size_t)got);
    free(data);
    return 1;
fail:
    if (fd >= 0)
        close(fd);
    free(data);
    http_send_problem(req, 500, "internal", NULL);
    return 1;
}

static void dispatch(struct http_req *req)
{
    const char *method = req->ri->request_method;
    const char *path = req->path;
    char allow[128] = "";
    int path_known = 0;

    for (size_t i = 0; i < server.nroutes; i++) {
        const struct http_route *r = &server.routes[i];
        if (!route_match(r->pattern, path, req))
            continue;
        if (strcmp(r->method, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
            req->route = r->pattern;
            r->fn(req);
            return;
        }
        path_known = 1;
        req->route = r->pattern;
        if (!strstr(allow, r->method) && strlen(allow) + strlen(r->method) + 3 < sizeof(allow)) {
            if (allow[0])
                strcat(allow, ", ");
            strcat(allow, r->method);
        }
    }
    if (path_known) {
        http_add_header(req, "Allow", allow);
        http_send_problem(req, 405, "method_not_allowed", NULL);
        return;
    }
    if ((strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) && serve_static(req))
        return;
    http_send_problem(req, 404, "not_found", NULL);
}

/* civetweb runs with decode_url=no, so we see the raw path and decode it
 * here: a %00 (or any control byte) would otherwise silently cut the path
 * short ("/a.txt%00.html" -> "/a.txt"). Such paths, bad escapes and
 * overlong paths are refused. */
static int decode_path(const char *raw, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; raw[i]; i++) {
        int c = (unsigned char)raw[i];
        if (c == '%') {
            int hi = text_hex_digit(raw[i + 1]), lo = hi < 0 ? -1 : text_hex_digit(raw[i + 2]);
            if (lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || o + 1 >= outlen)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return o > 0 && out[0] == '/' ? 0 : -1;
}

int http_inflight(void)
{
    return atomic_load(&server.inflight);
}

int http_drain(struct app *app, int timeout_ms)
{
    struct timespec until = clock_deadline(timeout_ms);
    atomic_store(&app->draining, 1);
    /* The last request out signals (see on_request); checking under the
     * lock it signals under means the signal cannot be missed. */
    pthread_mutex_lock(&server.drain_lock);
    while (atomic_load(&server.inflight) > 0)
        if (pthread_cond_timedwait(&server.drained, &server.drain_lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&server.drain_lock);
    return atomic_load(&server.inflight);
}

/* Metrics keep static label strings; anything unusual counts as OTHER. */
static const char *method_label(const char *method)
{
    static const char *known[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(method, known[i]) == 0)
            return known[i];
    return "OTHER";
}

static int on_request(struct mg_connection *conn, void *cbdata)
{
    struct http_req *req;
    uint8_t rid[8];
    double started = clock_now();
    char status[8], dur[24];
    int counted;
    (void)cbdata;

    /* The request struct is ~1.6 KB: on the heap, the worker stack is small. */
    req = calloc(1, sizeof(*req));
    if (!req) {
        mg_send_http_error(conn, 503, "%s", "out of memory");
        return 503;
    }
    req->app = server.app;
    req->conn = conn;
    req->ri = mg_get_request_info(conn);
    req->route = "unmatched";
    if (RAND_bytes(rid, sizeof(rid)) != 1)
        memset(rid, 0, sizeof(rid));
    token_hex(rid, sizeof(rid), req->request_id);
    atomic_fetch_add(&server.inflight, 1);
    http_client_address(req->app, conn, req->client_ip, sizeof(req->client_ip));
    /* Each request holds a worker thread while it runs (a slow body, a
     * slow reader of the response): one address may hold only so many. */
    counted = connlimit_acquire(req->app->conns, CONNLIMIT_HTTP, req->client_ip) == 0;

    if (!counted) {
        snprintf(req->path, sizeof(req->path), "(refused)");
        http_add_header(req, "Connection", "close");
        http_add_header(req, "Retry-After", "1");
        http_send_problem(req, 429, "too_many_connections", "too many requests from your address at once");
    } else if (decode_path(req->ri->local_uri_raw ? req->ri->local_uri_raw : req->ri->local_uri, req->path,
                           sizeof(req->path)) != 0) {
        snprintf(req->path, sizeof(req->path), "(undecodable)");
        http_send_problem(req, 400, "invalid_request", "the request path is not valid");
    } else if (atomic_load(&req->app->draining) && strcmp(req->path, "/healthz") != 0) {
        http_add_header(req, "Connection", "close");
        http_add_header(req, "Retry-After", "1");
        http_send_problem(req, 503, "unavailable", "the server is shutting down");
    } else {
        dispatch(req);
    }

    double elapsed = clock_now() - started;
    int code = req->status ? req->status : 500;
    snprintf(status, sizeof(status), "%d", code);
    snprintf(dur, sizeof(dur), "%.3f", elapsed * 1000.0);
    metrics_observe_http(req->app->metrics, method_label(req->ri->request_method), req->route, code, elapsed);
    log_msg(code >= 500 ? LOG_WARN : LOG_INFO, "http", "rid", req->request_id, "ip", req->client_ip, "method",
            req->ri->request_method, "path", req->path, "route", req->route, "status", status, "ms", dur, (char *)NULL);
    if (counted)
        connlimit_release(req->app->conns, CONNLIMIT_HTTP, req->client_ip);
    free(req);
    if (atomic_fetch_sub(&server.inflight, 1) == 1 && atomic_load(&server.app->draining)) {
        pthread_mutex_lock(&server.drain_lock);
        pthread_cond_broadcast(&server.drained);
        pthread_mutex_unlock(&server.drain_lock);
    }
    return code;
}

static int on_log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    log_warn("civetweb", "detail", message);
    return 1;
}

/* civetweb's admission of TCP connections (before a byte is read; no
 * worker is involved): an address may hold PARLEY_MAX_CONNECTIONS_PER_IP.
 * A trusted proxy carries many clients and is not counted; those are
 * counted per client, past the head, by request and socket. */
static int on_accept_connection(const struct mg_context *ctx, const char *addr)
{
    struct app *app = mg_get_user_data(ctx);
    if (http_is_trusted_proxy(app, addr))
        return 0;
    if (connlimit_acquire(app->conns, CONNLIMIT_TCP, addr) == 0)
        return 0;
    log_warn("connection refused: too many from one address", "ip", addr);
    return 1;
}

static void on_release_connection(const struct mg_context *ctx, const char *addr)
{
    struct app *app = mg_get_user_data(ctx);
    if (!http_is_trusted_proxy(app, addr))
        connlimit_release(app->conns, CONNLIMIT_TCP, addr);
}

/* Loads certificate and key from their own files (civetweb alone wants
 * both in one PEM). Returns 1: the context is ready, 0/-1 on failure. */
static int on_init_ssl(void *ssl_ctx, void *user_data)
{
    struct app *app = user_data;
    SSL_CTX *ctx = ssl_ctx;
    if (SSL_CTX_use_certificate_chain_file(ctx, app->cfg->tls_cert) != 1) {
        log_error("cannot load PARLEY_TLS_CERT", "path", app->cfg->tls_cert);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, app->cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        log_error("cannot load PARLEY_TLS_KEY or it does not match the certificate", "path", app->cfg->tls_key);
        return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    return 1;
}

/* civetweb calls this inside mg_start, after the listening sockets are open
 * and before its worker and master threads start: registered here, the
 * handlers are in place before anything is accepted. */
static void on_init_context(const struct mg_context *ctx)
{
    struct mg_context *mg = (struct mg_context *)ctx;
    mg_set_request_handler(mg, "/", on_request, NULL);
    if (server.register_more)
        server.register_more(server.app, mg);
}

int http_start(struct app *app, const struct http_route *routes, size_t nroutes, http_register_fn register_more,
               char *err, size_t errlen)
{
    const struct config *cfg = app->cfg;
    char ports[96], threads[16], timeout[16], ws_idle[16], frame[16], header[16], waiting[16];
    struct mg_callbacks callbacks;
    int tls = cfg->tls_cert[0] != '\0';
    const char *options[] = {
        "listening_ports",
        ports,
        "num_threads",
        threads,
        "request_timeout_ms",
        timeout,
        "enable_keep_alive",
        "yes",
        "keep_alive_timeout_ms",
        "5000",
        "tcp_nodelay",
        "1",
        /* How long a WebSocket's worker waits in one read. civetweb's own
         * pings are off: only live/wsconn's writer writes to a WebSocket
         * (live/ws pings idle sockets through it). */
        "websocket_timeout_ms",
        ws_idle,
        "enable_websocket_ping_pong",
        "no",
        "enable_directory_listing",
        "no",
        "decode_url",
        "no",
        "access_control_allow_origin",
        "",
        "enable_auth_domain_check",
        "no",
        "max_request_size",
        "16384",
        "ssl_protocol_version",
        "4",
        /* Refused from its header, before anything is read or allocated. */
        "websocket_max_frame_size",
        frame,
        /* The waiting room (civetweb patch 0003): connections without a
         * complete request head, or idle between requests, hold no thread. */
        "header_timeout_ms",
        header,
        "max_waiting_connections",
        waiting,
        NULL,
    };

    server.app = app;
    server.routes = routes;
    server.nroutes = nroutes;
    server.register_more = register_more;
    clock_cond_init(&server.drained);
    snprintf(ports, sizeof(ports), "%s:%d%s", cfg->listen_host, cfg->listen_port, tls ? "s" : "");
    snprintf(threads, sizeof(threads), "%d", cfg->http_threads);
    snprintf(timeout, sizeof(timeout), "%d", cfg->request_timeout_ms);
    snprintf(ws_idle, sizeof(ws_idle), "%d", cfg->ws_idle_timeout_ms);
    snprintf(frame, sizeof(frame), "%d", cfg->ws_max_frame_bytes);
    snprintf(header, sizeof(header), "%d", cfg->header_timeout_ms);
    snprintf(waiting, sizeof(waiting), "%d", cfg->max_waiting_connections);
    memset(&callbacks, 0, sizeof(callbacks));
    callbacks.log_message = on_log_message;
    callbacks.accept_connection = on_accept_connection;
    callbacks.release_connection = on_release_connection;
    callbacks.init_context = on_init_context;
    if (tls)
        callbacks.init_ssl = on_init_ssl;

    mg_init_library(tls ? (MG_FEATURES_TLS | MG_FEATURES_WEBSOCKET) : MG_FEATURES_WEBSOCKET);
    /* No document_root: civetweb itself serves no files, so it can neither
     * list directories nor run CGI or SSI. Static files go through our
     * handler, which resolves them strictly under PARLEY_STATIC_DIR. */
    app->mg = mg_start(&callbacks, app, options);
    if (!app->mg) {
        snprintf(err, errlen, "PARLEY_LISTEN: cannot listen on %s (in use, or TLS files unusable)", ports);
        return -1;
    }
    return 0;
}

void http_stop(struct app *app)
{
    if (app->mg) {
        mg_stop(app->mg);
        app->mg = NULL;
        pthread_cond_destroy(&server.drained);
    }
    mg_exit_library();
}
