#include "chat/online.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAINTAIN_SECONDS 3600.0
#define UTM_VALUE_MAX    200

struct online {
    struct db_pool *db;
    int retention_days;
    pthread_t thread;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;
    int stop;
    json_t *beats;      /* the buffer: an array of beat objects */
    long long *invited; /* sorted visitor ids with a pending invitation */
    size_t ninvited;
    long long *noted; /* invitations made here since the last write */
    size_t nnoted, capnoted;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_string(json_t *obj, const char *key, const char *value)
{
    if (value && value[0])
        json_object_set_new(obj, key, json_string(value));
}

int online_add(struct online *o, const struct online_beat *b)
{
    static const char *const kinds[] = {"b", "v", "q"};
    json_t *e = json_pack("{s:I, s:I, s:I, s:s, s:b}", "v", (json_int_t)b->visitor_id, "s", (json_int_t)b->site_id,
                          "at", (json_int_t)now_ms(), "k", kinds[b->kind], "c", b->widget_closed);
    int rc = -1;
    if (!e)
        return -1;
    set_string(e, "u", b->url);
    set_string(e, "n", b->title);
    if (b->kind == ONLINE_VIEW) {
        json_t *x = json_object();
        set_string(e, "r", b->referrer);
        json_object_set_new(e, "m", online_utm_of(b->url));
        if (!x)
            goto done;
        if (b->ip)
            json_object_set_new(x, "ip", json_string(b->ip));
        set_string(x, "country", b->country);
        set_string(x, "region", b->region);
        set_string(x, "city", b->city);
        set_string(x, "time_zone", b->time_zone);
        if (b->device)
            json_object_set(x, "device", b->device);
        json_object_set_new(e, "x", x);
    }
    pthread_mutex_lock(&o->lock);
    if (json_array_size(o->beats) < ONLINE_BUFFER_MAX)
        rc = json_array_append(o->beats, e);
    pthread_mutex_unlock(&o->lock);
done:
    json_decref(e);
    return rc == 0 ? 0 : -1;
}

static int cmp_id(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int online_invited(struct online *o, long long visitor_id)
{
    int found = 0;
    pthread_mutex_lock(&o->lock);
    found = o->ninvited && bsearch(&visitor_id, o->invited, o->ninvited, sizeof(long long), cmp_id) != NULL;
    for (size_t i = 0; !found && i < o->nnoted; i++)
        found = o->noted[i] == visitor_id;
    pthread_mutex_unlock(&o->lock);
    return found;
}

void online_note_invited(struct online *o, long long visitor_id)
{
    pthread_mutex_lock(&o->lock);
    if (o->nnoted == o->capnoted && o->capnoted < 4096) {
        size_t cap = o->capnoted ? o->capnoted * 2 : 16;
        long long *grown = realloc(o->noted, cap * sizeof(long long));
        if (grown) {
            o->noted = grown;
            o->capnoted = cap;
        }
    }
    if (o->nnoted < o->capnoted)
        o->noted[o->nnoted++] = visitor_id;
    pthread_mutex_unlock(&o->lock);
}

/* One write: the beats taken from the buffer, then the pending set the
 * statement answers with replaces ours. When the write fails the beats
 * are dropped (they are the freshest state of visitors who beat again in
 * seconds); the set is kept. */
static void flush(struct online *o)
{
    PGresult *res = NULL;
    json_t *batch;
    char *text = NULL;
    long long *ids = NULL;

    pthread_mutex_lock(&o->lock);
    batch = o->beats;
    o->beats = json_array();
    if (!o->beats) {
        o->beats = batch;
        batch = NULL;
    }
    pthread_mutex_unlock(&o->lock);
    text = batch ? json_dumps(batch, JSON_COMPACT) : NULL;
    if (!text)
        goto done;
    const char *params[1] = {text};
    if (db_query(o->db, &res, "SELECT v FROM parley_beats_flush($1::jsonb) AS v", 1, params) != DB_OK) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", json_array_size(batch));
        log_warn("visitor beats not written", "beats", n);
        goto done;
    }
    size_t n = (size_t)PQntuples(res);
    ids = n ? malloc(n * sizeof(long long)) : NULL;
    if (n && !ids)
        goto done;
    for (size_t i = 0; i < n; i++)
        ids[i] = db_get_ll(res, (int)i, 0, 0);
    pthread_mutex_lock(&o->lock);
    free(o->invited);
    o->invited = ids; /* sorted by the statement */
    o->ninvited = n;
    o->nnoted = 0;
    pthread_mutex_unlock(&o->lock);
    ids = NULL;
done:
    free(ids);
    free(text);
    json_decref(batch);
    PQclear(res);
}

static void maintain(struct online *o)
{
    char days[16];
    snprintf(days, sizeof(days), "%d", o->retention_days);
    const char *params[1] = {days};
    if (db_query(o->db, NULL, "SELECT parley_page_views_maintain($1::int)", 1, params) != DB_OK)
        log_warn("page view partitions not maintained; trying again in an hour");
}

static void *writer_main(void *arg)
{
    struct online *o = arg;
    double next_maintain = clock_now() + MAINTAIN_SECONDS;
    pthread_mutex_lock(&o->lock);
    while (!o->stop) {
        struct timespec until = clock_deadline(ONLINE_FLUSH_MS);
        pthread_cond_timedwait(&o->wake, &o->lock, &until);
        if (o->stop)
            break;
        pthread_mutex_unlock(&o->lock);
        flush(o);
        if (clock_now() >= next_maintain) {
            maintain(o);
            next_maintain = clock_now() + MAINTAIN_SECONDS;
        }
        pthread_mutex_lock(&o->lock);
    }
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

struct online *online_start(struct db_pool *db, int retention_days)
{
    struct online *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->db = db;
    o->retention_days = retention_days;
    o->beats = json_array();
    pthread_mutex_init(&o->lock, NULL);
    clock_cond_init(&o->wake);
    if (!o->beats)
        goto fail;
    maintain(o);
    if (pthread_create(&o->thread, NULL, writer_main, o) != 0)
        goto fail;
    return o;
fail:
    json_decref(o->beats);
    pthread_cond_destroy(&o->wake);
    pthread_mutex_destroy(&o->lock);
    free(o);
    return NULL;
}

void online_stop(struct online *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->stop = 1;
    pthread_cond_signal(&o->wake);
    pthread_mutex_unlock(&o->lock);
    pthread_join(o->thread, NULL);
    flush(o);
    json_decref(o->beats);
    free(o->invited);
    free(o->noted);
    pthread_cond_destroy(&o->wake);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

/* Percent-decodes s[0..n) into out (size > UTM_VALUE_MAX), dropping
 * control characters and cutting on a UTF-8 boundary. */
static void utm_decode(const char *s, size_t n, char *out)
{
    size_t len = 0;
    for (size_t i = 0; i < n && len < UTM_VALUE_MAX; i++) {
        int c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < n && text_hex_digit(s[i + 1]) >= 0 && text_hex_digit(s[i + 2]) >= 0) {
            c = text_hex_digit(s[i + 1]) * 16 + text_hex_digit(s[i + 2]);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            continue;
        out[len++] = (char)c;
    }
    out[len] = '\0';
    /* Cut inside a character (or sent broken): drop the partial end, or
     * everything when it is not UTF-8 at all. */
    for (int k = 0; k < 3 && len > 0 && text_utf8_chars(out, len) < 0; k++)
        out[--len] = '\0';
    if (text_utf8_chars(out, len) < 0)
        out[0] = '\0';
}

json_t *online_utm_of(const char *url)
{
    static const char *const keys[] = {"source", "medium", "campaign", "term", "content", NULL};
    json_t *utm = json_object();
    const char *q = url ? strchr(url, '?') : NULL;
    if (!utm || !q)
        return utm;
    const char *end = strchr(q, '#');
    if (!end)
        end = q + strlen(q);
    for (const char *p = q + 1; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq && eq - p > 4 && strncmp(p, "utm_", 4) == 0) {
            for (int i = 0; keys[i]; i++) {
                size_t kl = strlen(keys[i]);
                if ((size_t)(eq - p - 4) == kl && strncmp(p + 4, keys[i], kl) == 0 && !json_object_get(utm, keys[i])) {
                    char value[UTM_VALUE_MAX + 1];
                    utm_decode(eq + 1, (size_t)(stop - eq - 1), value);
                    if (value[0])
                        json_object_set_new(utm, keys[i], json_string(value));
                }
            }
        }
        p = stop + 1;
    }
    return utm;
}
