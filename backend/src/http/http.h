/* http: the HTTP server, request dispatch and every common response.
 *
 * Owns civetweb's configuration (hardened: no directory listing, CGI, SSI or
 * CORS; TCP_NODELAY; HTTPS when a certificate is set), the route table
 * dispatch (method + path pattern with {params}), request ids, the access
 * log, HTTP metrics, security headers, body size caps, JSON and
 * problem+json responses, same-origin checks and static files. */
#ifndef PARLEY_HTTP_H
#define PARLEY_HTTP_H

#include "core/app.h"
#include "core/peer.h"

#include <jansson.h>
#include <stddef.h>

struct mg_connection;
struct mg_request_info;
struct problem_field;

#define HTTP_MAX_PARAMS 4
#define HTTP_PARAM_MAX  128

struct http_req {
    struct app *app;
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    const char *route;             /* matched pattern: the metrics label */
    char path[2048];               /* the decoded request path */
    char client_ip[PEER_ADDR_MAX]; /* peer, or X-Forwarded-For via a trusted proxy */
    char request_id[17];
    char params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX]; /* {param} values in pattern order */
    int nparams;
    int status;                /* status of the response sent */
    char extra_headers[1024];  /* "Name: value\r\n" lines for the next response */
    const char *cache_control; /* NULL: "no-store" */
    const char *csp;           /* NULL: the default policy for the path */
    int embeddable;            /* may be framed by any site (the widget) */
};

typedef void (*http_handler_fn)(struct http_req *req);

struct http_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/api/auth/login", "/api/v1/conversations/{id}" */
    http_handler_fn fn;
};

/* Registers more handlers on the server (the WebSocket endpoints). */
typedef void (*http_register_fn)(struct app *app, struct mg_context *mg);

/* Starts listening with the given route table (kept, not copied). Every
 * handler, ours and register_more's (may be NULL), is in place before the
 * first connection is accepted: a request that arrives while the server
 * starts is never answered by civetweb's default 404. Returns 0, or -1 with a
 * message in err. */
int http_start(struct app *app, const struct http_route *routes, size_t nroutes, http_register_fn register_more,
               char *err, size_t errlen);

/* Graceful stop, step one: from now on new requests get 503 (and
 * /readyz says not ready); waits up to timeout_ms for in-flight requests
 * to finish. Returns the number still running. */
int http_drain(struct app *app, int timeout_ms);

/* Requests being served now (each holds a worker thread). */
int http_inflight(void);

/* Step two: stops civetweb (closes the listener, joins the workers). */
void http_stop(struct app *app);

/* --- responses (each sends exactly one complete response) --- */

/* Adds a header to the next response; name and value must be trusted text
 * without CR/LF (values are checked; a bad one is dropped). */
void http_add_header(struct http_req *req, const char *name, const char *value);

/* Sends body as JSON (consumes the reference). */
void http_send_json(struct http_req *req, int status, json_t *body);

/* Sends an application/problem+json error. detail may be NULL. */
void http_send_problem(struct http_req *req, int status, const char *slug, const char *detail);
/* A problem with extension members (an object, consumed; NULL: none). */
void http_send_problem_members(struct http_req *req, int status, const char *slug, const char *detail, json_t *members);
void http_send_problem_fields(struct http_req *req, int status, const char *slug, const char *detail,
                              const struct problem_field *fields, size_t nfields);

/* 429 rate_limited with Retry-After: seconds (and detail). */
void http_send_rate_limited(struct http_req *req, int seconds, const char *detail);

/* Sends a body of the given type (len bytes). */
void http_send_body(struct http_req *req, int status, const char *content_type, const char *body, size_t len);

/* Sends a response with no body (204, 304). */
void http_send_empty(struct http_req *req, int status);

/* A streamed response (chunked): begin once, write any number of times,
 * end once. Memory stays bounded by what the caller holds. */
void http_stream_begin(struct http_req *req, int status, const char *content_type);
int http_stream_write(struct http_req *req, const char *data, size_t len); /* 0 or -1 (client gone) */
void http_stream_end(struct http_req *req);

/* A response of len bytes written in parts (a file): begin once, then
 * write exactly len bytes. */
void http_body_begin(struct http_req *req, int status, const char *content_type, long long len);
int http_body_write(struct http_req *req, const void *data, size_t len); /* 0 or -1 (client gone) */

/* --- request helpers --- */

/* The request body's declared Content-Length, or -1 when none was sent. */
long long http_content_length(struct http_req *req);
/* 1 when the body comes chunked (Transfer-Encoding: chunked). */
int http_body_is_chunked(struct http_req *req);
/* Reads up to len bytes of the request body (a raw upload; the caller
 * bounds size and time): > 0 bytes read, 0 at its end, -1 when the
 * client is gone or the socket timed out. */
long http_body_read(struct http_req *req, void *buf, size_t len);

/* The raw query string (after '?'), or NULL. */
const char *http_query_string(struct http_req *req);

/* A request header's value, or NULL. */
const char *http_header(struct http_req *req, const char *name);

/* 1 when the request came over TLS. */
int http_is_tls(struct http_req *req);

/* The client address as text: the peer's, or when the peer is one of
 * PARLEY_TRUSTED_PROXIES the nearest untrusted X-Forwarded-For entry. */
const char *http_remote_ip(struct http_req *req);

/* The client address of a connection (HTTP or WebSocket) into out: the
 * peer's, or when the peer is one of PARLEY_TRUSTED_PROXIES the nearest
 * untrusted X-Forwarded-For entry. */
void http_client_address(const struct app *app, const struct mg_connection *conn, char *out, size_t outlen);

/* 1 when ip is one of PARLEY_TRUSTED_PROXIES. */
int http_is_trusted_proxy(const struct app *app, const char *ip);

/* Copies the named cookie's value into buf; returns buf or NULL if absent
 * or too long. */
const char *http_cookie(struct http_req *req, const char *name, char *buf, size_t len);

/* Reads and parses a JSON object body: requires Content-Type
 * application/json and at most max_body_bytes. On failure the matching
 * problem (415, 413, 400) is already sent and NULL is returned; otherwise
 * the caller owns the returned object (json_decref). */
json_t *http_read_json(struct http_req *req);

/* http_read_json with a smaller cap (max_bytes, checked against
 * Content-Length before reading), and text/plain accepted as well when
 * text_plain_ok (what navigator.sendBeacon and CORS "simple" requests
 * send). */
json_t *http_read_json_limited(struct http_req *req, long max_bytes, int text_plain_ok);

/* 1 when the request's Origin header names this server: either the
 * configured public origin or the scheme://Host the request was sent to. */
int http_origin_is_self(struct http_req *req);

/* For state-changing browser requests: sends 403 origin_forbidden and
 * returns -1 unless http_origin_is_self(). */
int http_require_same_origin(struct http_req *req);

#endif
