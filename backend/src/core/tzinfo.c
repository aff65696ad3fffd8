#include "core/tzinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY INT64_C(86400)
/* RFC 8536 3.2: an offset SHOULD be more than -25 h and less than 26 h;
 * taken as a MUST, so offsets and the arithmetic on them stay small. */
#define MIN_UTOFF (-89999)
#define MAX_UTOFF 93599
/* The Gregorian calendar (and so a POSIX rule) repeats every 400 years,
 * which are 146097 days, a whole number of weeks. */
#define CYCLE_DAYS 146097
#define CYCLE      (INT64_C(146097) * DAY)
/* Instants handed to the rule arithmetic are first brought within this
 * distance of 1970 by whole cycles: years stay in the tens of thousands. */
#define RULE_T_LIMIT (INT64_C(1) << 40)
/* local_to_utc looks this far around `local` for the instant: every
 * offset lies within it. */
#define SEARCH_SPAN (MAX_UTOFF + 1)
/* The most offset periods local_to_utc walks through in that window (real
 * zones: 1 or 2); a hostile file with more is answered approximately. */
#define SEARCH_PIECES 64

/* A day of a POSIX TZ rule: "Jn" (1..365, February 29 never counted),
 * "n" (0..365, counted) or "Mm.w.d" (day d, 0 = Sunday, of week w of month
 * m, w 5 = the last), with the wall time of the change in seconds. */
struct rule_date {
    char kind; /* 'J', 'n' or 'M' */
    int n, month, week, wday;
    int32_t secs;
};

/* A footer rule: standard offset, and when it has daylight saving time
 * the DST offset and the two days. Offsets in seconds east. */
struct tzrule {
    int32_t std_off, dst_off;
    int has_dst;
    struct rule_date start, end; /* start: in standard time; end: in DST */
};

struct tzinfo {
    int32_t ntrans;
    int64_t *trans; /* transition instants, strictly ascending */
    int32_t *utoff; /* the offset in effect from trans[i] on */
    int32_t utoff0; /* before trans[0] (time type 0) */
    int has_rule;   /* the footer's rule applies from the last transition on */
    struct tzrule rule;
};

/* --- calendar arithmetic (days since 1970-01-01, proleptic Gregorian) ----- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

/* H. Hinnant's days_from_civil / civil_from_days
 * (https://howardhinnant.github.io/date_algorithms.html). */
int64_t tzinfo_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * CYCLE_DAYS + doe - 719468;
}

static int64_t year_of_day(int64_t days)
{
    int64_t z = days + 719468;
    int64_t era = floor_div(z, CYCLE_DAYS);
    int64_t doe = z - era * CYCLE_DAYS;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    return yoe + era * 400 + (mp >= 10); /* mp 10, 11: January, February of the next year */
}

static int is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* --- the footer rule -------------------------------------------------------- */

static int64_t rule_day(const struct rule_date *r, int64_t y)
{
    int64_t jan1 = tzinfo_days_from_civil(y, 1, 1), first, next, day;
    if (r->kind == 'J')
        return jan1 + r->n - 1 + (is_leap(y) && r->n >= 60);
    if (r->kind == 'n')
        return jan1 + r->n;
    first = tzinfo_days_from_civil(y, r->month, 1);
    next = r->month == 12 ? tzinfo_days_from_civil(y + 1, 1, 1) : tzinfo_days_from_civil(y, r->month + 1, 1);
    /* 1970-01-01 was a Thursday (4 with Sunday 0). */
    day = first + floor_mod(r->wday - (first + 4), 7) + 7 * (r->week - 1);
    while (day >= next) /* week 5: the last such day of the month */
        day -= 7;
    return day;
}

/* The instants DST starts and ends in year y: the start's wall time is
 * standard time, the end's is daylight time. */
static int64_t rule_start(const struct tzrule *r, int64_t y)
{
    return rule_day(&r->start, y) * DAY + r->start.secs - r->std_off;
}

static int64_t rule_end(const struct tzrule *r, int64_t y)
{
    return rule_day(&r->end, y) * DAY + r->end.secs - r->dst_off;
}

