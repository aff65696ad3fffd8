/* queue: where waiting visitors stand, and how long they may wait.
 *
 * Owns the position of each queued conversation in its team's line and the
 * estimated wait: one conversation leaves the queue every `gap` seconds on
 * average (the spacing of the team's last ten assignments today, clamped to
 * 5 s .. 10 min; 60 s without history), so the n-th in line waits about
 * n * gap. Reads only. */
#ifndef PARLEY_QUEUE_H
#define PARLEY_QUEUE_H

#include "chat/errors.h"
#include "db/db.h"

struct queue_position {
    long long conversation_id, visitor_id;
    long long position;     /* 1-based */
    long long wait_seconds; /* estimated */
};

typedef void (*queue_position_fn)(const struct queue_position *p, void *arg);

/* Calls fn for each conversation waiting in the team's queue, in order. */
enum chat_err queue_positions(struct db_pool *db, long long team_id, queue_position_fn fn, void *arg) CHAT_CHECKED;

/* The teams where the visitor has a queued conversation (at most max). */
enum chat_err queue_teams_of_visitor(struct db_pool *db, long long visitor_id, long long *teams, int max,
                                     int *n) CHAT_CHECKED;

#endif
