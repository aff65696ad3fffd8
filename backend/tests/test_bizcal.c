/* Unit tests for bizcal: the business_hours document (valid forms, and
 * each refusal with its reason), and business-time arithmetic: Friday
 * 16:00 + 2 h -> Monday 10:00, a Monday holiday -> Tuesday, a lunch
 * break, the DST change days of Europe/Berlin and America/New_York (spring
 * and autumn; spans 09:00-17:00, 01:00-04:00 across the changed hour, and
 * 00:00-24:00), Asia/Kolkata (+05:30), Pacific/Auckland (+12/+13, southern
 * DST, Monday's hours on Sunday in UTC), 2040 (the zone files' POSIX
 * footer), the 400-day horizon, and add / elapsed / is_open checked
 * against each other.
 *
 * Expected UTC instants were derived independently of the module with
 * Python's zoneinfo, e.g.
 *   datetime.fromisoformat("2026-03-29 04:00").replace(tzinfo=ZoneInfo("Europe/Berlin"))
 *       .astimezone(timezone.utc)   -> 2026-03-29 02:00 UTC
 * (fold=0 picks the earlier of two readings in an overlap, as tzinfo does)
 * and agree with `zdump -v -c 2026,2027 <zone>`; each is quoted next to the
 * local time it stands for. */
#include "core/bizcal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ZONEINFO "/usr/share/zoneinfo"
#define HOUR     3600

/* "YYYY-MM-DD HH:MM:SS" read as UTC, by glibc's timegm. */
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

/* JSON written with ' for " (readable in C), parsed. */
static json_t *doc_of(const char *text)
{
    char buf[16384];
    json_error_t jerr;
    json_t *doc;
    size_t n = strlen(text);
    assert_true(n < sizeof(buf));
    for (size_t i = 0; i <= n; i++)
        buf[i] = text[i] == '\'' ? '"' : text[i];
    doc = json_loads(buf, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!doc)
        fail_msg("test JSON does not parse: %s: %s", jerr.text, buf);
    return doc;
}

/* Parses text into cal, loads its zone and sets cal->tz; the zone is
 * returned for the caller to free. */
static struct tzinfo *make(struct bizcal *cal, const char *text)
{
    char tzname[TZINFO_NAME_MAX + 1], err[200];
    struct tzinfo *tz = NULL;
    json_t *doc = doc_of(text);
    if (bizcal_parse(doc, cal, tzname, sizeof(tzname), err, sizeof(err)) != 0)
        fail_msg("refused: %s", err);
    json_decref(doc);
    if (tzinfo_load(ZONEINFO, tzname, &tz) != 0)
        fail_msg("zone %s did not load (is tzdata installed?)", tzname);
    cal->tz = tz;
    return tz;
}

#define WEEKDAYS_9_TO_5                                                                                                \
    "'mon':[['09:00','17:00']],'tue':[['09:00','17:00']],'wed':[['09:00','17:00']],'thu':[['09:00','17:00']],"         \
    "'fri':[['09:00','17:00']]"

/* --- the document ------------------------------------------------------------ */

static void test_parse_valid(void **state)
{
    struct bizcal cal;
    char tzname[TZINFO_NAME_MAX + 1], err[200];
    json_t *doc = doc_of("{'timezone':'Europe/Berlin',"
                         " 'week':{'mon':[['09:00','17:00']],'tue':[['09:00','12:00'],['13:00','17:00']],"
                         "         'wed':[], 'sat':[['00:00','24:00']],"
                         "         'sun':[['06:00','08:00'],['08:00','09:30'],['10:00','11:00'],['23:59','24:00']]},"
                         " 'holidays':['2026-12-26','2026-12-25','2028-02-29','1970-01-01']}");
    (void)state;
    assert_int_equal(bizcal_parse(doc, &cal, tzname, sizeof(tzname), err, sizeof(err)), 0);
    assert_string_equal(tzname, "Europe/Berlin");
    assert_string_equal(err, "");
    assert_null(cal.tz);
    assert_int_equal(cal.nspans[0], 1);
    assert_int_equal(cal.spans[0][0].open_min, 9 * 60);
    assert_int_equal(cal.spans[0][0].close_min, 17 * 60);
    assert_int_equal(cal.nspans[1], 2);
    assert_int_equal(cal.spans[1][1].open_min, 13 * 60);
    assert_int_equal(cal.nspans[2], 0); /* [] : closed */
    assert_int_equal(cal.nspans[3], 0); /* absent: closed */
    assert_int_equal(cal.nspans[5], 1);
    assert_int_equal(cal.spans[5][0].close_min, 1440);
    assert_int_equal(cal.nspans[6], 4); /* touching spans are fine */
    assert_int_equal(cal.spans[6][3].open_min, 23 * 60 + 59);
    /* Holidays come out sorted, as days since 1970-01-01. */
    assert_int_equal(cal.nholidays, 4);
    assert_int_equal(cal.holidays[0], 0);
    assert_int_equal(cal.holidays[1], at("2026-12-25 00:00:00") / 86400);
    assert_int_equal(cal.holidays[2], at("2026-12-26 00:00:00") / 86400);
    assert_int_equal(cal.holidays[3], at("2028-02-29 00:00:00") / 86400);
    json_decref(doc);

    /* The least: a zone and an empty week; holidays may be []. */
    doc = doc_of("{'timezone':'UTC','week':{},'holidays':[]}");
    assert_int_equal(bizcal_parse(doc, &cal, tzname, sizeof(tzname), NULL, 0), 0);
    assert_string_equal(tzname, "UTC");
    json_decref(doc);
}

