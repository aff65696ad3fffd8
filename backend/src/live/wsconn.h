/* wsconn: one WebSocket connection, its outbound queue, and the writer
 * that sends every connection's frames.
 *
 * Owns the connection's state as every part of live/ sees it (who it is
 * once authenticated, its hub links), its bounded outbound queue, and the
 * node's one writer thread (struct wsconn_writer): every frame goes through
 * a queue; a connection with something queued is put on the writer's list,
 * and the writer sends what it can without blocking (a socket whose buffer
 * is full waits in the writer's epoll set for room, its frames kept whole),
 * so a peer that stops reading delays only itself, and one that falls too
 * far behind (PARLEY_WS_QUEUE_MAX_FRAMES or _BYTES) is closed (1008). A
 * socket costs no thread of its own for writing (civetweb's worker reads
 * it); writes of many frames to one socket go out in one system call.
 * After a close request the writer sends the close frame behind what was
 * queued and writes nothing more; once the close handler has detached the
 * connection (wsconn_stop_writer) it never touches the socket again.
 * civetweb's own pings and pongs are off; pings are answered here
 * (wsconn_send_control) and sent by ws's sweeper. civetweb still writes a
 * close frame itself when a frame's header announces too much (patch
 * 0001); the writer holds civetweb's connection lock while it sends, so
 * the two do not mix (a frame the writer left half-sent on a full socket
 * is the exception: that peer is not reading anyway).
 *
 * A connection is reference-counted: civetweb's handlers hold one reference
 * from connect to close, and anyone who keeps a pointer past a hub lock
 * (the message committer, waiting to answer) takes another. This is the
 * bottom of live/: it includes nothing of hub, ws, deliver or msgqueue. */
#ifndef PARLEY_WSCONN_H
#define PARLEY_WSCONN_H

#include "chat/agents.h"
#include "chat/viewers.h"
#include "core/app.h"
#include "core/peer.h"
#include "live/proto.h"

#include <jansson.h>
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
struct mg_connection;
struct wsconn_writer;

struct ws_conn {
    atomic_int refs;
    struct mg_connection *mg; /* set by ws at on_ready, under its state's lock */
    struct app *app;
    enum proto_role role;
    char origin[256];
    char client_ip[PEER_ADDR_MAX]; /* counted in app->conns until close */
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
    atomic_int watching;   /* agent subscribed to the queue */
    double opened_at;      /* monotonic seconds */
    double last_typing_at; /* reader thread only */
    int last_typing_on;
    int last_typing_note; /* what was typed was a note (not news to the visitor) */
    long long last_typing_conv;
    long long viewing[VIEWERS_PER_SOCKET]; /* conversations this socket shows (reader thread only) */
    int nviewing;
    /* Calls (chat/calls): the socket's random key, set at connect and never
     * changed (the hub matches it), whether it has been the end of a call
     * (reader thread only), and its signalling budget (reader thread). */
    char call_key[64];
    int call_end;
    double signal_tokens, signal_at;

    /* Outbound queue and the rest of the connection's state: guarded by lock. */
    pthread_mutex_t lock;
    pthread_cond_t settled; /* a post answered, a close frame sent, the writer done with it */
    struct ws_queued *head, *tail;
    size_t queued_frames, queued_bytes;
    int pending_posts; /* message.send queued in msgqueue, not yet answered */
    int stopping;      /* close handler ran: the writer must not write again */
    int close_code;    /* non-zero: send a close frame with it and stop */
    char close_reason[64];
    double close_requested_at; /* when close_code was set */
    int overflowed;            /* frames are dropped from now on */
    int close_sent;

    /* The writer's hold on it (under lock): on its list, waiting for room
     * in the socket's buffer, being written now. Each of the first two
     * holds a reference. */
    struct wsconn_writer *out; /* NULL until wsconn_start_writer */
    int fd;                    /* the socket (civetweb's) */
    void *ssl;                 /* its TLS session, or NULL */
    int scheduled, waiting_room, writing, in_epoll;
    struct ws_conn *out_next;
    /* Bytes taken from the queue and not all sent yet (the writer's only):
     * whole frames, so that nothing else is ever sent in the middle of one. */
    char *pend;
    size_t pend_len, pend_off;
    int pend_close; /* the close frame is in pend */

    /* Liveness (reader thread and ws's sweeper, under lock): when the peer
     * last sent anything, and pings it has not answered since. */
    double last_rx, last_ping_at;
    int pings_unanswered;

    /* Every open conn of this node: guarded by the ws state's lock. */
    struct ws_conn *all_next, *all_prev;
    int aborted; /* mg_abort_connection was called */

    /* Hub linkage: guarded by the hub's lock. */
    struct ws_conn *hub_next, *hub_prev; /* all authenticated conns */
    struct ws_conn *idx_next, *idx_prev; /* same visitor / same agent */
};

/* A new connection (refs = 1) for a socket just admitted. The caller owns
 * the reference (wsconn_unref). NULL on OOM. */
struct ws_conn *wsconn_new(struct app *app, enum proto_role role, const char *client_ip, const char *origin);
void wsconn_ref(struct ws_conn *c);
void wsconn_unref(struct ws_conn *c);

/* The node's writer: one thread and its epoll set. NULL on failure. Stop
 * it after every connection is closed. */
struct wsconn_writer *wsconn_writer_start(void);
void wsconn_writer_stop(struct wsconn_writer *w);

/* Hands the open socket (c->mg) to app->ws_writer. Returns 0 or -1. */
int wsconn_start_writer(struct ws_conn *c);
/* From the close handler: the writer lets go of the socket (if it was
 * writing to it, after that write); nothing is written afterwards. */
void wsconn_stop_writer(struct ws_conn *c);

/* A new shared frame holding a copy of text (refs = 1). NULL on OOM. */
struct ws_frame *wsconn_frame_new(const char *text, size_t len);
void wsconn_frame_unref(struct ws_frame *f);
struct ws_frame *wsconn_frame_ref(struct ws_frame *f); /* returns f */

/* Queues a frame (takes a reference of its own). When the queue is over its
 * bounds the connection is closed instead (1008). */
void wsconn_send(struct ws_conn *c, struct ws_frame *f);
/* Queues a control frame (a ping or a pong: opcode 0x9 or 0xA) with up to
 * 125 bytes of payload. */
void wsconn_send_control(struct ws_conn *c, int opcode, const char *data, size_t len);
/* Serialises a JSON value (consumed) and queues it. */
void wsconn_send_json(struct ws_conn *c, json_t *doc);
/* Queues an error reply (proto_error_frame). */
void wsconn_send_error(struct ws_conn *c, const char *id, const char *code, const char *message, const char *field);

/* Asks the writer to send a close frame and stop (the first request wins). */
void wsconn_close(struct ws_conn *c, int code, const char *reason);

/* 1 when a close was asked more than grace seconds before now and the
 * connection is still open (the peer ignores the close frame). */
int wsconn_lingering(struct ws_conn *c, double now, double grace);

/* After the peer's close frame: waits up to ms for the writer to have sent
 * our answering close frame. */
void wsconn_wait_close_sent(struct ws_conn *c, int ms);

/* message.send bookkeeping: a post queued for the committer, and answered.
 * wsconn_wait_posts waits (up to ms) until none is pending, so a state
 * change does not overtake the messages sent before it. */
void wsconn_post_begin(struct ws_conn *c);
void wsconn_post_end(struct ws_conn *c);
void wsconn_wait_posts(struct ws_conn *c, int ms);

#endif
