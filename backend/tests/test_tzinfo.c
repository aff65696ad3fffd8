/* Unit tests for tzinfo: zone names, built-in UTC, the system zones
 * Europe/Berlin, America/New_York, Asia/Kolkata and Pacific/Auckland at
 * their DST changes from the transition table (2026) and from the POSIX
 * footer (2040: Debian's files list transitions up to 2037 only), gaps and
 * overlaps, every POSIX rule form in files written here, agreement with
 * glibc's localtime_r over two centuries, and hostile files (truncated,
 * huge counts, bad offsets, bad footers, oversized, a FIFO, every byte
 * mutated) refused without a crash.
 *
 * Expected instants were read off `zdump -v -c 2026,2027 <zone>` and
 * `zdump -v -c 2040,2041 <zone>` (tzdata 2025b) and are quoted where used.
 * glibc is the oracle of the sweeps: the test sets TZ with setenv, which
 * the module itself must never do; this test is single-threaded. */
#include "core/tzinfo.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ZONEINFO "/usr/share/zoneinfo"

static char tmpdir[64];

/* "YYYY-MM-DD HH:MM:SS" read as UTC, by glibc's timegm (not by the module). */
static int64_t at(const char *text)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(text, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) !=
        6)
        fail_msg("bad date %s", text);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static struct tzinfo *load_system(const char *name)
{
    struct tzinfo *tz = NULL;
    if (tzinfo_load(ZONEINFO, name, &tz) != 0)
        fail_msg("could not load %s from " ZONEINFO " (is tzdata installed?)", name);
    return tz;
}

/* glibc's offset at t under TZ as last set. */
static long glibc_offset(int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    localtime_r(&tt, &tm);
    return tm.tm_gmtoff;
}

/* Every step seconds from `from` to `to`: the offset agrees with glibc's
 * for TZ=tzenv (a zone name or a POSIX TZ string), and the wall-clock time
 * read at t maps back to an instant at or before t that reads the same. */
static void agree_with_glibc(const struct tzinfo *tz, const char *tzenv, int64_t from, int64_t to, int64_t step)
{
    setenv("TZ", tzenv, 1);
    tzset();
    for (int64_t t = from; t < to; t += step) {
        int off = tzinfo_offset_at(tz, t);
        int64_t local = t + off, back = tzinfo_local_to_utc(tz, local);
        if (off != glibc_offset(t))
            fail_msg("%s at %lld: offset %d, glibc %ld", tzenv, (long long)t, off, glibc_offset(t));
        if (back > t || back + tzinfo_offset_at(tz, back) != local)
            fail_msg("%s at %lld: local %lld maps to %lld", tzenv, (long long)t, (long long)local, (long long)back);
        if (tzinfo_local_to_utc(tz, local + 1) < back)
            fail_msg("%s at %lld: local_to_utc decreases", tzenv, (long long)t);
    }
    setenv("TZ", "UTC", 1);
    tzset();
}

/* --- TZif files written by the tests ---------------------------------------- */

struct spec {
    char version; /* 0 (v1: 32-bit, no footer), '2', '3' */
    int ntrans;
    const int64_t *trans;
    const unsigned char *idx;
    int ntypes;
    const int32_t *utoff;
    const char *footer; /* v2+: the POSIX TZ string, "" for none */
};

static unsigned char *put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return p + 4;
}

static unsigned char *header(unsigned char *p, char version, uint32_t timecnt, uint32_t typecnt, uint32_t charcnt)
{
    memcpy(p, "TZif", 4);
    p[4] = (unsigned char)version;
    memset(p + 5, 0, 15);
    p += 20;
    p = put32(p, 0); /* isutcnt */
    p = put32(p, 0); /* isstdcnt */
    p = put32(p, 0); /* leapcnt */
    p = put32(p, timecnt);
    p = put32(p, typecnt);
    return put32(p, charcnt);
}

/* The file's bytes into out (big enough); returns the length. Every type
 * is named "ABC" (abbreviations are not used by the module). */
static size_t build(unsigned char *out, const struct spec *s)
{
    unsigned char *p = out;
    int tsize = s->version ? 8 : 4;
    if (s->version) {
        /* The v1 block old readers use: one type, no transitions. */
        p = header(p, s->version, 0, 1, 4);
        p = put32(p, (uint32_t)s->utoff[0]);
        *p++ = 0;
        *p++ = 0;
        memcpy(p, "ABC", 4);
        p += 4;
    }
    p = header(p, s->version, (uint32_t)s->ntrans, (uint32_t)s->ntypes, 4);
    for (int i = 0; i < s->ntrans; i++) {
        if (tsize == 8) {
            p = put32(p, (uint32_t)((uint64_t)s->trans[i] >> 32));
            p = put32(p, (uint32_t)s->trans[i]);
        } else {
            p = put32(p, (uint32_t)(int32_t)s->trans[i]);
        }
    }
    for (int i = 0; i < s->ntrans; i++)
        *p++ = s->idx[i];
    for (int i = 0; i < s->ntypes; i++) {
        p = put32(p, (uint32_t)s->utoff[i]);
        *p++ = 0;
        *p++ = 0;
    }
    memcpy(p, "ABC", 4);
    p += 4;
    if (s->version) {
        size_t n = strlen(s->footer);
        *p++ = '\n';
        memcpy(p, s->footer, n);
        p += n;
        *p++ = '\n';
    }
    return (size_t)(p - out);
}

