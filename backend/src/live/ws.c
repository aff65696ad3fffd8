#include "live/ws.h"

#include "core/clock.h"
#include "http/auth.h"
#include "core/connlimit.h"
#include "chat/convo.h"
#include "db/db.h"
#include "http/http.h"
#include "live/hub.h"
#include "core/log.h"
#include "core/metrics.h"
#include "live/msgstore.h"
#include "chat/presence.h"
#include "core/ratelimit.h"
#include "chat/router.h"
#include "live/events.h"
#include "core/token.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WRITER_STACK_BYTES     (128 * 1024)
#define WS_CLOSE_GRACE_SECONDS 1.0 /* from a close request to the abort */
#define TYPING_REPEAT_SECONDS  2.0

struct ws_queued {
    struct ws_queued *next;
    struct ws_frame *frame;
    int opcode;
};

/* Per-process WebSocket bookkeeping (app->ws). */
struct ws_state {
    pthread_mutex_t lock;
    struct ws_conn *all; /* every open conn, for the auth-timeout sweep */
    long open, unauthenticated;
    pthread_t sweeper;
    int stop;
    pthread_cond_t stop_cond;
};

static const enum proto_role role_visitor = PROTO_VISITOR;
static const enum proto_role role_agent = PROTO_AGENT;

/* ---- frames ---- */

struct ws_frame *ws_frame_new(const char *text, size_t len)
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

struct ws_frame *ws_frame_ref(struct ws_frame *f)
{
    atomic_fetch_add(&f->refs, 1);
    return f;
}

void ws_frame_unref(struct ws_frame *f)
{
    if (f && atomic_fetch_sub(&f->refs, 1) == 1)
        free(f);
}

/* ---- connection lifetime ---- */

void ws_conn_ref(struct ws_conn *c)
{
    atomic_fetch_add(&c->refs, 1);
}

static void queue_clear(struct ws_conn *c)
{
    struct ws_queued *q = c->head;
    while (q) {
        struct ws_queued *next = q->next;
        ws_frame_unref(q->frame);
        free(q);
        q = next;
    }
    c->head = c->tail = NULL;
    c->queued_frames = c->queued_bytes = 0;
}

void ws_conn_unref(struct ws_conn *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    queue_clear(c);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
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
    q->frame = ws_frame_ref(f);
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

void ws_send_frame(struct ws_conn *c, struct ws_frame *f)
{
    enqueue(c, f, MG_WEBSOCKET_OPCODE_TEXT);
}

void ws_send_json(struct ws_conn *c, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text)
        return;
    struct ws_frame *f = ws_frame_new(text, strlen(text));
    free(text);
    if (f) {
        ws_send_frame(c, f);
        ws_frame_unref(f);
    }
}

void ws_send_error(struct ws_conn *c, const char *id, const char *code, const char *message, const char *field)
{
    char *text = proto_error_frame(id, code, message, field);
    if (!text)
        return;
    struct ws_frame *f = ws_frame_new(text, strlen(text));
    free(text);
    if (f) {
        ws_send_frame(c, f);
        ws_frame_unref(f);
    }
}

void ws_close(struct ws_conn *c, int code, const char *reason)
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
                ws_close(c, 1011, "write failed");
            ws_frame_unref(q->frame);
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
            continue;
        }
        /* close sent, more frames queued: drop them */
        queue_clear(c);
        pthread_mutex_unlock(&c->lock);
    }
    return NULL;
}

long ws_open_count(struct app *app)
{
    pthread_mutex_lock(&app->ws->lock);
    long n = app->ws->open;
    pthread_mutex_unlock(&app->ws->lock);
    return n;
}

/* ---- handshake ---- */

static int origin_is_self(const struct mg_connection *conn, const struct config *cfg, const char *origin)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *host = mg_get_header(conn, "Host");
    char self[300];
    if (strcmp(origin, cfg->public_origin) == 0)
        return 1;
    if (!host || strlen(host) > 255)
        return 0;
    snprintf(self, sizeof(self), "%s://%s", ri->is_ssl ? "https" : "http", host);
    return strcmp(origin, self) == 0;
}

