#include "live/ws.h"

#include "chat/assign.h"
#include "chat/automation.h"
#include "chat/board.h"
#include "chat/calls.h"
#include "chat/convo.h"
#include "chat/invitations.h"
#include "chat/participants.h"
#include "chat/presence.h"
#include "chat/sessions.h"
#include "chat/triage.h"
#include "chat/viewers.h"
#include "chat/visitors.h"
#include "core/clock.h"
#include "core/connlimit.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/peer.h"
#include "core/ratelimit.h"
#include "core/token.h"
#include "live/deliver.h"
#include "live/hub.h"
#include "live/msgqueue.h"
#include "live/wsconn.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WS_CLOSE_GRACE_SECONDS  1.0  /* from a close request to the abort */
#define WS_POSTS_WAIT_MS        5000 /* longest a state change waits for the socket's messages */
#define TYPING_REPEAT_SECONDS   2.0
#define WS_MAX_UNANSWERED_PINGS 3
/* call.signal per socket: a burst enough for a negotiation's candidates,
 * then a steady rate well above a renegotiation's. */
#define SIGNAL_BURST      200.0
#define SIGNAL_PER_SECOND 50.0

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

long ws_open_count(struct app *app)
{
    pthread_mutex_lock(&app->ws->lock);
    long n = app->ws->open;
    pthread_mutex_unlock(&app->ws->lock);
    return n;
}

/* ---- handshake ---- */

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
    const struct mg_request_info *ri = mg_get_request_info(conn);
    char addr[PEER_ADDR_MAX];
    const char *refused;
    struct ws_conn *c;
    int status;

    if (atomic_load(&app->draining))
        return refuse_handshake(conn, 503, "the server is shutting down");
    /* Agents authenticate with the session cookie, so the handshake must
     * come from our own pages: this is what stops cross-site hijacking. */
    if (role == PROTO_AGENT &&
        !peer_origin_is_self(origin, app->cfg->public_origin, mg_get_header(conn, "Host"), ri->is_ssl))
        return refuse_handshake(conn, 403, "origin not allowed");
    if (origin && strlen(origin) >= sizeof(c->origin))
        return refuse_handshake(conn, 403, "origin not allowed");
    peer_client_address(app->cfg->trusted_proxies, ri->remote_addr, mg_get_header(conn, "X-Forwarded-For"), addr,
                        sizeof(addr));
    refused = admit_socket(app, addr, &status);
    if (refused) {
        log_warn("ws refused", "ip", addr, "why", refused);
        return refuse_handshake(conn, status, refused);
    }

    c = wsconn_new(app, role, addr, origin);
    if (!c) {
        struct ws_conn gone = {.app = app};
        snprintf(gone.client_ip, sizeof(gone.client_ip), "%s", addr);
        release_socket(&gone);
        return refuse_handshake(conn, 503, "out of memory");
    }
    if (role == PROTO_AGENT && cookies)
        mg_get_cookie(cookies, SESSION_COOKIE, c->session_token, sizeof(c->session_token));
    /* The key other nodes address this socket by when it is an end of a
     * call: random, so that no client can name another's socket. */
    if (token_generate("", c->call_key, sizeof(c->call_key)) != 0) {
        wsconn_unref(c);
        struct ws_conn gone = {.app = app};
        snprintf(gone.client_ip, sizeof(gone.client_ip), "%s", addr);
        release_socket(&gone);
        return refuse_handshake(conn, 503, "no randomness available");
    }
    c->signal_tokens = SIGNAL_BURST;
    c->signal_at = clock_now();
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
    (void)cbdata;
    if (!c)
        return;
    /* Under the state's lock: the sweeper aborts connections through it. */
    pthread_mutex_lock(&c->app->ws->lock);
    c->mg = conn;
    pthread_mutex_unlock(&c->app->ws->lock);
    if (wsconn_start_writer(c) != 0)
        mg_abort_connection(conn); /* nothing could ever be sent to it */
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
    wsconn_send_json(c, reply);
}

