#include "http/params.h"

#include "core/problem.h"

#include <civetweb.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The decoded value of a query parameter into buf; 0 absent, 1 present,
 * -1 (400 sent) when longer than buf. */
int params_query(struct http_req *req, const char *name, char *buf, size_t len)
{
    const char *qs = http_query_string(req);
    char value[1024];
    int got = qs ? mg_get_var(qs, strlen(qs), name, value, sizeof(value)) : -1;
    if (got == -1)
        return 0;
    /* -2: longer than our buffer (or undecodable): never silently dropped */
    if (got < -1 || strlen(value) >= len) {
        struct problem_field f = {name, "is too long"};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        return -1;
    }
    memcpy(buf, value, strlen(value) + 1);
    return 1;
}

int params_invalid(struct http_req *req, const char *name, const char *message)
{
    struct problem_field f = {name, message};
    http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
    return -1;
}

/* An integer parameter in [min, max] into out (decimal text, ready to bind),
 * or "" when absent. Returns -1 after sending 400. */
int params_int(struct http_req *req, const char *name, long long min, long long max, char out[24])
{
    char buf[32];
    int got = params_query(req, name, buf, sizeof(buf));
    out[0] = '\0';
    if (got <= 0)
        return got;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (!buf[0] || !end || *end || errno == ERANGE || v < min || v > max) {
        char message[96];
        snprintf(message, sizeof(message), "must be an integer from %lld to %lld", min, max);
        /* the message must outlive this frame: answer now */
        struct problem_field f = {name, message};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        return -1;
    }
    snprintf(out, 24, "%lld", v);
    return 1;
}

/* Reads n digits at s into *out; 0 when they are not all digits. */
static int digits(const char *s, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        *out = *out * 10 + (s[i] - '0');
    }
    return 1;
}

/* An RFC 3339 / ISO 8601 time or date that exists on the calendar:
 * YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|+HH:MM|-HH:MM]. */
static int iso_valid(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, month, day, hour, minute, second = 0, oh, om;
    size_t i = 10;
    if (!digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &month) || s[7] != '-' || !digits(s + 8, 2, &day))
        return 0;
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > mdays[month - 1])
        return 0;
    if (month == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
        return 0;
    if (!s[i])
        return 1;
    if ((s[i] != 'T' && s[i] != ' ') || !digits(s + i + 1, 2, &hour) || s[i + 3] != ':' ||
        !digits(s + i + 4, 2, &minute) || hour > 23 || minute > 59)
        return 0;
    i += 6;
    if (s[i] == ':') {
        if (!digits(s + i + 1, 2, &second) || second > 59)
            return 0;
        i += 3;
        if (s[i] == '.') {
            if (!isdigit((unsigned char)s[++i]))
                return 0;
            while (isdigit((unsigned char)s[i]))
                i++;
        }
    }
    if (!s[i] || (s[i] == 'Z' && !s[i + 1]))
        return 1;
    if ((s[i] == '+' || s[i] == '-') && digits(s + i + 1, 2, &oh) && s[i + 3] == ':' && digits(s + i + 4, 2, &om) &&
        !s[i + 6] && oh <= 23 && om <= 59)
        return 1;
    return 0;
}

int params_time(struct http_req *req, const char *name, char out[48])
{
    int got = params_query(req, name, out, 48);
    if (got <= 0) {
        if (got == 0)
            out[0] = '\0';
        return got;
    }
    if (!iso_valid(out))
        return params_invalid(req, name, "must be an ISO 8601 time such as 2026-11-30T12:00:00Z");
    return 1;
}

int params_date(struct http_req *req, const char *name, char out[11])
{
    char buf[16];
    int got = params_query(req, name, buf, sizeof(buf));
    out[0] = '\0';
    if (got <= 0)
        return got;
    if (strlen(buf) != 10 || !iso_valid(buf) || strncmp(buf, "1970", 4) < 0)
        return params_invalid(req, name, "must be a date such as 2026-11-30");
    memcpy(out, buf, 11);
    return 1;
}

int params_enum(struct http_req *req, const char *name, const char *const *allowed, char *out, size_t len)
{
    char buf[32];
    int got = params_query(req, name, buf, sizeof(buf));
    out[0] = '\0';
    if (got <= 0)
        return got;
    for (int i = 0; allowed[i]; i++)
        if (strcmp(buf, allowed[i]) == 0 && strlen(buf) < len) {
            snprintf(out, len, "%s", buf);
            return 1;
        }
    return params_invalid(req, name, "is not one of the values allowed");
}

int params_bool(struct http_req *req, const char *name, int *out)
{
    char buf[8];
    int got = params_query(req, name, buf, sizeof(buf));
    *out = 0;
    if (got <= 0)
        return got;
    if (strcmp(buf, "true") == 0)
        *out = 1;
    else if (strcmp(buf, "false") != 0)
        return params_invalid(req, name, "must be true or false");
    return 1;
}

int params_path_id(struct http_req *req, const char *what, long long *id)
{
    return params_path_id_at(req, 0, what, id);
}

int params_path_id_at(struct http_req *req, int index, const char *what, long long *id)
{
    const char *s = index < req->nparams ? req->params[index] : "";
    long long v = 0;
    /* Digits only (no sign, no spaces), at most 18 of them: fits a bigint. */
    if (!*s || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s) || (v = strtoll(s, NULL, 10)) <= 0) {
        http_send_problem(req, 404, "not_found", what);
        return -1;
    }
    *id = v;
    return 0;
}

int params_path_id_text(struct http_req *req, const char *what, char out[24])
{
    long long id;
    if (params_path_id(req, what, &id) != 0)
        return -1;
    snprintf(out, 24, "%lld", id);
    return 0;
}

int params_country(struct http_req *req, const char *name, char out[3])
{
    char v[8];
    int got = params_query(req, name, v, sizeof(v));
    out[0] = '\0';
    if (got <= 0)
        return got;
    if (strlen(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z')
        return params_invalid(req, name, "must be a two-letter country code in capitals, like DE");
    memcpy(out, v, 3);
    return 1;
}
