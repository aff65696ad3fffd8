/* ratelimit: fixed-window request counters, in memory, per node.
 *
 * Owns the counting for every "at most N per window" rule that is kept per
 * node rather than in PostgreSQL (visitor messages, API tokens, visitor
 * sessions per IP): a hash table of keys, each with its window start and
 * count, guarded by one mutex; entries idle for four windows are dropped as
 * the table is walked, so memory follows the number of active keys. */
#ifndef PARLEY_RATELIMIT_H
#define PARLEY_RATELIMIT_H

struct ratelimit;

/* limit events per window_seconds for each key. NULL on OOM. */
struct ratelimit *ratelimit_new(int limit, double window_seconds);
void ratelimit_free(struct ratelimit *rl);

/* Counts one event for key (any string up to 63 bytes) at time now
 * (monotonic seconds: clock_now()). Returns 0 when allowed, else the seconds (rounded up,
 * at least 1) until the key's window ends. */
int ratelimit_take(struct ratelimit *rl, const char *key, double now);

#endif
