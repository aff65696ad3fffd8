/* Unit tests for peer: what is stored of a client address under each
 * PARLEY_IP_STORAGE mode (IPv4 /24, IPv6 /48, IPv4-mapped IPv6 as IPv4,
 * malformed addresses stored as nothing), the trusted-proxy walk of
 * X-Forwarded-For and the same-origin test. */
#include "core/peer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

struct store_case {
    const char *ip;
    const char *full, *truncated;
};

static void test_address_to_store(void **state)
{
    static const struct store_case cases[] = {
        {"203.0.113.77", "203.0.113.77", "203.0.113.0"},
        {"198.51.100.0", "198.51.100.0", "198.51.100.0"},
        {"255.255.255.255", "255.255.255.255", "255.255.255.0"},
        {"2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6", "2001:db8:1::"},
        {"2001:db8:abcd:ffff::1", "2001:db8:abcd:ffff::1", "2001:db8:abcd::"},
        {"2001:DB8:0:1::1", "2001:DB8:0:1::1", "2001:db8::"},
        {"::1", "::1", "::"},
        {"fe80::1", "fe80::1", "fe80::"},
        {"::ffff:203.0.113.77", "::ffff:203.0.113.77", "203.0.113.0"},
        {"::FFFF:10.1.2.3", "::FFFF:10.1.2.3", "10.1.2.0"},
        /* Not addresses: nothing is stored in any mode. */
        {"", "", ""},
        {"203.0.113", "", ""},
        {"203.0.113.256", "", ""},
        {"fe80::1%eth0", "", ""},
        {"203.0.113.1/24", "", ""},
        {" 203.0.113.1", "", ""},
        {"x", "", ""},
    };
    char out[PEER_ADDR_MAX];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        peer_address_to_store(cases[i].ip, IP_STORE_FULL, out, sizeof(out));
        if (strcmp(out, cases[i].full) != 0)
            fail_msg("full \"%s\": got \"%s\", want \"%s\"", cases[i].ip, out, cases[i].full);
        peer_address_to_store(cases[i].ip, IP_STORE_TRUNCATED, out, sizeof(out));
        if (strcmp(out, cases[i].truncated) != 0)
            fail_msg("truncated \"%s\": got \"%s\", want \"%s\"", cases[i].ip, out, cases[i].truncated);
        memcpy(out, "junk", 5);
        peer_address_to_store(cases[i].ip, IP_STORE_NONE, out, sizeof(out));
        assert_string_equal(out, "");
    }
    /* NULL and an output too small for the answer: "", never a cut address. */
    peer_address_to_store(NULL, IP_STORE_FULL, out, sizeof(out));
    assert_string_equal(out, "");
    char small[8];
    peer_address_to_store("203.0.113.77", IP_STORE_FULL, small, sizeof(small));
    assert_string_equal(small, "");
}

static void test_client_address(void **state)
{
    char out[PEER_ADDR_MAX];
    (void)state;
    /* No trusted proxies: the peer, whatever the header says. */
    peer_client_address("", "203.0.113.5", "198.51.100.1", out, sizeof(out));
    assert_string_equal(out, "203.0.113.5");
    /* A trusted proxy: the nearest untrusted entry from the right. */
    peer_client_address("10.0.0.1,10.0.0.2", "10.0.0.1", "198.51.100.9, 203.0.113.7, 10.0.0.2", out, sizeof(out));
    assert_string_equal(out, "203.0.113.7");
    /* Garbage in the header stops the walk at the last good address. */
    peer_client_address("10.0.0.1", "10.0.0.1", "not-an-ip", out, sizeof(out));
    assert_string_equal(out, "10.0.0.1");
    peer_client_address("10.0.0.1", "10.0.0.1", NULL, out, sizeof(out));
    assert_string_equal(out, "10.0.0.1");
}

static void test_origin_is_self(void **state)
{
    (void)state;
    assert_int_equal(peer_origin_is_self("https://chat.example.com", "https://chat.example.com", NULL, 1), 1);
    assert_int_equal(peer_origin_is_self("http://127.0.0.1:8080", "https://x", "127.0.0.1:8080", 0), 1);
    assert_int_equal(peer_origin_is_self("http://127.0.0.1:8080", "https://x", "127.0.0.1:8080", 1), 0);
    assert_int_equal(peer_origin_is_self(NULL, "https://x", "x", 1), 0);
    assert_int_equal(peer_origin_is_self("https://evil.example", "https://x", "x", 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_to_store),
        cmocka_unit_test(test_client_address),
        cmocka_unit_test(test_origin_is_self),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
