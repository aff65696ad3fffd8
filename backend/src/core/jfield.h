/* jfield: validated field getters over jansson objects.
 *
 * Owns the rules every inbound JSON document is checked against: the type of
 * each field, its length in characters (valid UTF-8, no control bytes unless
 * allowed), integer ranges, required vs optional, and no unknown keys; and
 * which text policy of the text module (identifier or free text) a string
 * field follows. The first failure is reported as a problem_field (field
 * name + message). */
#ifndef PARLEY_JFIELD_H
#define PARLEY_JFIELD_H

#include "core/problem.h"

#include <jansson.h>

#define JF_REQUIRED  1
#define JF_MULTILINE 2 /* allow \n, \r, \t in strings */
/* The text policy (text.h) of a string field. JF_NAME refuses what
 * text_ident_error refuses (an identifier someone types and can fix);
 * JF_NAME_CLEAN removes it (text_ident_clean: an identifier from a visitor,
 * who cannot see what is wrong) and a value with nothing visible left
 * counts as absent; JF_TEXT removes unpaired bidi controls
 * (text_bidi_balance: free text). The last two store the normalised copy
 * back into obj, so what the caller keeps or serialises afterwards is it. */
#define JF_NAME       4
#define JF_NAME_CLEAN 8
#define JF_TEXT       16

/* The deepest nesting of arrays and objects any inbound document may have. */
#define JFIELD_MAX_DEPTH      64
#define JFIELD_MAX_DEPTH_TEXT "64"

/* The one way inbound JSON text (request bodies, WebSocket frames) is
 * parsed: refuses documents nested deeper than JFIELD_MAX_DEPTH with a
 * linear scan before jansson's recursive parser sees them (it allows 2048
 * levels, and ~950 overflow a worker's stack), and duplicate keys. Returns a
 * new reference the caller json_decref()s, or NULL. */
json_t *jfield_parse(const char *text, size_t len);

/* 1 when text nests arrays and objects at most max_depth deep (strings and
 * their escapes are skipped; the text need not be valid JSON). */
int jfield_depth_ok(const char *text, size_t len, int max_depth);

/* obj[key] as a string of min..max characters (counted after JF_NAME_CLEAN
 * or JF_TEXT normalised it; the maximum also before). When absent and
 * optional, *out is NULL and 0 is returned. Returns -1 and fills *err on
 * failure. The string stays owned by obj. */
int jfield_string(json_t *obj, const char *key, unsigned flags, long min, long max, const char **out,
                  struct problem_field *err);

/* obj[key] as an integer in [min, max]; when absent and optional, *out is
 * left unchanged. */
int jfield_int(json_t *obj, const char *key, unsigned flags, long long min, long long max, long long *out,
               struct problem_field *err);

/* obj[key] as a boolean; when absent and optional, *out is left unchanged. */
int jfield_bool(json_t *obj, const char *key, unsigned flags, int *out, struct problem_field *err);

/* obj[key] as one of the given strings (NULL-terminated list). */
int jfield_enum(json_t *obj, const char *key, unsigned flags, const char *const *allowed, const char **out,
                struct problem_field *err);

/* Applies JF_NAME_CLEAN or JF_TEXT (flags) to obj[key], a string already
 * validated otherwise (an attribute value, a pre-chat answer): the value is
 * replaced by its normalised copy when that differs. Safe inside
 * json_object_foreach over obj (the key's entry is updated in place).
 * Returns the string now stored (owned by obj), or NULL when obj[key] is no
 * string or memory ran out. */
const char *jfield_normalise(json_t *obj, const char *key, unsigned flags);

/* Fails on the first key of obj not listed in allowed (NULL-terminated). */
int jfield_only(json_t *obj, const char *const *allowed, struct problem_field *err);

#endif