static void test_parse_errors(void **state)
{
    static const struct {
        const char *json, *reason;
    } cases[] = {
        {"[]", "business_hours: expected an object"},
        {"null", "business_hours: expected an object"},
        {"{'week':{}}", "timezone: required"},
        {"{'timezone':5,'week':{}}", "timezone: not a zone name such as \"Europe/Berlin\""},
        {"{'timezone':'','week':{}}", "timezone: not a zone name such as \"Europe/Berlin\""},
        {"{'timezone':'../etc/passwd','week':{}}", "timezone: not a zone name such as \"Europe/Berlin\""},
        {"{'timezone':'Europe/Berlin\\u0000x','week':{}}", "timezone: not a zone name such as \"Europe/Berlin\""},
        {"{'timezone':'Europe/Berlin'}", "week: required"},
        {"{'timezone':'Europe/Berlin','week':[]}", "week: expected an object of days (\"mon\" .. \"sun\")"},
        {"{'timezone':'Europe/Berlin','week':{'monday':[]}}",
         "week.monday: unknown day (mon, tue, wed, thu, fri, sat, sun)"},
        {"{'timezone':'Europe/Berlin','week':{'Mon':[]}}", "week.Mon: unknown day (mon, tue, wed, thu, fri, sat, sun)"},
        {"{'timezone':'Europe/Berlin','week':{'mon':'09:00-17:00'}}",
         "week.mon: expected a list of [\"HH:MM\", \"HH:MM\"] spans"},
        {"{'timezone':'Europe/Berlin','week':{'mon':[['09:00']]}}", "week.mon[0]: expected [\"HH:MM\", \"HH:MM\"]"},
        {"{'timezone':'Europe/Berlin','week':{'mon':[['09:00','12:00','17:00']]}}",
         "week.mon[0]: expected [\"HH:MM\", \"HH:MM\"]"},
        {"{'timezone':'Europe/Berlin','week':{'mon':['09:00','17:00']}}",
         "week.mon[0]: expected [\"HH:MM\", \"HH:MM\"]"},
        {"{'timezone':'Europe/Berlin','week':{'mon':[['9:00','17:00']]}}", "week.mon[0]: opening time is not HH:MM"},
        {"{'timezone':'Europe/Berlin','week':{'mon':[[900,1700]]}}", "week.mon[0]: opening time is not HH:MM"},
        {"{'timezone':'Europe/Berlin','week':{'mon':[['09:00 ','17:00']]}}", "week.mon[0]: opening time is not HH:MM"},
        {"{'timezone':'Europe/Berlin','week':{'mon':[['09:00','17:60']]}}", "week.mon[0]: closing time is not HH:MM"},
        {"{'timezone':'Europe/Berlin','week':{'mon':[['09:00','24:01']]}}", "week.mon[0]: closing time is not HH:MM"},
        {"{'timezone':'Europe/Berlin','week':{'mon':[['09:00','25:00']]}}", "week.mon[0]: closing time is not HH:MM"},
        {"{'timezone':'Europe/Berlin','week':{'mon':[['09:00','17.00']]}}", "week.mon[0]: closing time is not HH:MM"},
        {"{'timezone':'Europe/Berlin','week':{'mon':[['24:00','24:00']]}}",
         "week.mon[0]: 24:00 is a closing time only"},
        {"{'timezone':'Europe/Berlin','week':{'mon':[['17:00','09:00']]}}", "week.mon[0]: closes before it opens"},
        {"{'timezone':'Europe/Berlin','week':{'mon':[['09:00','09:00']]}}", "week.mon[0]: closes before it opens"},
        {"{'timezone':'Europe/Berlin','week':{'mon':[['09:00','12:00'],['11:00','17:00']]}}",
         "week.mon: spans overlap"},
        {"{'timezone':'Europe/Berlin','week':{'fri':[['09:00','12:00'],['13:00','17:00'],['16:59','18:00']]}}",
         "week.fri: spans overlap"},
        {"{'timezone':'Europe/Berlin','week':{'tue':[['13:00','17:00'],['09:00','12:00']]}}",
         "week.tue: spans out of order"},
        {"{'timezone':'Europe/Berlin','week':{'wed':[['01:00','02:00'],['03:00','04:00'],['05:00','06:00'],"
         "['07:00','08:00'],['09:00','10:00']]}}",
         "week.wed: at most 4 spans"},
        {"{'timezone':'Europe/Berlin','week':{},'holidays':'2026-12-25'}",
         "holidays: expected a list of \"YYYY-MM-DD\" dates"},
        {"{'timezone':'Europe/Berlin','week':{},'holidays':['2026-02-29']}",
         "holidays[0]: not a date YYYY-MM-DD (1970 or later)"},
        {"{'timezone':'Europe/Berlin','week':{},'holidays':['2026-12-25','2026-13-01']}",
         "holidays[1]: not a date YYYY-MM-DD (1970 or later)"},
        {"{'timezone':'Europe/Berlin','week':{},'holidays':['2026-04-31']}",
         "holidays[0]: not a date YYYY-MM-DD (1970 or later)"},
        {"{'timezone':'Europe/Berlin','week':{},'holidays':['2026-1-5']}",
         "holidays[0]: not a date YYYY-MM-DD (1970 or later)"},
        {"{'timezone':'Europe/Berlin','week':{},'holidays':['1969-12-31']}",
         "holidays[0]: not a date YYYY-MM-DD (1970 or later)"},
        {"{'timezone':'Europe/Berlin','week':{},'holidays':[20261225]}",
         "holidays[0]: not a date YYYY-MM-DD (1970 or later)"},
        {"{'timezone':'Europe/Berlin','week':{},'holidays':['2026-12-25','2026-12-26','2026-12-25']}",
         "holidays[2]: the same date as holidays[0]"},
        {"{'timezone':'UTC','week':{},'extra':1}", "extra: unknown field"},
        {"{'timezone':'UTC','week':{},'time zone':'UTC'}", "(a key): unknown field"},
    };
    char tzname[TZINFO_NAME_MAX + 1], err[200];
    struct bizcal cal;
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *doc = doc_of(cases[i].json);
        memset(tzname, 'x', sizeof(tzname));
        if (bizcal_parse(doc, &cal, tzname, sizeof(tzname), err, sizeof(err)) != -1)
            fail_msg("accepted %s", cases[i].json);
        if (strcmp(err, cases[i].reason) != 0)
            fail_msg("%s: reason \"%s\", expected \"%s\"", cases[i].json, err, cases[i].reason);
        /* Nothing half-filled is left behind. */
        assert_string_equal(tzname, "");
        for (int d = 0; d < 7; d++)
            assert_int_equal(cal.nspans[d], 0);
        assert_int_equal(cal.nholidays, 0);
        json_decref(doc);
    }
}

