/* tzinfo: time zones from the system's compiled zoneinfo (RFC 8536 TZif).
 *
 * Owns which zone names are acceptable, the reading of a TZif file (v1, or
 * the 64-bit section of v2/v3/v4) with every count and offset checked
 * against the file's size and sane bounds before use, the POSIX TZ rule of
 * its footer (e.g. "CET-1CEST,M3.5.0,M10.5.0/3", "<+0530>-5:30", the Jn and
 * n day forms, RFC 8536's hours up to 167 and negative rule times) that
 * gives the offset after the last transition in the file, and the mapping
 * between wall-clock time and instants.
 *
 * Why not localtime_r: it takes the zone from the process-wide TZ (setenv +
 * tzset), which is neither thread-safe nor per team. A loaded struct tzinfo
 * is immutable: any number of threads may read one at once. No global state.
 *
 * Zones with leap seconds (the "right/" tree) are refused: their transition
 * times count leap seconds, Parley's clock (POSIX time) does not. */
#ifndef PARLEY_TZINFO_H
#define PARLEY_TZINFO_H

#include <stdint.h>

#define TZINFO_NAME_MAX        64          /* bytes of a zone name, NUL not counted */
#define TZINFO_FILE_MAX        (256 << 10) /* the largest TZif file read (real ones: < 4 KiB) */
#define TZINFO_MAX_TRANSITIONS 4096        /* real zones: at most ~310 (Asia/Hebron, 2025) */
#define TZINFO_MAX_TYPES       256         /* a transition names its type in one byte */
#define TZINFO_MAX_CHARS       256         /* abbreviation bytes (real: at most 40) */
#define TZINFO_MAX_FOOTER      128         /* the POSIX TZ string (real: at most ~45) */

struct tzinfo;

/* 1 when name is an acceptable zone name: 1..TZINFO_NAME_MAX bytes, one to
 * three components of [A-Za-z0-9_+-] separated by single "/" (so no "..",
 * no leading or trailing "/", nothing a path could escape with). */
int tzinfo_name_valid(const char *name);

/* Loads zone name from the zoneinfo directory dir (callers pass
 * "/usr/share/zoneinfo" or a test directory). "UTC" and "Etc/UTC" are built
 * in and need no file. The file must be a regular file of at most
 * TZINFO_FILE_MAX bytes (symbolic links are followed: Debian's alias names
 * are links). Returns 0 and *out (free with tzinfo_free), or -1 with *out
 * NULL (invalid name, no such zone, unreadable or malformed file, leap
 * seconds, out of memory). */
int tzinfo_load(const char *dir, const char *name, struct tzinfo **out);

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12,
 * d 1..31, |y| < 10^12; not checked: d past the month's end runs into the
 * next month). */
int64_t tzinfo_days_from_civil(int64_t y, int m, int d);

/* Frees tz (NULL is fine). */
void tzinfo_free(struct tzinfo *tz);

/* UTC offset in seconds east of Greenwich at instant t (epoch seconds).
 * Before the file's first transition the zone's first time type applies
 * (local mean time for most); after its last, the footer's rule (or the
 * last type when the file has none). tz NULL is UTC. Any t is accepted. */
int tzinfo_offset_at(const struct tzinfo *tz, int64_t t);

/* The instant at which the local wall clock reads `local` (epoch seconds as
 * if the local time were UTC). In a gap (spring forward) the wall time does
 * not exist: returns the instant the gap ends (e.g. 02:30 -> 03:00 local).
 * In an overlap (fall back) returns the earlier instant. Non-decreasing in
 * local. tz NULL is UTC. local is clamped to +-2^40 s (~35,000 years). */
int64_t tzinfo_local_to_utc(const struct tzinfo *tz, int64_t local);

#endif