/* Fails the auth: error reply, then close. */
static void auth_refuse(struct ws_conn *c, const char *id, const char *code, const char *message)
{
    wsconn_send_error(c, id, code, message, NULL);
    wsconn_close(c, PROTO_CLOSE_AUTH_REFUSED, code);
}

static void auth_visitor(struct ws_conn *c, const struct proto_msg *m)
{
    struct visitor_session vs;
    enum visitor_auth result;
    int required = 0;
    if (!m->token) {
        auth_refuse(c, m->id, PE_AUTH_FAILED, "a visitor token is required");
        return;
    }
    if (visitors_authenticate(c->app->db, m->token, c->origin, c->app->cfg->public_origin, &vs, &result) != CHAT_OK) {
        auth_refuse(c, m->id, PE_UNAVAILABLE, "try again shortly");
        return;
    }
    switch (result) {
    case VISITOR_AUTH_UNKNOWN:
        auth_refuse(c, m->id, PE_AUTH_FAILED, "unknown visitor token");
        return;
    case VISITOR_AUTH_ORIGIN:
        auth_refuse(c, m->id, PE_ORIGIN_FORBIDDEN, "this site does not allow the page's origin");
        return;
    case VISITOR_AUTH_IDENTITY_REQUIRED:
        auth_refuse(c, m->id, PE_IDENTITY_REQUIRED, "this site requires a verified identity");
        return;
    case VISITOR_AUTH_OK:
        break;
    }
    c->visitor_id = vs.visitor_id;
    c->site_id = vs.site_id;
    c->verified = vs.verified;
    if (hub_add(c->app->hub, c, c->app->cfg->visitor_max_sockets) != 0) {
        auth_refuse(c, m->id, PE_TOO_MANY_SOCKETS, "too many open connections for this visitor");
    } else if (!c->verified &&
               (visitors_site_requires_identity(c->app->db, c->site_id, &required) != CHAT_OK || required)) {
        /* Asked again now that the socket is in the hub: a site_identity
         * notification delivered between the first look and hub_add could
         * not have found it. */
        hub_remove(c->app->hub, c);
        if (required)
            auth_refuse(c, m->id, PE_IDENTITY_REQUIRED, "this site requires a verified identity");
        else
            auth_refuse(c, m->id, PE_UNAVAILABLE, "try again shortly");
    } else {
        mark_authenticated(c);
        json_t *visitor = json_loads(vs.visitor_json, 0, NULL);
        send_ack(
            c, m->id,
            json_pack("{s:o, s:I}", "visitor", visitor ? visitor : json_null(), "site_id", (json_int_t)c->site_id));
        /* A visitor reconnecting while queued learns their place at once. */
        deliver_queue_position_of(c->app, c->visitor_id);
    }
    visitors_session_free(&vs);
}