static void test_parse_limits(void **state)
{
    char text[16384], tzname[TZINFO_NAME_MAX + 1], err[200], small[8];
    struct bizcal cal;
    json_t *doc;
    size_t n;
    (void)state;
    /* 366 holidays fit (every day of 2028, a leap year); 367 do not. */
    n = (size_t)snprintf(text, sizeof(text),
                         "{'timezone':'UTC','week':"
                         "{'mon':[['09:00','17:00']]}"
                         ",'holidays':[");
    for (int d = 0; d < 366; d++) {
        time_t t = (time_t)(at("2028-01-01 00:00:00") + (int64_t)d * 86400);
        struct tm tm;
        gmtime_r(&t, &tm);
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s'%04d-%02d-%02d'", d ? "," : "", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday);
    }
    snprintf(text + n, sizeof(text) - n, "]}");
    doc = doc_of(text);
    assert_int_equal(bizcal_parse(doc, &cal, tzname, sizeof(tzname), err, sizeof(err)), 0);
    assert_int_equal(cal.nholidays, 366);
    json_decref(doc);
    snprintf(text + n, sizeof(text) - n, ",'2029-01-01']}");
    doc = doc_of(text);
    assert_int_equal(bizcal_parse(doc, &cal, tzname, sizeof(tzname), err, sizeof(err)), -1);
    assert_string_equal(err, "holidays: at most 366 dates");

    /* A short err buffer gets a cut, terminated message. */
    assert_int_equal(bizcal_parse(doc, &cal, tzname, sizeof(tzname), small, sizeof(small)), -1);
    assert_string_equal(small, "holiday");
    json_decref(doc);

    /* A key holding a NUL (jansson's parser refuses them; json_object_setn
     * makes one) is not the key it starts like. */
    doc = doc_of("{'timezone':'UTC','week':{}}");
    json_object_setn_new(json_object_get(doc, "week"), "mon\0x", 5, json_array());
    assert_int_equal(bizcal_parse(doc, &cal, tzname, sizeof(tzname), err, sizeof(err)), -1);
    assert_string_equal(err, "week.(a key): unknown day (mon, tue, wed, thu, fri, sat, sun)");
    json_object_setn_new(doc, "week\0", 5, json_object());
    assert_int_equal(bizcal_parse(doc, &cal, tzname, sizeof(tzname), err, sizeof(err)), -1);
    assert_string_equal(err, "(a key): unknown field");
    json_decref(doc);

    /* A zone name buffer too short for the name. */
    doc = doc_of("{'timezone':'Europe/Berlin','week':{}}");
    assert_int_equal(bizcal_parse(doc, &cal, small, sizeof(small), err, sizeof(err)), -1);
    assert_string_equal(err, "timezone: longer than the caller's buffer");
    assert_int_equal(bizcal_parse(doc, &cal, NULL, 0, err, sizeof(err)), -1);
    json_decref(doc);
}

