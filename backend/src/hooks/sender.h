/* sender: this node's webhook delivery worker.
 *
 * One thread drives a libcurl multi handle: many deliveries in flight at
 * once (PARLEY_WEBHOOK_CONCURRENCY), connections kept and reused per host,
 * and one hanging receiver costs one slot until its timeout, never the
 * others' progress. The thread claims due deliveries (chat/webhooks; the
 * database shares them between nodes with SKIP LOCKED and leases), signs
 * each request (Standard Webhooks, core/whsig: the current secret and,
 * during a rotation's grace period, the previous one), and records how each
 * attempt went. It sleeps in curl_multi_poll until a transfer moves, a
 * NOTIFY parley_hooks says an event was written, or the next delivery
 * comes due.
 *
 * The SSRF guard is applied where it cannot be raced: libcurl opens every
 * socket through sender's callback, which refuses an address the guard
 * (core/netguard, with PARLEY_WEBHOOK_ALLOW_PRIVATE) refuses, whatever
 * name resolved to it and however late. Redirects are never followed,
 * proxies from the environment are ignored, only http and https are
 * spoken, at most SENDER_MAX_RESPONSE bytes of an answer are read. */
#ifndef PARLEY_SENDER_H
#define PARLEY_SENDER_H

#include "chat/webhooks.h"
#include "core/app.h"

#include <stddef.h>

#define SENDER_MAX_RESPONSE (64 * 1024)

struct sender;

/* Starts the worker thread. NULL with a message in err. */
struct sender *sender_start(struct app *app, struct webhooks *w, char *err, size_t errlen);
/* Stops it: transfers in flight are abandoned and their leases given
 * back, so the next node (or this one, restarted) sends them at once. */
void sender_stop(struct sender *s);
/* Deliveries in flight on this node. */
int sender_inflight(const struct sender *s);

#endif