/* Written in place and cut to length rather than truncated first: ext4
 * flushes a file truncated to 0 on close, which thousands of rewrites feel. */
static void write_file(const char *name, const void *bytes, size_t len)
{
    char path[256];
    int fd;
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, len, 0), (ssize_t)len);
    assert_int_equal(ftruncate(fd, (off_t)len), 0);
    assert_int_equal(close(fd), 0);
}

/* 0 when the bytes load as zone "T"; the zone is used a little (for the
 * sanitizers) and freed. */
static int try_load(const void *bytes, size_t len)
{
    struct tzinfo *tz = NULL;
    int rc;
    write_file("T", bytes, len);
    rc = tzinfo_load(tmpdir, "T", &tz);
    if (rc == 0) {
        assert_non_null(tz);
        for (int64_t t = -4000000000LL; t < 8000000000LL; t += 500000000LL)
            (void)tzinfo_local_to_utc(tz, t + tzinfo_offset_at(tz, t));
    } else {
        assert_null(tz);
    }
    tzinfo_free(tz);
    return rc;
}

/* A footer-only zone (no transitions) with the given POSIX TZ string. */
static struct tzinfo *load_footer(const char *footer)
{
    static const int32_t utoff[] = {0};
    struct spec s = {'2', 0, NULL, NULL, 1, utoff, footer};
    unsigned char buf[512];
    struct tzinfo *tz = NULL;
    write_file("Footer", buf, build(buf, &s));
    if (tzinfo_load(tmpdir, "Footer", &tz) != 0)
        fail_msg("footer \"%s\" refused", footer);
    return tz;
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_tzinfo.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char path[512];
    (void)state;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
        if (unlink(path) != 0)
            rmdir(path);
    }
    if (d)
        closedir(d);
    rmdir(tmpdir);
    return 0;
}

/* --- the tests ------------------------------------------------------------ */