/* t moved by whole 400-year cycles to within RULE_T_LIMIT of 1970; the
 * shift is returned in *shift (t - result). */
static int64_t rule_reduce(int64_t t, int64_t *shift)
{
    int64_t k = 0;
    if (t > RULE_T_LIMIT)
        k = (t - RULE_T_LIMIT) / CYCLE + 1;
    else if (t < -RULE_T_LIMIT)
        k = -((-RULE_T_LIMIT - t) / CYCLE + 1);
    *shift = k * CYCLE;
    return t - *shift;
}

/* The year (of local standard time) t falls in; the changes of the years
 * around it decide. Rule times reach +-167 h, so a change of year y - 1 can
 * fall in the first days of y: two years back are looked at. */
static int64_t rule_year(const struct tzrule *r, int64_t t)
{
    return year_of_day(floor_div(t + r->std_off, DAY));
}

static int32_t rule_offset(const struct tzrule *r, int64_t t)
{
    int64_t shift, y, best_at = INT64_MIN;
    int32_t off = r->std_off;
    if (!r->has_dst)
        return r->std_off;
    t = rule_reduce(t, &shift);
    y = rule_year(r, t);
    for (int64_t yy = y - 2; yy <= y + 1; yy++) {
        int64_t s = rule_start(r, yy), e = rule_end(r, yy);
        if (e <= t && e > best_at) {
            best_at = e;
            off = r->std_off;
        }
        /* >=: when one year's end is the next one's start (permanent DST,
         * "EST5EDT,0/0,J365/25"), DST goes on. */
        if (s <= t && s >= best_at) {
            best_at = s;
            off = r->dst_off;
        }
    }
    return off;
}

/* The first change of the rule after t (INT64_MAX when none). */
static int64_t rule_next(const struct tzrule *r, int64_t t)
{
    int64_t shift, tr, y, best = INT64_MAX;
    if (!r->has_dst)
        return INT64_MAX;
    tr = rule_reduce(t, &shift);
    y = rule_year(r, tr);
    for (int64_t yy = y - 2; yy <= y + 2; yy++) {
        int64_t s = rule_start(r, yy), e = rule_end(r, yy);
        if (s > tr && s < best)
            best = s;
        if (e > tr && e < best)
            best = e;
    }
    if (best == INT64_MAX)
        return INT64_MAX;
    /* best - tr is positive and under a few years; t + that may still pass
     * INT64_MAX. */
    return t > INT64_MAX - (best - tr) ? INT64_MAX : t + (best - tr);
}

/* --- POSIX TZ string parsing ----------------------------------------------- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* An unsigned decimal of 1..maxdigits digits in [min, max]. */
static int parse_num(const char **pp, int maxdigits, int min, int max, int *out)
{
    const char *p = *pp;
    int v = 0, n = 0;
    while (n < maxdigits && is_digit(*p)) {
        v = v * 10 + (*p - '0');
        p++;
        n++;
    }
    if (n == 0 || v < min || v > max)
        return -1;
    *pp = p;
    *out = v;
    return 0;
}

/* [+-]hh[:mm[:ss]] in seconds, hours 0..maxh. */
static int parse_hms(const char **pp, int maxh, int32_t *out)
{
    const char *p = *pp;
    int sign = 1, h, m = 0, s = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (parse_num(&p, maxh > 99 ? 3 : 2, 0, maxh, &h) != 0)
        return -1;
    if (*p == ':') {
        p++;
        if (parse_num(&p, 2, 0, 59, &m) != 0)
            return -1;
        if (*p == ':') {
            p++;
            if (parse_num(&p, 2, 0, 59, &s) != 0)
                return -1;
        }
    }
    *pp = p;
    *out = sign * (h * 3600 + m * 60 + s);
    return 0;
}

/* A zone abbreviation: three or more letters, or <...> quoting letters,
 * digits, '+' and '-' (numeric abbreviations such as <+0530>). Only
 * checked: nothing here needs the abbreviation. */
