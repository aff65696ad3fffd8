/* ws: WebSocket connections (visitor and agent) and their outbound queues.
 *
 * Owns each connection's life: the handshake checks (Origin, limits on
 * unauthenticated sockets), the first-frame authentication, the per-type
 * dispatch of inbound frames, and the outbound side. Every frame a
 * connection sends goes through its own bounded queue, drained by that
 * connection's writer thread, so a peer that stops reading delays only
 * itself; one that falls too far behind is closed. Nothing is written after
 * civetweb's close handler has run: the close handler stops and joins the
 * writer first.
 *
 * A connection is reference-counted: civetweb's handlers hold one reference
 * from connect to close, and anyone who keeps a pointer past a hub lock
 * (the message committer, waiting to ack) takes another. */
#ifndef PARLEY_WS_H
#define PARLEY_WS_H

#include "chat/agents.h"
#include "core/app.h"
#include "http/http.h"
#include "live/proto.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define WS_MAX_TEAMS 32

/* An immutable frame shared by every queue it is put in. */
struct ws_frame {
    atomic_int refs;
    size_t len;
    char data[];
};

struct ws_queued;

struct ws_conn {
    atomic_int refs;
    struct mg_connection *mg;
    struct app *app;
    enum proto_role role;
    char origin[256];
    char client_ip[HTTP_ADDR_MAX]; /* counted in app->conns until close */
    char session_token[96];        /* agent: the session cookie, until auth */
    char session_hash[65];         /* agent: hex SHA-256 of it, to end the socket at logout */

    /* Set once by the reader thread at auth, under the ws state's lock. */
    int authenticated;
    long long visitor_id, site_id; /* visitor */
    int verified;                  /* visitor: has a verified identity */
    struct agent agent;            /* agent */
    int privileged;                /* supervisor or admin */
    long long teams[WS_MAX_TEAMS]; /* agent's teams */
    int nteams;
    atomic_int watching;      /* agent subscribed to the queue */
    atomic_int pending_posts; /* message.send queued in msgstore, not yet answered */
    double opened_at;         /* monotonic seconds */
    double last_typing_at;    /* reader thread only */
    int last_typing_on;
    long long last_typing_conv;

    /* Outbound queue: guarded by lock. */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct ws_queued *head, *tail;
    size_t queued_frames, queued_bytes;
    int stopping;   /* close handler ran: the writer must not write again */
    int close_code; /* non-zero: send a close frame with it and stop */
    char close_reason[64];
    pthread_t writer;
    int writer_started;

    /* Every open conn of this node: guarded by the ws state's lock, like
     * the sweeper's marks. */
    struct ws_conn *all_next, *all_prev;
    int aborted;               /* mg_abort_connection was called */
    int overflowed;            /* guarded by lock: frames are dropped from now on */
    double close_requested_at; /* guarded by lock: when close_code was set */
    int close_sent;            /* writer thread only */

    /* Hub linkage: guarded by the hub's lock. */
    struct ws_conn *hub_next, *hub_prev; /* all authenticated conns */
    struct ws_conn *idx_next, *idx_prev; /* same visitor / same agent */
};

/* Registers /ws/visitor and /ws/agent on the running server and starts the
 * housekeeping thread (auth timeouts). Returns 0 or -1. */
int ws_start(struct app *app);
/* Asks every open socket to close (shutdown: 1001 going away). */
void ws_close_all(struct app *app, int code, const char *reason);
/* Stops the housekeeping thread; ws_free after the server has stopped. */
void ws_stop(struct app *app);
void ws_free(struct app *app);

void ws_conn_ref(struct ws_conn *c);
void ws_conn_unref(struct ws_conn *c);

/* A new shared frame holding a copy of text (refs = 1). NULL on OOM. */
struct ws_frame *ws_frame_new(const char *text, size_t len);
void ws_frame_unref(struct ws_frame *f);
struct ws_frame *ws_frame_ref(struct ws_frame *f); /* returns f */

/* Queues a frame for the connection (takes a reference of its own). When
 * the queue is over its bounds the connection is closed instead (1008). */
void ws_send_frame(struct ws_conn *c, struct ws_frame *f);

/* Convenience: serialise a JSON value (consumed) and queue it. */
void ws_send_json(struct ws_conn *c, json_t *doc);

/* Queues an error reply. */
void ws_send_error(struct ws_conn *c, const char *id, const char *code, const char *message, const char *field);

/* Asks the writer to send a close frame and stop. */
void ws_close(struct ws_conn *c, int code, const char *reason);

/* Open sockets on this node (authenticated or not). */
long ws_open_count(struct app *app);

#endif