static void test_names(void **state)
{
    static const char *const good[] = {
        "UTC",
        "Europe/Berlin",
        "America/Argentina/Buenos_Aires",
        "Etc/GMT+5",
        "Etc/GMT-14",
        "EST5EDT",
        "a",
        /* 64 bytes exactly */
        "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    };
    static const char *const bad[] = {
        "",
        "/",
        "/etc/passwd",
        "../etc/passwd",
        "Europe/../../etc/passwd",
        "Europe/..",
        "..",
        ".",
        "Europe/Berlin/",
        "Europe//Berlin",
        "/Europe/Berlin",
        "a/b/c/d", /* four components */
        "Europe/Berlin ",
        "Europe Berlin",
        "Europe/Berlin\n",
        "Europe\\Berlin",
        "Europe/Berlin.tab",
        "zone.tab",
        "Europe/Berlin%00",
        "Europe/Berlín",
        /* 65 bytes */
        "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    };
    struct tzinfo *tz = (struct tzinfo *)1;
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!tzinfo_name_valid(good[i]))
            fail_msg("refused \"%s\"", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tzinfo_name_valid(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
        /* And the loader refuses them before touching the file system. */
        assert_int_equal(tzinfo_load(ZONEINFO, bad[i], &tz), -1);
        assert_null(tz);
    }
    assert_false(tzinfo_name_valid(NULL));
    assert_int_equal(tzinfo_load(ZONEINFO, NULL, &tz), -1);
    assert_int_equal(tzinfo_load(ZONEINFO, "UTC", NULL), -1);
    /* Valid names that are no zone. */
    assert_int_equal(tzinfo_load(ZONEINFO, "Europe/Atlantis", &tz), -1);
    assert_int_equal(tzinfo_load(ZONEINFO, "Europe", &tz), -1);      /* a directory */
    assert_int_equal(tzinfo_load(ZONEINFO, "leapseconds", &tz), -1); /* a text file */
    /* Leap-second zones: their times are not POSIX time. */
    if (access(ZONEINFO "/right/Europe/Berlin", R_OK) == 0)
        assert_int_equal(tzinfo_load(ZONEINFO, "right/Europe/Berlin", &tz), -1);
    assert_int_equal(tzinfo_load(NULL, "Europe/Berlin", &tz), -1);
    assert_int_equal(tzinfo_load("", "Europe/Berlin", &tz), -1);
    assert_null(tz);
}

static void test_utc_builtin(void **state)
{
    static const char *const names[] = {"UTC", "Etc/UTC"};
    static const int64_t instants[] = {INT64_MIN, -1, 0, 1774746000, INT64_MAX};
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        struct tzinfo *tz = NULL;
        /* No file needed: the directory does not exist. */
        assert_int_equal(tzinfo_load("/nonexistent/zoneinfo", names[i], &tz), 0);
        for (size_t j = 0; j < sizeof(instants) / sizeof(instants[0]); j++)
            assert_int_equal(tzinfo_offset_at(tz, instants[j]), 0);
        assert_int_equal(tzinfo_local_to_utc(tz, 1774751400), 1774751400);
        tzinfo_free(tz);
    }
    /* NULL is UTC too. */
    assert_int_equal(tzinfo_offset_at(NULL, 1774746000), 0);
    assert_int_equal(tzinfo_local_to_utc(NULL, 1774751400), 1774751400);
    /* Outside +-2^40 local is clamped. */
    assert_int_equal(tzinfo_local_to_utc(NULL, INT64_MAX), INT64_C(1) << 40);
    assert_int_equal(tzinfo_local_to_utc(NULL, INT64_MIN), -(INT64_C(1) << 40));
    tzinfo_free(NULL);
}

static void test_days_from_civil(void **state)
{
    (void)state;
    assert_int_equal(tzinfo_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(tzinfo_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(tzinfo_days_from_civil(2000, 3, 1), at("2000-03-01 00:00:00") / 86400);
    assert_int_equal(tzinfo_days_from_civil(2026, 12, 25), at("2026-12-25 00:00:00") / 86400);
    assert_int_equal(tzinfo_days_from_civil(2100, 2, 28) + 1, tzinfo_days_from_civil(2100, 3, 1)); /* not leap */
    assert_int_equal(tzinfo_days_from_civil(2400, 2, 28) + 2, tzinfo_days_from_civil(2400, 3, 1)); /* leap */
    assert_int_equal(tzinfo_days_from_civil(9999, 12, 31), at("9999-12-31 00:00:00") / 86400);
}

static void test_berlin(void **state)
{
    struct tzinfo *tz = load_system("Europe/Berlin");
    (void)state;
    assert_int_equal(tzinfo_offset_at(tz, at("2026-01-15 12:00:00")), 3600);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-07-15 12:00:00")), 7200);
    /* From the transition table. zdump:
     *   Sun Mar 29 00:59:59 2026 UT = Sun Mar 29 01:59:59 2026 CET gmtoff=3600
     *   Sun Mar 29 01:00:00 2026 UT = Sun Mar 29 03:00:00 2026 CEST gmtoff=7200
     *   Sun Oct 25 00:59:59 2026 UT = Sun Oct 25 02:59:59 2026 CEST gmtoff=7200
     *   Sun Oct 25 01:00:00 2026 UT = Sun Oct 25 02:00:00 2026 CET gmtoff=3600 */
    assert_int_equal(tzinfo_offset_at(tz, at("2026-03-29 00:59:59")), 3600);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-03-29 01:00:00")), 7200);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-10-25 00:59:59")), 7200);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-10-25 01:00:00")), 3600);
    /* The gap: 02:00..02:59:59 local never happens; it ends at 03:00 CEST,
     * which is 01:00 UTC. */
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-03-29 01:59:59")), at("2026-03-29 00:59:59"));
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-03-29 02:00:00")), at("2026-03-29 01:00:00"));
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-03-29 02:30:00")), at("2026-03-29 01:00:00"));
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-03-29 03:00:00")), at("2026-03-29 01:00:00"));
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-03-29 03:00:01")), at("2026-03-29 01:00:01"));
    /* The overlap: 02:00..02:59:59 local happens twice (CEST, then CET);
     * the earlier one: 02:30 CEST = 00:30 UTC (02:30 CET would be 01:30). */
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-10-25 01:59:59")), at("2026-10-24 23:59:59"));
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-10-25 02:00:00")), at("2026-10-25 00:00:00"));
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-10-25 02:30:00")), at("2026-10-25 00:30:00"));
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-10-25 02:59:59")), at("2026-10-25 00:59:59"));
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-10-25 03:00:00")), at("2026-10-25 02:00:00"));
    /* 2040: past the file's last transition (2037-10-25 01:00 UTC), so the
     * footer "CET-1CEST,M3.5.0,M10.5.0/3" decides. zdump -c 2040,2041:
     *   Sun Mar 25 01:00:00 2040 UT = Sun Mar 25 03:00:00 2040 CEST
     *   Sun Oct 28 01:00:00 2040 UT = Sun Oct 28 02:00:00 2040 CET */
    assert_int_equal(tzinfo_offset_at(tz, at("2040-03-25 00:59:59")), 3600);
    assert_int_equal(tzinfo_offset_at(tz, at("2040-03-25 01:00:00")), 7200);
    assert_int_equal(tzinfo_offset_at(tz, at("2040-10-28 00:59:59")), 7200);
    assert_int_equal(tzinfo_offset_at(tz, at("2040-10-28 01:00:00")), 3600);
    assert_int_equal(tzinfo_local_to_utc(tz, at("2040-03-25 02:30:00")), at("2040-03-25 01:00:00"));
    assert_int_equal(tzinfo_local_to_utc(tz, at("2040-10-28 02:30:00")), at("2040-10-28 00:30:00"));
    /* Far ahead: the rule still applies (the year 292277026596 too). */
    assert_int_equal(tzinfo_offset_at(tz, at("9999-07-01 00:00:00")), 7200);
    assert_int_equal(tzinfo_offset_at(tz, INT64_MAX), 3600); /* a December */
    /* Before the first transition: local mean time, +0:53:28. */
    assert_int_equal(tzinfo_offset_at(tz, at("1800-01-01 00:00:00")), 3208);
    tzinfo_free(tz);
}

