/* convo: conversations and what visitors and agents do to them.
 *
 * Owns the state machine (queued -> assigned -> closed, and reopened), who
 * may do what (a visitor only to their own conversations; an agent to
 * conversations of their teams, or assigned to them; supervisors and admins
 * to all), and the event each change emits. Team membership and an agent
 * actor's privilege are read from the database at each check (the
 * privilege a socket claims is narrowed by parley_agent_privileged), so a
 * role or team change counts from its commit on. Every change of state
 * (queued, assigned, transferred, closed, reopened, requeued) is one
 * transaction that also writes its event line (kind 'event', gap-free seq
 * like any message; the start itself writes none) and notifies. Ratings and
 * visitor updates notify without an event line.
 *
 * Functions return CHAT_OK with *reply set to an object the caller owns (to
 * be merged into the ack or answered), or an error and *reply NULL. A move
 * that queues a conversation or frees capacity adds to *work what the caller
 * must drain (assign_run) once it has answered. */
#ifndef PARLEY_CONVO_H
#define PARLEY_CONVO_H

#include "chat/actor.h"
#include "chat/assign.h"
#include "chat/errors.h"
#include "core/app.h"

#include <jansson.h>
#include <libpq-fe.h>

/* The visitor's open conversation, or a new one in their site's team
 * queue. offline: left through the offline form while nobody was online; it
 * waits in the queue like any other and is marked for the agents. A
 * verified visitor's pre-chat "name"/"email" that differ from the verified
 * identity are neither applied nor stored, and are listed in the reply's
 * "ignored" (only a new verified identity changes them). */
enum chat_err convo_start(struct app *app, const struct actor *a, const char *page_url, const char *referrer,
                          json_t *prechat, int offline, json_t **reply, struct assign_work *work) CHAT_CHECKED;
/* The visitor tells us more about themselves: name, email (unverified:
 * for a verified visitor they are never applied, and the ones that differ
 * from the verified identity's are listed in the reply's "ignored"),
 * custom attributes (merged), and the page they are on now (recorded on
 * their open conversation). */
enum chat_err convo_visitor_update(struct app *app, const struct actor *a, const char *name, const char *email,
                                   json_t *attributes, const char *page_url, json_t **reply) CHAT_CHECKED;

/* The visitor's rating of a closed conversation (good|bad, optional comment). */
enum chat_err convo_rate(struct app *app, const struct actor *a, long long conv, const char *rating,
                         const char *comment, json_t **reply) CHAT_CHECKED;
enum chat_err convo_accept(struct app *app, const struct actor *a, long long conv, json_t **reply,
                           struct assign_work *work) CHAT_CHECKED;
/* To an agent (connected: CHAT_E_AGENT_UNAVAILABLE otherwise) or a team's
 * queue; reason goes into a note for the agents. */
enum chat_err convo_transfer(struct app *app, const struct actor *a, long long conv, long long to_agent,
                             long long to_team, const char *reason, json_t **reply,
                             struct assign_work *work) CHAT_CHECKED;
enum chat_err convo_close(struct app *app, const struct actor *a, long long conv, json_t **reply,
                          struct assign_work *work) CHAT_CHECKED;
/* An agent who reopens takes the conversation; anyone else puts it back
 * in its team's queue. */
enum chat_err convo_reopen(struct app *app, const struct actor *a, long long conv, json_t **reply,
                           struct assign_work *work) CHAT_CHECKED;
enum chat_err convo_read(struct app *app, const struct actor *a, long long conv, long long seq,
                         json_t **reply) CHAT_CHECKED;
enum chat_err convo_typing(struct app *app, const struct actor *a, const char *name, long long conv,
                           int on) CHAT_CHECKED;
enum chat_err convo_sync(struct app *app, const struct actor *a, long long conv, long long after_seq, long long limit,
                         json_t **reply) CHAT_CHECKED;
enum chat_err convo_list(struct app *app, const struct actor *a, json_t **reply) CHAT_CHECKED;

/* What a conversation looks like now, per audience, and who follows it: for
 * delivering a change to the sockets. */
struct convo_views {
    long long visitor_id, team_id, assignee_id;
    char *visitor_json, *agent_json; /* parley_conversation_json; free with convo_views_free */
};
enum chat_err convo_views(struct db_pool *db, long long conv, struct convo_views *out) CHAT_CHECKED;
void convo_views_free(struct convo_views *v);

/* Inside a transaction: puts every conversation assigned to agent_id back
 * at the front of its team's queue. Returns the number moved or -1; the
 * teams touched are added to *work. */
int convo_requeue_agent_tx(PGconn *conn, long long agent_id, struct assign_work *work);

#endif