/* Answers a refused handshake with an HTTP error (civetweb would just hang
 * up) and returns 1, the connect handler's "refuse". */
static int refuse_handshake(const struct mg_connection *conn, int status, const char *why)
{
    struct mg_connection *c = (struct mg_connection *)conn;
    mg_printf(c,
              "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s"
              "Cache-Control: no-store\r\nConnection: close\r\n\r\n%s",
              status,
              status == 429   ? "Too Many Requests"
              : status == 403 ? "Forbidden"
                              : "Service Unavailable",
              strlen(why), status == 403 ? "" : "Retry-After: 1\r\n", why);
    return 1;
}

/* Takes this node's and this address's places for a new socket, or says
 * which limit stops it (NULL: admitted). Every socket may hold a worker
 * thread for its whole life: PARLEY_HTTP_RESERVED_THREADS are never given
 * to sockets, and one address gets at most PARLEY_WS_MAX_PER_IP sockets, of
 * which PARLEY_WS_MAX_UNAUTHENTICATED_PER_IP not yet authenticated. */
static const char *admit_socket(struct app *app, const char *addr, int *status)
{
    struct ws_state *st = app->ws;
    const char *refused = NULL;
    *status = 503;
    pthread_mutex_lock(&st->lock);
    if (st->open >= app->cfg->http_threads - app->cfg->http_reserved_threads)
        refused = "the server has no room for another connection; retry shortly";
    else if (st->unauthenticated >= app->cfg->ws_max_unauthenticated)
        refused = "too many connections are authenticating; retry shortly";
    if (!refused) {
        *status = 429;
        if (connlimit_acquire(app->conns, CONNLIMIT_WS, addr) != 0) {
            refused = "too many connections from your address";
        } else if (connlimit_acquire(app->conns, CONNLIMIT_WS_UNAUTH, addr) != 0) {
            connlimit_release(app->conns, CONNLIMIT_WS, addr);
            refused = "too many unauthenticated connections from your address";
        }
    }
    if (!refused) {
        st->unauthenticated++;
        st->open++;
    }
    pthread_mutex_unlock(&st->lock);
    return refused;
}

/* Gives back what admit_socket took, minus what authentication gave back. */
static void release_socket(struct ws_conn *c)
{
    struct ws_state *st = c->app->ws;
    pthread_mutex_lock(&st->lock);
    if (!c->authenticated) {
        st->unauthenticated--;
        connlimit_release(c->app->conns, CONNLIMIT_WS_UNAUTH, c->client_ip);
    }
    st->open--;
    connlimit_release(c->app->conns, CONNLIMIT_WS, c->client_ip);
    pthread_mutex_unlock(&st->lock);
}

static int on_connect(const struct mg_connection *conn, void *cbdata)
{
    struct app *app = mg_get_user_data(mg_get_context(conn));
    struct ws_state *st = app->ws;
    enum proto_role role = *(const enum proto_role *)cbdata;
    const char *origin = mg_get_header(conn, "Origin");
    const char *cookies = mg_get_header(conn, "Cookie");
    char addr[HTTP_ADDR_MAX];
    const char *refused;
    struct ws_conn *c;
    int status;

    if (http_draining())
        return refuse_handshake(conn, 503, "the server is shutting down");
    /* Agents authenticate with the session cookie, so the handshake must
     * come from our own pages: this is what stops cross-site hijacking. */
    if (role == PROTO_AGENT && (!origin || !origin_is_self(conn, app->cfg, origin)))
        return refuse_handshake(conn, 403, "origin not allowed");
    if (origin && strlen(origin) >= sizeof(c->origin))
        return refuse_handshake(conn, 403, "origin not allowed");
    http_client_address(app, conn, addr, sizeof(addr));
    refused = admit_socket(app, addr, &status);
    if (refused) {
        log_warn("ws refused", "ip", addr, "why", refused);
        return refuse_handshake(conn, status, refused);
    }

    c = calloc(1, sizeof(*c));
    if (!c) {
        struct ws_conn gone = {.app = app};
        snprintf(gone.client_ip, sizeof(gone.client_ip), "%s", addr);
        release_socket(&gone);
        return refuse_handshake(conn, 503, "out of memory");
    }
    snprintf(c->client_ip, sizeof(c->client_ip), "%s", addr);
    atomic_init(&c->refs, 1);
    atomic_init(&c->watching, 0);
    atomic_init(&c->pending_posts, 0);
    c->app = app;
    c->role = role;
    c->opened_at = clock_now();
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (origin)
        snprintf(c->origin, sizeof(c->origin), "%s", origin);
    if (role == PROTO_AGENT && cookies)
        mg_get_cookie(cookies, AUTH_COOKIE, c->session_token, sizeof(c->session_token));
    pthread_mutex_lock(&st->lock);
    c->all_next = st->all;
    if (st->all)
        st->all->all_prev = c;
    st->all = c;
    pthread_mutex_unlock(&st->lock);
    mg_set_user_connection_data(conn, c);
    metrics_ws_opened(app->metrics);
    return 0;
}

