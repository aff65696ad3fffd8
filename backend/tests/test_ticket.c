/* Unit tests for ticket: a beat ticket checks for its own visitor, site and
 * origin until it expires, and nothing altered passes. */
#include "core/ticket.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

static const unsigned char KEY[TICKET_KEY_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static void test_round_trip(void **state)
{
    char t[TICKET_MAX_LEN];
    long long v = 0, s = 0;
    (void)state;
    assert_int_equal(ticket_make(KEY, 42, 7, "https://shop.example", 2000000000, t, sizeof(t)), 0);
    assert_int_equal(strncmp(t, "42.7.2000000000.", 16), 0);
    assert_int_equal(strlen(t), 16 + 24);
    assert_int_equal(ticket_check(KEY, t, "https://shop.example", 1900000000, &v, &s), 0);
    assert_int_equal(v, 42);
    assert_int_equal(s, 7);
}

static void test_refusals(void **state)
{
    char t[TICKET_MAX_LEN], bad[TICKET_MAX_LEN];
    unsigned char other[TICKET_KEY_BYTES] = {9};
    long long v = 0, s = 0;
    (void)state;
    assert_int_equal(ticket_make(KEY, 42, 7, "https://shop.example", 2000000000, t, sizeof(t)), 0);
    /* Another origin, expired, another key. */
    assert_int_equal(ticket_check(KEY, t, "https://evil.example", 1900000000, &v, &s), -1);
    assert_int_equal(ticket_check(KEY, t, "https://shop.example", 2000000001, &v, &s), -1);
    assert_int_equal(ticket_check(other, t, "https://shop.example", 1900000000, &v, &s), -1);
    /* Another visitor with the same mac. */
    snprintf(bad, sizeof(bad), "43%s", t + 2);
    assert_int_equal(ticket_check(KEY, bad, "https://shop.example", 1900000000, &v, &s), -1);
    /* A changed mac character. */
    strcpy(bad, t);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
    assert_int_equal(ticket_check(KEY, bad, "https://shop.example", 1900000000, &v, &s), -1);
    /* Malformed. */
    const char *junk[] = {"", "...", "1.2.3", "a.b.c.d", "-1.7.2000000000.x", "1.7.99999999999999999999.x", NULL};
    for (int i = 0; junk[i]; i++)
        assert_int_equal(ticket_check(KEY, junk[i], "https://shop.example", 1, &v, &s), -1);
    assert_int_equal(ticket_check(KEY, NULL, "https://shop.example", 1, &v, &s), -1);
    /* Nothing is made for an impossible claim or a too small buffer. */
    assert_int_equal(ticket_make(KEY, 0, 7, "https://shop.example", 2000000000, t, sizeof(t)), -1);
    assert_int_equal(ticket_make(KEY, 42, 7, "https://shop.example", 2000000000, t, 20), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
