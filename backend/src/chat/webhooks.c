#include "chat/webhooks.h"

#include "core/log.h"
#include "core/seal.h"
#include "core/text.h"
#include "db/db.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>

#define HOOKS_CHANNEL "parley_hooks"
/* Sealed secrets are bound to their use: a sealed value copied into another
 * column or table does not open. */
static const char seal_aad[] = "parley webhook secret v1";

_Static_assert(WEBHOOKS_SEALED_HEX == 2 * (WHSIG_KEY_BYTES + SEAL_OVERHEAD) + 3, "the sealed layout of core/seal");

struct webhooks {
    struct app *app;
    unsigned char key[SEAL_KEY_BYTES];
    struct netguard guard;
    PGconn *wake;         /* LISTEN parley_hooks; the worker thread's only */
    double wake_retry_at; /* when to try connecting it again */
    atomic_ullong attempts, delivered, failed_attempts, given_up, disabled;
    unsigned seed; /* the retry jitter's; the worker thread's only */
};

static const char *const event_types[] = {
    "conversation.created", "conversation.queued",   "conversation.assigned", "conversation.transferred",
    "conversation.closed",  "conversation.reopened", "conversation.rated",    "conversation.sla_breached",
    "message.created",      "visitor.updated",       "call.ringing",          "call.accepted",
    "call.ended",
};

int webhooks_event_known(const char *type)
{
    for (size_t i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++)
        if (strcmp(event_types[i], type) == 0)
            return 1;
    return 0;
}

const struct netguard *webhooks_guard(const struct webhooks *w)
{
    return &w->guard;
}

/* ---- opening: the sealing key, shared by every node ---- */

/* The key's SHA-256 is kept in server_secrets by the first node; a node
 * with another key would seal secrets the others cannot open: refused. */
static int key_matches_cluster(struct db_pool *db, const unsigned char key[SEAL_KEY_BYTES], char *err, size_t errlen)
{
    unsigned char sum[SHA256_DIGEST_LENGTH];
    char hex[2 * SHA256_DIGEST_LENGTH + 3], *stored = NULL;
    SHA256(key, SEAL_KEY_BYTES, sum);
    db_bytea_hex(sum, sizeof(sum), hex);
    int rc =
        db_query_text(db, &stored,
                      "WITH ins AS (INSERT INTO server_secrets (name, value) VALUES ('secret_key_sha256', $1::bytea)"
                      "  ON CONFLICT (name) DO NOTHING RETURNING value)"
                      " SELECT (SELECT value FROM ins UNION ALL"
                      "   SELECT value FROM server_secrets WHERE name = 'secret_key_sha256' LIMIT 1) = $1::bytea",
                      1, (const char *const[]){hex});
    int ok = rc == DB_OK && stored && strcmp(stored, "t") == 0;
    if (rc != DB_OK)
        snprintf(err, errlen, "webhooks: cannot check the secret key against the database");
    else if (!ok)
        snprintf(err, errlen,
                 "PARLEY_SECRET_KEY_FILE: this key is not the one the other nodes of this database use; "
                 "give every node a copy of the same key file");
    free(stored);
    return ok ? 0 : -1;
}

struct webhooks *webhooks_open(struct app *app, char *err, size_t errlen)
{
    struct webhooks *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->app = app;
    w->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    char why[256];
    if (netguard_parse(&w->guard, app->cfg->webhook_allow_private, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "PARLEY_WEBHOOK_ALLOW_PRIVATE: %s", why);
        goto fail;
    }
    if (seal_key_load(app->cfg->secret_key_file, w->key, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "PARLEY_SECRET_KEY_FILE: %s", why);
        goto fail;
    }
    if (key_matches_cluster(app->db, w->key, err, errlen) != 0)
        goto fail;
    return w;
fail:
    webhooks_close(w);
    return NULL;
}

