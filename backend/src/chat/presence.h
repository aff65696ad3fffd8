/* presence: agents' chosen status, their live connections across nodes, and
 * what happens when they disappear.
 *
 * Owns this node's row in `nodes` (heartbeat every few seconds), the
 * per-node connection counts in `agent_presence`, the agent status switch
 * (online/away/offline), and the grace-period sweep: an agent who has had no
 * live connection on any node for PARLEY_AGENT_GRACE_SECONDS gets their open
 * conversations put back at the front of the queue. The sweep runs on every
 * node every second; the UPDATE that requeues is conditional, so two nodes
 * sweeping together move each conversation once. A crashed node's presence
 * rows stop counting when its heartbeat goes stale. */
#ifndef PARLEY_PRESENCE_H
#define PARLEY_PRESENCE_H

#include "core/app.h"

/* Registers the node and starts the ticker thread. Returns 0 or -1. */
int presence_start(struct app *app);
/* Stops the ticker and removes this node's rows (its agents disconnect). */
void presence_stop(struct app *app);

/* Counts a new / closed agent connection on this node and tells everyone. */
void presence_agent_connected(struct app *app, long long agent_id, const char *name);
void presence_agent_disconnected(struct app *app, long long agent_id, const char *name);

/* Sets an agent's status; returns NULL or a PE_* code. Going online drains
 * the agent's team queues. */
const char *presence_set_status(struct app *app, long long agent_id, const char *name, const char *status);

#endif
