#include "core/jfield.h"

#include "core/text.h"

#include <stdlib.h>
#include <string.h>

static int fail(struct problem_field *err, const char *key, const char *message)
{
    err->field = key;
    err->message = message;
    return -1;
}

const char *jfield_normalise(json_t *obj, const char *key, unsigned flags)
{
    json_t *v = json_object_get(obj, key), *copy;
    const char *s;
    size_t len, n;
    char *buf;
    if (!json_is_string(v))
        return NULL;
    s = json_string_value(v);
    len = json_string_length(v);
    /* Free text without controls is the common case: no copy at all. */
    if (!(flags & JF_NAME_CLEAN) && (!(flags & JF_TEXT) || !text_has_bidi_controls(s, len)))
        return s;
    if (!(buf = malloc(len + 1)))
        return NULL;
    n = (flags & JF_NAME_CLEAN) ? text_ident_clean(s, len, buf) : text_bidi_balance(s, len, buf);
    if (n != len || memcmp(buf, s, n) != 0) {
        /* Replacing the value of an existing key leaves the object's
         * table as it is, so an iteration over obj goes on. */
        copy = json_stringn(buf, n);
        s = copy && json_object_set_new(obj, key, copy) == 0 ? json_string_value(copy) : NULL;
    }
    free(buf);
    return s;
}

int jfield_string(json_t *obj, const char *key, unsigned flags, long min, long max, const char **out,
                  struct problem_field *err)
{
    json_t *v = json_object_get(obj, key);
    const char *s;
    size_t len;
    long chars;
    *out = NULL;
    if (!v || json_is_null(v))
        return (flags & JF_REQUIRED) ? fail(err, key, "is required") : 0;
    if (!json_is_string(v))
        return fail(err, key, "must be a string");
    s = json_string_value(v);
    len = json_string_length(v);
    if (strlen(s) != len)
        return fail(err, key, "must not contain NUL characters");
    chars = text_utf8_chars(s, len); /* jansson already refuses bad UTF-8; counted here */
    if (chars < 0)
        return fail(err, key, "must be valid UTF-8");
    if (text_has_controls(s, len, (flags & JF_MULTILINE) != 0))
        return fail(err, key, "must not contain control characters");
    if (chars > max)
        return fail(err, key, "is too long");
    if (flags & (JF_NAME_CLEAN | JF_TEXT)) {
        if (!(s = jfield_normalise(obj, key, flags)))
            return fail(err, key, "could not be stored");
        len = strlen(s);
        chars = text_utf8_chars(s, len);
        if ((flags & JF_NAME_CLEAN) && text_ident_blank(s, len))
            return (flags & JF_REQUIRED) ? fail(err, key, "must contain a visible character") : 0;
    }
    if (chars < min)
        return fail(err, key, min <= 1 ? "must not be empty" : "is too short");
    if (flags & JF_NAME) {
        const char *why = text_ident_error(s, len);
        if (why)
            return fail(err, key, why);
    }
    *out = s;
    return 0;
}

int jfield_int(json_t *obj, const char *key, unsigned flags, long long min, long long max, long long *out,
               struct problem_field *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return (flags & JF_REQUIRED) ? fail(err, key, "is required") : 0;
    if (!json_is_integer(v))
        return fail(err, key, "must be an integer");
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return fail(err, key, "is out of range");
    *out = n;
    return 0;
}

int jfield_bool(json_t *obj, const char *key, unsigned flags, int *out, struct problem_field *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return (flags & JF_REQUIRED) ? fail(err, key, "is required") : 0;
    if (!json_is_boolean(v))
        return fail(err, key, "must be true or false");
    *out = json_is_true(v);
    return 0;
}

int jfield_enum(json_t *obj, const char *key, unsigned flags, const char *const *allowed, const char **out,
                struct problem_field *err)
{
    const char *s;
    if (jfield_string(obj, key, flags, 1, 64, &s, err) != 0)
        return -1;
    *out = NULL;
    if (!s)
        return 0;
    for (size_t i = 0; allowed[i]; i++) {
        if (strcmp(s, allowed[i]) == 0) {
            *out = allowed[i];
            return 0;
        }
    }
    return fail(err, key, "has a value that is not allowed");
}

int jfield_only(json_t *obj, const char *const *allowed, struct problem_field *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i])
            return fail(err, key, "is not a known field");
    }
    return 0;
}

int jfield_depth_ok(const char *text, size_t len, int max_depth)
{
    int depth = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++; /* whatever is escaped cannot end the string */
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return 0;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 1;
}

json_t *jfield_parse(const char *text, size_t len)
{
    if (!jfield_depth_ok(text, len, JFIELD_MAX_DEPTH))
        return NULL;
    return json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
}