/* --- arithmetic ---------------------------------------------------------------- */

static void test_friday_to_monday(void **state)
{
    struct bizcal cal;
    struct tzinfo *tz = make(&cal, "{'timezone':'Europe/Berlin','week':{" WEEKDAYS_9_TO_5 "}}");
    (void)state;
    /* Friday 2026-06-05 16:00 CEST = 14:00 UTC; + 2 h business: 1 h on
     * Friday, 1 h on Monday -> Monday 2026-06-08 10:00 CEST = 08:00 UTC. */
    assert_int_equal(bizcal_add(&cal, at("2026-06-05 14:00:00"), 2 * HOUR), at("2026-06-08 08:00:00"));
    assert_int_equal(bizcal_elapsed(&cal, at("2026-06-05 14:00:00"), at("2026-06-08 08:00:00")), 2 * HOUR);
    /* + 1 h ends at Friday's close, 17:00 CEST, not at Monday's opening. */
    assert_int_equal(bizcal_add(&cal, at("2026-06-05 14:00:00"), HOUR), at("2026-06-05 15:00:00"));
    /* Over the weekend it is closed; it opens Monday 09:00 CEST. */
    assert_false(bizcal_is_open(&cal, at("2026-06-06 12:00:00")));
    assert_int_equal(bizcal_next_open(&cal, at("2026-06-06 12:00:00")), at("2026-06-08 07:00:00"));
    assert_int_equal(bizcal_add(&cal, at("2026-06-06 12:00:00"), 0), at("2026-06-08 07:00:00"));
    /* A whole week is 40 h. */
    assert_int_equal(bizcal_elapsed(&cal, at("2026-06-08 00:00:00"), at("2026-06-15 00:00:00")), 40 * HOUR);
    tzinfo_free(tz);
}

static void test_holiday_monday(void **state)
{
    struct bizcal cal;
    struct tzinfo *tz = make(&cal, "{'timezone':'Europe/Berlin','week':{" WEEKDAYS_9_TO_5 "},"
                                   "'holidays':['2026-06-08']}");
    (void)state;
    /* Friday 16:00 + 2 h with Monday 2026-06-08 off -> Tuesday 10:00 CEST. */
    assert_int_equal(bizcal_add(&cal, at("2026-06-05 14:00:00"), 2 * HOUR), at("2026-06-09 08:00:00"));
    assert_false(bizcal_is_open(&cal, at("2026-06-08 10:00:00")));
    assert_int_equal(bizcal_next_open(&cal, at("2026-06-05 15:00:00")), at("2026-06-09 07:00:00"));
    assert_int_equal(bizcal_elapsed(&cal, at("2026-06-08 00:00:00"), at("2026-06-15 00:00:00")), 32 * HOUR);
    tzinfo_free(tz);
}

static void test_lunch_break(void **state)
{
    struct bizcal cal;
    struct tzinfo *tz = make(&cal, "{'timezone':'Europe/Berlin','week':{'tue':[['09:00','12:00'],['13:00','17:00']]}}");
    (void)state;
    /* Tuesday 2026-06-09; CEST is UTC+2. 11:00 + 2 h: 11-12 and 13-14. */
    assert_int_equal(bizcal_add(&cal, at("2026-06-09 09:00:00"), 2 * HOUR), at("2026-06-09 12:00:00"));
    assert_true(bizcal_is_open(&cal, at("2026-06-09 09:59:59")));
    assert_false(bizcal_is_open(&cal, at("2026-06-09 10:00:00"))); /* 12:00 local: closed at the close */
    assert_false(bizcal_is_open(&cal, at("2026-06-09 10:30:00")));
    assert_true(bizcal_is_open(&cal, at("2026-06-09 11:00:00"))); /* 13:00 local: open at the opening */
    assert_int_equal(bizcal_next_open(&cal, at("2026-06-09 10:30:00")), at("2026-06-09 11:00:00"));
    assert_int_equal(bizcal_next_open(&cal, at("2026-06-09 11:30:00")), at("2026-06-09 11:30:00"));
    assert_int_equal(bizcal_elapsed(&cal, at("2026-06-09 00:00:00"), at("2026-06-10 00:00:00")), 7 * HOUR);
    /* Exactly the morning: ends at 12:00, the close. */
    assert_int_equal(bizcal_add(&cal, at("2026-06-09 07:00:00"), 3 * HOUR), at("2026-06-09 10:00:00"));
    /* The morning and one second: 13:00:01. */
    assert_int_equal(bizcal_add(&cal, at("2026-06-09 07:00:00"), 3 * HOUR + 1), at("2026-06-09 11:00:01"));
    /* Tuesday's 7 h used up at 17:00; one more second is next Tuesday. */
    assert_int_equal(bizcal_add(&cal, at("2026-06-09 07:00:00"), 7 * HOUR + 1), at("2026-06-16 07:00:01"));
    tzinfo_free(tz);
}

