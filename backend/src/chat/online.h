/* online: who is on the sites right now, and the pages they see.
 *
 * Owns this node's buffer of visitor beats (the widget's loader sends one
 * per page view and then one every PARLEY_VISITOR_BEAT_SECONDS while the
 * tab is visible) and the thread that writes them to PostgreSQL once a
 * second in one statement (SQL parley_beats_flush: the unlogged
 * visitors_online, visits and page views, the offline sweep and the
 * automatic invitations), the set of visitors with a pending invitation
 * read back by that statement (what a beat is answered with, so that a
 * beat costs no query), and the weekly page-view partitions.
 *
 * A beat is answered before it is written: at most one second of beats is
 * lost when the node dies, and the next beat of each visitor puts them back.
 * Page views and visits are logged tables; the online table is not (after a
 * PostgreSQL crash it is empty until the next beats). The buffer is bounded
 * (ONLINE_BUFFER_MAX entries): past it a beat is refused, not queued. */
#ifndef PARLEY_ONLINE_H
#define PARLEY_ONLINE_H

#include "db/db.h"

#include <jansson.h>

#define ONLINE_BUFFER_MAX       50000 /* beats waiting for the next write */
#define ONLINE_FLUSH_MS         1000
#define ONLINE_BEATS_PER_MINUTE 60 /* per visitor: a quick reader's page views, and a margin */
#define ONLINE_URL_MAX          2048
#define ONLINE_TITLE_MAX        300
#define ONLINE_LANGUAGE_MAX     35

enum online_kind { ONLINE_BEAT, ONLINE_VIEW, ONLINE_LEAVE };

/* One beat as the widget sent it, checked by the caller. Strings are
 * borrowed (copied by online_add); NULL when absent. */
struct online_beat {
    long long visitor_id, site_id;
    enum online_kind kind;
    int widget_closed;
    const char *url, *title, *referrer;
    /* Page views only: where and on what (all may be NULL). */
    const char *ip; /* as PARLEY_IP_STORAGE keeps it; "" stores none */
    const char *country, *region, *city, *time_zone;
    json_t *device; /* borrowed: {browser, os, device, screen, language, …} */
};

struct online;

/* Starts the writer thread on db (and makes the page-view partitions, then
 * again hourly, dropping those older than retention_days). NULL on
 * failure. Free with online_stop, which writes what is left. */
struct online *online_start(struct db_pool *db, int retention_days);
void online_stop(struct online *o);

/* Queues a beat for the next write. 0, or -1 when the buffer is full (or
 * out of memory). */
int online_add(struct online *o, const struct online_beat *b);

/* 1 when the visitor had a pending invitation at the last write (or one
 * was made on this node since). */
int online_invited(struct online *o, long long visitor_id);

/* An invitation made on this node: answer the visitor's next beat with it
 * without waiting for the next write. */
void online_note_invited(struct online *o, long long visitor_id);

/* The utm_* parameters of a page URL as {"source": …, "medium": …,
 * "campaign": …, "term": …, "content": …} (only those present, each
 * percent-decoded, control characters dropped, at most 200 bytes). A new
 * reference; never NULL but when out of memory. */
json_t *online_utm_of(const char *url);

#endif
