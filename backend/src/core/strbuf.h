/* strbuf: a growable NUL-terminated text buffer.
 *
 * Owns the one way parleyd builds text of unknown length (metrics, the
 * transcripts): appends never fail loudly; the first allocation failure
 * sets `failed` and every later append is a no-op, so the caller checks
 * once at the end. Not thread-safe (one owner). */
#ifndef PARLEY_STRBUF_H
#define PARLEY_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *data; /* NUL-terminated once anything was appended; NULL before */
    size_t len, cap;
    int failed;
};

void strbuf_put(struct strbuf *b, const char *s, size_t n);
void strbuf_str(struct strbuf *b, const char *s);
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s (NUL-terminated UTF-8) as a quoted JSON string: quotes,
 * backslashes and control characters escaped, the rest as it is. */
void strbuf_json_string(struct strbuf *b, const char *s);

/* Hands the text to the caller (who frees it) and empties b; NULL when an
 * append failed (b's memory is freed then) or nothing was appended. */
char *strbuf_take(struct strbuf *b);

/* Frees b's memory and empties it. */
void strbuf_free(struct strbuf *b);

#endif
