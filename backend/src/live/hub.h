/* hub: the live sessions of this node and the fan-out of events to them.
 *
 * Owns the registry of authenticated WebSocket connections, indexed by
 * visitor and by agent, and the rules for who receives what: a visitor gets
 * only events of their own conversations and never internal notes; an agent
 * gets events of conversations assigned to them, that they participate in
 * (or just transferred away from them, or just left); queue watchers get the queue changes of their teams;
 * supervisors and admins who watch get every conversation's events.
 *
 * One instance per process (app->hub). A read-write lock guards the
 * registry; publishing takes the read side and only queues frames (never
 * writes to a socket), so it is cheap and never blocks on a slow peer. */
#ifndef PARLEY_HUB_H
#define PARLEY_HUB_H

#include "live/wsconn.h"

/* Audiences of an event (bit set). */
#define HUB_VISITOR       1u  /* the conversation's visitor */
#define HUB_INVOLVED      2u  /* assignee, previous assignee and participants */
#define HUB_PRIV_WATCHERS 4u  /* watching supervisors/admins, any team */
#define HUB_TEAM_WATCHERS 8u  /* every watcher of the conversation's team */
#define HUB_ALL_AGENTS    16u /* every agent connection */

#define HUB_MAX_PARTICIPANTS 8 /* as conversations.participant_ids allows */

struct hub_event {
    unsigned audience;
    long long visitor_id;
    long long team_id;
    long long assignee_id, prev_assignee_id;
    long long participants[HUB_MAX_PARTICIPANTS]; /* agents in the conversation besides its assignee */
    int nparticipants;
    long long skip_agent_id;        /* this agent gets nothing (has it already) */
    struct ws_frame *visitor_frame; /* for HUB_VISITOR, may be NULL */
    struct ws_frame *agent_frame;   /* for the agent audiences, may be NULL */
};

struct hub *hub_new(void); /* free with hub_free */
void hub_free(struct hub *hub);

/* Adds an authenticated connection; returns 0, or -1 when the visitor
 * already has max_per_visitor sockets here. */
int hub_add(struct hub *hub, struct ws_conn *c, int max_per_visitor);
void hub_remove(struct hub *hub, struct ws_conn *c);

/* Queues the event's frames to every local connection in its audience. */
void hub_publish(struct hub *hub, const struct hub_event *ev);

/* Queues a frame to every connection of one visitor / one agent. */
void hub_send_visitor(struct hub *hub, long long visitor_id, struct ws_frame *f);
void hub_send_agent(struct hub *hub, long long agent_id, struct ws_frame *f);
/* Queues a frame to the one socket of a visitor (agent = 0) or agent that
 * is their end of a call (its call_key). */
void hub_send_call_end(struct hub *hub, int agent, long long id, const char *key, struct ws_frame *f);

/* Asks every connection of an agent to close (deactivated, rights changed).
 * The close request is made under the hub's lock and the bus delivers in
 * commit order, so no event committed after the change that caused it
 * reaches these connections (ws_close drops frames queued afterwards). */
void hub_close_agent(struct hub *hub, long long agent_id, int code, const char *reason);

/* Asks the agent connections opened with one of the sessions to close
 * (logout, password change); hashes[i] is the hex SHA-256 of a session
 * cookie. agent_id > 0 limits the search to that agent's connections. */
void hub_close_sessions(struct hub *hub, long long agent_id, const char *const *hashes, size_t n, int code,
                        const char *reason);

/* Asks the visitor connections of a site that authenticated without a
 * verified identity to close (the site now requires one). */
void hub_close_unverified(struct hub *hub, long long site_id, int code, const char *reason);

/* Sends a frame to every connection (after the bus reconnects: "resync"). */
void hub_broadcast(struct hub *hub, struct ws_frame *f);

/* Local counts, for routing decisions and metrics. */
int hub_agent_connections(struct hub *hub, long long agent_id);
int hub_has_visitor(struct hub *hub, long long visitor_id);
int hub_has_agents(struct hub *hub);
int hub_has_visitors(struct hub *hub);

#endif
