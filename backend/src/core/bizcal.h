/* bizcal: business hours over a week plus holidays, in a time zone.
 *
 * Owns the stored form of a team's business hours (the JSON in
 * teams.business_hours) and its validation, and the business-time
 * arithmetic over it: open or not at an instant, the next opening, an
 * instant plus an amount of business time, the business time between two
 * instants.
 *
 * Hours are wall-clock: a span 09:00-17:00 opens when the zone's clock reads
 * 09:00, whatever the offset that day. So a 09:00-17:00 day on a DST change
 * day is 8 h of business time (the change happens outside those hours) but a
 * 00:00-24:00 day is 23 h or 25 h. A span edge that falls in a DST gap
 * opens or closes when the gap ends (a span inside the gap is empty); one in
 * an overlap at its first occurrence (tzinfo_local_to_utc).
 *
 * Pure: no I/O, no global state. A struct bizcal is filled by bizcal_parse
 * and then only read, by any number of threads. The zone is loaded by the
 * caller (tzinfo_load) and only borrowed. */
#ifndef PARLEY_BIZCAL_H
#define PARLEY_BIZCAL_H

#include "core/tzinfo.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define BIZCAL_MAX_SPANS    4 /* per weekday */
#define BIZCAL_MAX_HOLIDAYS 366
#define BIZCAL_HORIZON_DAYS 400 /* how far next_open and add look ahead */
/* bizcal_elapsed counts at most this far past `from` (~10 years): a range
 * beyond it counts as that much, which is more than any deadline. */
#define BIZCAL_ELAPSED_MAX_DAYS 3660
/* The instants the functions take: 1970-01-01 to 9999-12-31 (UTC). */
#define BIZCAL_T_MAX INT64_C(253402300799)

struct bizcal_span {
    int open_min, close_min; /* minutes of the local day, 0 <= open < close <= 1440 */
};

struct bizcal {
    const struct tzinfo *tz;                       /* not owned; NULL means UTC */
    struct bizcal_span spans[7][BIZCAL_MAX_SPANS]; /* [0]=Monday .. [6]=Sunday */
    int nspans[7];
    int32_t holidays[BIZCAL_MAX_HOLIDAYS]; /* local dates as days since 1970-01-01, sorted */
    int nholidays;
};

/* Parses the JSON stored in teams.business_hours:
 *   {"timezone":"Europe/Berlin",
 *    "week":{"mon":[["09:00","17:00"]],"tue":[["09:00","12:00"],["13:00","17:00"]], ...},
 *    "holidays":["2026-12-25","2026-12-26"]}
 * "timezone" (a name tzinfo_name_valid takes) and "week" are required,
 * "holidays" is optional; no other keys. Days are mon, tue, wed, thu, fri,
 * sat, sun; a day absent or [] is closed all day. A span is two "HH:MM"
 * strings (00:00..23:59; "24:00" as a close time only), open before close;
 * at most BIZCAL_MAX_SPANS per day, in order and not overlapping (one may
 * close at the minute the next opens). Holidays are "YYYY-MM-DD" dates of
 * years 1970..9999, each once, in any order (stored sorted), at most
 * BIZCAL_MAX_HOLIDAYS.
 * cal is overwritten entirely (cal->tz is NULL afterwards); the zone name is
 * copied into tzname (tzlen > TZINFO_NAME_MAX is always enough). Returns 0,
 * or -1 with a short English reason in err (the field at fault first, e.g.
 * "week.mon: spans overlap"). Does NOT load the zone: the caller does
 * (tzinfo_load) and sets cal->tz. */
int bizcal_parse(const json_t *doc, struct bizcal *cal, char *tzname, size_t tzlen, char *err, size_t errlen);

/* 1 when business is open at instant t (open at a span's opening instant,
 * closed at its closing one), else 0. */
int bizcal_is_open(const struct bizcal *cal, int64_t t);

/* The first instant >= t at which it is open; -1 when it never opens within
 * BIZCAL_HORIZON_DAYS days (no spans, or everything a holiday) or t is
 * outside 0..BIZCAL_T_MAX. */
int64_t bizcal_next_open(const struct bizcal *cal, int64_t t);

/* The instant at which `seconds` of business time have elapsed since start
 * (start itself may be outside hours: counting begins at the next opening).
 * The amount used up exactly at a closing time gives that closing instant.
 * -1 when that is more than BIZCAL_HORIZON_DAYS days away, seconds < 0 or
 * start outside 0..BIZCAL_T_MAX. seconds == 0 -> next_open(start). */
int64_t bizcal_add(const struct bizcal *cal, int64_t start, int64_t seconds);

/* Business seconds in [from, to) (0 when to <= from). from and to are
 * clamped to 0..BIZCAL_T_MAX, and to to at most BIZCAL_ELAPSED_MAX_DAYS
 * after from (the work is one step per day). */
int64_t bizcal_elapsed(const struct bizcal *cal, int64_t from, int64_t to);

#endif
