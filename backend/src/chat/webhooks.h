/* webhooks: endpoints, the outbox's deliveries and the delivery log.
 *
 * Owns the webhook_* tables (migrations/0007_webhooks.sql; triggers and
 * functions in db/sql/70_hooks.sql). Events are written by triggers in the
 * transaction of each change; this module is what the admin pages and the
 * delivery worker (hooks/sender) do with them:
 *   - endpoints: created with a fresh whsec_ secret (returned once, stored
 *     sealed with the key file, core/seal), listed, changed, rotated (the
 *     old secret signs beside the new one for a grace period), deleted;
 *   - a URL is checked before it is stored (scheme, no credentials, a host
 *     spelled plainly, a literal address the SSRF guard accepts); names are
 *     checked again at every connect, by the worker;
 *   - the worker claims due deliveries (a lease per delivery, SKIP LOCKED
 *     across nodes), records each attempt and what follows (retry with the
 *     schedule, give up, disable the endpoint), and sweeps the old log;
 *   - the worker is woken by NOTIFY parley_hooks on a connection of its own.
 * One struct webhooks per process (main: webhooks_open), shared through
 * struct app; it holds the sealing key, the allow-list and the counters. */
#ifndef PARLEY_WEBHOOKS_H
#define PARLEY_WEBHOOKS_H

#include "chat/errors.h"
#include "core/app.h"
#include "core/netguard.h"
#include "core/whsig.h"

#include <jansson.h>
#include <stddef.h>

#define WEBHOOKS_MAX_ENDPOINTS   100
#define WEBHOOKS_URL_MAX         2048
#define WEBHOOKS_DESCRIPTION_MAX 500
#define WEBHOOKS_EXCERPT_MAX     1024
#define WEBHOOKS_GRACE_MAX       604800

struct webhooks;

/* Loads (or creates) the sealing key PARLEY_SECRET_KEY_FILE, refusing one
 * that differs from the key the other nodes use (its SHA-256 is kept in
 * server_secrets), parses the allow-list. NULL with a message in err. */
struct webhooks *webhooks_open(struct app *app, char *err, size_t errlen);
void webhooks_close(struct webhooks *w);

/* The SSRF guard's allow-list (PARLEY_WEBHOOK_ALLOW_PRIVATE). */
const struct netguard *webhooks_guard(const struct webhooks *w);

/* 1 when type is an event endpoints may subscribe to. */
int webhooks_event_known(const char *type);

/* NULL when url may be stored; otherwise why not, for the user (a static
 * text, or buf, len bytes, filled). */
#define WEBHOOKS_REFUSAL_MAX 160
const char *webhooks_url_refusal(const struct webhooks *w, const char *url, char *buf, size_t len);

/* A sealed secret as a bytea parameter: "\x" + hex of key + nonce + tag. */
#define WEBHOOKS_SEALED_HEX (2 * (WHSIG_KEY_BYTES + 28) + 3)

/* A fresh secret: its text ("whsec_...") into secret, sealed with the key
 * file into hex (a bytea parameter). 0, or -1 (no randomness). */
int webhooks_new_secret(struct webhooks *w, char secret[WHSIG_SECRET_MAX], char hex[WEBHOOKS_SEALED_HEX]);

/* What a create or update sets: NULL / -1 = leave as it is. events: a JSON
 * array text of known types (checked by the caller). */
struct webhook_fields {
    const char *url;
    const char *description;
    const char *events;
    int include_notes;
    int enabled;
};

/* Creates an endpoint; its secret ("whsec_...") into secret, its shape into
 * *json (the caller frees). CHAT_E_LIMIT when WEBHOOKS_MAX_ENDPOINTS exist. */
enum chat_err webhooks_create(struct webhooks *w, const struct webhook_fields *f, char secret[WHSIG_SECRET_MAX],
                              char **json) CHAT_CHECKED;
/* Changes what f sets; enabling clears disabled_reason and failing_since,
 * disabling sets disabled_reason 'admin'. A bot's endpoint is changed and
 * deleted only with its bot (chat/bots): CHAT_E_INVALID_STATE. */
enum chat_err webhooks_update(struct webhooks *w, long long id, const struct webhook_fields *f,
                              char **json) CHAT_CHECKED;
enum chat_err webhooks_delete(struct webhooks *w, long long id) CHAT_CHECKED;
/* {"data": [endpoint, ...]} newest first. */
enum chat_err webhooks_list_json(struct webhooks *w, char **json) CHAT_CHECKED;
enum chat_err webhooks_get_json(struct webhooks *w, long long id, char **json) CHAT_CHECKED;
/* A new secret into secret; the current one signs too for grace_seconds. */
enum chat_err webhooks_rotate(struct webhooks *w, long long id, int grace_seconds, char secret[WHSIG_SECRET_MAX],
                              char **json) CHAT_CHECKED;