static int parse_abbr(const char **pp)
{
    const char *p = *pp;
    int n = 0;
    if (*p == '<') {
        p++;
        while (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-') {
            p++;
            n++;
        }
        if (*p != '>' || n < 3)
            return -1;
        p++;
    } else {
        while (is_alpha(*p)) {
            p++;
            n++;
        }
        if (n < 3)
            return -1;
    }
    *pp = p;
    return 0;
}

/* Jn | n | Mm.w.d, then an optional /time (default 02:00; RFC 8536 allows
 * -167..167 hours). */
static int parse_date(const char **pp, struct rule_date *d)
{
    const char *p = *pp;
    memset(d, 0, sizeof(*d));
    if (*p == 'J') {
        p++;
        d->kind = 'J';
        if (parse_num(&p, 3, 1, 365, &d->n) != 0)
            return -1;
    } else if (*p == 'M') {
        p++;
        d->kind = 'M';
        if (parse_num(&p, 2, 1, 12, &d->month) != 0 || *p++ != '.' || parse_num(&p, 1, 1, 5, &d->week) != 0 ||
            *p++ != '.' || parse_num(&p, 1, 0, 6, &d->wday) != 0)
            return -1;
    } else {
        d->kind = 'n';
        if (parse_num(&p, 3, 0, 365, &d->n) != 0)
            return -1;
    }
    d->secs = 2 * 3600;
    if (*p == '/') {
        p++;
        if (parse_hms(&p, 167, &d->secs) != 0)
            return -1;
    }
    *pp = p;
    return 0;
}

static int utoff_ok(int64_t off)
{
    return off >= MIN_UTOFF && off <= MAX_UTOFF;
}

/* std offset [dst [offset] ,start[/time],end[/time]]. POSIX offsets count
 * west (CET-1 is one hour east); the rule stores seconds east. A DST name
 * without the two dates is refused (zic always writes them; POSIX leaves
 * the default to the implementation). */
static int parse_rule(const char *s, struct tzrule *r)
{
    const char *p = s;
    int32_t west;
    memset(r, 0, sizeof(*r));
    if (parse_abbr(&p) != 0 || parse_hms(&p, 24, &west) != 0)
        return -1;
    r->std_off = -west;
    if (*p == '\0')
        return utoff_ok(r->std_off) ? 0 : -1;
    if (parse_abbr(&p) != 0)
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*p != ',') {
        if (parse_hms(&p, 24, &west) != 0)
            return -1;
        r->dst_off = -west;
    }
    if (*p++ != ',' || parse_date(&p, &r->start) != 0 || *p++ != ',' || parse_date(&p, &r->end) != 0 || *p != '\0')
        return -1;
    return utoff_ok(r->std_off) && utoff_ok(r->dst_off) ? 0 : -1;
}

/* --- TZif parsing ----------------------------------------------------------- */

struct reader {
    const unsigned char *p;
    size_t len, pos;
};