static void test_new_york(void **state)
{
    struct tzinfo *tz = load_system("America/New_York");
    (void)state;
    /* zdump -v -c 2026,2027 America/New_York:
     *   Sun Mar  8 07:00:00 2026 UT = Sun Mar  8 03:00:00 2026 EDT gmtoff=-14400
     *   Sun Nov  1 06:00:00 2026 UT = Sun Nov  1 01:00:00 2026 EST gmtoff=-18000 */
    assert_int_equal(tzinfo_offset_at(tz, at("2026-03-08 06:59:59")), -18000);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-03-08 07:00:00")), -14400);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-11-01 05:59:59")), -14400);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-11-01 06:00:00")), -18000);
    /* Gap 02:00..02:59 local; 02:30 -> 03:00 EDT = 07:00 UTC. */
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-03-08 02:30:00")), at("2026-03-08 07:00:00"));
    /* Overlap 01:00..01:59 local; 01:30 EDT = 05:30 UTC (EST would be 06:30). */
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-11-01 01:30:00")), at("2026-11-01 05:30:00"));
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-11-01 02:00:00")), at("2026-11-01 07:00:00"));
    /* 2040 from the footer "EST5EDT,M3.2.0,M11.1.0"; zdump -c 2040,2041:
     *   Sun Mar 11 07:00:00 2040 UT = Sun Mar 11 03:00:00 2040 EDT
     *   Sun Nov  4 06:00:00 2040 UT = Sun Nov  4 01:00:00 2040 EST */
    assert_int_equal(tzinfo_offset_at(tz, at("2040-03-11 06:59:59")), -18000);
    assert_int_equal(tzinfo_offset_at(tz, at("2040-03-11 07:00:00")), -14400);
    assert_int_equal(tzinfo_offset_at(tz, at("2040-11-04 05:59:59")), -14400);
    assert_int_equal(tzinfo_offset_at(tz, at("2040-11-04 06:00:00")), -18000);
    assert_int_equal(tzinfo_local_to_utc(tz, at("2040-03-11 02:30:00")), at("2040-03-11 07:00:00"));
    assert_int_equal(tzinfo_local_to_utc(tz, at("2040-11-04 01:30:00")), at("2040-11-04 05:30:00"));
    tzinfo_free(tz);
}

static void test_kolkata(void **state)
{
    struct tzinfo *tz = load_system("Asia/Kolkata");
    (void)state;
    /* +05:30 all year, now and in 2040 (footer "IST-5:30"; the file's last
     * transition is 1945). zdump -v Asia/Kolkata:
     *   Sun Oct 14 17:29:59 1945 UT = Sun Oct 14 23:59:59 1945 +0630 gmtoff=23400
     *   Sun Oct 14 17:30:00 1945 UT = Sun Oct 14 23:00:00 1945 IST gmtoff=19800 */
    assert_int_equal(tzinfo_offset_at(tz, at("2026-01-15 12:00:00")), 19800);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-07-15 12:00:00")), 19800);
    assert_int_equal(tzinfo_offset_at(tz, at("2040-07-15 12:00:00")), 19800);
    assert_int_equal(tzinfo_offset_at(tz, at("1945-10-14 17:29:59")), 23400);
    assert_int_equal(tzinfo_offset_at(tz, at("1945-10-14 17:30:00")), 19800);
    /* 09:00 IST is 03:30 UTC. */
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-06-01 09:00:00")), at("2026-06-01 03:30:00"));
    tzinfo_free(tz);
}

static void test_auckland(void **state)
{
    struct tzinfo *tz = load_system("Pacific/Auckland");
    (void)state;
    /* Southern hemisphere: DST (+13) over the new year, standard (+12) in
     * July. zdump -v -c 2026,2027 Pacific/Auckland:
     *   Sat Apr  4 14:00:00 2026 UT = Sun Apr  5 02:00:00 2026 NZST gmtoff=43200
     *   Sat Sep 26 14:00:00 2026 UT = Sun Sep 27 03:00:00 2026 NZDT gmtoff=46800 */
    assert_int_equal(tzinfo_offset_at(tz, at("2026-01-15 12:00:00")), 46800);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-07-15 12:00:00")), 43200);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-04-04 13:59:59")), 46800);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-04-04 14:00:00")), 43200);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-09-26 13:59:59")), 43200);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-09-26 14:00:00")), 46800);
    /* Gap Sep 27 02:00..02:59 local: 02:30 -> 03:00 NZDT = Sep 26 14:00 UTC.
     * Overlap Apr 5 02:00..02:59 local: 02:30 NZDT = Apr 4 13:30 UTC. */
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-09-27 02:30:00")), at("2026-09-26 14:00:00"));
    assert_int_equal(tzinfo_local_to_utc(tz, at("2026-04-05 02:30:00")), at("2026-04-04 13:30:00"));
    /* 2040 from the footer "NZST-12NZDT,M9.5.0,M4.1.0/3"; zdump -c 2040,2041:
     *   Sat Mar 31 14:00:00 2040 UT = Sun Apr  1 02:00:00 2040 NZST
     *   Sat Sep 29 14:00:00 2040 UT = Sun Sep 30 03:00:00 2040 NZDT */
    assert_int_equal(tzinfo_offset_at(tz, at("2040-03-31 13:59:59")), 46800);
    assert_int_equal(tzinfo_offset_at(tz, at("2040-03-31 14:00:00")), 43200);
    assert_int_equal(tzinfo_offset_at(tz, at("2040-09-29 13:59:59")), 43200);
    assert_int_equal(tzinfo_offset_at(tz, at("2040-09-29 14:00:00")), 46800);
    assert_int_equal(tzinfo_local_to_utc(tz, at("2040-09-30 02:30:00")), at("2040-09-29 14:00:00"));
    tzinfo_free(tz);
}