static void on_ready(struct mg_connection *conn, void *cbdata)
{
    struct ws_conn *c = mg_get_user_connection_data(conn);
    pthread_attr_t attr;
    (void)cbdata;
    if (!c)
        return;
    /* Under the state's lock: the sweeper aborts connections through it. */
    pthread_mutex_lock(&c->app->ws->lock);
    c->mg = conn;
    pthread_mutex_unlock(&c->app->ws->lock);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WRITER_STACK_BYTES);
    if (pthread_create(&c->writer, &attr, writer_main, c) == 0)
        c->writer_started = 1;
    else
        log_error("cannot start a ws writer thread");
    pthread_attr_destroy(&attr);
}

/* ---- authentication ---- */

static void mark_authenticated(struct ws_conn *c)
{
    pthread_mutex_lock(&c->app->ws->lock);
    c->app->ws->unauthenticated--;
    connlimit_release(c->app->conns, CONNLIMIT_WS_UNAUTH, c->client_ip);
    c->authenticated = 1;
    pthread_mutex_unlock(&c->app->ws->lock);
}

static void send_ack(struct ws_conn *c, const char *id, json_t *reply)
{
    if (!reply)
        reply = json_object();
    json_object_set_new(reply, "type", json_string("ack"));
    if (id)
        json_object_set_new(reply, "id", json_string(id));
    ws_send_json(c, reply);
}

/* Fails the auth: error reply, then close. */
static void auth_refuse(struct ws_conn *c, const char *id, const char *code, const char *message)
{
    ws_send_error(c, id, code, message, NULL);
    ws_close(c, 4003, code);
}

/* 1 when the visitor's site requires a verified identity now, 0 when not,
 * -1 on database error. Asked again once an anonymous socket is in the hub:
 * a site_identity notification delivered between the first look and
 * hub_add could not have found it. */
static int site_requires_identity(struct ws_conn *c)
{
    char site[24];
    PGresult *res = NULL;
    snprintf(site, sizeof(site), "%lld", c->site_id);
    if (db_query(c->app->db, &res, "SELECT identity_required FROM sites WHERE id = $1::bigint", 1,
                 (const char *const[]){site}) != DB_OK)
        return -1;
    int required = PQntuples(res) != 1 || db_get_bool(res, 0, 0);
    PQclear(res);
    return required;
}