static const unsigned char *take(struct reader *r, size_t n)
{
    const unsigned char *at;
    if (n > r->len - r->pos)
        return NULL;
    at = r->p + r->pos;
    r->pos += n;
    return at;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

struct tzhead {
    unsigned char version; /* 0, '2', '3' or '4' */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

/* The 44-byte header; every count bounded here, so the sizes computed from
 * them below cannot overflow. */
static int read_header(struct reader *r, struct tzhead *h)
{
    const unsigned char *p = take(r, 44);
    if (!p || memcmp(p, "TZif", 4) != 0)
        return -1;
    h->version = p[4];
    if (h->version != 0 && h->version != '2' && h->version != '3' && h->version != '4')
        return -1;
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    if (h->leapcnt != 0 || h->timecnt > TZINFO_MAX_TRANSITIONS || h->typecnt == 0 || h->typecnt > TZINFO_MAX_TYPES ||
        h->charcnt == 0 || h->charcnt > TZINFO_MAX_CHARS)
        return -1;
    if ((h->isstdcnt != 0 && h->isstdcnt != h->typecnt) || (h->isutcnt != 0 && h->isutcnt != h->typecnt))
        return -1;
    return 0;
}

/* The data block after a header, times of tsize bytes (4 or 8); leap
 * seconds are refused in the header, so there are none here. */
static size_t block_size(const struct tzhead *h, size_t tsize)
{
    return h->timecnt * (tsize + 1) + h->typecnt * 6 + h->charcnt + h->isstdcnt + h->isutcnt;
}

static int read_block(struct reader *r, const struct tzhead *h, size_t tsize, struct tzinfo *tz)
{
    const unsigned char *times = take(r, h->timecnt * tsize), *idx = take(r, h->timecnt),
                        *types = take(r, h->typecnt * 6), *chars = take(r, h->charcnt), *isstd = take(r, h->isstdcnt),
                        *isut = take(r, h->isutcnt);
    int32_t offs[TZINFO_MAX_TYPES];
    if (!times || !idx || !types || !chars || !isstd || !isut)
        return -1;
    for (uint32_t i = 0; i < h->typecnt; i++) {
        const unsigned char *t = types + 6 * i;
        offs[i] = (int32_t)be32(t);
        if (!utoff_ok(offs[i]) || t[4] > 1 || t[5] >= h->charcnt)
            return -1;
    }
    for (uint32_t i = 0; i < h->isstdcnt; i++)
        if (isstd[i] > 1)
            return -1;
    for (uint32_t i = 0; i < h->isutcnt; i++)
        if (isut[i] > 1)
            return -1;
    tz->utoff0 = offs[0];
    tz->trans = malloc(sizeof(*tz->trans) * (h->timecnt ? h->timecnt : 1));
    tz->utoff = malloc(sizeof(*tz->utoff) * (h->timecnt ? h->timecnt : 1));
    if (!tz->trans || !tz->utoff)
        return -1;
    for (uint32_t i = 0; i < h->timecnt; i++) {
        int64_t t = tsize == 8 ? (int64_t)be64(times + 8 * i) : (int64_t)(int32_t)be32(times + 4 * i);
        if ((i > 0 && t <= tz->trans[i - 1]) || idx[i] >= h->typecnt)
            return -1;
        tz->trans[i] = t;
        tz->utoff[i] = offs[idx[i]];
    }
    tz->ntrans = (int32_t)h->timecnt;
    return 0;
}

/* "\n" TZ-string "\n" and nothing after: the rule for instants after the
 * last transition (an empty string: none, the last type goes on). */
static int read_footer(struct reader *r, struct tzinfo *tz)
{
    char text[TZINFO_MAX_FOOTER + 1];
    const unsigned char *p = take(r, 1);
    size_t n = 0;
    if (!p || *p != '\n')
        return -1;
    while ((p = take(r, 1)) && *p != '\n') {
        if (n >= TZINFO_MAX_FOOTER || *p < 0x20 || *p > 0x7E)
            return -1;
        text[n++] = (char)*p;
    }
    if (!p || r->pos != r->len)
        return -1;
    text[n] = '\0';
    if (n == 0)
        return 0;
    if (parse_rule(text, &tz->rule) != 0)
        return -1;
    tz->has_rule = 1;
    return 0;
}

static int parse_tzif(const unsigned char *buf, size_t len, struct tzinfo *tz)
{
    struct reader r = {buf, len, 0};
    struct tzhead h1, h2;
    if (read_header(&r, &h1) != 0)
        return -1;
    if (h1.version == 0) /* version 1: 32-bit times only, no footer */
        return read_block(&r, &h1, 4, tz) == 0 && r.pos == r.len ? 0 : -1;
    /* Version 2+: the 32-bit block is there for old readers; skip it. */
    if (!take(&r, block_size(&h1, 4)) || read_header(&r, &h2) != 0 || h2.version != h1.version)
        return -1;
    if (read_block(&r, &h2, 8, tz) != 0 || read_footer(&r, tz) != 0)
        return -1;
    return 0;
}

/* The whole file into a new buffer (*out, freed by the caller). */
static int read_zone_file(const char *dir, const char *name, unsigned char **out, size_t *outlen)
{
    char path[PATH_MAX];
    struct stat st;
    unsigned char *buf = NULL;
    size_t got = 0, size;
    int fd = -1, rc = -1, n;

    n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        goto done;
    /* O_NONBLOCK: a FIFO under a zone's name must not hang the open; the
     * S_ISREG check then refuses it. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 44 || st.st_size > TZINFO_FILE_MAX)
        goto done;
    size = (size_t)st.st_size;
    if (!(buf = malloc(size)))
        goto done;
    /* At most the size fstat saw: a file growing meanwhile is cut there
     * (and then fails to parse), never read without bound. */
    while (got < size) {
        ssize_t k = read(fd, buf + got, size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    *out = buf;
    *outlen = got;
    buf = NULL;
    rc = 0;
done:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* --- the public functions --------------------------------------------------- */

int tzinfo_name_valid(const char *name)
{
    size_t len = 0, seg = 0;
    int parts = 1;
    if (!name)
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (++len > TZINFO_NAME_MAX)
            return 0;
        if (c == '/') {
            if (seg == 0 || ++parts > 3)
                return 0;
            seg = 0;
            continue;
        }
        /* No '.': so neither "." nor ".." can be a component. */
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '+' && c != '-')
            return 0;
        seg++;
    }
    return seg > 0;
}

int tzinfo_load(const char *dir, const char *name, struct tzinfo **out)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    struct tzinfo *tz = NULL;
    int rc = -1;

    if (!out)
        return -1;
    *out = NULL;
    if (!tzinfo_name_valid(name) || !(tz = calloc(1, sizeof(*tz))))
        goto done;
    /* UTC needs no file: all zero is offset 0, no transitions, no rule. */
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
        rc = 0;
        goto done;
    }
    if (!dir || !*dir || read_zone_file(dir, name, &buf, &len) != 0 || parse_tzif(buf, len, tz) != 0)
        goto done;
    rc = 0;
done:
    free(buf);
    if (rc == 0)
        *out = tz;
    else
        tzinfo_free(tz);
    return rc;
}

void tzinfo_free(struct tzinfo *tz)
{
    if (!tz)
        return;
    free(tz->trans);
    free(tz->utoff);
    free(tz);
}

/* The index of the last transition at or before t; t >= trans[0]. */
static int32_t last_at_or_before(const struct tzinfo *tz, int64_t t)
{
    int32_t lo = 0, hi = tz->ntrans - 1;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo + 1) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int tzinfo_offset_at(const struct tzinfo *tz, int64_t t)
{
    if (!tz)
        return 0;
    if (tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1]) {
        if (tz->has_rule)
            return rule_offset(&tz->rule, t);
        return tz->ntrans == 0 ? tz->utoff0 : tz->utoff[tz->ntrans - 1];
    }
    if (t < tz->trans[0])
        return tz->utoff0;
    return tz->utoff[last_at_or_before(tz, t)];
}

