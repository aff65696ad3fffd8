/* Unit tests for jfield: its text policies (JF_NAME refuses invisible
 * characters and bidi controls with a message for the field, JF_NAME_CLEAN
 * removes them and treats a blank result as absent, JF_TEXT removes unpaired
 * bidi controls; the latter two store the result back), and its parser
 * entry (nesting counted outside strings only, the limit exact, a document
 * past it refused before jansson's recursive parser could run out of stack). */
#include "core/jfield.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static json_t *doc(const char *text)
{
    json_t *d = json_loads(text, 0, NULL);
    assert_non_null(d);
    return d;
}

static void test_name_refused(void **state)
{
    struct problem_field err = {0};
    const char *out = NULL;
    json_t *d = doc("{\"name\":\"\\u202egnp.exe\",\"ok\":\"\\u0645\\u062d\\u0645\\u062f\",\"blank\":\" \"}");
    (void)state;
    assert_int_equal(jfield_string(d, "name", JF_REQUIRED | JF_NAME, 1, 100, &out, &err), -1);
    assert_string_equal(err.field, "name");
    assert_non_null(strstr(err.message, "U+202E"));
    assert_int_equal(jfield_string(d, "ok", JF_NAME, 1, 100, &out, &err), 0);
    assert_string_equal(out, "\xD9\x85\xD8\xAD\xD9\x85\xD8\xAF");
    assert_int_equal(jfield_string(d, "blank", JF_NAME, 1, 100, &out, &err), -1);
    assert_string_equal(err.message, "must contain a visible character");
    json_decref(d);
}

static void test_name_cleaned(void **state)
{
    struct problem_field err = {0};
    const char *out = NULL;
    json_t *d = doc("{\"name\":\" \\u2066Vic\\u2069\\u200e\",\"gone\":\"\\u200b\\u202e\"}");
    (void)state;
    assert_int_equal(jfield_string(d, "name", JF_NAME_CLEAN, 1, 200, &out, &err), 0);
    assert_string_equal(out, "Vic");
    assert_string_equal(json_string_value(json_object_get(d, "name")), "Vic"); /* stored back */
    assert_int_equal(jfield_string(d, "gone", JF_NAME_CLEAN, 1, 200, &out, &err), 0);
    assert_null(out);
    assert_int_equal(jfield_string(d, "gone", JF_NAME_CLEAN | JF_REQUIRED, 1, 200, &out, &err), -1);
    assert_string_equal(err.message, "must contain a visible character");
    json_decref(d);
}

static void test_text_balanced(void **state)
{
    struct problem_field err = {0};
    const char *out = NULL;
    json_t *d = doc("{\"body\":\"a\\u202eb\\nc\\u2067d\\u2069\",\"plain\":\"\\u200fhi\",\"only\":\"\\u2069\"}");
    (void)state;
    assert_int_equal(jfield_string(d, "body", JF_MULTILINE | JF_TEXT, 1, 100, &out, &err), 0);
    assert_string_equal(out, "ab\nc\xE2\x81\xA7"
                             "d\xE2\x81\xA9");
    assert_string_equal(json_string_value(json_object_get(d, "body")), out);
    /* a mark is no control: the value is the very same string */
    const char *before = json_string_value(json_object_get(d, "plain"));
    assert_int_equal(jfield_string(d, "plain", JF_TEXT, 1, 100, &out, &err), 0);
    assert_ptr_equal(out, before);
    /* lengths are counted after balancing */
    assert_int_equal(jfield_string(d, "only", JF_TEXT, 1, 100, &out, &err), -1);
    assert_string_equal(err.message, "must not be empty");
    json_decref(d);
}

static void test_normalise_in_iteration(void **state)
{
    json_t *d = doc("{\"a\":\"\\u202ex\",\"b\":\"y\",\"c\":\"\\u202cz\"}"), *v;
    const char *key;
    size_t n = 0;
    (void)state;
    json_object_foreach(d, key, v)
    {
        assert_non_null(jfield_normalise(d, key, JF_TEXT));
        n++;
    }
    assert_int_equal(n, 3);
    assert_string_equal(json_string_value(json_object_get(d, "a")), "x");
    assert_string_equal(json_string_value(json_object_get(d, "c")), "z");
    json_decref(d);
}

/* "[[...]]" nested depth levels (caller frees). */
static char *nested(int depth, char open, char close)
{
    char *s = malloc((size_t)depth * 2 + 1);
    memset(s, open, (size_t)depth);
    memset(s + depth, close, (size_t)depth);
    s[depth * 2] = '\0';
    return s;
}

static void test_depth_limit_is_exact(void **state)
{
    (void)state;
    char *ok = nested(JFIELD_MAX_DEPTH, '[', ']');
    char *deep = nested(JFIELD_MAX_DEPTH + 1, '[', ']');
    json_t *doc = jfield_parse(ok, strlen(ok));
    assert_non_null(doc);
    json_decref(doc);
    assert_null(jfield_parse(deep, strlen(deep)));
    assert_int_equal(jfield_depth_ok(deep, strlen(deep), JFIELD_MAX_DEPTH + 1), 1);
    free(ok);
    free(deep);
}

static void test_objects_and_mixed_nesting_count(void **state)
{
    (void)state;
    assert_int_equal(jfield_depth_ok("{\"a\":[{\"b\":[1]}]}", 17, 4), 1);
    assert_int_equal(jfield_depth_ok("{\"a\":[{\"b\":[1]}]}", 17, 3), 0);
    /* Depth falls again after a closed branch. */
    assert_int_equal(jfield_depth_ok("[[1],[2],[[3]]]", 15, 3), 1);
}

static void test_brackets_in_strings_do_not_count(void **state)
{
    (void)state;
    const char *s = "{\"a\":\"[[[[[[[[{{{{{{\",\"b\":\"\\\"[[[[\"}";
    assert_int_equal(jfield_depth_ok(s, strlen(s), 1), 1);
    json_t *doc = jfield_parse(s, strlen(s));
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "b")), "\"[[[[");
    json_decref(doc);
}

static void test_huge_depth_is_refused_without_parsing(void **state)
{
    (void)state;
    /* A hundred thousand levels: jansson would refuse past 2048, but only
     * after recursing; ~950 levels overflowed a 100 KB worker stack. */
    char *deep = nested(100000, '{', '}');
    assert_null(jfield_parse(deep, strlen(deep)));
    free(deep);
    assert_null(jfield_parse("{\"a\":1,\"a\":2}", 13)); /* duplicate keys */
    assert_null(jfield_parse("not json", 8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_refused),
        cmocka_unit_test(test_name_cleaned),
        cmocka_unit_test(test_text_balanced),
        cmocka_unit_test(test_normalise_in_iteration),
        cmocka_unit_test(test_depth_limit_is_exact),
        cmocka_unit_test(test_objects_and_mixed_nesting_count),
        cmocka_unit_test(test_brackets_in_strings_do_not_count),
        cmocka_unit_test(test_huge_depth_is_refused_without_parsing),
    };
    return cmocka_run_group_tests_name("jfield", tests, NULL, NULL);
}
