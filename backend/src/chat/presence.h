/* presence: agents' chosen status, their live connections across nodes, and
 * what happens when they disappear.
 *
 * Owns this node's row in `nodes` (heartbeat every few seconds), the
 * per-node connection counts in `agent_presence`, the agent status switch
 * (online/away/offline), the grace-period sweep, and the periodic drain:
 *   - an agent who has had no live connection on any node for
 *     PARLEY_AGENT_GRACE_SECONDS gets their open conversations put back at
 *     the front of the queue. The sweep runs on every node every second;
 *     the requeue re-checks under the agent's row lock, so two nodes
 *     sweeping together move each conversation once. A crashed node's
 *     presence rows stop counting PARLEY_NODE_TIMEOUT_SECONDS after its
 *     last heartbeat (parley_agent_live);
 *   - every few seconds, queues with waiting conversations are drained
 *     (assign_drain_waiting): a drain that failed after a change is made
 *     good there.
 * This node's connection counts are kept in memory too (the truth: this
 * process holds the sockets), so that a count the database missed (it was
 * unreachable when a socket opened or closed) is written again with the
 * next heartbeat instead of counting an agent as connected forever.
 *
 * The ticker and the counts are a singleton per process, started and
 * stopped by main; the counts are guarded by one mutex. */
#ifndef PARLEY_PRESENCE_H
#define PARLEY_PRESENCE_H

#include "chat/errors.h"
#include "core/app.h"

/* Registers the node and starts the ticker thread. Returns 0 or -1. */
int presence_start(struct app *app);
/* Stops the ticker and removes this node's rows (its agents disconnect). */
void presence_stop(struct app *app);

/* Counts a new / closed agent connection on this node and tells everyone.
 * A connection of an online agent drains their teams' queues. */
void presence_agent_connected(struct app *app, long long agent_id, const char *name);
void presence_agent_disconnected(struct app *app, long long agent_id, const char *name);

/* Sets an agent's status (online, away, offline). Going online drains the
 * agent's team queues. */
enum chat_err presence_set_status(struct app *app, long long agent_id, const char *name,
                                  const char *status) CHAT_CHECKED;

#endif