/* Business seconds of a calendar open on Sundays only (span, in the
 * zone) over the UTC week around the Sunday `day`: that Sunday's hours. */
static int64_t sunday_hours(const char *zone, const char *span, const char *day)
{
    char text[256], midnight[32];
    struct bizcal cal;
    struct tzinfo *tz;
    int64_t from, secs;
    snprintf(text, sizeof(text), "{'timezone':'%s','week':{'sun':[%s]}}", zone, span);
    tz = make(&cal, text);
    snprintf(midnight, sizeof(midnight), "%s 00:00:00", day);
    from = at(midnight) - 3 * 86400;
    secs = bizcal_elapsed(&cal, from, from + 7 * 86400);
    tzinfo_free(tz);
    return secs;
}

/* The span's business time on a spring and an autumn DST change Sunday. */
static void dst_sunday(const char *zone, const char *spring_day, const char *autumn_day, const char *span,
                       int64_t spring_s, int64_t autumn_s)
{
    int64_t got = sunday_hours(zone, span, spring_day);
    if (got != spring_s)
        fail_msg("%s %s %s: %lld s, expected %lld", zone, spring_day, span, (long long)got, (long long)spring_s);
    got = sunday_hours(zone, span, autumn_day);
    if (got != autumn_s)
        fail_msg("%s %s %s: %lld s, expected %lld", zone, autumn_day, span, (long long)got, (long long)autumn_s);
}

static void test_berlin_dst_days(void **state)
{
    struct bizcal cal;
    struct tzinfo *tz;
    (void)state;
    /* 2026-03-29 (spring, 02:00 -> 03:00) and 2026-10-25 (autumn, 03:00 ->
     * 02:00) are Sundays. 09:00-17:00 is 8 h both days; 01:00-04:00 holds
     * the changed hour: 01:00 CET = 00:00 UTC to 04:00 CEST = 02:00 UTC is
     * 2 h, 01:00 CEST = Oct 24 23:00 UTC to 04:00 CET = 03:00 UTC is 4 h;
     * the whole day is 23 h and 25 h. */
    dst_sunday("Europe/Berlin", "2026-03-29", "2026-10-25", "['09:00','17:00']", 8 * HOUR, 8 * HOUR);
    dst_sunday("Europe/Berlin", "2026-03-29", "2026-10-25", "['01:00','04:00']", 2 * HOUR, 4 * HOUR);
    dst_sunday("Europe/Berlin", "2026-03-29", "2026-10-25", "['00:00','24:00']", 23 * HOUR, 25 * HOUR);
    /* 02:00-03:00: in spring the span lies in the gap and never happens; in
     * autumn it runs from the first 02:00 (CEST, 00:00 UTC) to 03:00 CET
     * (02:00 UTC): 2 h. 01:00-02:30: in spring it closes when the gap ends
     * (03:00 CEST = 01:00 UTC): 1 h; in autumn at the first 02:30 (CEST,
     * 00:30 UTC): 1 h 30. */
    dst_sunday("Europe/Berlin", "2026-03-29", "2026-10-25", "['02:00','03:00']", 0, 2 * HOUR);
    dst_sunday("Europe/Berlin", "2026-03-29", "2026-10-25", "['01:00','02:30']", 1 * HOUR, HOUR + 1800);

    tz = make(&cal, "{'timezone':'Europe/Berlin','week':{'sun':[['01:00','04:00']]}}");
    /* Spring: 01:30 CET (00:30 UTC) + 1 h -> 03:30 CEST (01:30 UTC). */
    assert_int_equal(bizcal_add(&cal, at("2026-03-29 00:30:00"), HOUR), at("2026-03-29 01:30:00"));
    assert_int_equal(bizcal_next_open(&cal, at("2026-03-28 12:00:00")), at("2026-03-29 00:00:00"));
    assert_true(bizcal_is_open(&cal, at("2026-03-29 01:59:59")));
    assert_false(bizcal_is_open(&cal, at("2026-03-29 02:00:00"))); /* 04:00 CEST */
    /* Autumn: 01:30 CEST (Oct 24 23:30 UTC) + 2 h -> the second 02:30,
     * in CET (01:30 UTC). */
    assert_int_equal(bizcal_add(&cal, at("2026-10-24 23:30:00"), 2 * HOUR), at("2026-10-25 01:30:00"));
    assert_int_equal(bizcal_next_open(&cal, at("2026-10-24 12:00:00")), at("2026-10-24 23:00:00"));
    assert_true(bizcal_is_open(&cal, at("2026-10-25 02:59:59")));
    assert_false(bizcal_is_open(&cal, at("2026-10-25 03:00:00")));
    tzinfo_free(tz);
}

