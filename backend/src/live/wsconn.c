#include "live/wsconn.h"

#include "core/clock.h"
#include "core/log.h"

#include <civetweb.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define WRITE_CHUNK_BYTES (64 * 1024) /* taken from one queue at a time (a larger frame alone) */
#define WRITE_TURN_CHUNKS 4           /* per socket before the next one's turn */
#define WRITER_EVENTS     64

struct wsconn_writer {
    pthread_mutex_t lock;
    struct ws_conn *head, *tail; /* connections with something to send, each holding a reference */
    int sleeping;                /* in epoll_wait with nothing on the list: wake it through evfd */
    int stop;
    int epfd, evfd;
    pthread_t thread;
};

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
    c->fd = -1;
    c->last_rx = c->opened_at;
    pthread_mutex_init(&c->lock, NULL);
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
    free(c->pend);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->settled);
    free(c);
}

/* Under c->lock: puts c on its writer's list unless it is there already,
 * waits for room, or is detached. */
static void schedule(struct ws_conn *c)
{
    struct wsconn_writer *w = c->out;
    if (!w || c->scheduled || c->waiting_room || c->stopping)
        return;
    c->scheduled = 1;
    wsconn_ref(c);
    c->out_next = NULL;
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->out_next = c;
    else
        w->head = c;
    w->tail = c;
    int wake = w->sleeping;
    w->sleeping = 0;
    pthread_mutex_unlock(&w->lock);
    if (wake) {
        uint64_t one = 1;
        if (write(w->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            log_warn("ws writer not woken");
    }
}

/* Under c->lock. */
static void request_close(struct ws_conn *c, int code, const char *reason)
{
    c->close_code = code;
    c->close_requested_at = clock_now();
    snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
    schedule(c);
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
    schedule(c);
    pthread_mutex_unlock(&c->lock);
}

void wsconn_send(struct ws_conn *c, struct ws_frame *f)
{
    enqueue(c, f, MG_WEBSOCKET_OPCODE_TEXT);
}

void wsconn_send_control(struct ws_conn *c, int opcode, const char *data, size_t len)
{
    struct ws_frame *f = wsconn_frame_new(data ? data : "", len > 125 ? 125 : len);
    if (f) {
        enqueue(c, f, opcode);
        wsconn_frame_unref(f);
    }
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

/* ---- the writer ---- */

/* A frame's header (server to client: never masked) into h; its length. */
static size_t frame_header(unsigned char *h, int opcode, size_t len)
{
    h[0] = (unsigned char)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        h[1] = (unsigned char)len;
        return 2;
    }
    if (len <= 0xffff) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

/* Under c->lock, pend empty: moves whole frames from the queue into pend
 * (up to WRITE_CHUNK_BYTES, at least one), or the close frame once the
 * queue is empty. 0 when there is nothing to send (or no memory: the
 * frames stay queued). */
static int take_frames(struct ws_conn *c)
{
    size_t need = 0, n = 0;
    if (c->close_sent) {
        queue_clear(c); /* close sent, more frames queued: dropped */
        return 0;
    }
    if (!c->head && c->close_code) {
        size_t r = strlen(c->close_reason);
        c->pend = malloc(4 + r);
        if (!c->pend)
            return 0;
        c->pend[0] = (char)(0x80 | MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE);
        c->pend[1] = (char)(2 + r);
        c->pend[2] = (char)((c->close_code >> 8) & 0xff);
        c->pend[3] = (char)(c->close_code & 0xff);
        memcpy(c->pend + 4, c->close_reason, r);
        c->pend_len = 4 + r;
        c->pend_off = 0;
        c->pend_close = 1;
        return 1;
    }
    for (struct ws_queued *q = c->head; q && (n == 0 || need + q->frame->len + 10 <= WRITE_CHUNK_BYTES);
         q = q->next, n++)
        need += q->frame->len + 10;
    if (n == 0 || !(c->pend = malloc(need)))
        return 0;
    size_t at = 0;
    while (n-- > 0) {
        struct ws_queued *q = c->head;
        at += frame_header((unsigned char *)c->pend + at, q->opcode, q->frame->len);
        memcpy(c->pend + at, q->frame->data, q->frame->len);
        at += q->frame->len;
        c->head = q->next;
        if (!c->head)
            c->tail = NULL;
        c->queued_frames--;
        c->queued_bytes -= q->frame->len;
        wsconn_frame_unref(q->frame);
        free(q);
    }
    c->pend_len = at;
    c->pend_off = 0;
    c->pend_close = 0;
    return 1;
}

/* Sends what it can of pend without blocking: > 0 bytes sent, 0 the
 * socket's buffer is full (try again when it has room), -1 the connection
 * is broken. */
static ssize_t send_some(struct ws_conn *c)
{
    const char *p = c->pend + c->pend_off;
    size_t len = c->pend_len - c->pend_off;
    if (c->ssl) {
        ERR_clear_error();
        int n = SSL_write(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
        if (n > 0)
            return n;
        int e = SSL_get_error(c->ssl, n);
        return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? 0 : -1;
    }
    for (;;) {
        ssize_t n = send(c->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0)
            return n > 0 ? n : -1;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
}

/* Under c->lock: the socket's buffer is full; the writer's epoll set tells
 * when it has room (one shot). */
static void wait_for_room(struct ws_conn *c)
{
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLONESHOT, .data.ptr = c};
    if (c->ssl)
        ev.events |= EPOLLIN; /* TLS may need to read before it writes */
    int rc = epoll_ctl(c->out->epfd, c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
    if (rc != 0) {
        request_close(c, 1011, "write failed");
        return;
    }
    c->in_epoll = 1;
    c->waiting_room = 1;
    wsconn_ref(c);
}

/* One turn of the writer on c: up to WRITE_TURN_CHUNKS chunks, then c goes
 * back on the list if more is queued. */
static void write_turn(struct ws_conn *c)
{
    pthread_mutex_lock(&c->lock);
    c->scheduled = 0;
    for (int chunk = 0; chunk < WRITE_TURN_CHUNKS && !c->stopping; chunk++) {
        if (!c->pend && !take_frames(c))
            break;
        c->writing = 1;
        pthread_mutex_unlock(&c->lock);
        ssize_t n;
        /* civetweb's own writes (patch 0001's close frames for a frame
         * too large) take this lock too: theirs and ours do not mix. */
        mg_lock_connection(c->mg);
        while ((n = send_some(c)) > 0 && (c->pend_off += (size_t)n) < c->pend_len)
            ;
        mg_unlock_connection(c->mg);
        pthread_mutex_lock(&c->lock);
        c->writing = 0;
        if (n != 0) {
            if (n < 0) {
                /* Nothing more can be sent: no close frame either. */
                queue_clear(c);
                if (!c->close_code)
                    request_close(c, 1011, "write failed");
                c->close_sent = 1;
            } else if (c->pend_close) {
                c->close_sent = 1;
            }
            free(c->pend);
            c->pend = NULL;
            if (c->close_sent)
                pthread_cond_broadcast(&c->settled);
            continue;
        }
        if (!c->stopping)
            wait_for_room(c);
        break;
    }
    if (c->stopping)
        pthread_cond_broadcast(&c->settled);
    else if (!c->waiting_room && (c->pend || c->head || (c->close_code && !c->close_sent)))
        schedule(c);
    pthread_mutex_unlock(&c->lock);
}

static void *writer_main(void *arg)
{
    struct wsconn_writer *w = arg;
    struct epoll_event evs[WRITER_EVENTS];
    for (;;) {
        pthread_mutex_lock(&w->lock);
        int idle = !w->head && !w->stop;
        w->sleeping = idle;
        pthread_mutex_unlock(&w->lock);
        int n = epoll_wait(w->epfd, evs, WRITER_EVENTS, idle ? -1 : 0);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == w) {
                uint64_t count;
                if (read(w->evfd, &count, sizeof(count)) < 0 && errno != EAGAIN)
                    log_warn("ws writer wake-up not read");
                continue;
            }
            /* Room in a socket's buffer: its turn again (the reference
             * held for the wait goes with it onto the list). */
            struct ws_conn *c = evs[i].data.ptr;
            pthread_mutex_lock(&c->lock);
            int held = c->waiting_room;
            c->waiting_room = 0;
            schedule(c);
            pthread_mutex_unlock(&c->lock);
            if (held)
                wsconn_unref(c);
        }
        pthread_mutex_lock(&w->lock);
        struct ws_conn *list = w->head;
        int stop = w->stop;
        w->head = w->tail = NULL;
        w->sleeping = 0;
        pthread_mutex_unlock(&w->lock);
        while (list) {
            struct ws_conn *c = list;
            list = c->out_next;
            write_turn(c);
            wsconn_unref(c);
        }
        if (stop)
            break;
    }
    return NULL;
}

struct wsconn_writer *wsconn_writer_start(void)
{
    struct wsconn_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    pthread_mutex_init(&w->lock, NULL);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
    if (w->epfd < 0 || w->evfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev) != 0 ||
        pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        log_error("cannot start the ws writer");
        if (w->epfd >= 0)
            close(w->epfd);
        if (w->evfd >= 0)
            close(w->evfd);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void wsconn_writer_stop(struct wsconn_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_mutex_unlock(&w->lock);
    uint64_t one = 1;
    if (write(w->evfd, &one, sizeof(one)) < 0)
        log_warn("ws writer not woken to stop");
    pthread_join(w->thread, NULL);
    close(w->epfd);
    close(w->evfd);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int wsconn_start_writer(struct ws_conn *c)
{
    int fd = mg_get_connection_fd(c->mg);
    if (fd < 0 || !c->app->ws_writer)
        return -1;
    pthread_mutex_lock(&c->lock);
    c->fd = fd;
    c->ssl = mg_get_connection_ssl(c->mg);
    /* A partial write keeps its buffer: pend may move between retries. */
    if (c->ssl)
        SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    c->out = c->app->ws_writer;
    if (c->head || c->close_code)
        schedule(c);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

void wsconn_stop_writer(struct ws_conn *c)
{
    int held = 0;
    pthread_mutex_lock(&c->lock);
    c->stopping = 1;
    pthread_cond_broadcast(&c->settled);
    /* The writer finishes the write it is in (it sees stopping after). */
    while (c->writing)
        pthread_cond_wait(&c->settled, &c->lock);
    if (c->in_epoll) {
        /* Before civetweb closes the socket: its number may be reused. */
        epoll_ctl(c->out->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        c->in_epoll = 0;
    }
    held = c->waiting_room;
    c->waiting_room = 0;
    free(c->pend);
    c->pend = NULL;
    pthread_mutex_unlock(&c->lock);
    if (held)
        wsconn_unref(c);
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
