/* Unit tests for problem: RFC 9457 documents with stable types, and
 * refusal of arguments that would produce a malformed one. Also the field
 * validators (jfield) and UTF-8 rules (text) that feed problem fields. */
#include "core/jfield.h"
#include "core/problem.h"
#include "core/text.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static void test_render_minimal(void **state)
{
    (void)state;
    char *s = problem_render(404, "not_found", NULL, NULL, NULL, NULL, 0);
    assert_non_null(s);
    json_t *doc = json_loads(s, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "type")), "urn:parley:problem:not_found");
    assert_string_equal(json_string_value(json_object_get(doc, "title")), "Not found");
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 404);
    assert_null(json_object_get(doc, "detail"));
    assert_null(json_object_get(doc, "errors"));
    json_decref(doc);
    free(s);
}

static void test_render_full_and_escaping(void **state)
{
    struct problem_field f[2] = {{"email", "is required"}, {"na\"me", "bad <b>"}};
    (void)state;
    char *s = problem_render(400, "invalid_request", "Custom", "line1\nline2 \"q\"", "abc123", f, 2);
    assert_non_null(s);
    assert_null(strchr(s, '\n')); /* escaped, one line */
    json_t *doc = json_loads(s, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "title")), "Custom");
    assert_string_equal(json_string_value(json_object_get(doc, "detail")), "line1\nline2 \"q\"");
    assert_string_equal(json_string_value(json_object_get(doc, "request_id")), "abc123");
    json_t *errs = json_object_get(doc, "errors");
    assert_int_equal(json_array_size(errs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 1), "field")), "na\"me");
    json_decref(doc);
    free(s);
}

static void test_render_refuses_bad_arguments(void **state)
{
    (void)state;
    assert_null(problem_render(200, "ok", NULL, NULL, NULL, NULL, 0));
    assert_null(problem_render(600, "x", NULL, NULL, NULL, NULL, 0));
    assert_null(problem_render(400, "Bad-Slug", NULL, NULL, NULL, NULL, 0));
    assert_null(problem_render(400, "", NULL, NULL, NULL, NULL, 0));
    assert_null(problem_render(400, "x", NULL, NULL, NULL, NULL, 1));
    assert_null(problem_render(400, "x", NULL, "\xff\xfe", NULL, NULL, 0)); /* invalid UTF-8 detail */
    assert_string_equal(problem_title("no_such_slug"), "Request failed");
}

static void test_extension_members_never_replace_standard_ones(void **state)
{
    (void)state;
    json_t *members = json_pack("{s:I, s:s, s:i}", "max_bytes", (json_int_t)600000, "type", "spoofed", "status", 200);
    char *s = problem_render_with(413, "file_too_large", NULL, "too big", "rid", NULL, 0, members);
    assert_non_null(s);
    json_t *doc = json_loads(s, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(doc, "max_bytes")), 600000);
    assert_string_equal(json_string_value(json_object_get(doc, "type")), "urn:parley:problem:file_too_large");
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 413);
    assert_int_equal(members->refcount, 1); /* not consumed */
    json_decref(doc);
    json_decref(members);
    free(s);
}

static void test_utf8_rules(void **state)
{
    (void)state;
    assert_int_equal(text_utf8_chars("abc", 3), 3);
    assert_int_equal(text_utf8_chars("你好", 6), 2);
    assert_int_equal(text_utf8_chars("\xf0\x9f\x98\x80", 4), 1);
    assert_int_equal(text_utf8_chars("\xc0\xaf", 2), -1);         /* overlong */
    assert_int_equal(text_utf8_chars("\xed\xa0\x80", 3), -1);     /* surrogate */
    assert_int_equal(text_utf8_chars("\xf4\x90\x80\x80", 4), -1); /* > U+10FFFF */
    assert_int_equal(text_utf8_chars("\xe4\xbd", 2), -1);         /* truncated */
    assert_true(text_has_controls("a\x01", 2, 1));
    assert_false(text_has_controls("a\nb\tc", 5, 1));
    assert_true(text_has_controls("a\nb", 3, 0));
}

static void test_jfield(void **state)
{
    struct problem_field err = {0};
    const char *s = NULL;
    long long n = 7;
    int b = 0;
    static const char *const allowed[] = {"name", "age", "ok", NULL};
    static const char *const roles[] = {"admin", "agent", NULL};
    (void)state;
    json_t *o = json_loads("{\"name\":\"Ann\",\"age\":30,\"ok\":true}", 0, NULL);
    assert_int_equal(jfield_only(o, allowed, &err), 0);
    assert_int_equal(jfield_string(o, "name", JF_REQUIRED, 1, 10, &s, &err), 0);
    assert_string_equal(s, "Ann");
    assert_int_equal(jfield_int(o, "age", JF_REQUIRED, 0, 200, &n, &err), 0);
    assert_int_equal(n, 30);
    assert_int_equal(jfield_bool(o, "ok", 0, &b, &err), 0);
    assert_true(b);
    assert_int_equal(jfield_string(o, "missing", 0, 1, 10, &s, &err), 0);
    assert_null(s);
    assert_int_equal(jfield_string(o, "missing", JF_REQUIRED, 1, 10, &s, &err), -1);
    assert_string_equal(err.field, "missing");
    assert_int_equal(jfield_string(o, "name", JF_REQUIRED, 1, 2, &s, &err), -1);
    assert_string_equal(err.message, "is too long");
    assert_int_equal(jfield_string(o, "age", JF_REQUIRED, 1, 2, &s, &err), -1);
    assert_string_equal(err.message, "must be a string");
    assert_int_equal(jfield_int(o, "age", JF_REQUIRED, 0, 10, &n, &err), -1);
    assert_int_equal(jfield_enum(o, "name", JF_REQUIRED, roles, &s, &err), -1);
    json_object_set_new(o, "extra", json_true());
    assert_int_equal(jfield_only(o, allowed, &err), -1);
    assert_string_equal(err.field, "extra");
    json_decref(o);

    o = json_loads("{\"a\":\"x\\u0000y\",\"b\":\"l1\\nl2\"}", JSON_ALLOW_NUL, NULL);
    assert_int_equal(jfield_string(o, "a", JF_REQUIRED, 1, 10, &s, &err), -1);
    assert_int_equal(jfield_string(o, "b", JF_REQUIRED, 1, 10, &s, &err), -1);
    assert_int_equal(jfield_string(o, "b", JF_REQUIRED | JF_MULTILINE, 1, 10, &s, &err), 0);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_minimal),
        cmocka_unit_test(test_render_full_and_escaping),
        cmocka_unit_test(test_render_refuses_bad_arguments),
        cmocka_unit_test(test_extension_members_never_replace_standard_ones),
        cmocka_unit_test(test_utf8_rules),
        cmocka_unit_test(test_jfield),
    };
    return cmocka_run_group_tests_name("problem", tests, NULL, NULL);
}
