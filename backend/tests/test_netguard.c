/* Unit tests for netguard: every refused class of address in both
 * families, the metadata addresses, the allow-list (parsing, its errors,
 * letting loopback through, IPv4-mapped matching), public addresses let
 * through, and URL hosts: each odd numeric spelling refused, checked
 * against what glibc's inet_aton really accepts. */
#include "core/netguard.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* The reason for one address in text; NULL when allowed. */
static const char *refuse(const struct netguard *g, const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (strchr(text, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, text, &in->sin_addr), 1);
    }
    return netguard_refuse_addr(g, (const struct sockaddr *)&ss);
}

#define assert_refused(g, addr, why)                                                                                   \
    do {                                                                                                               \
        const char *r_ = refuse(g, addr);                                                                              \
        if (!r_ || strcmp(r_, why) != 0)                                                                               \
            fail_msg("%s: got %s, want %s", addr, r_ ? r_ : "allowed", why);                                           \
    } while (0)

#define assert_allowed(g, addr)                                                                                        \
    do {                                                                                                               \
        const char *r_ = refuse(g, addr);                                                                              \
        if (r_)                                                                                                        \
            fail_msg("%s: refused as %s", addr, r_);                                                                   \
    } while (0)

static void test_ipv4_classes(void **state)
{
    (void)state;
    assert_refused(NULL, "0.0.0.0", "unspecified");
    assert_refused(NULL, "0.1.2.3", "reserved");
    assert_refused(NULL, "127.0.0.1", "loopback");
    assert_refused(NULL, "127.255.255.254", "loopback");
    assert_refused(NULL, "10.0.0.1", "private");
    assert_refused(NULL, "172.16.0.1", "private");
    assert_refused(NULL, "172.31.255.255", "private");
    assert_refused(NULL, "192.168.1.1", "private");
    assert_refused(NULL, "169.254.169.254", "metadata");
    assert_refused(NULL, "169.254.0.1", "link-local");
    assert_refused(NULL, "169.254.169.253", "link-local");
    assert_refused(NULL, "100.64.0.1", "cgnat");
    assert_refused(NULL, "100.127.255.255", "cgnat");
    assert_refused(NULL, "224.0.0.1", "multicast");
    assert_refused(NULL, "239.255.255.250", "multicast");
    assert_refused(NULL, "255.255.255.255", "broadcast");
    assert_refused(NULL, "240.0.0.1", "reserved");
    assert_refused(NULL, "255.255.255.254", "reserved");
    assert_refused(NULL, "192.0.0.170", "reserved");
    assert_refused(NULL, "192.88.99.1", "reserved");
    assert_refused(NULL, "198.18.0.1", "reserved");
    assert_refused(NULL, "198.19.255.255", "reserved");
    assert_refused(NULL, "192.0.2.1", "reserved");
    assert_refused(NULL, "198.51.100.7", "reserved");
    assert_refused(NULL, "203.0.113.9", "reserved");
    /* Just outside the ranges. */
    assert_allowed(NULL, "93.184.216.34");
    assert_allowed(NULL, "1.1.1.1");
    assert_allowed(NULL, "172.32.0.1");
    assert_allowed(NULL, "172.15.255.255");
    assert_allowed(NULL, "100.128.0.1");
    assert_allowed(NULL, "100.63.255.255");
    assert_allowed(NULL, "198.20.0.1");
    assert_allowed(NULL, "192.0.1.1");
    assert_allowed(NULL, "223.255.255.255");
}

