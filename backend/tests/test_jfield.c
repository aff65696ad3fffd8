/* Unit tests for jfield's parser entry: nesting is counted outside strings
 * only, the limit is exact, and a document past it is refused before
 * jansson's recursive parser could run out of stack. */
#include "jfield.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

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
        cmocka_unit_test(test_depth_limit_is_exact),
        cmocka_unit_test(test_objects_and_mixed_nesting_count),
        cmocka_unit_test(test_brackets_in_strings_do_not_count),
        cmocka_unit_test(test_huge_depth_is_refused_without_parsing),
    };
    return cmocka_run_group_tests_name("jfield", tests, NULL, NULL);
}