/* Two centuries of instants, every ~13 h, against glibc: the table, the
 * footer after 2037, and zones with odd histories: a 30-minute DST
 * (Lord_Howe), negative DST (Dublin), a rule time of -1:00 (Nuuk), a
 * skipped day (Apia, 2011-12-30), a zone that moved across the date line
 * (Kiritimati, +14), Morocco's listed transitions to 2087. */
static void test_glibc_agrees(void **state)
{
    static const char *const zones[] = {
        "Europe/Berlin",       "America/New_York",  "Asia/Kolkata",      "Pacific/Auckland",
        "Australia/Lord_Howe", "Europe/Dublin",     "America/Nuuk",      "Pacific/Apia",
        "Pacific/Kiritimati",  "Africa/Casablanca", "America/Sao_Paulo", "Asia/Tehran",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        struct tzinfo *tz = load_system(zones[i]);
        agree_with_glibc(tz, zones[i], at("1901-01-01 00:00:00"), at("2101-01-01 00:00:00"), 13 * 3600 + 1237);
        tzinfo_free(tz);
    }
}

/* Footers alone (no transitions in the file), each POSIX form, against
 * glibc given the same string as TZ. From 1970-01-02: glibc applies a TZ
 * string's DST rule to no year before 1970 (TZ=CET-1CEST,M3.5.0,M10.5.0/3
 * gives +01 in July 1960, and EST5EDT,0/0,J365/25 gives -05 until 1970's
 * DST starts), the module applies it to every year. Permanent DST
 * ("EST5EDT,0/0,J365/25", RFC 8536 3.3.1) is checked by hand below: glibc
 * answers -05 in the first hours of each UTC year, before that year's
 * "start" at local 00:00, ignoring that the previous year's DST has not
 * ended yet. */
static void test_footer_forms(void **state)
{
    static const char *const rules[] = {
        "<+0530>-5:30",                         /* numeric abbreviation, half hour */
        "<-0330>3:30",                          /* west, half hour */
        "CET-1CEST,M3.5.0,M10.5.0/3",           /* Europe */
        "EST5EDT,M3.2.0,M11.1.0",               /* US */
        "NZST-12NZDT,M9.5.0,M4.1.0/3",          /* southern hemisphere */
        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", /* Lord Howe: explicit DST offset, 30 min */
        "IST-1GMT0,M10.5.0,M3.5.0/1",           /* Dublin: DST in winter (negative DST) */
        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",      /* Nuuk: a negative rule time */
        "XXX3YYY,J60/2,300",                    /* Jn (Feb 29 not counted) and zero-based n */
        "AAA-10BBB,M10.1.0/100,M4.1.0/-100",    /* RFC 8536 hours beyond 24 */
        "<+14>-14",
        "<-12>12",
        "WET0WEST,M3.5.0/1,M10.5.0",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        struct tzinfo *tz = load_footer(rules[i]);
        agree_with_glibc(tz, rules[i], at("1970-01-02 00:00:00"), at("2110-01-01 00:00:00"), 11 * 3600 + 877);
        tzinfo_free(tz);
    }
}

/* The Jn and n forms checked by hand, not only against glibc:
 * "XXX3YYY,J60/2,300": DST from day J60 (March 1, leap year or not) 02:00
 * standard time (-3, so 05:00 UTC) to zero-based day 300 (October 28 in
 * 2026; October 27 in the leap year 2028) 02:00 DST time (-2: 04:00 UTC). */
static void test_footer_days_by_hand(void **state)
{
    struct tzinfo *tz = load_footer("XXX3YYY,J60/2,300");
    (void)state;
    assert_int_equal(tzinfo_offset_at(tz, at("2026-03-01 04:59:59")), -10800);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-03-01 05:00:00")), -7200);
    assert_int_equal(tzinfo_offset_at(tz, at("2028-03-01 05:00:00")), -7200); /* not Feb 29 */
    assert_int_equal(tzinfo_offset_at(tz, at("2028-02-29 12:00:00")), -10800);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-10-28 03:59:59")), -7200);
    assert_int_equal(tzinfo_offset_at(tz, at("2026-10-28 04:00:00")), -10800);
    assert_int_equal(tzinfo_offset_at(tz, at("2028-10-27 04:00:00")), -10800); /* day 300 of a leap year */
    tzinfo_free(tz);
    /* Permanent DST: -4 all year, across the new year too: 2026's DST
     * "ends" on day 365 at 25:00 EDT = 2027-01-01 05:00 UTC, the instant
     * 2027's "starts" (00:00 EST). */
    tz = load_footer("EST5EDT,0/0,J365/25");
    for (int64_t t = at("2025-12-30 00:00:00"); t < at("2028-01-03 00:00:00"); t += 1800)
        assert_int_equal(tzinfo_offset_at(tz, t), -14400);
    assert_int_equal(tzinfo_offset_at(tz, at("2027-01-01 04:59:59")), -14400);
    assert_int_equal(tzinfo_offset_at(tz, at("2027-01-01 05:00:00")), -14400);
    assert_int_equal(tzinfo_local_to_utc(tz, at("2027-01-01 00:30:00")), at("2027-01-01 04:30:00"));
    tzinfo_free(tz);
}

