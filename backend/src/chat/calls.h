/* calls: voice and video calls between a conversation's visitor and an agent.
 *
 * Owns the call state machine (ringing -> active -> ended; one live call
 * per conversation and per agent, enforced by unique indexes so that two
 * nodes cannot both start one), who may do what (the agent assignee or a
 * participant calls, the visitor requests one when the site allows it; only
 * the callee accepts or declines; either party hangs up), the event lines
 * each change writes into the conversation (call_offered, call_requested,
 * call_accepted, call_declined, call_missed, call_cancelled, call_ended),
 * and the relay of signalling (SDP, ICE candidates, controls) to the other
 * party's end: the one socket of that party in the call (node and random
 * key; call_end), wherever it is connected. The media never passes here.
 *
 * Each change is one transaction that writes its event line and notifies
 * {"e":"call"} (both parties' sockets get call.updated); a signal is one
 * statement that checks the sender is an end of the active call of an open
 * conversation and notifies {"e":"sig"} (by reference to a call_signals row
 * when too large for a NOTIFY). calls_sweep, run every second on every
 * node, ends what the clock ends: unanswered rings (missed), calls whose
 * party's socket is gone longer than PARLEY_CALL_LOST_SECONDS (lost, also
 * when its node died), calls of closed conversations and calls past
 * PARLEY_CALL_MAX_MINUTES; the row lock (SKIP LOCKED) makes every node's
 * sweep end each call once.
 *
 * Functions return CHAT_OK with *reply set to {"call": {...}} that the
 * caller owns, or an error and *reply NULL. */
#ifndef PARLEY_CALLS_H
#define PARLEY_CALLS_H

#include "chat/actor.h"
#include "chat/errors.h"
#include "core/app.h"

#include <jansson.h>

/* One party's end of a call: the socket that carries its signals. */
struct call_end {
    const char *node; /* app->node_id of the socket's node */
    const char *key;  /* the socket's random key */
};

/* Starts a call in conversation conv: media "audio" or "video". An agent
 * rings the visitor; a visitor asks the assignee (site setting "visitor").
 * end is the caller's socket. */
enum chat_err calls_start(struct app *app, const struct actor *a, long long conv, const char *media,
                          const struct call_end *end, json_t **reply) CHAT_CHECKED;
/* The callee answers a ringing call from socket end. */
enum chat_err calls_accept(struct app *app, const struct actor *a, long long call, const struct call_end *end,
                           json_t **reply) CHAT_CHECKED;
/* The callee refuses a ringing call. */
enum chat_err calls_decline(struct app *app, const struct actor *a, long long call, json_t **reply) CHAT_CHECKED;
/* Either party ends it: a ringing call is cancelled (caller) or declined
 * (callee), an active one hung up. */
enum chat_err calls_hangup(struct app *app, const struct actor *a, long long call, json_t **reply) CHAT_CHECKED;
/* A party's new socket (after a reconnect) becomes its end of an active
 * call, or of a ringing one it made. */
enum chat_err calls_rejoin(struct app *app, const struct actor *a, long long call, const struct call_end *end,
                           json_t **reply) CHAT_CHECKED;
/* Relays frame (a complete call.signal frame, built and size-checked by
 * the caller) from socket end to the other party's end. */
enum chat_err calls_signal(struct app *app, const struct actor *a, long long call, const struct call_end *end,
                           const char *frame) CHAT_CHECKED;
/* The live (ringing or active) calls the actor is a party of, as a new
 * array of call objects the caller frees: what a socket that (re)connects
 * learns with conversations.list. */
enum chat_err calls_live(struct app *app, const struct actor *a, json_t **calls) CHAT_CHECKED;
/* Whether the actor is a party of a live (ringing or active) call. */
enum chat_err calls_party_live(struct app *app, const struct actor *a, int *live) CHAT_CHECKED;
/* Socket end closed: its calls count the party as gone from now on. */
void calls_socket_closed(struct app *app, const struct actor *a, const struct call_end *end);
/* The frame of a signal relayed by reference (a call_signals row): a new
 * string the caller frees, in *frame. */
enum chat_err calls_signal_frame(struct app *app, long long row, char **frame) CHAT_CHECKED;
/* Ends what the clock ends (see above) and forgets relayed signals. */
void calls_sweep(struct app *app);

#endif