static void auth_agent(struct ws_conn *c, const struct proto_msg *m)
{
    struct session s;
    struct session_rights rights, now;
    enum chat_err err = sessions_lookup(c->app->db, c->app->cfg, c->session_token, &s);
    if (err != CHAT_OK && err != CHAT_E_NOT_FOUND) {
        auth_refuse(c, m->id, PE_UNAVAILABLE, "try again shortly");
        return;
    }
    /* The cookie came with the handshake; the CSRF token in the frame proves
     * the page that opened the socket could read our API's answers. */
    if (err == CHAT_E_NOT_FOUND || !m->csrf_token || !token_equal(m->csrf_token, s.csrf)) {
        auth_refuse(c, m->id, PE_AUTH_FAILED, "log in again");
        return;
    }
    err = sessions_rights(c->app->db, s.token_hash, &rights);
    if (err != CHAT_OK) {
        auth_refuse(c, m->id, err == CHAT_E_NOT_FOUND ? PE_AUTH_FAILED : PE_UNAVAILABLE,
                    err == CHAT_E_NOT_FOUND ? "log in again" : "try again shortly");
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
    /* A logout, role or team change committed after the first look
     * notified before the hub could find this socket: look once more, now
     * that any later notification will. */
    err = sessions_rights(c->app->db, s.token_hash, &now);
    if (err != CHAT_OK || !sessions_rights_equal(&rights, &now)) {
        hub_remove(c->app->hub, c);
        if (err == CHAT_E_NOT_FOUND)
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

static void reply(struct ws_conn *c, const char *id, enum chat_err err, json_t *result)
{
    if (err != CHAT_OK) {
        const struct chat_err_desc *d = chat_err_desc(err);
        json_decref(result);
        wsconn_send_error(c, id, d->code, d->text, NULL);
    } else {
        send_ack(c, id, result);
    }
}

/* Where conv is in the socket's list of shown conversations, or -1. */
static int viewing_index(const struct ws_conn *c, long long conv)
{
    for (int i = 0; i < c->nviewing; i++)
        if (c->viewing[i] == conv)
            return i;
    return -1;
}

/* conversation.view: the socket shows (on) or stops showing a conversation;
 * the list is kept here so that closing the socket takes it away. */
static enum chat_err view_conversation(struct ws_conn *c, const struct actor *a, long long conv, int on,
                                       json_t **result)
{
    int at = viewing_index(c, conv);
    enum chat_err err = CHAT_OK;
    json_t *viewers = NULL;
    if (on && at < 0) {
        if (c->nviewing >= VIEWERS_PER_SOCKET)
            return CHAT_E_LIMIT;
        err = viewers_set(c->app, a, conv, 1, &viewers);
        if (err == CHAT_OK)
            c->viewing[c->nviewing++] = conv;
    } else if (!on && at >= 0) {
        err = viewers_set(c->app, a, conv, 0, NULL);
        /* Gone from this socket's list whatever the database said: a row
         * left behind is removed with the node, and is harmless till then. */
        c->viewing[at] = c->viewing[--c->nviewing];
    }
    if (err == CHAT_OK) {
        *result = json_pack("{s:I, s:b}", "conversation_id", (json_int_t)conv, "viewing", on);
        if (*result && viewers)
            json_object_set(*result, "viewers", viewers);
    }
    json_decref(viewers);
    return err;
}

/* call.start, accept, decline, hangup and rejoin; this socket is the
 * actor's end of the call once it has started, accepted or rejoined it. */
static enum chat_err handle_call(struct ws_conn *c, const struct actor *a, const struct proto_msg *m, json_t **result)
{
    struct call_end end = {c->app->node_id, c->call_key};
    enum chat_err err;
    switch (m->type) {
    case PT_CALL_START:
        err = calls_start(c->app, a, m->conversation_id, m->media, &end, result);
        break;
    case PT_CALL_ACCEPT:
        err = calls_accept(c->app, a, m->call_id, &end, result);
        break;
    case PT_CALL_REJOIN:
        err = calls_rejoin(c->app, a, m->call_id, &end, result);
        break;
    case PT_CALL_DECLINE:
        err = calls_decline(c->app, a, m->call_id, result);
        break;
    default:
        err = calls_hangup(c->app, a, m->call_id, result);
        break;
    }
    if (err == CHAT_OK && (m->type == PT_CALL_START || m->type == PT_CALL_ACCEPT || m->type == PT_CALL_REJOIN))
        c->call_end = 1;
    return err;
}

/* call.signal: within the socket's budget, relayed as the frame the other
 * end receives (every field was checked by proto). */
static void relay_signal(struct ws_conn *c, const struct actor *a, const struct proto_msg *m)
{
    struct call_end end = {c->app->node_id, c->call_key};
    double now = clock_now();
    c->signal_tokens += (now - c->signal_at) * SIGNAL_PER_SECOND;
    if (c->signal_tokens > SIGNAL_BURST)
        c->signal_tokens = SIGNAL_BURST;
    c->signal_at = now;
    if (c->signal_tokens < 1) {
        wsconn_send_error(c, m->id, PE_RATE_LIMITED, "too many call signals; slow down", NULL);
        return;
    }
    c->signal_tokens -= 1;
    json_t *frame = json_pack("{s:s, s:I, s:O}", "type", "call.signal", "call_id", (json_int_t)m->call_id,
                              m->signal_kind, m->signal);
    char *text = frame ? json_dumps(frame, JSON_COMPACT) : NULL;
    enum chat_err err = text ? calls_signal(c->app, a, m->call_id, &end, text) : CHAT_E_INTERNAL;
    if (err != CHAT_OK || m->id)
        reply(c, m->id, err, NULL);
    free(text);
    json_decref(frame);
}

/* One budget per visitor (all their sockets on this node) for messages and
 * visitor.update. */
static int visitor_rate_ok(struct ws_conn *c)
{
    char key[32];
    snprintf(key, sizeof(key), "v%lld", c->visitor_id);
    return ratelimit_take(c->app->visitor_rate, key, clock_now()) == 0;
}

static void handle_message(struct ws_conn *c, const struct proto_msg *m)
{
    struct app *app = c->app;
    struct actor a;
    json_t *result = NULL;
    enum chat_err err = CHAT_OK;
    struct assign_work work = {.nteams = 0};
    actor_of(c, &a);
    /* A state change sent after messages must not overtake them in the
     * committer (a close would refuse the messages sent just before it). */
    if (m->type != PT_MESSAGE_SEND && m->type != PT_NOTE_SEND && m->type != PT_TYPING && m->type != PT_PING &&
        m->type != PT_CALL_SIGNAL)
        wsconn_wait_posts(c, WS_POSTS_WAIT_MS);

    switch (m->type) {
    case PT_AUTH:
        wsconn_send_error(c, m->id, PE_ALREADY_AUTHENTICATED, "this socket is authenticated already", NULL);
        return;
    case PT_PING: {
        json_t *pong = json_pack("{s:s}", "type", "pong");
        if (pong && m->id)
            json_object_set_new(pong, "id", json_string(m->id));
        wsconn_send_json(c, pong);
        return;
    }
    case PT_MESSAGE_SEND:
    case PT_NOTE_SEND:
        if (c->role == PROTO_VISITOR && !visitor_rate_ok(c)) {
            wsconn_send_error(c, m->id, PE_RATE_LIMITED, "too many messages; slow down", NULL);
            return;
        }
        if (msgqueue_post(app->msgs, c, &a, m->id, m->conversation_id,
                          m->type == PT_MESSAGE_SEND ? "message"
                          : m->whisper               ? "whisper"
                                                     : "note",
                          m->body, m->client_msg_id, m->file_ids, m->nfiles) != 0)
            wsconn_send_error(c, m->id, PE_UNAVAILABLE, "the server is busy or stopping; send it again", NULL);
        return;
    case PT_TYPING: {
        double now = clock_now();
        /* Repeated "still typing" in the same conversation within a short
         * time is not news; switching between a reply and a note is (the
         * visitor sees only the one, the viewers tell them apart). */
        if (m->on && c->last_typing_on && c->last_typing_conv == m->conversation_id &&
            c->last_typing_note == m->internal && now - c->last_typing_at < TYPING_REPEAT_SECONDS) {
            if (m->id)
                send_ack(c, m->id, NULL);
            return;
        }
        err = convo_typing(app, &a, c->agent.name, m->conversation_id, m->on, m->internal);
        if (err == CHAT_OK) {
            c->last_typing_at = now;
            c->last_typing_on = m->on;
            c->last_typing_note = m->internal;
            c->last_typing_conv = m->conversation_id;
            /* The colleagues looking at it see who is writing. */
            if (c->role == PROTO_AGENT && viewing_index(c, m->conversation_id) >= 0 &&
                viewers_typing(app, c->agent.id, m->conversation_id, m->on, m->internal) != CHAT_OK)
                log_warn("typing not shown to the other viewers: the database is not reachable");
        }
        if (err != CHAT_OK || m->id)
            reply(c, m->id, err, NULL);
        return;
    }
    case PT_READ:
        err = convo_read(app, &a, m->conversation_id, m->seq, &result);
        break;
    case PT_SYNC:
        err = convo_sync(app, &a, m->conversation_id, m->after_seq, m->limit, &result);
        break;
    case PT_CONVERSATION_START:
        err = convo_start(app, &a, m->page_url, m->referrer, m->prechat, m->offline, m->invitation_id, &result, &work);
        break;
    case PT_CONVERSATION_CLOSE:
        err = convo_close(app, &a, m->conversation_id, &result, &work);
        break;
    case PT_CONVERSATION_REOPEN:
        err = convo_reopen(app, &a, m->conversation_id, &result, &work);
        break;
    case PT_CONVERSATION_ACCEPT:
        err = convo_accept(app, &a, m->conversation_id, &result, &work);
        break;
    case PT_CONVERSATION_TRANSFER:
        err = convo_transfer(app, &a, m->conversation_id, m->to_agent_id, m->to_team_id, m->reason, &result, &work);
        break;
    case PT_STATUS_SET:
        err = presence_set_status(app, c->agent.id, c->agent.name, m->status);
        if (err == CHAT_OK) {
            snprintf(c->agent.status, sizeof(c->agent.status), "%s", m->status);
            result = json_pack("{s:s}", "status", m->status);
        }
        break;
    case PT_QUEUE_SUBSCRIBE:
    case PT_CONVERSATIONS_LIST: {
        /* With the live calls: a tab opened (or reconnected) while a call
         * rings or goes on learns of it here, not only from call.updated. */
        json_t *calls = NULL;
        if (m->type == PT_QUEUE_SUBSCRIBE)
            atomic_store(&c->watching, 1);
        err = convo_list(app, &a, &result);
        if (err == CHAT_OK)
            err = calls_live(app, &a, &calls);
        if (err == CHAT_OK)
            json_object_set_new(result, "calls", calls);
        break;
    }
    case PT_VISITOR_UPDATE:
        if (!visitor_rate_ok(c)) {
            wsconn_send_error(c, m->id, PE_RATE_LIMITED, "too many updates; slow down", NULL);
            return;
        }
        err = convo_visitor_update(app, &a, m->name, m->email, m->attributes, m->page_url, &result);
        break;
    case PT_CONVERSATION_RATE:
        err = convo_rate(app, &a, m->conversation_id, m->rating, m->comment, &result);
        break;
    case PT_CONVERSATION_INVITE:
        err = participants_invite(app, &a, m->conversation_id, m->agent_id, &result);
        break;
    case PT_CONVERSATION_JOIN:
        err = participants_join(app, &a, m->conversation_id, &result);
        break;
    case PT_CONVERSATION_LEAVE:
        err = participants_leave(app, &a, m->conversation_id, a.id, &result);
        break;
    case PT_CONVERSATION_TAKE:
        err = participants_take(app, &a, m->conversation_id, &result, &work);
        break;
    case PT_CONVERSATION_ESCALATE:
        err = participants_escalate(app, &a, m->conversation_id, m->to_agent_id, m->to_team_id, m->reason,
                                    m->priority ? triage_priority_value(m->priority) : -1, &result, &work);
        break;
    case PT_CONVERSATION_PRIORITY:
        err = triage_set_priority(app, &a, m->conversation_id, triage_priority_value(m->priority), &result);
        break;
    case PT_CONVERSATION_LABELS:
        err = triage_set_labels(app, &a, m->conversation_id, m->label_ids, m->nlabels, &result);
        break;
    case PT_CONVERSATION_VIEW:
        err = view_conversation(c, &a, m->conversation_id, m->on, &result);
        break;
    case PT_BOARD_GET:
        err = board_get(app, &a, &result);
        break;
    case PT_INVITATION_GET: {
        json_t *inv = NULL;
        err = invitations_fetch(app->db, a.id, a.site_id, &inv);
        if (err == CHAT_OK)
            result = json_pack("{s:o}", "invitation", inv ? inv : json_null());
        break;
    }
    case PT_INVITATION_DISMISS:
        err = invitations_dismiss(app->db, a.id, m->invitation_id);
        break;
    case PT_CALL_START:
    case PT_CALL_ACCEPT:
    case PT_CALL_DECLINE:
    case PT_CALL_HANGUP:
    case PT_CALL_REJOIN:
        /* Each writes an event line: a visitor's share the message budget. */
        if (c->role == PROTO_VISITOR && !visitor_rate_ok(c)) {
            wsconn_send_error(c, m->id, PE_RATE_LIMITED, "too many call requests; slow down", NULL);
            return;
        }
        err = handle_call(c, &a, m, &result);
        break;
    case PT_CALL_SIGNAL:
        relay_signal(c, &a, m);
        return;
    }
    /* The answer first, then what follows from it (assignments), so the
     * client learns the result before any event about what followed. */
    /* A visitor's new conversation: the automation rules first, then the
     * router (it then sees the team and priority the rules chose). */
    long long created = 0;
    if (m->type == PT_CONVERSATION_START && err == CHAT_OK && json_is_true(json_object_get(result, "created")))
        created = json_integer_value(json_object_get(json_object_get(result, "conversation"), "id"));
    reply(c, m->id, err, result);
    if (created)
        automation_conversation_created(app, created, &work);
    assign_run(app, &work);
    if (m->type == PT_CONVERSATION_START && err == CHAT_OK)
        deliver_queue_position_of(app, c->visitor_id);
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
    if (!closing && opcode == MG_WEBSOCKET_OPCODE_PONG)
        c->pings_unanswered = 0;
    c->last_rx = clock_now();
    pthread_mutex_unlock(&c->lock);
    /* Asked to close: what the peer sends now is dropped, but for its close
     * frame (the answer to ours), handled below like any close. Hanging up
     * here could beat the writer to our close frame, and the peer would see
     * 1006 instead of the code; a peer that never answers is closed by the
     * sweeper after WS_CLOSE_GRACE_SECONDS. */
    if (closing && opcode != MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
        return 1;
    /* Pings are answered here, pongs end the count of unanswered ones
     * (civetweb's own ping-pong is off: only the writer writes). */
    if (opcode == MG_WEBSOCKET_OPCODE_PING) {
        wsconn_send_control(c, MG_WEBSOCKET_OPCODE_PONG, data, len);
        return 1;
    }
    if (opcode == MG_WEBSOCKET_OPCODE_PONG)
        return 1;
    if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE) {
        /* Answer the peer's close (RFC 6455 5.5.1) before civetweb hangs up:
         * the writer sends it (or the close we asked for, which wins); wait
         * briefly for that. */
        int code = len >= 2 ? ((unsigned char)data[0] << 8 | (unsigned char)data[1]) : 1000;
        wsconn_close(c, code >= 1000 && code < 5000 ? code : 1000, "");
        wsconn_wait_close_sent(c, 100);
        return 0;
    }
    if (!c->authenticated && clock_now() - c->opened_at > cfg->ws_auth_timeout_ms / 1000.0)
        return 0;
    /* Fragmented and binary messages are not part of the protocol. */
    if (!(bits & 0x80) || opcode != MG_WEBSOCKET_OPCODE_TEXT) {
        wsconn_send_error(c, NULL, PE_UNSUPPORTED_FRAME, "send each message as one unfragmented text frame", NULL);
        wsconn_close(c, 1003, "unsupported frame");
        return 1;
    }
    limits.max_frame_bytes = cfg->ws_max_frame_bytes;
    limits.max_message_chars = cfg->message_max_chars;
    if (proto_parse(data, len, c->role, &limits, &m, &e) != 0) {
        wsconn_send_error(c, e.id[0] ? e.id : NULL, e.code, e.message, e.field);
        if (!c->authenticated)
            wsconn_close(c, 4001, "authenticate first");
        else if (strcmp(e.code, PE_FRAME_TOO_LARGE) == 0)
            wsconn_close(c, 1009, "frame too large");
        return 1;
    }
    if (!c->authenticated) {
        if (m.type != PT_AUTH) {
            wsconn_send_error(c, m.id, PE_NOT_AUTHENTICATED, "the first frame must be auth", NULL);
            wsconn_close(c, 4001, "authenticate first");
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
        if (c->role == PROTO_AGENT && c->nviewing > 0) {
            struct actor a;
            actor_of(c, &a);
            for (int i = 0; i < c->nviewing; i++)
                if (viewers_set(c->app, &a, c->viewing[i], 0, NULL) != CHAT_OK)
                    log_warn("viewer not removed; it goes with this node");
            c->nviewing = 0;
        }
        if (c->call_end) {
            struct actor a;
            struct call_end end = {c->app->node_id, c->call_key};
            actor_of(c, &a);
            calls_socket_closed(c->app, &a, &end);
        }
    }
    /* Stop the writer before civetweb frees the connection. */
    wsconn_stop_writer(c);
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
    wsconn_unref(c);
}

/* A socket silent for idle seconds gets a ping (browsers answer on their
 * own, so a live but idle tab stays connected); one that has let
 * WS_MAX_UNANSWERED_PINGS go unanswered is closed (1001), and aborted if it
 * does not go. */
static void keep_alive(struct ws_conn *c, double now, double idle)
{
    int ping = 0, dead = 0;
    pthread_mutex_lock(&c->lock);
    double last = c->last_rx > c->last_ping_at ? c->last_rx : c->last_ping_at;
    if (!c->close_code && now - last > idle) {
        dead = c->pings_unanswered >= WS_MAX_UNANSWERED_PINGS;
        ping = !dead;
        c->last_ping_at = now;
        c->pings_unanswered += ping;
    }
    pthread_mutex_unlock(&c->lock);
    if (ping)
        wsconn_send_control(c, MG_WEBSOCKET_OPCODE_PING, NULL, 0);
    else if (dead)
        wsconn_close(c, 1001, "no answer to pings");
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
        struct timespec until = clock_deadline(250);
        pthread_cond_timedwait(&st->stop_cond, &st->lock, &until);
        double now = clock_now(), limit = app->cfg->ws_auth_timeout_ms / 1000.0;
        for (struct ws_conn *c = st->all; c; c = c->all_next) {
            if (!c->authenticated && now - c->opened_at > limit)
                wsconn_close(c, 4008, "authentication timeout");
            keep_alive(c, now, app->cfg->ws_idle_timeout_ms / 1000.0);
            /* The conn is in st->all, so its close handler has not
             * finished and the connection is still open. */
            if (c->mg && !c->aborted && wsconn_lingering(c, now, WS_CLOSE_GRACE_SECONDS)) {
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
    clock_cond_init(&st->stop_cond);
    app->ws = st;
    app->ws_writer = wsconn_writer_start();
    if (!app->ws_writer) {
        ws_free(app);
        return -1;
    }
    if (pthread_create(&st->sweeper, NULL, sweeper_main, app) != 0) {
        /* No sweeper to join: ws_stop must not find this state. */
        wsconn_writer_stop(app->ws_writer);
        app->ws_writer = NULL;
        ws_free(app);
        return -1;
    }
    return 0;
}

void ws_register(struct app *app, struct mg_context *mg)
{
    (void)app;
    mg_set_websocket_handler(mg, "/ws/visitor", on_connect, on_ready, on_data, on_close, (void *)&role_visitor);
    mg_set_websocket_handler(mg, "/ws/agent", on_connect, on_ready, on_data, on_close, (void *)&role_agent);
}

void ws_close_all(struct app *app, int code, const char *reason, int wait_ms)
{
    struct ws_state *st = app->ws;
    struct ws_conn **held = NULL;
    size_t n = 0, cap = 0;
    if (!st)
        return;
    double deadline = clock_now() + wait_ms / 1000.0;
    /* Held by reference, waited for outside st->lock: close handlers
     * need that lock to leave the list. */
    pthread_mutex_lock(&st->lock);
    for (struct ws_conn *c = st->all; c; c = c->all_next) {
        wsconn_close(c, code, reason);
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct ws_conn **bigger = realloc(held, ncap * sizeof(*held));
            if (!bigger)
                continue; /* closed, just not waited for */
            held = bigger;
            cap = ncap;
        }
        wsconn_ref(c);
        held[n++] = c;
    }
    pthread_mutex_unlock(&st->lock);
    for (size_t i = 0; i < n; i++) {
        int left_ms = (int)((deadline - clock_now()) * 1000.0);
        if (left_ms > 0)
            wsconn_wait_close_sent(held[i], left_ms);
        wsconn_unref(held[i]);
    }
    free(held);
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
    /* Every close handler has run (http_stop): no socket is left to it. */
    wsconn_writer_stop(app->ws_writer);
    app->ws_writer = NULL;
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