/* Any int64_t is a valid argument: no overflow (the sanitizer build
 * checks), offsets within -25 h..26 h, local_to_utc within its clamp. */
static void test_extreme_instants(void **state)
{
    static const int64_t edges[] = {
        INT64_MIN, INT64_MIN + 1,    -(INT64_C(1) << 40) - 1, -(INT64_C(1) << 40), -1,        0,
        1,         INT64_C(1) << 40, (INT64_C(1) << 40) + 1,  INT64_MAX - 1,       INT64_MAX,
    };
    static const char *const footers[] = {"CET-1CEST,M3.5.0,M10.5.0/3", "AAA-10BBB,M10.1.0/100,M4.1.0/-100",
                                          "EST5EDT,0/0,J365/25", "<-12>12"};
    const int64_t lim = (INT64_C(1) << 40) + 93600;
    (void)state;
    for (size_t z = 0; z <= sizeof(footers) / sizeof(footers[0]); z++) {
        struct tzinfo *tz =
            z < sizeof(footers) / sizeof(footers[0]) ? load_footer(footers[z]) : load_system("Europe/Berlin");
        int64_t prev = INT64_MIN;
        for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
            int off = tzinfo_offset_at(tz, edges[i]);
            int64_t u = tzinfo_local_to_utc(tz, edges[i]);
            assert_true(off >= -89999 && off <= 93599);
            assert_true(u >= -lim && u <= lim);
            assert_true(u >= prev);
            prev = u;
        }
        tzinfo_free(tz);
    }
}

/* Transitions then a footer, and a version 1 file. */
static void test_table_then_footer(void **state)
{
    /* +1 until 2000-03-26 01:00 UTC, +2 until 2000-10-29 01:00 UTC, then the
     * rule; v1: the same transitions in 32 bits and +1 for ever after. */
    int64_t trans[] = {at("2000-03-26 01:00:00"), at("2000-10-29 01:00:00")};
    unsigned char idx[] = {1, 0};
    int32_t utoff[] = {3600, 7200};
    struct spec v2 = {'2', 2, trans, idx, 2, utoff, "CET-1CEST,M3.5.0,M10.5.0/3"};
    struct spec v3 = {'3', 2, trans, idx, 2, utoff, ""};
    struct spec v1 = {0, 2, trans, idx, 2, utoff, NULL};
    unsigned char buf[512];
    struct tzinfo *tz = NULL;
    (void)state;

    write_file("V2", buf, build(buf, &v2));
    assert_int_equal(tzinfo_load(tmpdir, "V2", &tz), 0);
    assert_int_equal(tzinfo_offset_at(tz, at("1999-06-01 00:00:00")), 3600); /* type 0 before */
    assert_int_equal(tzinfo_offset_at(tz, at("2000-06-01 00:00:00")), 7200);
    assert_int_equal(tzinfo_offset_at(tz, at("2000-12-01 00:00:00")), 3600);
    assert_int_equal(tzinfo_offset_at(tz, at("2001-06-01 00:00:00")), 7200); /* the rule */
    assert_int_equal(tzinfo_local_to_utc(tz, at("2001-03-25 02:30:00")), at("2001-03-25 01:00:00"));
    tzinfo_free(tz);

    /* An empty footer: the last type goes on. */
    write_file("V3", buf, build(buf, &v3));
    assert_int_equal(tzinfo_load(tmpdir, "V3", &tz), 0);
    assert_int_equal(tzinfo_offset_at(tz, at("2001-06-01 00:00:00")), 3600);
    tzinfo_free(tz);

    write_file("V1", buf, build(buf, &v1));
    assert_int_equal(tzinfo_load(tmpdir, "V1", &tz), 0);
    assert_int_equal(tzinfo_offset_at(tz, at("2000-06-01 00:00:00")), 7200);
    assert_int_equal(tzinfo_offset_at(tz, at("2001-06-01 00:00:00")), 3600);
    tzinfo_free(tz);
}

static void patch32(unsigned char *p, uint32_t v)
{
    put32(p, v);
}

