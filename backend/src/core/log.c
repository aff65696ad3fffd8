#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile enum log_level current_level = LOG_INFO;

void log_set_level(enum log_level level)
{
    current_level = level;
}

int log_enabled(enum log_level level)
{
    return level >= current_level;
}

struct line {
    char buf[2048];
    size_t len;
};

static void put(struct line *l, const char *s, size_t n)
{
    size_t room = sizeof(l->buf) - 2 - l->len; /* keep space for '\n' */
    if (n > room)
        n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

/* Values with spaces, quotes, '=' or control bytes are quoted and escaped. */
static void put_value(struct line *l, const char *v)
{
    int needs_quotes = v[0] == '\0';
    for (const char *p = v; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            needs_quotes = 1;
    if (!needs_quotes) {
        put(l, v, strlen(v));
        return;
    }
    put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(l, esc, 2);
        } else if (*p == '\n') {
            put(l, "\\n", 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", *p);
            put(l, esc, 4);
        } else {
            put(l, (const char *)p, 1);
        }
    }
    put(l, "\"", 1);
}

void log_msg(enum log_level level, const char *msg, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    struct line l = {.len = 0};
    struct timespec ts;
    struct tm tm;
    char stamp[40];
    va_list ap;

    if (!log_enabled(level))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof(stamp) - n, ".%03ldZ", ts.tv_nsec / 1000000);
    put(&l, "ts=", 3);
    put(&l, stamp, strlen(stamp));
    put(&l, " level=", 7);
    put(&l, names[level], strlen(names[level]));
    put(&l, " msg=", 5);
    put_value(&l, msg);
    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key)
            break;
        const char *val = va_arg(ap, const char *);
        put(&l, " ", 1);
        put(&l, key, strlen(key));
        put(&l, "=", 1);
        put_value(&l, val ? val : "");
    }
    va_end(ap);
    l.buf[l.len++] = '\n';
    /* One write() per line keeps lines whole when threads log at once. */
    ssize_t w = write(STDERR_FILENO, l.buf, l.len);
    (void)w;
}