void webhooks_close(struct webhooks *w)
{
    if (!w)
        return;
    if (w->wake)
        PQfinish(w->wake);
    OPENSSL_cleanse(w->key, sizeof(w->key));
    free(w);
}

/* ---- URLs ---- */

/* The host as written in url (libcurl's parser turns 0x7f.1 into
 * 127.0.0.1, hiding the spelling the guard refuses): between "://" (and
 * any "user@") and the port, path, query or fragment; IPv6 unbracketed. */
static int raw_host(const char *url, char *out, size_t len)
{
    const char *p = strstr(url, "://"), *end;
    if (!p)
        return -1;
    p += 3;
    end = p + strcspn(p, "/?#");
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at)
        p = at + 1;
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close)
            return -1;
        p++;
        end = close;
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (colon)
            end = colon;
    }
    if ((size_t)(end - p) >= len)
        return -1;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return 0;
}

const char *webhooks_url_refusal(const struct webhooks *w, const char *url, char *buf, size_t buflen)
{
    const char *why = NULL;
    char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
    CURLU *u = curl_url();
    size_t len = strlen(url);
    if (len < 8 || len > WEBHOOKS_URL_MAX)
        return "must be an http(s) URL of at most 2048 characters";
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return "must not contain spaces or characters outside ASCII (encode them)";
    if (!u || curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        why = "is not a valid URL";
        goto done;
    }
    if (strcasecmp(scheme, "https") != 0 && strcasecmp(scheme, "http") != 0) {
        why = "must start with https://";
        goto done;
    }
    if (strcasecmp(scheme, "http") == 0 && !w->app->cfg->webhook_allow_http) {
        why = "must use https:// (plain http is allowed only with PARLEY_WEBHOOK_ALLOW_HTTP=1)";
        goto done;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
        why = "must not carry a user name or password";
        goto done;
    }
    char bare[256];
    if (raw_host(url, bare, sizeof(bare)) != 0) {
        why = "has a host name that is not valid";
        goto done;
    }
    size_t hl = strlen(bare);
    const char *host_why = netguard_refuse_host(bare);
    if (host_why) {
        why = strcmp(host_why, "odd-spelling") == 0 ? "spells an IP address in an unusual form (octal, hex or integer)"
                                                    : "has a host name that is not valid";
        goto done;
    }
    /* A literal address is checked now; a name at each connect (its
     * answer may change), and localhost names are loopback by definition. */
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, bare, &v4->sin_addr) == 1)
        ss.ss_family = AF_INET;
    else if (inet_pton(AF_INET6, bare, &v6->sin6_addr) == 1)
        ss.ss_family = AF_INET6;
    else if (strcasecmp(bare, "localhost") == 0 || (hl > 10 && strcasecmp(bare + hl - 10, ".localhost") == 0)) {
        ss.ss_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    const char *addr_why = ss.ss_family ? netguard_refuse_addr(&w->guard, (struct sockaddr *)&ss) : NULL;
    if (addr_why) {
        snprintf(buf, buflen, "points to a %s address, which webhooks may not reach (see PARLEY_WEBHOOK_ALLOW_PRIVATE)",
                 addr_why);
        why = buf;
    }
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(password);
    curl_url_cleanup(u);
    return why;
}

/* ---- endpoints ---- */