static void test_new_york_dst_days(void **state)
{
    struct bizcal cal;
    struct tzinfo *tz;
    (void)state;
    /* 2026-03-08 and 2026-11-01 are Sundays; the change is at 02:00 local.
     * 01:00 EST = 06:00 UTC to 04:00 EDT = 08:00 UTC: 2 h; 01:00 EDT =
     * 05:00 UTC to 04:00 EST = 09:00 UTC: 4 h. */
    dst_sunday("America/New_York", "2026-03-08", "2026-11-01", "['09:00','17:00']", 8 * HOUR, 8 * HOUR);
    dst_sunday("America/New_York", "2026-03-08", "2026-11-01", "['01:00','04:00']", 2 * HOUR, 4 * HOUR);
    dst_sunday("America/New_York", "2026-03-08", "2026-11-01", "['00:00','24:00']", 23 * HOUR, 25 * HOUR);

    tz = make(&cal, "{'timezone':'America/New_York','week':{'sun':[['01:00','04:00']]}}");
    assert_int_equal(bizcal_next_open(&cal, at("2026-03-07 12:00:00")), at("2026-03-08 06:00:00"));
    assert_int_equal(bizcal_add(&cal, at("2026-03-08 06:00:00"), 2 * HOUR), at("2026-03-08 08:00:00"));
    assert_int_equal(bizcal_next_open(&cal, at("2026-10-31 12:00:00")), at("2026-11-01 05:00:00"));
    assert_int_equal(bizcal_add(&cal, at("2026-11-01 05:00:00"), 4 * HOUR), at("2026-11-01 09:00:00"));
    tzinfo_free(tz);
}

static void test_kolkata(void **state)
{
    struct bizcal cal;
    struct tzinfo *tz = make(&cal, "{'timezone':'Asia/Kolkata','week':{" WEEKDAYS_9_TO_5 "}}");
    (void)state;
    /* +05:30: Monday 2026-06-01 09:00 IST = 03:30 UTC, 17:00 IST = 11:30 UTC. */
    assert_int_equal(bizcal_next_open(&cal, at("2026-06-01 00:00:00")), at("2026-06-01 03:30:00"));
    assert_false(bizcal_is_open(&cal, at("2026-06-01 03:29:59")));
    assert_true(bizcal_is_open(&cal, at("2026-06-01 03:30:00")));
    assert_true(bizcal_is_open(&cal, at("2026-06-01 11:29:59")));
    assert_false(bizcal_is_open(&cal, at("2026-06-01 11:30:00")));
    /* Friday 16:00 IST (10:30 UTC) + 2 h -> Monday 10:00 IST (04:30 UTC). */
    assert_int_equal(bizcal_add(&cal, at("2026-06-05 10:30:00"), 2 * HOUR), at("2026-06-08 04:30:00"));
    tzinfo_free(tz);
}

static void test_auckland(void **state)
{
    struct bizcal cal;
    struct tzinfo *tz = make(&cal, "{'timezone':'Pacific/Auckland','week':{" WEEKDAYS_9_TO_5 "}}");
    (void)state;
    /* Monday's hours start on Sunday in UTC: Monday 2026-07-06 09:00 NZST
     * (+12) = Sunday 2026-07-05 21:00 UTC; in January (NZDT, +13) Monday
     * 2026-01-05 09:00 = Sunday 2026-01-04 20:00 UTC. */
    assert_int_equal(bizcal_next_open(&cal, at("2026-07-05 12:00:00")), at("2026-07-05 21:00:00"));
    assert_int_equal(bizcal_next_open(&cal, at("2026-01-04 12:00:00")), at("2026-01-04 20:00:00"));
    assert_true(bizcal_is_open(&cal, at("2026-07-05 21:00:00")));
    /* Friday 2026-07-03 16:00 NZST (04:00 UTC) + 2 h -> Monday 10:00 NZST
     * (Sunday 22:00 UTC). */
    assert_int_equal(bizcal_add(&cal, at("2026-07-03 04:00:00"), 2 * HOUR), at("2026-07-05 22:00:00"));
    tzinfo_free(tz);
    /* Southern DST: spring 2026-09-27 (02:00 -> 03:00), autumn 2026-04-05
     * (03:00 -> 02:00), both Sundays. 01:00 NZST = Sep 26 13:00 UTC to
     * 04:00 NZDT = 15:00 UTC: 2 h; 01:00 NZDT = Apr 4 12:00 UTC to 04:00
     * NZST = 16:00 UTC: 4 h. */
    dst_sunday("Pacific/Auckland", "2026-09-27", "2026-04-05", "['01:00','04:00']", 2 * HOUR, 4 * HOUR);
    dst_sunday("Pacific/Auckland", "2026-09-27", "2026-04-05", "['00:00','24:00']", 23 * HOUR, 25 * HOUR);
    dst_sunday("Pacific/Auckland", "2026-09-27", "2026-04-05", "['09:00','17:00']", 8 * HOUR, 8 * HOUR);
}

