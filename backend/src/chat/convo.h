/* convo: conversations and what visitors and agents do to them.
 *
 * Owns the state machine (queued -> assigned -> closed, and reopened), who
 * may do what (a visitor only to their own conversations; an agent to
 * conversations of their teams, or assigned to them; supervisors and admins
 * to all), and the event each change emits. Team membership and an agent
 * actor's privilege are read from the database at each check (the
 * privilege a socket claims is narrowed by parley_agent_privileged), so a
 * role or team change counts from its commit on. Every change of state (queued,
 * assigned, transferred, closed, reopened, requeued) is one transaction that
 * also writes its event message (kind 'event', gap-free seq like any
 * message; the start itself writes none) and NOTIFYs; after commit the
 * affected team queues are drained. Ratings and visitor updates NOTIFY
 * without an event message.
 *
 * Functions return NULL on success (with *reply set to an object the
 * caller owns, to be merged into the ack) or a protocol error code (PE_*). */
#ifndef PARLEY_CONVO_H
#define PARLEY_CONVO_H

#include "core/app.h"

#include <jansson.h>
#include <libpq-fe.h>

enum actor_kind { ACTOR_VISITOR, ACTOR_AGENT, ACTOR_API, ACTOR_SYSTEM };

struct actor {
    enum actor_kind kind;
    long long id;      /* visitor id, agent id, API token id */
    long long site_id; /* visitor: the site the token belongs to */
    int privileged;    /* supervisor/admin agent, or an API token */
};

/* The wire name of an actor kind as stored in messages.author_kind. */
const char *convo_actor_kind(const struct actor *a);

/* offline: left through the offline form while nobody was online; it waits
 * in the queue like any other and is marked for the agents. A verified
 * visitor's pre-chat "name"/"email" that differ from the verified identity
 * are neither applied nor stored, and are listed in the reply's "ignored"
 * (only a new verified identity changes them). A new
 * conversation sets *drain_team: the caller answers first, then runs
 * router_drain on it, so the visitor learns the conversation's id before
 * any event about it. */
const char *convo_start(struct app *app, const struct actor *a, const char *page_url, const char *referrer,
                        json_t *prechat, int offline, json_t **reply, long long *drain_team);
/* The visitor tells us more about themselves: name, email (unverified:
 * for a verified visitor they are never applied, and the ones that differ
 * from the verified identity's are listed in the reply's "ignored"),
 * custom attributes (merged), and the page they are on now (recorded on
 * their open conversation). */
const char *convo_visitor_update(struct app *app, const struct actor *a, const char *name, const char *email,
                                 json_t *attributes, const char *page_url, json_t **reply);

/* The visitor's rating of a closed conversation (good|bad, optional comment). */
const char *convo_rate(struct app *app, const struct actor *a, long long conv, const char *rating, const char *comment,
                       json_t **reply);
const char *convo_accept(struct app *app, const struct actor *a, long long conv, json_t **reply);
const char *convo_transfer(struct app *app, const struct actor *a, long long conv, long long to_agent,
                           long long to_team, const char *reason, json_t **reply);
const char *convo_close(struct app *app, const struct actor *a, long long conv, json_t **reply);
const char *convo_reopen(struct app *app, const struct actor *a, long long conv, json_t **reply);
const char *convo_read(struct app *app, const struct actor *a, long long conv, long long seq, json_t **reply);
const char *convo_typing(struct app *app, const struct actor *a, const char *name, long long conv, int on);
const char *convo_sync(struct app *app, const struct actor *a, long long conv, long long after_seq, long long limit,
                       json_t **reply);
const char *convo_list(struct app *app, const struct actor *a, json_t **reply);

/* Inside a transaction: assigns the conversation to an agent, writes the
 * event message and NOTIFYs with the given change ("assigned" by the router
 * or an accept, "reopened", "transferred"). */
int convo_assign_tx(PGconn *conn, long long conv, long long agent_id, const char *change);

/* Inside a transaction: appends one message through post_messages().
 * meta may be NULL. Returns DB_OK or a DB_E_* code (DB_E_NOT_FOUND when the
 * function refused it). */
int convo_post_tx(PGconn *conn, long long conv, const char *author_kind, long long author_id, const char *kind,
                  const char *body, json_t *meta);

/* Inside a transaction: puts every conversation assigned to agent_id back
 * at the front of its team's queue. Returns the number moved or -1. Teams
 * touched are written to teams (up to maxteams). */
int convo_requeue_agent_tx(PGconn *conn, long long agent_id, long long *teams, int maxteams, int *nteams);

#endif