int webhooks_new_secret(struct webhooks *w, char secret[WHSIG_SECRET_MAX], char hex[WEBHOOKS_SEALED_HEX])
{
    unsigned char key[WHSIG_KEY_BYTES], sealed[WHSIG_KEY_BYTES + SEAL_OVERHEAD];
    int rc = -1;
    if (whsig_secret_new(key, secret) != 0 ||
        seal_encrypt(w->key, seal_aad, sizeof(seal_aad) - 1, key, sizeof(key), sealed) != 0)
        goto done;
    db_bytea_hex(sealed, sizeof(sealed), hex);
    rc = 0;
done:
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

/* Opens a sealed secret given as hex (encode(secret, 'hex')). */
static int open_secret(struct webhooks *w, const char *hex, unsigned char key[WHSIG_KEY_BYTES])
{
    unsigned char sealed[WHSIG_KEY_BYTES + SEAL_OVERHEAD];
    if (!hex || strlen(hex) != 2 * sizeof(sealed))
        return -1;
    for (size_t i = 0; i < sizeof(sealed); i++) {
        int hi = text_hex_digit(hex[2 * i]), lo = text_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        sealed[i] = (unsigned char)(hi << 4 | lo);
    }
    return seal_decrypt(w->key, seal_aad, sizeof(seal_aad) - 1, sealed, sizeof(sealed), key);
}

#define ENDPOINT_JSON "parley_webhook_json(e)::text"

enum chat_err webhooks_create(struct webhooks *w, const struct webhook_fields *f, char secret[WHSIG_SECRET_MAX],
                              char **json)
{
    char hex[WEBHOOKS_SEALED_HEX], max[16];
    *json = NULL;
    if (webhooks_new_secret(w, secret, hex) != 0)
        return CHAT_E_INTERNAL;
    snprintf(max, sizeof(max), "%d", WEBHOOKS_MAX_ENDPOINTS);
    const char *params[7] = {f->url,
                             f->description ? f->description : "",
                             f->events,
                             f->include_notes > 0 ? "true" : "false",
                             f->enabled == 0 ? "false" : "true",
                             hex,
                             max};
    /* The count and the insert in one statement, under a lock on the
     * table's rows, so two admins at once cannot pass the limit. */
    enum chat_err err = chat_err_of_write(db_query_text(
        w->app->db, json,
        "WITH lock AS (SELECT pg_advisory_xact_lock(hashtext('webhook_endpoints'))),"
        " n AS (SELECT count(*) AS n FROM webhook_endpoints, lock),"
        " e AS (INSERT INTO webhook_endpoints (url, description, events, include_notes, enabled, disabled_reason,"
        "   disabled_at, secret)"
        "  SELECT $1, $2, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), $4::boolean, $5::boolean,"
        "   CASE WHEN $5::boolean THEN NULL ELSE 'admin' END, CASE WHEN $5::boolean THEN NULL ELSE now() END,"
        "   $6::bytea FROM n WHERE n.n < $7::int RETURNING *)"
        " SELECT CASE WHEN EXISTS (SELECT 1 FROM e) THEN (SELECT " ENDPOINT_JSON " FROM e) ELSE '' END",
        7, params));
    if (err == CHAT_OK && (*json)[0] == '\0') {
        free(*json);
        *json = NULL;
        err = CHAT_E_LIMIT;
    }
    if (err != CHAT_OK)
        OPENSSL_cleanse(secret, WHSIG_SECRET_MAX);
    return err;
}

/* CHAT_E_INVALID_STATE when endpoint id belongs to a bot (changed and
 * deleted only with its bot), CHAT_OK otherwise (missing included). */
static enum chat_err not_a_bots(struct webhooks *w, long long id)
{
    char *bot = NULL;
    enum chat_err err = chat_err_of(db_query_text(
        w->app->db, &bot, "SELECT EXISTS (SELECT 1 FROM bots WHERE endpoint_id = $1::bigint AND deleted_at IS NULL)", 1,
        (const char *const[]){DB_ID(id)}));
    if (err == CHAT_OK && strcmp(bot, "t") == 0)
        err = CHAT_E_INVALID_STATE;
    free(bot);
    return err;
}

enum chat_err webhooks_update(struct webhooks *w, long long id, const struct webhook_fields *f, char **json)
{
    const char *params[6] = {DB_ID(id),
                             f->url,
                             f->description,
                             f->events,
                             f->include_notes < 0 ? NULL
                             : f->include_notes   ? "true"
                                                  : "false",
                             f->enabled < 0 ? NULL
                             : f->enabled   ? "true"
                                            : "false"};
    enum chat_err err = not_a_bots(w, id);
    if (err != CHAT_OK)
        return err;
    return chat_err_of_write(db_query_text(w->app->db, json,
                                           "SELECT parley_webhook_json(e)::text FROM parley_webhook_update($1::bigint,"
                                           " $2, $3, $4::jsonb, $5::boolean, $6::boolean) e WHERE e.id IS NOT NULL",
                                           6, params));
}

enum chat_err webhooks_delete(struct webhooks *w, long long id)
{
    char *n = NULL;
    enum chat_err err = not_a_bots(w, id);
    if (err != CHAT_OK)
        return err;
    err = chat_err_of(db_query_text(
        w->app->db, &n,
        "WITH d AS (DELETE FROM webhook_endpoints WHERE id = $1::bigint RETURNING 1) SELECT count(*) FROM d", 1,
        (const char *const[]){DB_ID(id)}));
    if (err == CHAT_OK && strcmp(n, "0") == 0)
        err = CHAT_E_NOT_FOUND;
    free(n);
    return err;
}

enum chat_err webhooks_list_json(struct webhooks *w, char **json)
{
    return chat_err_of(db_query_text(w->app->db, json,
                                     "SELECT json_build_object('data', coalesce(json_agg(parley_webhook_json(e)"
                                     " ORDER BY e.id DESC), '[]'::json))::text FROM webhook_endpoints e",
                                     0, NULL));
}

enum chat_err webhooks_get_json(struct webhooks *w, long long id, char **json)
{
    return chat_err_of(db_query_text(w->app->db, json,
                                     "SELECT " ENDPOINT_JSON " FROM webhook_endpoints e WHERE e.id = $1::bigint", 1,
                                     (const char *const[]){DB_ID(id)}));
}

enum chat_err webhooks_rotate(struct webhooks *w, long long id, int grace_seconds, char secret[WHSIG_SECRET_MAX],
                              char **json)
{
    char hex[WEBHOOKS_SEALED_HEX], grace[16];
    *json = NULL;
    if (webhooks_new_secret(w, secret, hex) != 0)
        return CHAT_E_INTERNAL;
    snprintf(grace, sizeof(grace), "%d", grace_seconds);
    enum chat_err err = chat_err_of(db_query_text(
        w->app->db, json,
        "UPDATE webhook_endpoints e SET previous_secret = CASE WHEN $3::int > 0 THEN secret END,"
        "  previous_secret_expires_at = CASE WHEN $3::int > 0 THEN now() + make_interval(secs => $3::int) END,"
        "  secret = $2::bytea, secret_rotated_at = now(), updated_at = now()"
        " WHERE id = $1::bigint RETURNING " ENDPOINT_JSON,
        3, (const char *const[]){DB_ID(id), hex, grace}));
    if (err != CHAT_OK)
        OPENSSL_cleanse(secret, WHSIG_SECRET_MAX);
    return err;
}

enum chat_err webhooks_send_test(struct webhooks *w, long long id, char **json)
{
    return chat_err_of(db_query_text(w->app->db, json,
                                     "SELECT json_build_object('delivery', parley_hook_test($1::bigint))::text"
                                     " WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = $1::bigint)",
                                     1, (const char *const[]){DB_ID(id)}));
}

enum chat_err webhooks_deliveries_json(struct webhooks *w, long long id, const char *status, int limit,
                                       long long before, char **json)
{
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *params[4] = {DB_ID(id), status, lim, before > 0 ? DB_ID(before) : NULL};
    return chat_err_of(db_query_text(
        w->app->db, json,
        "WITH page AS (SELECT d.* FROM webhook_deliveries d WHERE d.endpoint_id = $1::bigint"
        "   AND ($2::text IS NULL OR d.status = $2) AND ($4::bigint IS NULL OR d.id < $4::bigint)"
        "   ORDER BY d.id DESC LIMIT $3::int + 1)"
        " SELECT json_build_object("
        "  'data', coalesce((SELECT json_agg(parley_webhook_delivery_json(x) ORDER BY x.id DESC)"
        "     FROM (SELECT * FROM page ORDER BY id DESC LIMIT $3::int) x), '[]'::json),"
        "  'next_before', CASE WHEN (SELECT count(*) FROM page) > $3::int"
        "     THEN (SELECT min(id) FROM (SELECT id FROM page ORDER BY id DESC LIMIT $3::int) y) END)::text"
        " FROM webhook_endpoints e WHERE e.id = $1::bigint",
        4, params));
}

enum chat_err webhooks_delivery_json(struct webhooks *w, long long id, long long delivery, char **json)
{
    return chat_err_of(db_query_text(
        w->app->db, json,
        "SELECT (parley_webhook_delivery_json(d) || jsonb_build_object("
        "  'body', ev.body,"
        "  'attempts', coalesce((SELECT jsonb_agg(jsonb_build_object('attempt', a.attempt,"
        "     'started_at', parley_iso(a.started_at), 'latency_ms', a.latency_ms,"
        "     'response_status', a.response_status, 'response_excerpt', a.response_excerpt, 'error', a.error,"
        "     'request_headers', a.request_headers) ORDER BY a.id)"
        "   FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]'::jsonb)))::text"
        " FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id"
        " WHERE d.id = $2::bigint AND d.endpoint_id = $1::bigint",
        2, (const char *const[]){DB_ID(id), DB_ID(delivery)}));
}

enum chat_err webhooks_redeliver(struct webhooks *w, long long id, long long delivery, char **json)
{
    return chat_err_of(db_query_text(w->app->db, json,
                                     "SELECT json_build_object('delivery', r)::text"
                                     " FROM parley_hook_redeliver($1::bigint, $2::bigint) r WHERE r IS NOT NULL",
                                     2, (const char *const[]){DB_ID(id), DB_ID(delivery)}));
}

/* ---- the worker's side ---- */

void webhooks_job_clear(struct webhook_job *job)
{
    free(job->url);
    free(job->body);
    OPENSSL_cleanse(job->key, sizeof(job->key));
    OPENSSL_cleanse(job->prev_key, sizeof(job->prev_key));
    memset(job, 0, sizeof(*job));
}

void webhooks_jobs_free(struct webhook_job *jobs, int n)
{
    for (int i = 0; jobs && i < n; i++)
        webhooks_job_clear(&jobs[i]);
    free(jobs);
}

enum chat_err webhooks_claim(struct webhooks *w, int max, struct webhook_job **jobs, int *n, long long *next_due_ms)
{
    char lim[16], lease[16];
    PGresult *res = NULL;
    struct webhook_job *out = NULL;
    int got = 0;
    *jobs = NULL;
    *n = 0;
    *next_due_ms = -1;
    snprintf(lim, sizeof(lim), "%d", max);
    /* Longer than any attempt can take, so a live node never loses one. */
    snprintf(lease, sizeof(lease), "%d", w->app->cfg->webhook_timeout_seconds + 30);
    int rc = db_query(w->app->db, &res,
                      "SELECT c.delivery_id, c.attempt, c.endpoint_id, c.url, encode(c.secret, 'hex'),"
                      "  encode(c.previous_secret, 'hex'), c.event_uid, c.body"
                      " FROM parley_hook_claim($1, $2::int, $3::int) c",
                      3, (const char *const[]){w->app->node_id, lim, lease});
    if (rc != DB_OK)
        return chat_err_of(rc);
    int rows = PQntuples(res);
    if (rows > 0 && !(out = calloc((size_t)rows, sizeof(*out)))) {
        PQclear(res);
        return CHAT_E_INTERNAL;
    }
    for (int i = 0; i < rows; i++) {
        struct webhook_job *j = &out[got];
        j->delivery_id = db_get_ll(res, i, 0, 0);
        j->attempt = (int)db_get_ll(res, i, 1, 1);
        j->endpoint_id = db_get_ll(res, i, 2, 0);
        snprintf(j->event_uid, sizeof(j->event_uid), "%s", db_get_str(res, i, 6));
        j->url = strdup(db_get_str(res, i, 3));
        j->body_len = (size_t)PQgetlength(res, i, 7);
        j->body = strdup(db_get_str(res, i, 7));
        if (!j->url || !j->body) {
            j->unsendable = "out_of_memory";
        } else if (open_secret(w, db_get_str(res, i, 4), j->key) != 0) {
            /* A key file changed by hand: nothing unsigned goes out. */
            j->unsendable = "secret_unreadable";
            log_error("webhook secret cannot be opened", "endpoint", db_get_str(res, i, 2));
        }
        j->has_prev = db_get_str(res, i, 5) && open_secret(w, db_get_str(res, i, 5), j->prev_key) == 0;
        got++;
    }
    PQclear(res);
    *jobs = out;
    *n = got;
    /* All it asked for: more may be due now; otherwise when is the next. */
    if (got == max)
        *next_due_ms = 0;
    else if (db_query(w->app->db, &res, "SELECT parley_hook_next_due_ms()", 0, NULL) == DB_OK) {
        *next_due_ms = db_get_ll(res, 0, 0, -1);
        PQclear(res);
    }
    return CHAT_OK;
}

double webhooks_next_delay(const int *schedule, int len, int done, int retry_after, double rnd)
{
    if (done >= len)
        return -1;
    double base = schedule[done];
    double delay = base * (0.9 + 0.2 * rnd);
    if (retry_after > delay) {
        int longest = 0;
        for (int i = 0; i < len; i++)
            longest = schedule[i] > longest ? schedule[i] : longest;
        delay = retry_after < longest ? retry_after : longest;
        delay = delay > base ? delay : base;
    }
    return delay;
}

/* What follows from attempt r of job: delivered, gone, retry (after
 * *delay seconds) or failed; counted for /metrics. */
static const char *outcome_of(struct webhooks *w, const struct webhook_job *job, const struct webhook_result *r,
                              double *delay)
{
    const struct config *cfg = w->app->cfg;
    *delay = 0;
    atomic_fetch_add(&w->attempts, 1);
    if (r->status >= 200 && r->status < 300 && !r->error) {
        atomic_fetch_add(&w->delivered, 1);
        return "delivered";
    }
    atomic_fetch_add(&w->failed_attempts, 1);
    if (r->status == 410)
        return "gone";
    *delay = webhooks_next_delay(cfg->webhook_schedule, cfg->webhook_schedule_len, job->attempt, r->retry_after,
                                 (double)rand_r(&w->seed) / ((double)RAND_MAX + 1.0));
    if (*delay >= 0)
        return "retry";
    atomic_fetch_add(&w->given_up, 1);
    return "failed";
}

enum chat_err webhooks_record(struct webhooks *w, const struct webhook_job *const *jobs,
                              const struct webhook_result *results, int n)
{
    json_t *all = json_array();
    char *text = NULL, disable[16];
    PGresult *res = NULL;
    enum chat_err err = CHAT_E_INTERNAL;
    for (int i = 0; all && i < n; i++) {
        const struct webhook_result *r = &results[i];
        double delay;
        const char *outcome = outcome_of(w, jobs[i], r, &delay);
        json_t *headers = r->headers ? json_loads(r->headers, 0, NULL) : NULL;
        json_t *one =
            json_pack("{s:I, s:i, s:f, s:i, s:o, s:s?, s:s?, s:o, s:s, s:f}", "d", (json_int_t)jobs[i]->delivery_id,
                      "a", jobs[i]->attempt, "s", r->started, "l", r->latency_ms, "st",
                      r->status ? json_integer(r->status) : json_null(), "e", r->error, "x", r->excerpt, "h",
                      headers ? headers : json_object(), "o", outcome, "w", delay < 0 ? 0.0 : delay);
        if (!one || json_array_append_new(all, one) != 0)
            goto done;
    }
    if (!all || !(text = json_dumps(all, JSON_COMPACT)))
        goto done;
    snprintf(disable, sizeof(disable), "%d", w->app->cfg->webhook_disable_after_seconds);
    /* Every result of one wake-up in one statement: one round trip, not one
     * per delivery. */
    err = chat_err_of(db_query(w->app->db, &res, "SELECT parley_hook_record_all($1, $2::jsonb, $3::int)", 3,
                               (const char *const[]){w->app->node_id, text, disable}));
    for (int i = 0; err == CHAT_OK && i < PQntuples(res); i++) {
        atomic_fetch_add(&w->disabled, 1);
        log_warn("webhook endpoint disabled", "endpoint", db_get_str(res, i, 0));
    }
done:
    PQclear(res);
    free(text);
    json_decref(all);
    return err;
}

void webhooks_release(struct webhooks *w)
{
    if (db_query(w->app->db, NULL, "SELECT parley_hook_release($1)", 1, (const char *const[]){w->app->node_id}) !=
        DB_OK)
        log_warn("webhook leases not released; other nodes take them when they run out");
}

void webhooks_maintain(struct webhooks *w)
{
    if (db_query(w->app->db, NULL, "SELECT parley_hook_maintain()", 0, NULL) != DB_OK)
        log_warn("webhook maintenance failed; the next round retries");
}

void webhooks_sweep(struct webhooks *w)
{
    char days[16];
    snprintf(days, sizeof(days), "%d", w->app->cfg->webhook_retention_days);
    if (db_query(w->app->db, NULL, "SELECT parley_hook_sweep($1::int)", 1, (const char *const[]){days}) != DB_OK)
        log_warn("webhook log sweep failed");
}

/* ---- waking the worker ---- */

int webhooks_wake_fd(struct webhooks *w)
{
    return w->wake && PQstatus(w->wake) == CONNECTION_OK ? PQsocket(w->wake) : -1;
}

int webhooks_wake_drain(struct webhooks *w)
{
    int woken = 0;
    if (!w->wake || PQstatus(w->wake) != CONNECTION_OK) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        if (now < w->wake_retry_at)
            return 0;
        w->wake_retry_at = now + 2;
        if (w->wake)
            PQfinish(w->wake);
        w->wake = db_connect(w->app->db, "parleyd-hooks");
        PGresult *res = PQstatus(w->wake) == CONNECTION_OK ? PQexec(w->wake, "LISTEN " HOOKS_CHANNEL) : NULL;
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            PQfinish(w->wake);
            w->wake = NULL;
        }
        PQclear(res);
        return 1; /* whatever was notified while it was down: look now */
    }
    if (PQconsumeInput(w->wake) == 0) {
        log_warn("webhook wake-up connection lost", "error", PQerrorMessage(w->wake));
        PQfinish(w->wake);
        w->wake = NULL;
        return 1;
    }
    PGnotify *n;
    while ((n = PQnotifies(w->wake)) != NULL) {
        woken = 1;
        PQfreemem(n);
    }
    return woken;
}

void webhooks_stats(struct webhooks *w, struct webhooks_stats *out)
{
    PGresult *res = NULL;
    out->attempts = atomic_load(&w->attempts);
    out->delivered = atomic_load(&w->delivered);
    out->failed_attempts = atomic_load(&w->failed_attempts);
    out->given_up = atomic_load(&w->given_up);
    out->disabled = atomic_load(&w->disabled);
    out->backlog = -1;
    out->oldest_seconds = 0;
    if (db_read(w->app->db, &res,
                "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8"
                " FROM webhook_deliveries WHERE status = 'pending'",
                0, NULL) == DB_OK) {
        out->backlog = db_get_ll(res, 0, 0, -1);
        out->oldest_seconds = atof(db_get_str(res, 0, 1));
    }
    PQclear(res);
}
