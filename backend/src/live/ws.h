/* ws: the WebSocket endpoints /ws/visitor and /ws/agent.
 *
 * Owns each socket's life from the handshake (Origin checks, the limits on
 * what one address and the node may hold), through the first-frame
 * authentication, to the per-type dispatch of inbound frames onto the
 * domain (chat/) and the answers. Every close the server starts is final:
 * the housekeeping thread closes sockets that did not authenticate in time
 * and aborts any socket still open a second after its close frame. The
 * socket itself (queue, writer) is live/wsconn; who receives what is
 * live/hub. This is the top of live/. */
#ifndef PARLEY_WS_H
#define PARLEY_WS_H

#include "core/app.h"

struct mg_context;

/* The socket state and its housekeeping thread, before the server starts.
 * Returns 0 or -1. */
int ws_start(struct app *app);
/* Registers /ws/visitor and /ws/agent: http_start's register_more, so they
 * are in place before the first connection is accepted. */
void ws_register(struct app *app, struct mg_context *mg);
/* Asks every open socket to close (shutdown: 1001 going away) and waits,
 * up to wait_ms in all, until each has sent its close frame (after what was
 * queued before it). */
void ws_close_all(struct app *app, int code, const char *reason, int wait_ms);
/* Stops the housekeeping thread; ws_free after the server has stopped. */
void ws_stop(struct app *app);
void ws_free(struct app *app);

/* Open sockets on this node (authenticated or not). */
long ws_open_count(struct app *app);

#endif
