#include "hooks/sender.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/netguard.h"
#include "core/text.h"
#include "core/whsig.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SWEEP_EVERY_SECONDS 3600
/* A killed node's deliveries are sent again within this of its heartbeat
 * going stale (webhooks_maintain). */
#define MAINTAIN_EVERY_SECONDS 2
/* With nothing pending, look again this often anyway (a NOTIFY missed
 * while the wake-up connection was down, another node's lapsed lease). */
#define IDLE_WAIT_MS 5000

struct sender {
    struct app *app;
    struct webhooks *w;
    CURLM *multi;
    int stop_fd;
    pthread_t thread;
    atomic_int inflight;
    struct transfer *transfers; /* in flight, for stopping */
    /* The transfers that ended in one wake-up, recorded together
     * (capacity = PARLEY_WEBHOOK_CONCURRENCY, the most in flight). */
    int capacity;
    struct transfer **done;
    const struct webhook_job **done_jobs;
    struct webhook_result *results;
};

/* One delivery being made. */
struct transfer {
    struct sender *s;
    struct transfer *prev, *next;
    struct webhook_job job;
    CURL *easy;
    struct curl_slist *headers;
    char *headers_json;
    char excerpt[WEBHOOKS_EXCERPT_MAX + 1];
    size_t excerpt_len, read;
    int too_large;
    int retry_after;
    const char *refused; /* the guard's reason for the last address refused */
    char error_text[96];
    double t0, started;
    char errbuf[CURL_ERROR_SIZE];
};

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every socket libcurl opens comes here with the address it is for: the
 * guard decides on the very address connected to, after any DNS answer. */
static curl_socket_t open_checked(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct transfer *t = clientp;
    (void)purpose;
    const char *why = netguard_refuse_addr(webhooks_guard(t->s->w), &addr->addr);
    if (why) {
        t->refused = why;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* Keeps the start of the answer for the log; stops reading past the cap. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct transfer *t = arg;
    size_t len = size * n;
    if (t->excerpt_len < WEBHOOKS_EXCERPT_MAX) {
        size_t take = WEBHOOKS_EXCERPT_MAX - t->excerpt_len < len ? WEBHOOKS_EXCERPT_MAX - t->excerpt_len : len;
        memcpy(t->excerpt + t->excerpt_len, data, take);
        t->excerpt_len += take;
    }
    t->read += len;
    if (t->read > SENDER_MAX_RESPONSE) {
        t->too_large = 1;
        return 0; /* CURLE_WRITE_ERROR: the transfer ends here */
    }
    return len;
}

/* Retry-After: delta-seconds or an HTTP date. */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct transfer *t = arg;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof(name) - 1 && len < 200 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
        char value[200];
        size_t vl = len - (sizeof(name) - 1);
        memcpy(value, data + sizeof(name) - 1, vl);
        value[vl] = '\0';
        char *v = value;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\r\n")] = '\0';
        char *end = NULL;
        long secs = strtol(v, &end, 10);
        if (end != v && *end == '\0' && secs >= 0)
            t->retry_after = secs > 86400 ? 86400 : (int)secs;
        else {
            time_t at = curl_getdate(v, NULL);
            if (at > 0) {
                long d = (long)(at - time(NULL));
                t->retry_after = d < 0 ? 0 : d > 86400 ? 86400 : (int)d;
            }
        }
    }
    return len;
}

/* Signs and builds the request headers; the same headers as JSON for the
 * delivery log. */
static int build_headers(struct transfer *t, long long ts)
{
    char sig[WHSIG_SIG_MAX], prev[WHSIG_SIG_MAX], line[300], ts_text[24];
    json_t *log = NULL;
    int rc = -1;
    snprintf(ts_text, sizeof(ts_text), "%lld", ts);
    if (whsig_sign(t->job.key, WHSIG_KEY_BYTES, t->job.event_uid, ts, t->job.body, t->job.body_len, sig) != 0)
        goto done;
    if (t->job.has_prev) {
        if (whsig_sign(t->job.prev_key, WHSIG_KEY_BYTES, t->job.event_uid, ts, t->job.body, t->job.body_len, prev) != 0)
            goto done;
    }
    /* Both, space-separated: a receiver with either secret verifies. */
    char signature[2 * WHSIG_SIG_MAX + 2];
    snprintf(signature, sizeof(signature), "%s%s%s", sig, t->job.has_prev ? " " : "", t->job.has_prev ? prev : "");
    const char *const fixed[] = {"Content-Type: application/json", "User-Agent: Parley-Webhooks/1.0", "Expect:"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        struct curl_slist *l = curl_slist_append(t->headers, fixed[i]);
        if (!l)
            goto done;
        t->headers = l;
    }
    const char *names[3] = {"webhook-id", "webhook-timestamp", "webhook-signature"};
    const char *values[3] = {t->job.event_uid, ts_text, signature};
    log = json_pack("{s:s, s:s}", "content-type", "application/json", "user-agent", "Parley-Webhooks/1.0");
    for (int i = 0; i < 3; i++) {
        snprintf(line, sizeof(line), "%s: %s", names[i], values[i]);
        struct curl_slist *l = curl_slist_append(t->headers, line);
        if (!l || !log)
            goto done;
        t->headers = l;
        json_object_set_new(log, names[i], json_string(values[i]));
    }
    t->headers_json = json_dumps(log, JSON_COMPACT);
    rc = t->headers_json ? 0 : -1;
done:
    json_decref(log);
    return rc;
}

