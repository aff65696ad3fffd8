#include "core/bizcal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DAY INT64_C(86400)
/* Offsets lie within -25 h..26 h (tzinfo), so the wall clock of instants
 * after t never reads more than 51 h before t's wall clock, nor those
 * before t more than 51 h after. The day loops start and end this many
 * local days around t, which covers every day whose hours can reach t. */
#define DAY_MARGIN 3

static const char *const day_keys[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Keys are compared with their length: jansson keeps a "\u0000" in a key,
 * where strcmp would stop. */
static int key_is(const char *key, size_t keylen, const char *want)
{
    return keylen == strlen(want) && memcmp(key, want, keylen) == 0;
}

/* A key of the document that may be echoed in a message: short, and only
 * characters that need no escaping anywhere the message goes. */
static const char *printable_key(const char *key, size_t keylen)
{
    size_t n = 0;
    if (keylen != strlen(key))
        return "(a key)";
    for (const char *p = key; *p; p++, n++) {
        char c = *p;
        if (n >= 32 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return "(a key)";
    }
    return n ? key : "(a key)";
}

/* "HH:MM" as minutes of the day, 0..1440 ("24:00" is 1440); -1 otherwise. */
static int parse_hhmm(const json_t *v)
{
    const char *s;
    int h, m;
    if (!json_is_string(v) || json_string_length(v) != 5)
        return -1;
    s = json_string_value(v);
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != ':' || s[3] < '0' || s[3] > '9' || s[4] < '0' ||
        s[4] > '9')
        return -1;
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    return h * 60 + m;
}

/* "YYYY-MM-DD" of a year 1970..9999 as days since 1970-01-01; -1 otherwise. */
static int32_t parse_date(const json_t *v)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *s;
    int y = 0, m, d, leap;
    if (!json_is_string(v) || json_string_length(v) != 10)
        return -1;
    s = json_string_value(v);
    for (int i = 0; i < 10; i++) {
        int want_dash = i == 4 || i == 7;
        if (want_dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return -1;
    }
    for (int i = 0; i < 4; i++)
        y = y * 10 + (s[i] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return -1;
    return (int32_t)tzinfo_days_from_civil(y, m, d);
}

static int parse_day(const json_t *list, const char *day, struct bizcal_span *spans, int *nspans, char *err,
                     size_t errlen)
{
    size_t i;
    const json_t *span;
    if (!json_is_array(list))
        return fail(err, errlen, "week.%s: expected a list of [\"HH:MM\", \"HH:MM\"] spans", day);
    if (json_array_size(list) > BIZCAL_MAX_SPANS)
        return fail(err, errlen, "week.%s: at most %d spans", day, BIZCAL_MAX_SPANS);
    json_array_foreach(list, i, span)
    {
        int open, close;
        if (!json_is_array(span) || json_array_size(span) != 2)
            return fail(err, errlen, "week.%s[%zu]: expected [\"HH:MM\", \"HH:MM\"]", day, i);
        open = parse_hhmm(json_array_get(span, 0));
        close = parse_hhmm(json_array_get(span, 1));
        if (open < 0)
            return fail(err, errlen, "week.%s[%zu]: opening time is not HH:MM", day, i);
        if (close < 0)
            return fail(err, errlen, "week.%s[%zu]: closing time is not HH:MM", day, i);
        if (open == 1440)
            return fail(err, errlen, "week.%s[%zu]: 24:00 is a closing time only", day, i);
        if (close <= open)
            return fail(err, errlen, "week.%s[%zu]: closes before it opens", day, i);
        if (i > 0 && open < spans[i - 1].open_min)
            return fail(err, errlen, "week.%s: spans out of order", day);
        if (i > 0 && open < spans[i - 1].close_min)
            return fail(err, errlen, "week.%s: spans overlap", day);
        spans[i].open_min = open;
        spans[i].close_min = close;
    }
    *nspans = (int)json_array_size(list);
    return 0;
}

static int cmp_day(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int parse_holidays(const json_t *list, struct bizcal *cal, char *err, size_t errlen)
{
    size_t i;
    const json_t *v;
    if (!json_is_array(list))
        return fail(err, errlen, "holidays: expected a list of \"YYYY-MM-DD\" dates");
    if (json_array_size(list) > BIZCAL_MAX_HOLIDAYS)
        return fail(err, errlen, "holidays: at most %d dates", BIZCAL_MAX_HOLIDAYS);
    json_array_foreach(list, i, v)
    {
        int32_t day = parse_date(v);
        if (day < 0)
            return fail(err, errlen, "holidays[%zu]: not a date YYYY-MM-DD (1970 or later)", i);
        /* At most 366 dates: the quadratic check is ~67,000 compares. */
        for (size_t j = 0; j < i; j++)
            if (cal->holidays[j] == day)
                return fail(err, errlen, "holidays[%zu]: the same date as holidays[%zu]", i, j);
        cal->holidays[i] = day;
    }
    cal->nholidays = (int)json_array_size(list);
    qsort(cal->holidays, (size_t)cal->nholidays, sizeof(cal->holidays[0]), cmp_day);
    return 0;
}

int bizcal_parse(const json_t *doc, struct bizcal *cal, char *tzname, size_t tzlen, char *err, size_t errlen)
{
    const char *key, *name = NULL;
    const json_t *tzv, *week, *holidays, *v;
    size_t keylen;
    int rc = -1;

    memset(cal, 0, sizeof(*cal));
    if (err && errlen > 0)
        err[0] = '\0';
    if (!json_is_object(doc)) {
        fail(err, errlen, "business_hours: expected an object");
        goto done;
    }
    /* jansson's iteration takes a non-const object; it is only read. */
    json_object_keylen_foreach((json_t *)doc, key, keylen, v)
    {
        if (!key_is(key, keylen, "timezone") && !key_is(key, keylen, "week") && !key_is(key, keylen, "holidays")) {
            fail(err, errlen, "%s: unknown field", printable_key(key, keylen));
            goto done;
        }
    }

    tzv = json_object_get(doc, "timezone");
    if (!tzv) {
        fail(err, errlen, "timezone: required");
        goto done;
    }
    if (json_is_string(tzv))
        name = json_string_value(tzv);
    if (!name || strlen(name) != json_string_length(tzv) || !tzinfo_name_valid(name)) {
        fail(err, errlen, "timezone: not a zone name such as \"Europe/Berlin\"");
        goto done;
    }
    if (!tzname || strlen(name) >= tzlen) {
        fail(err, errlen, "timezone: longer than the caller's buffer");
        goto done;
    }

    week = json_object_get(doc, "week");
    if (!json_is_object(week)) {
        fail(err, errlen, week ? "week: expected an object of days (\"mon\" .. \"sun\")" : "week: required");
        goto done;
    }
    json_object_keylen_foreach((json_t *)week, key, keylen, v)
    {
        int d = 0;
        while (d < 7 && !key_is(key, keylen, day_keys[d]))
            d++;
        if (d == 7) {
            fail(err, errlen, "week.%s: unknown day (mon, tue, wed, thu, fri, sat, sun)", printable_key(key, keylen));
            goto done;
        }
        if (parse_day(v, day_keys[d], cal->spans[d], &cal->nspans[d], err, errlen) != 0)
            goto done;
    }

    holidays = json_object_get(doc, "holidays");
    if (holidays && parse_holidays(holidays, cal, err, errlen) != 0)
        goto done;

    memcpy(tzname, name, strlen(name) + 1);
    rc = 0;
done:
    if (rc != 0) {
        memset(cal, 0, sizeof(*cal));
        if (tzname && tzlen > 0)
            tzname[0] = '\0';
    }
    return rc;
}

/* --- business-time arithmetic ---------------------------------------------- */

static int any_spans(const struct bizcal *cal)
{
    for (int d = 0; d < 7; d++)
        if (cal->nspans[d] > 0)
            return 1;
    return 0;
}

static int is_holiday(const struct bizcal *cal, int64_t day)
{
    /* Bounded here too: a struct filled by hand must not read past it. */
    int lo = 0, hi = (cal->nholidays < BIZCAL_MAX_HOLIDAYS ? cal->nholidays : BIZCAL_MAX_HOLIDAYS) - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (cal->holidays[mid] == day)
            return 1;
        if (cal->holidays[mid] < day)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0;
}

/* The local date (days since 1970-01-01) the zone's clock shows at t. */
static int64_t local_day(const struct bizcal *cal, int64_t t)
{
    return floor_div(t + tzinfo_offset_at(cal->tz, t), DAY);
}

/* The business hours of local date `day` as instants [open[i], close[i]),
 * in time order; spans that vanish in a DST gap are left out. Returns how
 * many. Because tzinfo_local_to_utc never decreases, the intervals of
 * successive days follow each other without overlapping. */
static int day_intervals(const struct bizcal *cal, int64_t day, int64_t open[BIZCAL_MAX_SPANS],
                         int64_t close[BIZCAL_MAX_SPANS])
{
    int n = 0, w;
    if (is_holiday(cal, day))
        return 0;
    w = (int)(day + 3 - floor_div(day + 3, 7) * 7); /* 1970-01-01 was a Thursday; Monday is 0 */
    for (int i = 0; i < cal->nspans[w] && i < BIZCAL_MAX_SPANS; i++) {
        int64_t a = tzinfo_local_to_utc(cal->tz, day * DAY + (int64_t)cal->spans[w][i].open_min * 60);
        int64_t b = tzinfo_local_to_utc(cal->tz, day * DAY + (int64_t)cal->spans[w][i].close_min * 60);
        if (b > a) {
            open[n] = a;
            close[n] = b;
            n++;
        }
    }
    return n;
}

int bizcal_is_open(const struct bizcal *cal, int64_t t)
{
    int64_t open[BIZCAL_MAX_SPANS], close[BIZCAL_MAX_SPANS], day;
    if (t < 0 || t > BIZCAL_T_MAX)
        return 0;
    day = local_day(cal, t);
    for (int64_t k = day - DAY_MARGIN; k <= day + DAY_MARGIN; k++) {
        int n = day_intervals(cal, k, open, close);
        for (int i = 0; i < n; i++) {
            if (open[i] > t)
                return 0;
            if (t < close[i])
                return 1;
        }
    }
    return 0;
}

int64_t bizcal_next_open(const struct bizcal *cal, int64_t t)
{
    return bizcal_add(cal, t, 0);
}

int64_t bizcal_add(const struct bizcal *cal, int64_t start, int64_t seconds)
{
    int64_t open[BIZCAL_MAX_SPANS], close[BIZCAL_MAX_SPANS], day, left = seconds;
    if (start < 0 || start > BIZCAL_T_MAX || seconds < 0 || !any_spans(cal))
        return -1;
    day = local_day(cal, start);
    for (int64_t k = day - DAY_MARGIN; k <= day + BIZCAL_HORIZON_DAYS; k++) {
        int n = day_intervals(cal, k, open, close);
        for (int i = 0; i < n; i++) {
            int64_t from = open[i] > start ? open[i] : start;
            if (close[i] <= start)
                continue;
            if (left <= close[i] - from) {
                int64_t at = from + left;
                return at - start <= BIZCAL_HORIZON_DAYS * DAY ? at : -1;
            }
            left -= close[i] - from;
        }
    }
    return -1;
}

int64_t bizcal_elapsed(const struct bizcal *cal, int64_t from, int64_t to)
{
    int64_t open[BIZCAL_MAX_SPANS], close[BIZCAL_MAX_SPANS], last, total = 0;
    from = from < 0 ? 0 : from > BIZCAL_T_MAX ? BIZCAL_T_MAX : from;
    to = to < 0 ? 0 : to > BIZCAL_T_MAX ? BIZCAL_T_MAX : to;
    if (to <= from || !any_spans(cal))
        return 0;
    if (to - from > BIZCAL_ELAPSED_MAX_DAYS * DAY)
        to = from + BIZCAL_ELAPSED_MAX_DAYS * DAY;
    last = local_day(cal, to) + DAY_MARGIN;
    for (int64_t k = local_day(cal, from) - DAY_MARGIN; k <= last; k++) {
        int n = day_intervals(cal, k, open, close);
        for (int i = 0; i < n; i++) {
            int64_t a = open[i] > from ? open[i] : from, b = close[i] < to ? close[i] : to;
            if (b > a)
                total += b - a;
        }
    }
    return total;
}
