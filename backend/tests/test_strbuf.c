/* Unit tests for strbuf: appends, growth past the first allocation, and
 * JSON strings (the acks are put together as text with them): whatever a
 * client sends as an id comes back as a string jansson reads as the same. */
#include "core/strbuf.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static void test_appends_and_growth(void **state)
{
    struct strbuf b = {0};
    (void)state;
    for (int i = 0; i < 2000; i++)
        strbuf_printf(&b, "%04d,", i);
    strbuf_str(&b, "end");
    assert_int_equal(b.len, 2000 * 5 + 3);
    assert_memory_equal(b.data, "0000,0001,", 10);
    assert_string_equal(b.data + b.len - 8, "1999,end");
    size_t len = b.len;
    char *text = strbuf_take(&b);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_null(b.data);
    free(text);
}

/* s written with strbuf_json_string, parsed back by jansson. */
static char *round_trip(const char *s)
{
    struct strbuf b = {0};
    strbuf_str(&b, "[");
    strbuf_json_string(&b, s);
    strbuf_str(&b, "]");
    json_error_t err;
    json_t *doc = json_loads(b.data, 0, &err);
    strbuf_free(&b);
    if (!json_is_array(doc) || !json_is_string(json_array_get(doc, 0))) {
        json_decref(doc);
        return NULL;
    }
    char *out = strdup(json_string_value(json_array_get(doc, 0)));
    json_decref(doc);
    return out;
}

static void test_json_string_escapes(void **state)
{
    static const char *const cases[] = {
        "",
        "plain id-42",
        "quote \" and backslash \\ and slash /",
        "tab\tnewline\nreturn\rbell\a\x01\x1f",
        "</script><b>not html</b>",
        "ünïcödé ✓ 中文 😀",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *back = round_trip(cases[i]);
        assert_non_null(back);
        assert_string_equal(back, cases[i]);
        free(back);
    }
    struct strbuf b = {0};
    strbuf_json_string(&b, "a\"b\\c\nd\x01");
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\u000ad\\u0001\"");
    strbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends_and_growth),
        cmocka_unit_test(test_json_string_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
