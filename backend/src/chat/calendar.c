#include "chat/calendar.h"

#include "core/log.h"
#include "core/tzinfo.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct zone_entry {
    char name[TZINFO_NAME_MAX + 1];
    struct tzinfo *tz;
};

struct calendar_zones {
    pthread_mutex_t lock;
    char dir[512];
    struct zone_entry zones[CALENDAR_ZONES_MAX];
    int n;
};

struct calendar_zones *calendar_zones_new(const char *dir)
{
    struct calendar_zones *z = calloc(1, sizeof(*z));
    if (!z)
        return NULL;
    pthread_mutex_init(&z->lock, NULL);
    snprintf(z->dir, sizeof(z->dir), "%s", dir);
    return z;
}

void calendar_zones_free(struct calendar_zones *z)
{
    if (!z)
        return;
    for (int i = 0; i < z->n; i++)
        tzinfo_free(z->zones[i].tz);
    pthread_mutex_destroy(&z->lock);
    free(z);
}

/* The cached zone of that name, or NULL. Called with z->lock held. */
static const struct tzinfo *zone_cached(const struct calendar_zones *z, const char *name)
{
    for (int i = 0; i < z->n; i++)
        if (strcmp(z->zones[i].name, name) == 0)
            return z->zones[i].tz;
    return NULL;
}

/* The zone by name, loaded once; NULL when unknown, malformed or the cache
 * is full. The pointer lives as long as the cache. */
static const struct tzinfo *zone_get(struct calendar_zones *z, const char *name)
{
    pthread_mutex_lock(&z->lock);
    const struct tzinfo *found = zone_cached(z, name);
    if (!found && z->n < CALENDAR_ZONES_MAX && strlen(name) <= TZINFO_NAME_MAX) {
        struct tzinfo *tz = NULL;
        if (tzinfo_load(z->dir, name, &tz) == 0) {
            snprintf(z->zones[z->n].name, sizeof(z->zones[z->n].name), "%s", name);
            z->zones[z->n++].tz = tz;
            found = tz;
        }
    }
    pthread_mutex_unlock(&z->lock);
    return found;
}

int calendar_zone_exists(struct calendar_zones *z, const char *name)
{
    pthread_mutex_lock(&z->lock);
    int found = zone_cached(z, name) != NULL;
    pthread_mutex_unlock(&z->lock);
    struct tzinfo *tz = NULL;
    if (!found && tzinfo_name_valid(name) && tzinfo_load(z->dir, name, &tz) == 0) {
        found = 1;
        tzinfo_free(tz);
    }
    return found;
}

int calendar_validate(struct calendar_zones *z, const json_t *doc, char *field, size_t flen, char *reason, size_t rlen)
{
    struct bizcal cal;
    char tzname[TZINFO_NAME_MAX + 1], why[160];
    if (bizcal_parse(doc, &cal, tzname, sizeof(tzname), why, sizeof(why)) != 0) {
        /* bizcal says "week.mon: spans overlap": the field first. */
        const char *colon = strstr(why, ": ");
        if (colon) {
            snprintf(field, flen, "business_hours.%.*s", (int)(colon - why), why);
            snprintf(reason, rlen, "%s", colon + 2);
        } else {
            snprintf(field, flen, "business_hours");
            snprintf(reason, rlen, "%s", why);
        }
        return -1;
    }
    if (!zone_get(z, tzname)) {
        snprintf(field, flen, "business_hours.timezone");
        snprintf(reason, rlen, "is not a time zone this server knows");
        return -1;
    }
    return 0;
}

int calendar_load(struct calendar_zones *z, const char *text, struct bizcal *cal)
{
    char tzname[TZINFO_NAME_MAX + 1], why[160];
    if (!text)
        return 1;
    json_t *doc = json_loads(text, 0, NULL);
    int rc = doc && bizcal_parse(doc, cal, tzname, sizeof(tzname), why, sizeof(why)) == 0 ? 0 : -1;
    json_decref(doc);
    if (rc == 0 && !(cal->tz = zone_get(z, tzname)))
        rc = -1;
    if (rc != 0)
        log_warn("business hours not readable; the team counts as always open");
    return rc;
}

int calendar_open_at(struct calendar_zones *z, const char *text, int64_t t, int64_t *back_at)
{
    struct bizcal cal;
    *back_at = 0;
    if (calendar_load(z, text, &cal) != 0)
        return 1;
    if (bizcal_is_open(&cal, t))
        return 1;
    int64_t next = bizcal_next_open(&cal, t);
    *back_at = next > 0 ? next : 0;
    return 0;
}

int calendar_describe(struct calendar_zones *z, const char *text, int64_t t, json_t *into, const char *open_key)
{
    int64_t back_at = 0;
    int open = calendar_open_at(z, text, t, &back_at);
    time_t bt = (time_t)back_at;
    struct tm tm;
    char when[32];
    json_object_set_new(into, open_key, json_boolean(open));
    if (!open && back_at > 0 && gmtime_r(&bt, &tm) && strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
        json_object_set_new(into, "back_at", json_string(when));
    else
        json_object_set_new(into, "back_at", json_null());
    return open;
}