static void test_ipv6_classes(void **state)
{
    (void)state;
    assert_refused(NULL, "::", "unspecified");
    assert_refused(NULL, "::1", "loopback");
    assert_refused(NULL, "fd00:ec2::254", "metadata");
    assert_refused(NULL, "fd00:ec2::253", "unique-local");
    assert_refused(NULL, "fc00::1", "unique-local");
    assert_refused(NULL, "fdff:ffff::1", "unique-local");
    assert_refused(NULL, "fe80::1", "link-local");
    assert_refused(NULL, "febf::1", "link-local");
    assert_refused(NULL, "fec0::1", "reserved");
    assert_refused(NULL, "ff02::1", "multicast");
    assert_refused(NULL, "ff0e::101", "multicast");
    assert_refused(NULL, "2001:db8::1", "reserved");
    assert_refused(NULL, "2001:2::1", "reserved");
    assert_refused(NULL, "3fff::1", "reserved");
    assert_refused(NULL, "100::1", "reserved");
    assert_refused(NULL, "4000::1", "reserved"); /* outside 2000::/3 */
    assert_refused(NULL, "::ffff:127.0.0.1", "ipv4-mapped");
    assert_refused(NULL, "::ffff:93.184.216.34", "ipv4-mapped");
    assert_refused(NULL, "::127.0.0.1", "ipv4-mapped");
    assert_refused(NULL, "::2", "ipv4-mapped");
    assert_refused(NULL, "64:ff9b::7f00:1", "ipv4-mapped");
    assert_refused(NULL, "64:ff9b:1::a00:1", "ipv4-mapped");
    assert_refused(NULL, "2002:7f00:1::1", "ipv4-mapped");
    assert_refused(NULL, "2001:0:4136:e378::1", "ipv4-mapped");
    assert_allowed(NULL, "2606:4700::1111");
    assert_allowed(NULL, "2a00:1450:4001:80b::200e");
    assert_allowed(NULL, "2001:4860:4860::8888");
    assert_allowed(NULL, "2003::1");   /* next to 6to4 */
    assert_allowed(NULL, "2001:1::1"); /* next to Teredo */
}

static void test_other_families(void **state)
{
    struct sockaddr sa;
    (void)state;
    memset(&sa, 0, sizeof(sa));
    sa.sa_family = AF_UNIX;
    assert_string_equal(netguard_refuse_addr(NULL, &sa), "unsupported");
    assert_string_equal(netguard_refuse_addr(NULL, NULL), "unsupported");
}

static void test_allow_list(void **state)
{
    struct netguard g;
    char err[200];
    (void)state;
    assert_int_equal(netguard_parse(&g, "127.0.0.0/8, ::1", err, sizeof(err)), 0);
    assert_int_equal(g.nallow, 2);
    assert_allowed(&g, "127.0.0.1");
    assert_allowed(&g, "127.9.9.9");
    assert_allowed(&g, "::1");
    assert_allowed(&g, "::ffff:127.0.0.1"); /* by the address it embeds */
    assert_refused(&g, "::2", "ipv4-mapped");
    assert_refused(&g, "10.0.0.1", "private");
    assert_refused(&g, "::ffff:10.0.0.1", "ipv4-mapped");
    assert_allowed(&g, "93.184.216.34");

    /* Spaces around commas, tabs, a bare IPv4 and a metadata address let
     * through on purpose: the list wins over every class. */
    assert_int_equal(netguard_parse(&g, "  10.1.0.0/16 ,\t169.254.169.254,fd00::/8  ", err, sizeof(err)), 0);
    assert_int_equal(g.nallow, 3);
    assert_int_equal(g.allow[1].prefix, 32);
    assert_allowed(&g, "10.1.200.3");
    assert_refused(&g, "10.2.0.1", "private");
    assert_allowed(&g, "169.254.169.254");
    assert_refused(&g, "169.254.169.253", "link-local");
    assert_allowed(&g, "fd00:ec2::254");
    assert_refused(&g, "fe80::1", "link-local");

    /* An IPv4-mapped entry stands for its IPv4 address, both spellings. */
    assert_int_equal(netguard_parse(&g, "::ffff:192.168.0.0/112", err, sizeof(err)), 0);
    assert_int_equal(g.allow[0].family, AF_INET);
    assert_int_equal(g.allow[0].prefix, 16);
    assert_allowed(&g, "192.168.4.5");
    assert_allowed(&g, "::ffff:192.168.4.5");

    /* /0 lets everything of its family through. */
    assert_int_equal(netguard_parse(&g, "0.0.0.0/0", err, sizeof(err)), 0);
    assert_allowed(&g, "127.0.0.1");
    assert_refused(&g, "::1", "loopback");

    assert_int_equal(netguard_parse(&g, "", err, sizeof(err)), 0);
    assert_int_equal(g.nallow, 0);
    assert_int_equal(netguard_parse(&g, "   ", err, sizeof(err)), 0);
    assert_int_equal(g.nallow, 0);
}

