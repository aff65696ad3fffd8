/* clock: the monotonic clock, read in one place.
 *
 * Owns how parleyd measures durations and deadlines: CLOCK_MONOTONIC, never
 * the wall clock (which jumps). */
#ifndef PARLEY_CLOCK_H
#define PARLEY_CLOCK_H

#include <time.h>

/* Monotonic seconds (arbitrary origin). */
double clock_now(void);

/* The monotonic time ms milliseconds from now, for pthread_cond_timedwait
 * on a condition variable set to CLOCK_MONOTONIC (clock_cond_init). */
struct timespec clock_deadline(long ms);

#include <pthread.h>

/* Initialises a condition variable that waits on the monotonic clock. */
void clock_cond_init(pthread_cond_t *cond);

#endif
