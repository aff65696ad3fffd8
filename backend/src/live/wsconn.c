#include "live/wsconn.h"

#include "core/clock.h"
#include "core/log.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRITER_STACK_BYTES (128 * 1024)

struct ws_queued {
    struct ws_queued *next;
    struct ws_frame *frame;
    int opcode;
};

/* ---- frames ---- */

struct ws_frame *wsconn_frame_new(const char *text, size_t len)
{
    struct ws_frame *f = malloc(sizeof(*f) + len + 1);
    if (!f)
        return NULL;
    atomic_init(&f->refs, 1);
    f->len = len;
    memcpy(f->data, text, len);
    f->data[len] = '\0';
    return f;
}

struct ws_frame *wsconn_frame_ref(struct ws_frame *f)
{
    atomic_fetch_add(&f->refs, 1);
    return f;
}

void wsconn_frame_unref(struct ws_frame *f)
{
    if (f && atomic_fetch_sub(&f->refs, 1) == 1)
        free(f);
}

/* ---- connection lifetime ---- */

struct ws_conn *wsconn_new(struct app *app, enum proto_role role, const char *client_ip, const char *origin)
{
    struct ws_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    atomic_init(&c->refs, 1);
    atomic_init(&c->watching, 0);
    c->app = app;
    c->role = role;
    c->opened_at = clock_now();
    snprintf(c->client_ip, sizeof(c->client_ip), "%s", client_ip);
    if (origin)
        snprintf(c->origin, sizeof(c->origin), "%s", origin);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    clock_cond_init(&c->settled);
    return c;
}

void wsconn_ref(struct ws_conn *c)
{
    atomic_fetch_add(&c->refs, 1);
}

static void queue_clear(struct ws_conn *c)
{
    struct ws_queued *q = c->head;
    while (q) {
        struct ws_queued *next = q->next;
        wsconn_frame_unref(q->frame);
        free(q);
        q = next;
    }
    c->head = c->tail = NULL;
    c->queued_frames = c->queued_bytes = 0;
}

void wsconn_unref(struct ws_conn *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    queue_clear(c);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    pthread_cond_destroy(&c->settled);
    free(c);
}

/* Under c->lock. */
static void request_close(struct ws_conn *c, int code, const char *reason)
{
    c->close_code = code;
    c->close_requested_at = clock_now();
    snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
    pthread_cond_signal(&c->wake);
}

static void enqueue(struct ws_conn *c, struct ws_frame *f, int opcode)
{
    struct ws_queued *q;
    pthread_mutex_lock(&c->lock);
    if (c->stopping || c->overflowed || c->close_code) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    if (c->queued_frames >= (size_t)c->app->cfg->ws_queue_max_frames ||
        c->queued_bytes + f->len > (size_t)c->app->cfg->ws_queue_max_bytes) {
        /* The peer is not reading: drop it rather than buffer without end
         * (a visitor asking for big syncs and reading nothing would
         * otherwise make us hold their replies). */
        c->overflowed = 1;
        queue_clear(c);
        request_close(c, 1008, "too slow");
        pthread_mutex_unlock(&c->lock);
        log_warn("ws client too slow; disconnecting");
        return;
    }
    q = malloc(sizeof(*q));
    if (!q) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    q->next = NULL;
    q->frame = wsconn_frame_ref(f);
    q->opcode = opcode;
    if (c->tail)
        c->tail->next = q;
    else
        c->head = q;
    c->tail = q;
    c->queued_frames++;
    c->queued_bytes += f->len;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
}

void wsconn_send(struct ws_conn *c, struct ws_frame *f)
{
    enqueue(c, f, MG_WEBSOCKET_OPCODE_TEXT);
}

/* Queues text (malloc'd, freed here; NULL: out of memory, nothing sent). */
static void send_text(struct ws_conn *c, char *text)
{
    struct ws_frame *f = text ? wsconn_frame_new(text, strlen(text)) : NULL;
    free(text);
    if (f) {
        wsconn_send(c, f);
        wsconn_frame_unref(f);
    }
}

void wsconn_send_json(struct ws_conn *c, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    send_text(c, text);
}

void wsconn_send_error(struct ws_conn *c, const char *id, const char *code, const char *message, const char *field)
{
    send_text(c, proto_error_frame(id, code, message, field));
}

