/* Unit tests for online_utm_of: the UTM parameters of a landing page,
 * decoded, bounded and cleaned, and nothing else of the query. */
#include "chat/online.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static char *utm_text(const char *url)
{
    json_t *u = online_utm_of(url);
    char *s = json_dumps(u, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(u);
    return s;
}

static void check(const char *url, const char *want)
{
    char *got = utm_text(url);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_utm(void **state)
{
    (void)state;
    check("https://shop.example/", "{}");
    check(NULL, "{}");
    check("https://shop.example/?utm_source=news%20letter&utm_medium=email&x=1&utm_campaign=spring+sale#utm_term=no",
          "{\"campaign\":\"spring sale\",\"medium\":\"email\",\"source\":\"news letter\"}");
    /* The first of a repeated key; unknown utm_ keys and empty values are left out. */
    check("https://a.example/?utm_source=a&utm_source=b&utm_id=7&utm_content=", "{\"source\":\"a\"}");
    /* Control characters go; broken percent escapes stay as they are. */
    check("https://a.example/?utm_term=a%0Ab%00c%zz", "{\"term\":\"abc%zz\"}");
    /* UTF-8 kept; invalid bytes make the value empty (left out). */
    check("https://a.example/?utm_content=%E4%B8%AD%E6%96%87&utm_term=%FF%FE",
          "{\"content\":\"\xe4\xb8\xad\xe6\x96\x87\"}");
}

static void test_utm_bounded(void **state)
{
    char url[3000] = "https://a.example/?utm_source=";
    (void)state;
    size_t n = strlen(url);
    /* 300 two-byte characters: cut to at most 200 bytes on a character boundary. */
    for (int i = 0; i < 300; i++, n += 6)
        memcpy(url + n, "%C3%A9", 6);
    url[n] = '\0';
    json_t *u = online_utm_of(url);
    const char *s = json_string_value(json_object_get(u, "source"));
    assert_non_null(s);
    assert_int_equal(strlen(s), 200);
    json_decref(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utm),
        cmocka_unit_test(test_utm_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