/* Queues a webhook.test event for endpoint id only: {"delivery": ...}. */
enum chat_err webhooks_send_test(struct webhooks *w, long long id, char **json) CHAT_CHECKED;
/* The endpoint's deliveries, newest first: {"data": [...], "next_before"}.
 * status NULL: all; before 0: from the newest. */
enum chat_err webhooks_deliveries_json(struct webhooks *w, long long id, const char *status, int limit,
                                       long long before, char **json) CHAT_CHECKED;
/* One delivery with its body and attempts. */
enum chat_err webhooks_delivery_json(struct webhooks *w, long long id, long long delivery, char **json) CHAT_CHECKED;
/* A new delivery of that delivery's event: {"delivery": ...}. */
enum chat_err webhooks_redeliver(struct webhooks *w, long long id, long long delivery, char **json) CHAT_CHECKED;

/* ---- the delivery worker's side ---- */

/* One delivery to make. */
struct webhook_job {
    long long delivery_id;
    long long endpoint_id;
    int attempt; /* 1 for the first */
    char event_uid[40];
    char *url;  /* owned by the job */
    char *body; /* owned by the job */
    size_t body_len;
    unsigned char key[WHSIG_KEY_BYTES];
    unsigned char prev_key[WHSIG_KEY_BYTES];
    int has_prev; /* the previous secret is in its grace period */
    /* Not to be sent: why (its secret does not open, memory ran out); the
     * worker records it as a failed attempt, retried on the schedule. */
    const char *unsendable;
};

/* Claims up to max due deliveries for this node: *jobs (an array of *n,
 * free with webhooks_jobs_free), and in *next_due_ms how long until more
 * may be due (0: it took max, look again at once; -1: nothing waits for a
 * time). */
enum chat_err webhooks_claim(struct webhooks *w, int max, struct webhook_job **jobs, int *n,
                             long long *next_due_ms) CHAT_CHECKED;
void webhooks_jobs_free(struct webhook_job *jobs, int n);
/* Frees what one job owns (url, body) and wipes its keys. */
void webhooks_job_clear(struct webhook_job *job);

/* How an attempt went. */
struct webhook_result {
    double started; /* clock_wall() when it began */
    int latency_ms;
    int status;          /* HTTP status, 0 when none came */
    const char *error;   /* NULL, or timeout, connect, refused_address, redirect, too_large, ... */
    const char *excerpt; /* the first WEBHOOKS_EXCERPT_MAX bytes of the response body */
    int retry_after;     /* seconds from Retry-After, -1 when absent */
    const char *headers; /* the request headers sent, as a JSON object text */
};

/* Seconds until attempt done + 1 (attempts 1..done were made), with the
 * schedule's ±10 % jitter (rnd in [0,1)) and a longer Retry-After honoured
 * up to the schedule's longest step; -1 when the schedule has no more. */
double webhooks_next_delay(const int *schedule, int len, int done, int retry_after, double rnd);

/* Records attempts (results[i] of jobs[i]) and what follows each:
 * delivered, retry, failed (no attempts left) or gone (410 disables the
 * endpoint); in one statement. */
enum chat_err webhooks_record(struct webhooks *w, const struct webhook_job *const *jobs,
                              const struct webhook_result *results, int n) CHAT_CHECKED;

/* Gives back this node's leases (stopping): due again at once. */
void webhooks_release(struct webhooks *w);
/* Every few seconds: a dead node's deliveries due at once, and a
 * conversation's first delivery left blocked unblocked. */
void webhooks_maintain(struct webhooks *w);
/* Deletes the log older than PARLEY_WEBHOOK_RETENTION_DAYS. */
void webhooks_sweep(struct webhooks *w);

/* The wake-up connection (LISTEN parley_hooks): its socket to poll, -1
 * while it is down (webhooks_wake_drain reconnects, at most every 2 s). */
int webhooks_wake_fd(struct webhooks *w);
/* Consumes what arrived; 1 when some NOTIFY came. */
int webhooks_wake_drain(struct webhooks *w);

/* Counters and the backlog, for /metrics. */
struct webhooks_stats {
    unsigned long long attempts, delivered, failed_attempts, given_up, disabled;
    long long backlog;     /* pending deliveries, all nodes */
    double oldest_seconds; /* age of the oldest pending one */
};
void webhooks_stats(struct webhooks *w, struct webhooks_stats *out);

#endif
