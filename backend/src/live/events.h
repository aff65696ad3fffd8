/* events: the catalogue of change notifications and how each reaches the
 * sockets of this node.
 *
 * Every committed change NOTIFYs channel "parley" in its own transaction
 * (PostgreSQL caps payloads at 8000 bytes):
 *   {"e":"msg","m":[entry, ...]}   messages created; an entry is the message
 *       itself {"c","v","t","a","q","am","vm"} (routing + agent and visitor
 *       views) or, when too large, a [conversation_id, seq] reference
 *   {"e":"conv","c":id,"ch":change,"pa":prev_assignee,"ot":old_team}
 *   {"e":"typing","c":id,"v":visitor,"a":assignee,"t":team,"side":s,"on":b,"n":name}
 *   {"e":"read","c":id,"v":visitor,"a":assignee,"t":team,"side":s,"seq":n}
 *   {"e":"presence","ag":agent,"st":status,"cn":connected,"n":name}
 *   {"e":"agent_off","ag":agent}                   agent deactivated
 *   {"e":"session_off","ag":agent,"h":[sha256_hex, ...]}
 *       sessions ended (logout, password change, deactivation); "h" may
 *       also be one string, "ag" may be absent
 *   {"e":"agent_rights","ag":agent}                role or teams changed
 *       (trigger, migration 0005): the agent's sockets close (4004)
 *   {"e":"site_identity","s":site}                 the site now requires a
 *       verified identity: its anonymous visitor sockets close (4003)
 * events_dispatch (run by the bus thread, in commit order) loads what a
 * reference points to, renders one frame per audience and hands it to the
 * hub; for conversation changes it also refreshes the queue positions of
 * this node's waiting visitors. */
#ifndef PARLEY_EVENTS_H
#define PARLEY_EVENTS_H

#include "core/app.h"

#include <jansson.h>
#include <libpq-fe.h>

/* Shorthand for {"e":"conv",...}; prev_assignee and old_team may be 0. */
int events_notify_conv(PGconn *conn, long long conversation_id, const char *change, long long prev_assignee,
                       long long old_team);

/* Handles one notification payload (bus thread). */
void events_dispatch(struct app *app, const char *payload);

/* Sends queue.position to this node's visitors waiting in a team. */
void events_queue_positions(struct app *app, long long team_id);

/* The same for the teams where one visitor has a queued conversation. */
void events_queue_position_of(struct app *app, long long visitor_id);

/* Tells every local client to resync (after the bus lost notifications). */
void events_resync_all(struct app *app);

#endif
