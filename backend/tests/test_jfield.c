/* Unit tests for jfield's text policies: JF_NAME refuses invisible
 * characters and bidi controls with a message for the field, JF_NAME_CLEAN
 * removes them (and treats a blank result as absent), JF_TEXT removes
 * unpaired bidi controls; the latter two store the result back. */
#include "jfield.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_refused),
        cmocka_unit_test(test_name_cleaned),
        cmocka_unit_test(test_text_balanced),
        cmocka_unit_test(test_normalise_in_iteration),
    };
    return cmocka_run_group_tests_name("jfield", tests, NULL, NULL);
}