static void test_allow_list_errors(void **state)
{
    struct netguard g;
    char err[200];
    char many[1024] = "";
    (void)state;
#define REFUSED(list, needle)                                                                                          \
    do {                                                                                                               \
        err[0] = '\0';                                                                                                 \
        assert_int_equal(netguard_parse(&g, list, err, sizeof(err)), -1);                                              \
        assert_int_equal(g.nallow, 0);                                                                                 \
        if (!strstr(err, needle))                                                                                      \
            fail_msg("%s: error \"%s\" does not name \"%s\"", list, err, needle);                                      \
    } while (0)
    REFUSED("10.0.0.1/8", "host bits");
    REFUSED("10.0.0.1/8", "10.0.0.0/8");
    REFUSED("127.0.0.0/8, fd00::1/8", "fd00::/8");
    REFUSED("10.0.0.0/33", "10.0.0.0/33");
    REFUSED("::/129", "::/129");
    REFUSED("10.0.0.0/", "10.0.0.0/");
    REFUSED("10.0.0.0/-1", "10.0.0.0/-1");
    REFUSED("10.0.0.0/08", "10.0.0.0/08");
    REFUSED("10.0.0.0/8x", "10.0.0.0/8x");
    REFUSED("10.0.0.0/ 8", "10.0.0.0/ 8");
    REFUSED("127.1", "\"127.1\"");
    REFUSED("0x7f.0.0.1", "0x7f.0.0.1");
    REFUSED("127.000.000.001/32", "127.000.000.001");
    REFUSED("localhost", "localhost");
    REFUSED("fe80::1%eth0", "fe80::1%eth0");
    REFUSED("10.0.0.0/8,,::1", "empty");
    REFUSED("10.0.0.0/8,", "empty");
    REFUSED(",10.0.0.0/8", "empty");
    REFUSED("10.0.0.0/8 192.168.0.0/16", "10.0.0.0/8 192.168.0.0/16");
    REFUSED("/8", "/8");
    REFUSED("1111:2222:3333:4444:5555:6666:7777:8888:1111:2222:3333:4444:5555:6666:7777:8888/128", "too long");
    for (int i = 0; i <= NETGUARD_MAX_ALLOW; i++) {
        char one[24];
        snprintf(one, sizeof(one), "%s10.0.%d.0/24", i ? "," : "", i);
        strcat(many, one);
    }
    REFUSED(many, "more than 32");
    /* No err buffer: still refused, nothing written. */
    assert_int_equal(netguard_parse(&g, "10.0.0.1/8", NULL, 0), -1);
#undef REFUSED
}

static void test_hosts_accepted(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "example.com",
        "hooks.example.com.",
        "a",
        "xn--bcher-kva.example",
        "EXAMPLE.COM",
        "my-host-1.internal",
        "1.example",
        "123abc",
        "example.0com",
        "93.184.216.34",
        "0.0.0.0",
        "255.255.255.255",
        "10.0.0.1",
        "127.0.0.1", /* canonical: refuse_addr judges */
        "::1",
        "2606:4700::1111",
        "::ffff:127.0.0.1",
        "FE80::1",
        "localhost",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        const char *r = netguard_refuse_host(ok[i]);
        if (r)
            fail_msg("%s: refused as %s", ok[i], r);
    }
    char label63[80], name253[300];
    memset(label63, 'a', 63);
    strcpy(label63 + 63, ".com");
    assert_null(netguard_refuse_host(label63));
    /* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
    memset(name253, 'b', 253);
    name253[63] = name253[127] = name253[191] = '.';
    name253[253] = '\0';
    assert_null(netguard_refuse_host(name253));
    name253[253] = '.'; /* one final dot on top */
    name253[254] = '\0';
    assert_null(netguard_refuse_host(name253));
}

