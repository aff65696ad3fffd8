/* params: the values a request carries in its path and query string.
 *
 * Owns the parsing and validation of path ids and query parameters: each
 * bad value is answered at once with 400 (or 404 for a path id) naming the
 * parameter, so a handler only continues with values that are valid. */
#ifndef PARLEY_PARAMS_H
#define PARLEY_PARAMS_H

#include "http/http.h"

#include <stddef.h>

/* The {id} path parameter (the first one) as a positive integer. Otherwise
 * 404 not_found (detail `what`, may be NULL) is sent and -1 returned. */
int params_path_id(struct http_req *req, const char *what, long long *id);
/* The path parameter at index (0: the first) the same way. */
int params_path_id_at(struct http_req *req, int index, const char *what, long long *id);
/* The same, as decimal text ready to bind. */
int params_path_id_text(struct http_req *req, const char *what, char out[24]);

/* The decoded value of a query parameter into buf; 0 absent, 1 present, -1
 * (400 sent) when longer than buf. */
int params_query(struct http_req *req, const char *name, char *buf, size_t len);

/* An integer parameter in [min, max] as decimal text (ready to bind), or ""
 * when absent. Returns 0 absent, 1 present, -1 after sending 400. */
int params_int(struct http_req *req, const char *name, long long min, long long max, char out[24]);

/* An RFC 3339 time or date that exists on the calendar, or "" when absent.
 * Returns like params_int. */
int params_time(struct http_req *req, const char *name, char out[48]);

/* An ISO 3166-1 alpha-2 country code in capitals ("DE"), or "" when
 * absent. Returns like params_int. */
int params_country(struct http_req *req, const char *name, char out[3]);

/* A date YYYY-MM-DD that exists on the calendar (from 1970), or "" when
 * absent. Returns like params_int. */
int params_date(struct http_req *req, const char *name, char out[11]);

/* One of the NULL-terminated allowed values into out (len bytes), or ""
 * when absent. Returns like params_int. */
int params_enum(struct http_req *req, const char *name, const char *const *allowed, char *out, size_t len);

/* true or false; absent is false. Returns like params_int. */
int params_bool(struct http_req *req, const char *name, int *out);

/* Sends 400 invalid_request naming the parameter; returns -1. */
int params_invalid(struct http_req *req, const char *name, const char *message);

#endif