static void auth_visitor(struct ws_conn *c, const struct proto_msg *m)
{
    uint8_t digest[TOKEN_DIGEST_LEN];
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3];
    PGresult *res = NULL;
    if (!m->token || !token_well_formed("pv_", m->token)) {
        auth_refuse(c, m->id, PE_AUTH_FAILED, "a visitor token is required");
        return;
    }
    token_digest(m->token, strlen(m->token), digest);
    db_bytea_hex(digest, sizeof(digest), hash_hex);
    const char *params[3] = {hash_hex, c->origin, c->app->cfg->public_origin};
    int required;
    if (db_query(c->app->db, &res,
                 "WITH t AS (UPDATE visitor_tokens SET last_used_at = now() WHERE token_hash = $1::bytea"
                 "           RETURNING visitor_id, site_id)"
                 " SELECT v.id, v.site_id, ($2 = '' OR $2 = ANY (s.allowed_origins) OR $2 = $3),"
                 "   json_build_object('id', v.id, 'name', v.name, 'email', v.email, 'verified', v.verified)::text,"
                 "   s.identity_required AND NOT v.verified, v.verified"
                 " FROM t JOIN visitors v ON v.id = t.visitor_id JOIN sites s ON s.id = t.site_id",
                 3, params) != DB_OK) {
        auth_refuse(c, m->id, PE_UNAVAILABLE, "try again shortly");
        return;
    }
    if (PQntuples(res) != 1) {
        auth_refuse(c, m->id, PE_AUTH_FAILED, "unknown visitor token");
    } else if (!db_get_bool(res, 0, 2)) {
        auth_refuse(c, m->id, PE_ORIGIN_FORBIDDEN, "this site does not allow the page's origin");
    } else if (db_get_bool(res, 0, 4)) {
        /* A token issued before the site turned identity_required on. */
        auth_refuse(c, m->id, PE_IDENTITY_REQUIRED, "this site requires a verified identity");
    } else {
        c->visitor_id = db_get_ll(res, 0, 0, 0);
        c->site_id = db_get_ll(res, 0, 1, 0);
        c->verified = db_get_bool(res, 0, 5);
        if (hub_add(c->app->hub, c, c->app->cfg->visitor_max_sockets) != 0) {
            auth_refuse(c, m->id, PE_TOO_MANY_SOCKETS, "too many open connections for this visitor");
        } else if (!c->verified && (required = site_requires_identity(c)) != 0) {
            hub_remove(c->app->hub, c);
            if (required < 0)
                auth_refuse(c, m->id, PE_UNAVAILABLE, "try again shortly");
            else
                auth_refuse(c, m->id, PE_IDENTITY_REQUIRED, "this site requires a verified identity");
        } else {
            mark_authenticated(c);
            json_t *visitor = json_loads(db_get_str(res, 0, 3), 0, NULL);
            send_ack(
                c, m->id,
                json_pack("{s:o, s:I}", "visitor", visitor ? visitor : json_null(), "site_id", (json_int_t)c->site_id));
            /* A visitor reconnecting while queued learns their place at once. */
            events_queue_position_of(c->app, c->visitor_id);
        }
    }
    PQclear(res);
}

/* An agent's rights as the database has them now, for the socket's
 * session: role and teams (sorted, at most WS_MAX_TEAMS). */
struct agent_rights {
    char role[16];
    long long teams[WS_MAX_TEAMS];
    int nteams;
};

/* Returns 0, 1 when the session or the agent is gone, -1 on database error. */
static int load_rights(struct ws_conn *c, const uint8_t session[TOKEN_DIGEST_LEN], struct agent_rights *r)
{
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3];
    PGresult *res = NULL;
    db_bytea_hex(session, TOKEN_DIGEST_LEN, hash_hex);
    memset(r, 0, sizeof(*r));
    if (db_query(c->app->db, &res,
                 "SELECT a.role, tm.team_id FROM agent_sessions s JOIN agents a ON a.id = s.agent_id AND a.active"
                 " LEFT JOIN team_members tm ON tm.agent_id = a.id"
                 " WHERE s.token_hash = $1::bytea ORDER BY tm.team_id",
                 1, (const char *const[]){hash_hex}) != DB_OK)
        return -1;
    int rc = PQntuples(res) > 0 ? 0 : 1;
    if (rc == 0)
        snprintf(r->role, sizeof(r->role), "%s", db_get_str(res, 0, 0));
    for (int i = 0; i < PQntuples(res) && r->nteams < WS_MAX_TEAMS; i++)
        if (db_get_str(res, i, 1))
            r->teams[r->nteams++] = db_get_ll(res, i, 1, 0);
    PQclear(res);
    return rc;
}