static void test_hostile_files(void **state)
{
    int64_t trans[] = {at("2000-03-26 01:00:00"), at("2000-10-29 01:00:00")};
    unsigned char idx[] = {1, 0};
    int32_t utoff[] = {3600, 7200};
    struct spec good = {'2', 2, trans, idx, 2, utoff, "CET-1CEST,M3.5.0,M10.5.0/3"};
    unsigned char buf[1024], bad[1024];
    size_t len = build(buf, &good);
    /* Where things are in buf: the v1 block is 44 + 6 + 4 bytes, then the
     * second header; its data: 2 x 8 times, 2 indexes, 2 x 6 types, 4 chars. */
    const size_t h2 = 54, data = h2 + 44, idx_at = data + 16, types_at = idx_at + 2, footer_at = types_at + 12 + 4;
    (void)state;

    /* The offsets above point where they should. */
    assert_memory_equal(buf + h2, "TZif2", 5);
    assert_int_equal(buf[idx_at], 1);
    assert_int_equal(buf[types_at + 3], 3600 & 0xFF);
    assert_int_equal(buf[types_at + 6 + 2], 7200 >> 8);
    assert_int_equal(buf[footer_at], '\n');
    assert_int_equal(buf[footer_at + 1], 'C');
    assert_int_equal(try_load(buf, len), 0);
    /* Every truncation. */
    for (size_t n = 0; n < len; n++)
        if (try_load(buf, n) != -1)
            fail_msg("accepted the first %zu bytes", n);
    /* One byte more after the footer. */
    memcpy(bad, buf, len);
    bad[len] = 'x';
    assert_int_equal(try_load(bad, len + 1), -1);

    struct {
        size_t at;
        uint32_t value;
        const char *what;
    } counts[] = {
        {20 + 12, 0xFFFFFFFFu, "v1 timecnt 2^32-1"},
        {20 + 16, 0, "v1 typecnt 0"},
        {20 + 8, 1, "v1 leap seconds"},
        {h2 + 20 + 12, 0xFFFFFFFFu, "timecnt 2^32-1"},
        {h2 + 20 + 12, TZINFO_MAX_TRANSITIONS + 1, "timecnt over the bound"},
        {h2 + 20 + 12, 3, "timecnt past the data"},
        {h2 + 20 + 16, 0, "typecnt 0"},
        {h2 + 20 + 16, 257, "typecnt 257"},
        {h2 + 20 + 16, 0x80000000u, "typecnt 2^31"},
        {h2 + 20 + 20, 0, "charcnt 0"},
        {h2 + 20 + 20, 0x7FFFFFFFu, "charcnt 2^31-1"},
        {h2 + 20 + 8, 27, "leap seconds (a right/ zone)"},
        {h2 + 20 + 4, 1, "isstdcnt neither 0 nor typecnt"},
        {h2 + 20 + 0, 5, "isutcnt neither 0 nor typecnt"},
        {types_at, 100000, "offset over 26 h"},
        {types_at, 0x80000000u, "offset -2^31"},
        {types_at + 6, (uint32_t)-90000, "offset under -25 h"},
        {data + 8, 0x80000000u, "transitions out of order"},
        {data + 8 + 4, (uint32_t)at("2000-03-26 01:00:00"), "two transitions at one instant"},
    };
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        memcpy(bad, buf, len);
        patch32(bad + counts[i].at, counts[i].value);
        if (counts[i].at == data + 8 + 4)
            memcpy(bad + data + 8, bad + data, 4); /* same high half as the first */
        if (try_load(bad, len) != -1)
            fail_msg("accepted: %s", counts[i].what);
    }

    struct {
        size_t at;
        unsigned char value;
        const char *what;
    } bytes[] = {
        {0, 'X', "magic"},
        {4, '5', "version 5"},
        {h2 + 4, '3', "second header's version differs"},
        {idx_at, 2, "type index"},
        {types_at + 4, 2, "isdst 2"},
        {types_at + 5, 4, "abbreviation index"},
        {footer_at, ' ', "footer without its newline"},
        {len - 1, 'x', "footer not ended"},
        {footer_at + 4, 0x01, "control byte in the footer"},
    };
    for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
        memcpy(bad, buf, len);
        bad[bytes[i].at] = bytes[i].value;
        if (try_load(bad, len) != -1)
            fail_msg("accepted: %s", bytes[i].what);
    }
}

static void test_hostile_footers(void **state)
{
    static const char *const bad[] = {
        "CET-1CEST",                   /* DST without its dates */
        "CET",                         /* no offset */
        "CE-1",                        /* abbreviation too short */
        "<CE>-1",                      /* quoted, too short */
        "<CET-1",                      /* unterminated quote */
        "<C T>-1",                     /* space in a quoted abbreviation */
        "CET-25",                      /* offset hours over 24 */
        "CET-24:60",                   /* minutes over 59 */
        "CET-1:00:60",                 /* seconds over 59 */
        "CET-1CEST,M3.5.0",            /* one date only */
        "CET-1CEST,M13.5.0,M10.5.0/3", /* month 13 */
        "CET-1CEST,M3.6.0,M10.5.0/3",  /* week 6 */
        "CET-1CEST,M3.5.7,M10.5.0/3",  /* weekday 7 */
        "CET-1CEST,M3.5,M10.5.0/3",    /* weekday missing */
        "CET-1CEST,J0,J365",           /* J is 1..365 */
        "CET-1CEST,J1,J366",
        "CET-1CEST,0,366",                /* n is 0..365 */
        "CET-1CEST,M3.5.0/168,M10.5.0/3", /* time hours over 167 */
        "CET-1CEST,M3.5.0,M10.5.0/3x",    /* trailing garbage */
        "CET-1CEST,M3.5.0,M10.5.0,",
        "CET-1 CEST,M3.5.0,M10.5.0",
        "CET-1CEST-26,M3.5.0,M10.5.0", /* DST offset out of range */
        "CET1000000000",
        ",M3.5.0,M10.5.0",
        /* too long: 129 bytes */
        "CET-1CEST,M3.5.0,M10.5.0/"
        "3AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAA",
    };
    static const int32_t utoff[] = {0};
    unsigned char buf[512];
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct spec s = {'2', 0, NULL, NULL, 1, utoff, bad[i]};
        if (try_load(buf, build(buf, &s)) != -1)
            fail_msg("accepted footer \"%s\"", bad[i]);
    }
}