void wsconn_close(struct ws_conn *c, int code, const char *reason)
{
    pthread_mutex_lock(&c->lock);
    if (!c->close_code && !c->stopping)
        request_close(c, code, reason);
    pthread_mutex_unlock(&c->lock);
}

/* The only thread that writes to the socket. It drains the queue in order;
 * after a close request it sends the close frame (behind what was queued
 * before it) and writes nothing more; once the close handler has run it
 * exits without touching the socket. */
static void *writer_main(void *arg)
{
    struct ws_conn *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        while (!c->stopping && !c->head && !(c->close_code && !c->close_sent))
            pthread_cond_wait(&c->wake, &c->lock);
        if (c->stopping) {
            pthread_mutex_unlock(&c->lock);
            break;
        }
        struct ws_queued *q = c->head;
        if (q && !c->close_sent) {
            c->head = q->next;
            if (!c->head)
                c->tail = NULL;
            c->queued_frames--;
            c->queued_bytes -= q->frame->len;
            pthread_mutex_unlock(&c->lock);
            if (mg_websocket_write(c->mg, q->opcode, q->frame->data, q->frame->len) <= 0 && q->frame->len > 0)
                wsconn_close(c, 1011, "write failed");
            wsconn_frame_unref(q->frame);
            free(q);
            continue;
        }
        if (c->close_code && !c->close_sent) {
            char payload[2 + sizeof(c->close_reason)];
            size_t n = strlen(c->close_reason);
            payload[0] = (char)((c->close_code >> 8) & 0xff);
            payload[1] = (char)(c->close_code & 0xff);
            memcpy(payload + 2, c->close_reason, n);
            c->close_sent = 1;
            queue_clear(c);
            pthread_mutex_unlock(&c->lock);
            mg_websocket_write(c->mg, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, payload, n + 2);
            pthread_mutex_lock(&c->lock);
            pthread_cond_broadcast(&c->settled);
            pthread_mutex_unlock(&c->lock);
            continue;
        }
        /* close sent, more frames queued: drop them */
        queue_clear(c);
        pthread_mutex_unlock(&c->lock);
    }
    return NULL;
}

int wsconn_start_writer(struct ws_conn *c)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WRITER_STACK_BYTES);
    int rc = pthread_create(&c->writer, &attr, writer_main, c);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        log_error("cannot start a ws writer thread");
        return -1;
    }
    c->writer_started = 1;
    return 0;
}

void wsconn_stop_writer(struct ws_conn *c)
{
    pthread_mutex_lock(&c->lock);
    c->stopping = 1;
    pthread_cond_signal(&c->wake);
    pthread_cond_broadcast(&c->settled);
    pthread_mutex_unlock(&c->lock);
    if (c->writer_started)
        pthread_join(c->writer, NULL);
}

int wsconn_lingering(struct ws_conn *c, double now, double grace)
{
    pthread_mutex_lock(&c->lock);
    int lingering = c->close_code && !c->stopping && now - c->close_requested_at > grace;
    pthread_mutex_unlock(&c->lock);
    return lingering;
}

void wsconn_wait_close_sent(struct ws_conn *c, int ms)
{
    struct timespec until = clock_deadline(ms);
    pthread_mutex_lock(&c->lock);
    while (!c->close_sent && !c->stopping)
        if (pthread_cond_timedwait(&c->settled, &c->lock, &until) != 0)
            break;
    pthread_mutex_unlock(&c->lock);
}

void wsconn_post_begin(struct ws_conn *c)
{
    pthread_mutex_lock(&c->lock);
    c->pending_posts++;
    pthread_mutex_unlock(&c->lock);
}

void wsconn_post_end(struct ws_conn *c)
{
    pthread_mutex_lock(&c->lock);
    if (--c->pending_posts == 0)
        pthread_cond_broadcast(&c->settled);
    pthread_mutex_unlock(&c->lock);
}

void wsconn_wait_posts(struct ws_conn *c, int ms)
{
    struct timespec until = clock_deadline(ms);
    pthread_mutex_lock(&c->lock);
    while (c->pending_posts > 0 && !c->stopping)
        if (pthread_cond_timedwait(&c->settled, &c->lock, &until) != 0)
            break;
    pthread_mutex_unlock(&c->lock);
}
