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
#include "chat/messages.h"
#include "core/app.h"

#include <jansson.h>
#include <libpq-fe.h>

/* The visitor's open conversation, or a new one in their site's team
 * queue. offline: left through the offline form while nobody was online; it
 * waits in the queue like any other and is marked for the agents. A
 * verified visitor's pre-chat "name"/"email" that differ from the verified
 * identity are neither applied nor stored, and are listed in the reply's
 * "ignored" (only a new verified identity changes them). invitation_id
 * (0: none): the visitor answers that invitation (chat/invitations): the
 * conversation opens with its message, with the inviting agent when they
 * can take it. */
enum chat_err convo_start(struct app *app, const struct actor *a, const char *page_url, const char *referrer,
                          json_t *prechat, int offline, long long invitation_id, json_t **reply,
                          struct assign_work *work) CHAT_CHECKED;
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
/* internal: an agent typing a note or a whisper (the visitor is not told). */
enum chat_err convo_typing(struct app *app, const struct actor *a, const char *name, long long conv, int on,
                           int internal) CHAT_CHECKED;
enum chat_err convo_sync(struct app *app, const struct actor *a, long long conv, long long after_seq, long long limit,
                         json_t **reply) CHAT_CHECKED;
enum chat_err convo_list(struct app *app, const struct actor *a, json_t **reply) CHAT_CHECKED;

/* What a conversation looks like now, per audience, and who follows it: for
 * delivering a change to the sockets. */
struct convo_views {
    long long visitor_id, team_id, assignee_id;
    long long participants[MESSAGE_MAX_PARTICIPANTS];
    int nparticipants;
    char *visitor_json, *agent_json; /* parley_conversation_json; free with convo_views_free */
};
enum chat_err convo_views(struct db_pool *db, long long conv, struct convo_views *out) CHAT_CHECKED;
void convo_views_free(struct convo_views *v);

/* For the modules that add moves of their own (chat/participants,
 * chat/triage), inside their transaction. */
struct convo_row {
    long long id, visitor_id, site_id, team_id, assignee_id;
    char status[16];
    int priority;    /* 0 low .. 3 urgent */
    int in_team;     /* the acting agent is a member of the conversation's team */
    int participant; /* the acting agent is one of its participants */
    int privileged;  /* the actor's privilege, an agent's narrowed by their current role */
};
/* Loads and locks the conversation; CHAT_E_NOT_FOUND when it does not
 * exist or (for a visitor) is not theirs, so a visitor cannot even learn
 * that it exists. Returns DB_OK or an error code. */
int convo_lock_tx(PGconn *conn, const struct actor *a, long long conv, struct convo_row *out);
/* The conversation's JSON for audience ("visitor"/"agent"), read inside the
 * transaction; *out is a new reference the caller owns. */
int convo_json_tx(PGconn *conn, long long conv, const char *audience, json_t **out);
/* An active agent's name for the text of an event line or note, cleaned
 * (CHAT_E_NOT_FOUND when there is no such active agent). */
int convo_agent_name_tx(PGconn *conn, long long agent_id, char *out, size_t len);

/* Inside a transaction: puts every conversation assigned to agent_id back
 * at the front of its team's queue. Returns the number moved or -1; the
 * teams touched are added to *work. */
int convo_requeue_agent_tx(PGconn *conn, long long agent_id, struct assign_work *work);

#endif