static void transfer_free(struct transfer *t)
{
    if (!t)
        return;
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    free(t->headers_json);
    webhooks_job_clear(&t->job);
    free(t);
}

/* Starts the job (taken over: the transfer frees it). */
static int transfer_start(struct sender *s, struct webhook_job *job)
{
    const struct config *cfg = s->app->cfg;
    struct transfer *t = calloc(1, sizeof(*t));
    if (!t) {
        webhooks_job_clear(job);
        return -1;
    }
    t->s = s;
    t->job = *job;
    memset(job, 0, sizeof(*job));
    t->retry_after = -1;
    t->started = wall_now();
    t->t0 = clock_now();
    long timeout_ms = (long)cfg->webhook_timeout_seconds * 1000;
    if (build_headers(t, (long long)t->started) != 0 || !(t->easy = curl_easy_init()))
        goto fail;
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, t->job.url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->job.body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->job.body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    if (curl_multi_add_handle(s->multi, e) != CURLM_OK)
        goto fail;
    t->next = s->transfers;
    if (s->transfers)
        s->transfers->prev = t;
    s->transfers = t;
    atomic_fetch_add(&s->inflight, 1);
    return 0;
fail:
    char id[24];
    snprintf(id, sizeof(id), "%lld", t->job.delivery_id);
    log_error("webhook transfer not started", "delivery", id);
    transfer_free(t);
    return -1;
}

/* What went wrong, in the log's words (NULL: a 2xx answer). */
static const char *failure_of(const struct transfer *t, CURLcode code, long status)
{
    if (t->refused && (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST))
        return "refused_address";
    if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && t->too_large)) {
        if (status >= 200 && status < 300)
            return NULL;
        if (status >= 300 && status < 400)
            return "redirect";
        return t->too_large ? "response_too_large" : "status";
    }
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "dns";
    case CURLE_COULDNT_CONNECT:
        return "connect";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return "tls";
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "protocol";
    default:
        return "network";
    }
}

/* Takes t off the multi handle and the list, and frees it. */
static void transfer_end(struct sender *s, struct transfer *t)
{
    curl_multi_remove_handle(s->multi, t->easy);
    if (t->prev)
        t->prev->next = t->next;
    else
        s->transfers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    atomic_fetch_sub(&s->inflight, 1);
    transfer_free(t);
}

/* How transfer t went, into *r (pointing into t: record before freeing t). */
static void transfer_result(struct transfer *t, CURLcode code, struct webhook_result *r)
{
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    t->excerpt[t->excerpt_len] = '\0';
    const char *error = failure_of(t, code, status);
    if (error && strcmp(error, "refused_address") == 0) {
        snprintf(t->error_text, sizeof(t->error_text), "refused_address (%s)", t->refused);
        error = t->error_text;
    }
    /* The excerpt is kept as text: a multibyte character cut by the limit
     * is dropped; an answer that is not UTF-8 text is not kept. */
    size_t keep = t->excerpt_len;
    while (keep > 0 && t->excerpt_len - keep < 4 && text_utf8_chars(t->excerpt, keep) < 0)
        keep--;
    if (text_utf8_chars(t->excerpt, keep) < 0 || memchr(t->excerpt, '\0', keep))
        keep = (size_t)snprintf(t->excerpt, sizeof(t->excerpt), "(%zu bytes, not UTF-8 text)", t->read);
    t->excerpt[keep] = '\0';
    *r = (struct webhook_result){
        .started = t->started,
        .latency_ms = (int)((clock_now() - t->t0) * 1000),
        .status = (int)status,
        .error = error,
        .excerpt = t->excerpt[0] ? t->excerpt : NULL,
        .retry_after = t->retry_after,
        .headers = t->headers_json,
    };
}

/* Records the transfers that ended in this wake-up, in one statement, and
 * frees them. */
static void transfers_finish(struct sender *s, int n)
{
    for (int i = 0; i < n; i++)
        s->done_jobs[i] = &s->done[i]->job;
    if (n > 0 && webhooks_record(s->w, s->done_jobs, s->results, n) != CHAT_OK) {
        char count[16];
        snprintf(count, sizeof(count), "%d", n);
        log_warn("webhook attempts not recorded; their leases run out and they are sent again", "count", count);
    }
    for (int i = 0; i < n; i++)
        transfer_end(s, s->done[i]);
}