static int rights_equal(const struct agent_rights *a, const struct agent_rights *b)
{
    return strcmp(a->role, b->role) == 0 && a->nteams == b->nteams &&
           memcmp(a->teams, b->teams, (size_t)a->nteams * sizeof(a->teams[0])) == 0;
}

static void auth_agent(struct ws_conn *c, const struct proto_msg *m)
{
    struct auth_session s;
    struct agent_rights rights, now;
    int found = auth_session_lookup(c->app, c->session_token, &s);
    if (found < 0) {
        auth_refuse(c, m->id, PE_UNAVAILABLE, "try again shortly");
        return;
    }
    /* The cookie came with the handshake; the CSRF token in the frame proves
     * the page that opened the socket could read our API's answers. */
    if (found > 0 || !m->csrf_token || !token_equal(m->csrf_token, s.csrf)) {
        auth_refuse(c, m->id, PE_AUTH_FAILED, "log in again");
        return;
    }
    found = load_rights(c, s.token_hash, &rights);
    if (found != 0) {
        auth_refuse(c, m->id, found < 0 ? PE_UNAVAILABLE : PE_AUTH_FAILED,
                    found < 0 ? "try again shortly" : "log in again");
        return;
    }
    c->agent = s.agent;
    snprintf(c->agent.role, sizeof(c->agent.role), "%s", rights.role);
    c->privileged = strcmp(rights.role, "agent") != 0;
    memcpy(c->teams, rights.teams, sizeof(c->teams));
    c->nteams = rights.nteams;
    token_hex(s.token_hash, sizeof(s.token_hash), c->session_hash);
    /* The secret is not needed any more. */
    memset(c->session_token, 0, sizeof(c->session_token));
    hub_add(c->app->hub, c, 0);
    /* A logout, role or team change committed after load_rights NOTIFYed
     * before the hub could find this socket: look once more, now that any
     * later notification will. */
    found = load_rights(c, s.token_hash, &now);
    if (found != 0 || !rights_equal(&rights, &now)) {
        hub_remove(c->app->hub, c);
        if (found > 0)
            auth_refuse(c, m->id, PE_AUTH_FAILED, "log in again");
        else
            auth_refuse(c, m->id, PE_UNAVAILABLE, "your rights changed while connecting; connect again");
        return;
    }
    mark_authenticated(c);
    json_t *teams = json_array();
    for (int i = 0; i < c->nteams; i++)
        json_array_append_new(teams, json_integer(c->teams[i]));
    send_ack(c, m->id, json_pack("{s:o, s:o}", "agent", agents_to_json(&c->agent), "teams", teams));
    presence_agent_connected(c->app, c->agent.id, c->agent.name);
}

/* ---- dispatch of authenticated frames ---- */

static void actor_of(const struct ws_conn *c, struct actor *a)
{
    memset(a, 0, sizeof(*a));
    if (c->role == PROTO_VISITOR) {
        a->kind = ACTOR_VISITOR;
        a->id = c->visitor_id;
        a->site_id = c->site_id;
    } else {
        a->kind = ACTOR_AGENT;
        a->id = c->agent.id;
        a->privileged = c->privileged;
    }
}

static const char *error_message(const char *code)
{
    if (strcmp(code, PE_NOT_FOUND) == 0)
        return "no such conversation";
    if (strcmp(code, PE_FORBIDDEN) == 0)
        return "not allowed for you";
    if (strcmp(code, PE_INVALID_STATE) == 0)
        return "not possible in the conversation's current state";
    if (strcmp(code, PE_AT_CAPACITY) == 0)
        return "you are at your maximum number of chats";
    if (strcmp(code, PE_AGENT_UNAVAILABLE) == 0)
        return "that agent is not connected";
    if (strcmp(code, PE_UNAVAILABLE) == 0)
        return "the service is temporarily unavailable; retry";
    return "internal error";
}

