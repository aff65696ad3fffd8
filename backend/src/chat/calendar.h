/* calendar: a team's business hours, as the SLA clocks, the escalation
 * rules and the widget use them.
 *
 * Owns the reading of teams.business_hours (the JSON of core/bizcal:
 * {"timezone", "week", "holidays"}) with its time zone, and the cache of
 * zones loaded from PARLEY_ZONEINFO_DIR: each zone file is read once per
 * process and kept until calendar_zones_free (at most CALENDAR_ZONES_MAX
 * different zones; a further one is refused), so a calendar never reads a
 * file twice and a bizcal's zone pointer stays valid. The cache is guarded
 * by one mutex; the calendars built from it are the caller's. A team
 * without business hours is always open. */
#ifndef PARLEY_CALENDAR_H
#define PARLEY_CALENDAR_H

#include "core/bizcal.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define CALENDAR_ZONES_MAX 128

struct calendar_zones;

/* NULL when out of memory; free with calendar_zones_free. */
struct calendar_zones *calendar_zones_new(const char *dir);
void calendar_zones_free(struct calendar_zones *z);

/* 1 when zone name exists in the zoneinfo directory, else 0. A zone not
 * in the cache is read and freed, not cached: names from requests (a
 * report's zone) must not fill the cache that teams' hours need. */
int calendar_zone_exists(struct calendar_zones *z, const char *name);

/* Checks a business_hours document an admin sends (also that its zone
 * loads). 0, or -1 with the field at fault ("business_hours.week.mon") and
 * a reason. */
int calendar_validate(struct calendar_zones *z, const json_t *doc, char *field, size_t flen, char *reason, size_t rlen);

/* Builds *cal from stored JSON text. 0; 1 when text is NULL (always open:
 * *cal untouched); -1 when it cannot be read (treated as always open by the
 * callers, and logged). */
int calendar_load(struct calendar_zones *z, const char *text, struct bizcal *cal);

/* Whether a team with stored business hours text is open at t, and (when
 * closed) when it opens next (0: not within the horizon). */
int calendar_open_at(struct calendar_zones *z, const char *text, int64_t t, int64_t *back_at);

/* Sets into[open_key] (true/false) and into["back_at"] (ISO 8601 UTC, or
 * null when open or not within the horizon) for stored business hours text
 * at t. Returns whether it is open. */
int calendar_describe(struct calendar_zones *z, const char *text, int64_t t, json_t *into, const char *open_key);

#endif