static void test_footer_2040(void **state)
{
    struct bizcal cal;
    struct tzinfo *tz = make(&cal, "{'timezone':'Europe/Berlin','week':{" WEEKDAYS_9_TO_5 "}}");
    (void)state;
    /* Debian's Europe/Berlin lists transitions up to 2037; 2040 comes from
     * the footer. Friday 2040-03-23 16:00 CET (15:00 UTC) + 2 h: the
     * clocks go forward on Sunday 03-25, so Monday 10:00 is CEST (08:00 UTC). */
    assert_int_equal(bizcal_add(&cal, at("2040-03-23 15:00:00"), 2 * HOUR), at("2040-03-26 08:00:00"));
    tzinfo_free(tz);
    dst_sunday("Europe/Berlin", "2040-03-25", "2040-10-28", "['00:00','24:00']", 23 * HOUR, 25 * HOUR);
    dst_sunday("Europe/Berlin", "2040-03-25", "2040-10-28", "['01:00','04:00']", 2 * HOUR, 4 * HOUR);
    dst_sunday("America/New_York", "2040-03-11", "2040-11-04", "['00:00','24:00']", 23 * HOUR, 25 * HOUR);
    dst_sunday("Pacific/Auckland", "2040-09-30", "2040-04-01", "['00:00','24:00']", 23 * HOUR, 25 * HOUR);
}

static void test_never_and_limits(void **state)
{
    char text[8192];
    size_t n;
    struct bizcal cal;
    struct tzinfo *tz = make(&cal, "{'timezone':'Europe/Berlin','week':{}}");
    int64_t t = at("2026-06-05 14:00:00");
    (void)state;
    /* No hours at all. */
    assert_int_equal(bizcal_next_open(&cal, t), -1);
    assert_int_equal(bizcal_add(&cal, t, 0), -1);
    assert_int_equal(bizcal_add(&cal, t, HOUR), -1);
    assert_false(bizcal_is_open(&cal, t));
    assert_int_equal(bizcal_elapsed(&cal, t, t + 86400 * 30), 0);
    tzinfo_free(tz);

    /* Only Mondays, and every Monday of the next 60 weeks a holiday: no
     * opening within 400 days. */
    n = (size_t)snprintf(text, sizeof(text),
                         "{'timezone':'Europe/Berlin','week':{'mon':[['09:00','17:00']]},'holidays':[");
    for (int w = 0; w < 60; w++) {
        time_t m = (time_t)(at("2026-06-08 00:00:00") + (int64_t)w * 7 * 86400);
        struct tm tm;
        gmtime_r(&m, &tm);
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s'%04d-%02d-%02d'", w ? "," : "", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday);
    }
    snprintf(text + n, sizeof(text) - n, "]}");
    tz = make(&cal, text);
    assert_int_equal(bizcal_next_open(&cal, t), -1);
    assert_int_equal(bizcal_add(&cal, t, 1), -1);
    /* The 60th holiday is Monday 2027-07-26 (2026-06-08 + 59 weeks); the
     * Monday after opens, 09:00 CEST. */
    assert_int_equal(bizcal_next_open(&cal, at("2027-07-20 00:00:00")), at("2027-08-02 07:00:00"));
    tzinfo_free(tz);

    tz = make(&cal, "{'timezone':'Europe/Berlin','week':{" WEEKDAYS_9_TO_5 "}}");
    /* 400 days hold ~57 weeks of 40 h: 2,200 h (55 weeks, ~385 days) fit,
     * 2,400 h (60 weeks) do not. */
    assert_int_equal(bizcal_add(&cal, t, 2400 * HOUR), -1);
    assert_int_equal(bizcal_add(&cal, t, INT64_MAX), -1);
    assert_true(bizcal_add(&cal, t, 2200 * HOUR) > t);
    assert_true(bizcal_add(&cal, t, 2200 * HOUR) - t < 400 * 86400);
    /* Bad arguments. */
    assert_int_equal(bizcal_add(&cal, t, -1), -1);
    assert_int_equal(bizcal_add(&cal, -1, HOUR), -1);
    assert_int_equal(bizcal_next_open(&cal, INT64_MIN), -1);
    assert_int_equal(bizcal_next_open(&cal, INT64_MAX), -1);
    assert_int_equal(bizcal_next_open(&cal, BIZCAL_T_MAX + 1), -1);
    assert_false(bizcal_is_open(&cal, INT64_MAX));
    assert_false(bizcal_is_open(&cal, INT64_MIN));
    assert_int_equal(bizcal_elapsed(&cal, t, t), 0);
    assert_int_equal(bizcal_elapsed(&cal, t + 1, t), 0);
    /* Huge ranges are clamped (~10 years of 40 h weeks at most), and
     * answered quickly. */
    int64_t big = bizcal_elapsed(&cal, INT64_MIN, INT64_MAX);
    assert_true(big > 0);
    assert_true(big <= (int64_t)BIZCAL_ELAPSED_MAX_DAYS * 86400 * 40 / (7 * 24) + 86400);
    assert_int_equal(bizcal_elapsed(&cal, 0, INT64_MAX), big);
    /* Ten years of 9-to-5 weekdays: 52 weeks x 40 h a year, give or take. */
    int64_t ten = bizcal_elapsed(&cal, at("2026-01-01 00:00:00"), at("2036-01-01 00:00:00"));
    assert_true(ten > 10 * 52 * 40 * (int64_t)HOUR && ten < 10 * 53 * 40 * (int64_t)HOUR);
    tzinfo_free(tz);
}