static void reply(struct ws_conn *c, const char *id, const char *err, json_t *result)
{
    if (err) {
        json_decref(result);
        ws_send_error(c, id, err, error_message(err), NULL);
    } else {
        send_ack(c, id, result);
    }
}

/* One budget per visitor (all their sockets on this node) for messages and
 * visitor.update. */
static int visitor_rate_ok(struct ws_conn *c)
{
    char key[32];
    snprintf(key, sizeof(key), "v%lld", c->visitor_id);
    return ratelimit_take(c->app->visitor_rate, key, clock_now()) == 0;
}

/* A state change sent after messages must not overtake them in the
 * committer (a close would refuse the messages sent just before it): wait,
 * briefly, until this socket's queued messages are answered. */
static void wait_for_posts(struct ws_conn *c)
{
    for (int i = 0; i < 2500 && atomic_load(&c->pending_posts) > 0; i++) {
        struct timespec ts = {0, 2 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void handle_message(struct ws_conn *c, const struct proto_msg *m)
{
    struct app *app = c->app;
    struct actor a;
    json_t *result = NULL;
    const char *err = NULL;
    actor_of(c, &a);
    if (m->type != PT_MESSAGE_SEND && m->type != PT_NOTE_SEND && m->type != PT_TYPING && m->type != PT_PING)
        wait_for_posts(c);

    switch (m->type) {
    case PT_AUTH:
        ws_send_error(c, m->id, PE_ALREADY_AUTHENTICATED, "this socket is authenticated already", NULL);
        return;
    case PT_PING: {
        json_t *pong = json_pack("{s:s}", "type", "pong");
        if (pong && m->id)
            json_object_set_new(pong, "id", json_string(m->id));
        ws_send_json(c, pong);
        return;
    }
    case PT_MESSAGE_SEND:
    case PT_NOTE_SEND:
        if (c->role == PROTO_VISITOR && !visitor_rate_ok(c)) {
            ws_send_error(c, m->id, PE_RATE_LIMITED, "too many messages; slow down", NULL);
            return;
        }
        if (msgstore_post(app->msgs, c, &a, m->id, m->conversation_id, m->type == PT_NOTE_SEND ? "note" : "message",
                          m->body, m->client_msg_id) != 0)
            ws_send_error(c, m->id, PE_UNAVAILABLE, "the server is busy or stopping; send it again", NULL);
        return;
    case PT_TYPING: {
        double now = clock_now();
        /* Repeated "still typing" in the same conversation within a short
         * time is not news. */
        if (m->on && c->last_typing_on && c->last_typing_conv == m->conversation_id &&
            now - c->last_typing_at < TYPING_REPEAT_SECONDS) {
            if (m->id)
                send_ack(c, m->id, NULL);
            return;
        }
        err = convo_typing(app, &a, c->agent.name, m->conversation_id, m->on);
        if (!err) {
            c->last_typing_at = now;
            c->last_typing_on = m->on;
            c->last_typing_conv = m->conversation_id;
        }
        if (err || m->id)
            reply(c, m->id, err, NULL);
        return;
    }
    case PT_READ:
        err = convo_read(app, &a, m->conversation_id, m->seq, &result);
        break;
    case PT_SYNC:
        err = convo_sync(app, &a, m->conversation_id, m->after_seq, m->limit, &result);
        break;
    case PT_CONVERSATION_START: {
        long long drain_team = 0;
        err = convo_start(app, &a, m->page_url, m->referrer, m->prechat, m->offline, &result, &drain_team);
        reply(c, m->id, err, result);
        if (drain_team)
            router_drain(app, drain_team);
        events_queue_position_of(app, c->visitor_id);
        return;
    }
    case PT_CONVERSATION_CLOSE:
        err = convo_close(app, &a, m->conversation_id, &result);
        break;
    case PT_CONVERSATION_REOPEN:
        err = convo_reopen(app, &a, m->conversation_id, &result);
        break;
    case PT_CONVERSATION_ACCEPT:
        err = convo_accept(app, &a, m->conversation_id, &result);
        break;
    case PT_CONVERSATION_TRANSFER:
        err = convo_transfer(app, &a, m->conversation_id, m->to_agent_id, m->to_team_id, m->reason, &result);
        break;
    case PT_STATUS_SET:
        err = presence_set_status(app, c->agent.id, c->agent.name, m->status);
        if (!err) {
            snprintf(c->agent.status, sizeof(c->agent.status), "%s", m->status);
            result = json_pack("{s:s}", "status", m->status);
        }
        break;
    case PT_QUEUE_SUBSCRIBE:
        atomic_store(&c->watching, 1);
        err = convo_list(app, &a, &result);
        break;
    case PT_CONVERSATIONS_LIST:
        err = convo_list(app, &a, &result);
        break;
    case PT_VISITOR_UPDATE:
        if (!visitor_rate_ok(c)) {
            ws_send_error(c, m->id, PE_RATE_LIMITED, "too many updates; slow down", NULL);
            return;
        }
        err = convo_visitor_update(app, &a, m->name, m->email, m->attributes, m->page_url, &result);
        break;
    case PT_CONVERSATION_RATE:
        err = convo_rate(app, &a, m->conversation_id, m->rating, m->comment, &result);
        break;
    }
    reply(c, m->id, err, result);
}

static int on_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
    struct ws_conn *c = mg_get_user_connection_data(conn);
    const struct config *cfg;
    struct proto_limits limits;
    struct proto_msg m;
    struct proto_error e;
    int opcode = bits & 0x0f;
    (void)cbdata;

    if (!c)
        return 0;
    cfg = c->app->cfg;
    pthread_mutex_lock(&c->lock);
    int closing = c->close_code != 0 || c->stopping;
    pthread_mutex_unlock(&c->lock);
    if (closing)
        return 0;
    if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE) {
        /* Answer the peer's close (RFC 6455 5.5.1) before civetweb hangs up:
         * the writer sends it; wait briefly for that. */
        int code = len >= 2 ? ((unsigned char)data[0] << 8 | (unsigned char)data[1]) : 1000;
        ws_close(c, code >= 1000 && code < 5000 ? code : 1000, "");
        pthread_mutex_lock(&c->lock);
        for (int i = 0; i < 50 && !c->close_sent && !c->stopping; i++) {
            pthread_mutex_unlock(&c->lock);
            struct timespec ts = {0, 2 * 1000000L};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&c->lock);
        }
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    /* Pings are answered by civetweb itself (enable_websocket_ping_pong),
     * pongs filtered there: neither reaches us. */
    if (!c->authenticated && clock_now() - c->opened_at > cfg->ws_auth_timeout_ms / 1000.0)
        return 0;
    /* Fragmented and binary messages are not part of the protocol. */
    if (!(bits & 0x80) || opcode != MG_WEBSOCKET_OPCODE_TEXT) {
        ws_send_error(c, NULL, PE_UNSUPPORTED_FRAME, "send each message as one unfragmented text frame", NULL);
        ws_close(c, 1003, "unsupported frame");
        return 1;
    }
    limits.max_frame_bytes = cfg->ws_max_frame_bytes;
    limits.max_message_chars = cfg->message_max_chars;
    if (proto_parse(data, len, c->role, &limits, &m, &e) != 0) {
        ws_send_error(c, e.id[0] ? e.id : NULL, e.code, e.message, e.field);
        if (!c->authenticated)
            ws_close(c, 4001, "authenticate first");
        else if (strcmp(e.code, PE_FRAME_TOO_LARGE) == 0)
            ws_close(c, 1009, "frame too large");
        return 1;
    }
    if (!c->authenticated) {
        if (m.type != PT_AUTH) {
            ws_send_error(c, m.id, PE_NOT_AUTHENTICATED, "the first frame must be auth", NULL);
            ws_close(c, 4001, "authenticate first");
        } else if (c->role == PROTO_VISITOR) {
            auth_visitor(c, &m);
        } else {
            auth_agent(c, &m);
        }
    } else {
        handle_message(c, &m);
    }
    proto_msg_free(&m);
    return 1;
}

static void on_close(const struct mg_connection *conn, void *cbdata)
{
    struct ws_conn *c = mg_get_user_connection_data(conn);
    struct ws_state *st;
    (void)cbdata;
    if (!c)
        return;
    st = c->app->ws;
    if (c->authenticated) {
        hub_remove(c->app->hub, c);
        if (c->role == PROTO_AGENT)
            presence_agent_disconnected(c->app, c->agent.id, c->agent.name);
    }
    /* Stop the writer before civetweb frees the connection. */
    pthread_mutex_lock(&c->lock);
    c->stopping = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    if (c->writer_started)
        pthread_join(c->writer, NULL);
    release_socket(c);
    pthread_mutex_lock(&st->lock);
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else
        st->all = c->all_next;
    if (c->all_next)
        c->all_next->all_prev = c->all_prev;
    pthread_mutex_unlock(&st->lock);
    metrics_ws_closed(c->app->metrics);
    c->mg = NULL;
    ws_conn_unref(c);
}

/* Ends sockets that did not authenticate in time (close 4008), and
 * makes every close final: a socket asked to close (auth timeout, too
 * slow, logged out, rights changed, ...) gets a close frame so that a
 * well-behaved peer learns why and hangs up; if a second later it is still
 * open, whatever the peer does (silent, answering pings, not reading), the
 * connection is aborted: TCP gone, the worker thread free. */
static void *sweeper_main(void *arg)
{
    struct app *app = arg;
    struct ws_state *st = app->ws;
    pthread_mutex_lock(&st->lock);
    while (!st->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&st->stop_cond, &st->lock, &ts);
        double now = clock_now(), limit = app->cfg->ws_auth_timeout_ms / 1000.0;
        for (struct ws_conn *c = st->all; c; c = c->all_next) {
            if (!c->authenticated && now - c->opened_at > limit)
                ws_close(c, 4008, "authentication timeout");
            pthread_mutex_lock(&c->lock);
            int lingering = c->close_code && now - c->close_requested_at > WS_CLOSE_GRACE_SECONDS;
            pthread_mutex_unlock(&c->lock);
            /* The conn is in st->all, so its close handler has not
             * finished and the connection is still open. */
            if (lingering && c->mg && !c->aborted) {
                c->aborted = 1;
                mg_abort_connection(c->mg);
            }
        }
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

int ws_start(struct app *app)
{
    struct ws_state *st = calloc(1, sizeof(*st));
    if (!st)
        return -1;
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->stop_cond, NULL);
    app->ws = st;
    if (pthread_create(&st->sweeper, NULL, sweeper_main, app) != 0)
        return -1;
    mg_set_websocket_handler(app->mg, "/ws/visitor", on_connect, on_ready, on_data, on_close, (void *)&role_visitor);
    mg_set_websocket_handler(app->mg, "/ws/agent", on_connect, on_ready, on_data, on_close, (void *)&role_agent);
    return 0;
}

void ws_close_all(struct app *app, int code, const char *reason)
{
    struct ws_state *st = app->ws;
    if (!st)
        return;
    pthread_mutex_lock(&st->lock);
    for (struct ws_conn *c = st->all; c; c = c->all_next)
        ws_close(c, code, reason);
    pthread_mutex_unlock(&st->lock);
}

void ws_stop(struct app *app)
{
    struct ws_state *st = app->ws;
    if (!st)
        return;
    pthread_mutex_lock(&st->lock);
    st->stop = 1;
    pthread_cond_signal(&st->stop_cond);
    pthread_mutex_unlock(&st->lock);
    pthread_join(st->sweeper, NULL);
}

void ws_free(struct app *app)
{
    struct ws_state *st = app->ws;
    if (!st)
        return;
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->stop_cond);
    free(st);
    app->ws = NULL;
}
