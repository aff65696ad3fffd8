/* bus: LISTEN/NOTIFY between parleyd nodes.
 *
 * Owns one dedicated PostgreSQL connection that LISTENs on channel
 * "parley" and a thread that hands every notification, in commit order, to
 * deliver_notification(). Every node receives its own notifications too, so local
 * and remote changes take the same path. When the connection drops, it is
 * re-established and every local client is told to resync (notifications
 * sent meanwhile are lost to this node; the clients' sync fills the gap). */
#ifndef PARLEY_BUS_H
#define PARLEY_BUS_H

#include "core/app.h"

#include <stddef.h>

#define BUS_CHANNEL "parley"

/* Connects, LISTENs and starts the thread. NULL on failure (message in err). */
struct bus *bus_start(struct app *app, char *err, size_t errlen);
void bus_stop(struct bus *bus);

#endif