/* The first instant after t at which the offset may change (INT64_MAX:
 * never again). */
static int64_t next_change(const struct tzinfo *tz, int64_t t)
{
    if (tz->ntrans > 0 && t < tz->trans[tz->ntrans - 1])
        return t < tz->trans[0] ? tz->trans[0] : tz->trans[last_at_or_before(tz, t) + 1];
    if (tz->has_rule)
        return rule_next(&tz->rule, t);
    return INT64_MAX;
}

int64_t tzinfo_local_to_utc(const struct tzinfo *tz, int64_t local)
{
    int64_t from;
    if (local > RULE_T_LIMIT)
        local = RULE_T_LIMIT;
    else if (local < -RULE_T_LIMIT)
        local = -RULE_T_LIMIT;
    if (!tz)
        return local;
    /* Walk the periods of constant offset over every instant that could
     * read `local` (offsets lie within +-SEARCH_SPAN), in time order. In
     * each the wall clock runs from from + off to next + off: the first
     * period holding local gives the earliest instant (the overlap rule);
     * a period whose wall clock starts past local, with none before holding
     * it, means local was skipped, and that period's start ends the gap. */
    from = local - SEARCH_SPAN;
    for (int i = 0; i < SEARCH_PIECES && from <= local + SEARCH_SPAN; i++) {
        int32_t off = tzinfo_offset_at(tz, from);
        int64_t next = next_change(tz, from), at = local - off;
        if (at < from)
            return from;
        if (at < next)
            return at;
        from = next;
    }
    return local - tzinfo_offset_at(tz, local);
}