static void claim_and_start(struct sender *s, long long *next_due_ms)
{
    int room = s->app->cfg->webhook_concurrency - atomic_load(&s->inflight);
    struct webhook_job *jobs = NULL;
    int n = 0;
    *next_due_ms = -1;
    if (room <= 0) {
        *next_due_ms = IDLE_WAIT_MS;
        return;
    }
    if (webhooks_claim(s->w, room, &jobs, &n, next_due_ms) != CHAT_OK) {
        *next_due_ms = 1000; /* the database is away: try again soon */
        return;
    }
    for (int i = 0; i < n; i++) {
        if (!jobs[i].unsendable) {
            (void)transfer_start(s, &jobs[i]);
            continue;
        }
        /* Recorded as a failed attempt without a request. */
        const struct webhook_job *job = &jobs[i];
        struct webhook_result r = {
            .started = wall_now(), .error = jobs[i].unsendable, .retry_after = -1, .headers = "{}"};
        if (webhooks_record(s->w, &job, &r, 1) != CHAT_OK)
            log_warn("webhook attempt not recorded; its lease runs out and it is tried again");
    }
    webhooks_jobs_free(jobs, n);
}

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    double next_claim = 0, next_sweep = 0, next_maintain = 0;
    for (;;) {
        double now = clock_now();
        if (now >= next_sweep) {
            webhooks_sweep(s->w);
            next_sweep = now + SWEEP_EVERY_SECONDS;
        }
        if (now >= next_maintain) {
            webhooks_maintain(s->w);
            next_maintain = now + MAINTAIN_EVERY_SECONDS;
            next_claim = 0;
        }
        if (now >= next_claim) {
            long long due;
            claim_and_start(s, &due);
            next_claim = clock_now() + (due < 0 ? IDLE_WAIT_MS : due > IDLE_WAIT_MS ? IDLE_WAIT_MS : due) / 1000.0;
        }
        struct curl_waitfd extra[2] = {{.fd = s->stop_fd, .events = CURL_WAIT_POLLIN}};
        int nextra = 1, wake = webhooks_wake_fd(s->w);
        if (wake >= 0)
            extra[nextra++] = (struct curl_waitfd){.fd = wake, .events = CURL_WAIT_POLLIN};
        double wait = (next_claim - clock_now()) * 1000;
        int wait_ms = wait < 0 ? 0 : wait > IDLE_WAIT_MS ? IDLE_WAIT_MS : (int)wait;
        if (wake < 0 && wait_ms > 1000)
            wait_ms = 1000; /* reconnect the wake-up soon */
        if (curl_multi_poll(s->multi, extra, (unsigned)nextra, wait_ms, NULL) != CURLM_OK)
            usleep(100000);
        if (extra[0].revents)
            break;
        if (wake < 0 || extra[1].revents) {
            if (webhooks_wake_drain(s->w))
                next_claim = 0;
        }
        int running = 0;
        curl_multi_perform(s->multi, &running);
        CURLMsg *m;
        int left, ended = 0;
        while (ended < s->capacity && (m = curl_multi_info_read(s->multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct transfer *t = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            transfer_result(t, m->data.result, &s->results[ended]);
            s->done[ended++] = t;
        }
        if (ended > 0) {
            transfers_finish(s, ended);
            next_claim = 0; /* slots are free; a conversation's next event may go */
        }
    }
    /* Stopping: abandon what is in flight (not recorded), give the leases back. */
    while (s->transfers)
        transfer_end(s, s->transfers);
    webhooks_release(s->w);
    return NULL;
}

static void sender_free_arrays(struct sender *s)
{
    free(s->done);
    free(s->done_jobs);
    free(s->results);
}

struct sender *sender_start(struct app *app, struct webhooks *w, char *err, size_t errlen)
{
    struct sender *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->app = app;
    s->w = w;
    s->stop_fd = eventfd(0, EFD_CLOEXEC);
    s->multi = curl_multi_init();
    s->capacity = app->cfg->webhook_concurrency;
    s->done = calloc((size_t)s->capacity, sizeof(*s->done));
    s->done_jobs = calloc((size_t)s->capacity, sizeof(*s->done_jobs));
    s->results = calloc((size_t)s->capacity, sizeof(*s->results));
    if (s->stop_fd < 0 || !s->multi || !s->done || !s->done_jobs || !s->results) {
        snprintf(err, errlen, "cannot set up the webhook sender");
        goto fail;
    }
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)app->cfg->webhook_concurrency);
    if (pthread_create(&s->thread, NULL, sender_main, s) != 0) {
        snprintf(err, errlen, "cannot start the webhook sender thread");
        goto fail;
    }
    return s;
fail:
    if (s->multi)
        curl_multi_cleanup(s->multi);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    sender_free_arrays(s);
    free(s);
    return NULL;
}

void sender_stop(struct sender *s)
{
    if (!s)
        return;
    uint64_t one = 1;
    if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
        log_warn("webhook sender stop signal not sent");
    curl_multi_wakeup(s->multi);
    pthread_join(s->thread, NULL);
    curl_multi_cleanup(s->multi);
    close(s->stop_fd);
    sender_free_arrays(s);
    free(s);
}

int sender_inflight(const struct sender *s)
{
    return s ? atomic_load(&((struct sender *)s)->inflight) : 0;
}