static void test_hostile_paths(void **state)
{
    char path[512], longdir[5000];
    struct tzinfo *tz = NULL;
    int fd;
    (void)state;
    /* Larger than TZINFO_FILE_MAX, with a valid start: refused on its size
     * (a sparse file: no 256 KiB written). */
    snprintf(path, sizeof(path), "%s/Big", tmpdir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "TZif2", 5), 5);
    assert_int_equal(ftruncate(fd, TZINFO_FILE_MAX + 1), 0);
    close(fd);
    assert_int_equal(tzinfo_load(tmpdir, "Big", &tz), -1);
    /* A directory and a FIFO under zone names (the FIFO must not block). */
    snprintf(path, sizeof(path), "%s/Dir", tmpdir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(tzinfo_load(tmpdir, "Dir", &tz), -1);
    snprintf(path, sizeof(path), "%s/Fifo", tmpdir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(tzinfo_load(tmpdir, "Fifo", &tz), -1);
    /* Empty; tiny; text. */
    write_file("Empty", "", 0);
    assert_int_equal(tzinfo_load(tmpdir, "Empty", &tz), -1);
    write_file("Tiny", "TZif", 4);
    assert_int_equal(tzinfo_load(tmpdir, "Tiny", &tz), -1);
    write_file("Text", "Rule EU 1981 max - Mar lastSun 1:00u 1:00 S\n", 45);
    assert_int_equal(tzinfo_load(tmpdir, "Text", &tz), -1);
    /* A directory path longer than PATH_MAX. */
    memset(longdir, 'a', sizeof(longdir) - 1);
    longdir[0] = '/';
    longdir[sizeof(longdir) - 1] = '\0';
    assert_int_equal(tzinfo_load(longdir, "Europe/Berlin", &tz), -1);
    assert_null(tz);
}

/* Every byte of a real file changed three ways, then 2,000 files with a few
 * random bytes changed: each loads or is refused, and a loaded one answers
 * (the sanitizer build checks the reads). */
static void test_mutations(void **state)
{
    static unsigned char orig[TZINFO_FILE_MAX], buf[TZINFO_FILE_MAX];
    FILE *f = fopen(ZONEINFO "/Europe/Berlin", "rb");
    size_t len;
    uint32_t seed = 12345;
    (void)state;
    if (!f)
        skip();
    len = fread(orig, 1, sizeof(orig), f);
    fclose(f);
    assert_true(len > 100);
    for (size_t i = 0; i < len; i++) {
        static const unsigned char with[] = {0x00, 0xFF, 0x80};
        for (size_t k = 0; k < sizeof(with); k++) {
            memcpy(buf, orig, len);
            buf[i] = with[k];
            (void)try_load(buf, len);
        }
    }
    for (int round = 0; round < 2000; round++) {
        memcpy(buf, orig, len);
        for (int k = 0; k < 4; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[(seed >> 8) % len] = (unsigned char)(seed >> 24);
        }
        (void)try_load(buf, len);
    }
}

/* Every zone the system lists in zone1970.tab loads. */
static void test_all_listed_zones_load(void **state)
{
    FILE *f = fopen(ZONEINFO "/zone1970.tab", "r");
    char line[512];
    int n = 0;
    (void)state;
    if (!f)
        skip();
    while (fgets(line, sizeof(line), f)) {
        char *name;
        struct tzinfo *tz = NULL;
        if (line[0] == '#')
            continue;
        /* codes TAB coordinates TAB TZ [TAB comments] */
        name = strchr(line, '\t');
        name = name ? strchr(name + 1, '\t') : NULL;
        if (!name)
            continue;
        name++;
        name[strcspn(name, "\t\n")] = '\0';
        if (tzinfo_load(ZONEINFO, name, &tz) != 0)
            fail_msg("%s did not load", name);
        tzinfo_free(tz);
        n++;
    }
    fclose(f);
    assert_true(n > 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_utc_builtin),
        cmocka_unit_test(test_days_from_civil),
        cmocka_unit_test(test_berlin),
        cmocka_unit_test(test_new_york),
        cmocka_unit_test(test_kolkata),
        cmocka_unit_test(test_auckland),
        cmocka_unit_test(test_glibc_agrees),
        cmocka_unit_test(test_footer_forms),
        cmocka_unit_test(test_footer_days_by_hand),
        cmocka_unit_test(test_extreme_instants),
        cmocka_unit_test(test_table_then_footer),
        cmocka_unit_test(test_hostile_files),
        cmocka_unit_test(test_hostile_footers),
        cmocka_unit_test(test_hostile_paths),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_all_listed_zones_load),
    };
    return cmocka_run_group_tests_name("tzinfo", tests, setup, teardown);
}