static void test_hosts_odd_spellings(void **state)
{
    (void)state;
    /* Each one an address to glibc (checked below), none canonical. */
    static const char *const odd[] = {
        "0177.0.0.1",   "0x7f.0.0.1", "0X7F.0.0.1", "0x7f000001",      "2130706433",
        "017700000001", "127.1",      "10.1.1",     "127.000.000.001", "127.0.0.01",
        "0x7f.1",       "0",          "4294967295", "0300.0250.0.1",   "00000000000000127.0.0.1",
    };
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        struct in_addr a;
        const char *r = netguard_refuse_host(odd[i]);
        if (!r || strcmp(r, "odd-spelling") != 0)
            fail_msg("%s: got %s, want odd-spelling", odd[i], r ? r : "accepted");
        if (inet_aton(odd[i], &a) != 1)
            fail_msg("%s: glibc inet_aton no longer takes it; the list is stale", odd[i]);
    }
    /* Numbers glibc does not take today, refused all the same: a number
     * as last label is never a real name. */
    static const char *const also[] = {
        "127.0.0.1.", "1.2.3.4.5", "08.0.0.1", "256.0.0.1", "4294967296", "host.0x1", "evil.example.123", "0x",
    };
    for (size_t i = 0; i < sizeof(also) / sizeof(also[0]); i++) {
        const char *r = netguard_refuse_host(also[i]);
        if (!r || strcmp(r, "odd-spelling") != 0)
            fail_msg("%s: got %s, want odd-spelling", also[i], r ? r : "accepted");
    }
}

static void test_hosts_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        ".",
        "..",
        "a..b",
        ".example.com",
        "example.com..",
        "exa mple.com",
        "127.0.0.1 x",
        " 127.0.0.1",
        "under_score.com",
        "a@b.com",
        "host:80x",
        "fe80::1%eth0",
        "fe80::1%25eth0",
        "[::1]",
        "1::2::3",
        "::ffff:0x7f.1",
        "ex\xc3\xa4mple.com",
        "a/b",
        "a\\b",
        "%31%32%37.0.0.1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *r = netguard_refuse_host(bad[i]);
        if (!r || strcmp(r, "bad-host") != 0)
            fail_msg("\"%s\": got %s, want bad-host", bad[i], r ? r : "accepted");
    }
    assert_string_equal(netguard_refuse_host(NULL), "bad-host");
    char label64[80], name254[300];
    memset(label64, 'a', 64);
    strcpy(label64 + 64, ".com");
    assert_string_equal(netguard_refuse_host(label64), "bad-host");
    memset(name254, 'b', 254);
    name254[63] = name254[127] = name254[191] = '.';
    name254[254] = '\0';
    assert_string_equal(netguard_refuse_host(name254), "bad-host");
}

/* Whatever refuse_host accepts and inet_aton reads as an address is the
 * canonical spelling of that address: no host can mean one thing to the
 * check and another to the resolver. */
static void test_hosts_agree_with_inet_aton(void **state)
{
    (void)state;
    static const char *const parts[] = {"0", "1", "01", "0x1", "00", "255", "256", "0377", "0xff", "127", "x", ""};
    const size_t np = sizeof(parts) / sizeof(parts[0]);
    char host[64];
    for (size_t a = 0; a < np; a++)
        for (size_t b = 0; b < np; b++)
            for (size_t c = 0; c < np; c++)
                for (int nparts = 1; nparts <= 4; nparts++) {
                    struct in_addr in;
                    if (nparts == 1)
                        snprintf(host, sizeof(host), "%s", parts[a]);
                    else if (nparts == 2)
                        snprintf(host, sizeof(host), "%s.%s", parts[a], parts[b]);
                    else if (nparts == 3)
                        snprintf(host, sizeof(host), "%s.%s.%s", parts[a], parts[b], parts[c]);
                    else
                        snprintf(host, sizeof(host), "%s.%s.%s.%s", parts[a], parts[b], parts[c], parts[a]);
                    if (netguard_refuse_host(host) || inet_aton(host, &in) != 1)
                        continue;
                    if (strcmp(inet_ntoa(in), host) != 0)
                        fail_msg("%s accepted, but inet_aton reads it as %s", host, inet_ntoa(in));
                }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_classes),
        cmocka_unit_test(test_ipv6_classes),
        cmocka_unit_test(test_other_families),
        cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_allow_list_errors),
        cmocka_unit_test(test_hosts_accepted),
        cmocka_unit_test(test_hosts_odd_spellings),
        cmocka_unit_test(test_hosts_bad),
        cmocka_unit_test(test_hosts_agree_with_inet_aton),
    };
    return cmocka_run_group_tests_name("netguard", tests, NULL, NULL);
}
