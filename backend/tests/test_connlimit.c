/* Unit tests for connlimit: per-class limits per address, IPv6 counted by
 * /64, IPv4-mapped addresses as IPv4, release giving places back, refusal
 * counters, and entries freed when empty. */
#include "core/connlimit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

static const int limits[CONNLIMIT_NCLASSES] = {
    [CONNLIMIT_TCP] = 3,
    [CONNLIMIT_HTTP] = 2,
    [CONNLIMIT_WS] = 2,
    [CONNLIMIT_WS_UNAUTH] = 1,
};

static void test_limit_per_class_and_address(void **state)
{
    struct connlimit *cl = connlimit_new(limits);
    (void)state;
    assert_non_null(cl);
    for (int i = 0; i < 3; i++)
        assert_int_equal(connlimit_acquire(cl, CONNLIMIT_TCP, "192.0.2.1"), 0);
    assert_int_equal(connlimit_acquire(cl, CONNLIMIT_TCP, "192.0.2.1"), -1);
    assert_int_equal(connlimit_count(cl, CONNLIMIT_TCP, "192.0.2.1"), 3);
    /* Other classes and other addresses are not affected. */
    assert_int_equal(connlimit_acquire(cl, CONNLIMIT_HTTP, "192.0.2.1"), 0);
    assert_int_equal(connlimit_acquire(cl, CONNLIMIT_TCP, "192.0.2.2"), 0);
    /* A release gives the place back. */
    connlimit_release(cl, CONNLIMIT_TCP, "192.0.2.1");
    assert_int_equal(connlimit_acquire(cl, CONNLIMIT_TCP, "192.0.2.1"), 0);
    assert_int_equal(connlimit_refused(cl, CONNLIMIT_TCP), 1);
    assert_int_equal(connlimit_refused(cl, CONNLIMIT_HTTP), 0);
    connlimit_free(cl);
}

static void test_ipv6_by_prefix_and_mapped_ipv4(void **state)
{
    struct connlimit *cl = connlimit_new(limits);
    char key[48];
    (void)state;
    /* A subscriber's whole /64 is one address. */
    assert_int_equal(connlimit_acquire(cl, CONNLIMIT_WS, "2001:db8:1:2::1"), 0);
    assert_int_equal(connlimit_acquire(cl, CONNLIMIT_WS, "2001:db8:1:2:ffff::9"), 0);
    assert_int_equal(connlimit_acquire(cl, CONNLIMIT_WS, "2001:db8:1:2:abcd:1:2:3"), -1);
    assert_int_equal(connlimit_acquire(cl, CONNLIMIT_WS, "2001:db8:1:3::1"), 0);
    assert_int_equal(connlimit_key("2001:DB8:1:2::77", key), 0);
    assert_string_equal(key, "2001:db8:1:2::/64");
    /* IPv4-mapped IPv6 is the IPv4 address. */
    assert_int_equal(connlimit_acquire(cl, CONNLIMIT_WS_UNAUTH, "::ffff:198.51.100.7"), 0);
    assert_int_equal(connlimit_acquire(cl, CONNLIMIT_WS_UNAUTH, "198.51.100.7"), -1);
    assert_int_equal(connlimit_key("::ffff:198.51.100.7", key), 0);
    assert_string_equal(key, "198.51.100.7");
    connlimit_free(cl);
}

static void test_not_an_address_is_refused(void **state)
{
    struct connlimit *cl = connlimit_new(limits);
    char key[48];
    (void)state;
    assert_int_equal(connlimit_acquire(cl, CONNLIMIT_TCP, "not-an-ip"), -1);
    assert_int_equal(connlimit_acquire(cl, CONNLIMIT_TCP, ""), -1);
    assert_int_equal(connlimit_key("1.2.3", key), -1);
    /* A release without an acquire changes nothing. */
    connlimit_release(cl, CONNLIMIT_TCP, "192.0.2.50");
    assert_int_equal(connlimit_count(cl, CONNLIMIT_TCP, "192.0.2.50"), 0);
    connlimit_free(cl);
}

static void test_many_addresses_come_and_go(void **state)
{
    struct connlimit *cl = connlimit_new(limits);
    char addr[48];
    (void)state;
    /* More addresses than buckets, all released: every entry is freed
     * (ASan's leak check would see one that is not) and counts restart. */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 10000; i++) {
            snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
            assert_int_equal(connlimit_acquire(cl, CONNLIMIT_HTTP, addr), 0);
        }
        for (int i = 0; i < 10000; i++) {
            snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
            assert_int_equal(connlimit_count(cl, CONNLIMIT_HTTP, addr), 1);
            connlimit_release(cl, CONNLIMIT_HTTP, addr);
            assert_int_equal(connlimit_count(cl, CONNLIMIT_HTTP, addr), 0);
        }
    }
    connlimit_free(cl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_per_class_and_address),
        cmocka_unit_test(test_ipv6_by_prefix_and_mapped_ipv4),
        cmocka_unit_test(test_not_an_address_is_refused),
        cmocka_unit_test(test_many_addresses_come_and_go),
    };
    return cmocka_run_group_tests_name("connlimit", tests, NULL, NULL);
}