static void test_null_zone_is_utc(void **state)
{
    struct bizcal cal;
    char tzname[TZINFO_NAME_MAX + 1], err[200];
    json_t *doc = doc_of("{'timezone':'UTC','week':{'mon':[['00:00','24:00']],'tue':[['00:00','12:00']]}}");
    (void)state;
    assert_int_equal(bizcal_parse(doc, &cal, tzname, sizeof(tzname), err, sizeof(err)), 0);
    json_decref(doc);
    assert_null(cal.tz);
    /* Monday 00:00 to Tuesday 12:00 runs on without a break at midnight. */
    assert_int_equal(bizcal_add(&cal, at("2026-06-08 00:00:00"), 30 * HOUR), at("2026-06-09 06:00:00"));
    assert_int_equal(bizcal_add(&cal, at("2026-06-08 23:00:00"), 2 * HOUR), at("2026-06-09 01:00:00"));
    assert_int_equal(bizcal_elapsed(&cal, at("2026-06-01 00:00:00"), at("2026-06-15 00:00:00")), 2 * 36 * HOUR);
    assert_int_equal(bizcal_next_open(&cal, at("2026-06-09 12:00:00")), at("2026-06-15 00:00:00"));
}

/* add and elapsed are inverses, and elapsed agrees with is_open counted
 * minute by minute, over weeks holding DST changes, in several zones. */
static void test_consistency(void **state)
{
    static const struct {
        const char *zone, *week_start; /* a Monday before a DST change */
    } weeks[] = {
        {"Europe/Berlin", "2026-03-23"},    {"Europe/Berlin", "2026-10-19"},    {"America/New_York", "2026-03-02"},
        {"America/New_York", "2026-10-26"}, {"Pacific/Auckland", "2026-09-21"}, {"Pacific/Auckland", "2026-03-30"},
        {"Asia/Kolkata", "2026-06-01"},     {"Europe/Berlin", "2040-10-22"},
    };
    uint32_t seed = 42;
    (void)state;
    for (size_t w = 0; w < sizeof(weeks) / sizeof(weeks[0]); w++) {
        char text[512], day[32];
        struct bizcal cal;
        struct tzinfo *tz;
        int64_t from, to, brute = 0;
        snprintf(text, sizeof(text),
                 "{'timezone':'%s','week':{'mon':[['08:00','12:00'],['12:30','18:15']],'wed':[['00:00','24:00']],"
                 "'thu':[['00:00','01:00'],['22:00','24:00']],'fri':[['09:00','17:00']],'sat':[['01:30','03:30']],"
                 "'sun':[['00:00','02:30'],['02:45','03:15'],['03:30','24:00']]}}",
                 weeks[w].zone);
        tz = make(&cal, text);
        snprintf(day, sizeof(day), "%s 00:00:00", weeks[w].week_start);
        from = at(day) - 86400;
        to = from + 9 * 86400;
        for (int64_t t = from; t < to; t += 60)
            brute += bizcal_is_open(&cal, t) ? 60 : 0;
        if (brute != bizcal_elapsed(&cal, from, to))
            fail_msg("%s %s: elapsed %lld, is_open counts %lld", weeks[w].zone, weeks[w].week_start,
                     (long long)bizcal_elapsed(&cal, from, to), (long long)brute);
        for (int i = 0; i < 300; i++) {
            int64_t start, secs, end;
            seed = seed * 1103515245u + 12345u;
            start = from + (int64_t)(seed % (uint32_t)(9 * 86400));
            seed = seed * 1103515245u + 12345u;
            secs = (int64_t)(seed % (uint32_t)(60 * HOUR));
            end = bizcal_add(&cal, start, secs);
            assert_true(end >= start);
            assert_int_equal(bizcal_elapsed(&cal, start, end), secs);
            if (secs > 0) {
                assert_int_equal(bizcal_elapsed(&cal, start, end - 1), secs - 1);
                assert_true(bizcal_is_open(&cal, end - 1));
            } else {
                assert_int_equal(end, bizcal_next_open(&cal, start));
                assert_true(bizcal_is_open(&cal, end));
            }
        }
        tzinfo_free(tz);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),      cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_limits),     cmocka_unit_test(test_friday_to_monday),
        cmocka_unit_test(test_holiday_monday),   cmocka_unit_test(test_lunch_break),
        cmocka_unit_test(test_berlin_dst_days),  cmocka_unit_test(test_new_york_dst_days),
        cmocka_unit_test(test_kolkata),          cmocka_unit_test(test_auckland),
        cmocka_unit_test(test_footer_2040),      cmocka_unit_test(test_never_and_limits),
        cmocka_unit_test(test_null_zone_is_utc), cmocka_unit_test(test_consistency),
    };
    return cmocka_run_group_tests_name("bizcal", tests, NULL, NULL);
}
