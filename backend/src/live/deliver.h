/* deliver: how each notification reaches this node's sockets.
 *
 * Owns the rendering of notifications (the catalogue is chat/notify.h)
 * into frames per audience and their hand-over to the hub, in the order
 * the bus receives them (commit order): messages travel whole in the
 * payload (or are loaded by reference when too large), conversation
 * changes are rendered from the current state, and after a change the
 * queue positions of this node's waiting visitors are refreshed. Session
 * and rights changes close the sockets concerned. Run by the bus thread. */
#ifndef PARLEY_DELIVER_H
#define PARLEY_DELIVER_H

#include "core/app.h"

/* Handles one notification payload (bus thread). */
void deliver_notification(struct app *app, const char *payload);

/* Sends queue.position to this node's visitors waiting in a team. */
void deliver_queue_positions(struct app *app, long long team_id);

/* The same for the teams where one visitor has a queued conversation. */
void deliver_queue_position_of(struct app *app, long long visitor_id);

/* Tells every local client to resync (after the bus lost notifications). */
void deliver_resync_all(struct app *app);

#endif
