/* participants: several agents in one conversation.
 *
 * Owns conversation_participants (migration 0009) and the moves that change
 * who is in a conversation besides its owner (the assignee):
 *   - invite: the owner, a participant or a supervisor brings in a
 *     colleague (role collaborator) who must be connected; both reply, the
 *     visitor sees each name;
 *   - join: a supervisor or admin barges in (role supervisor), visibly;
 *   - leave: a participant goes (the owner cannot: they close or transfer);
 *   - take: a participant or a supervisor becomes the owner, and the
 *     previous owner stays as a participant;
 *   - escalate: to an agent (brought in, role escalation) or to a team (the
 *     conversation waits in that team's queue at a raised priority while
 *     its owner stays in it as a participant): nobody leaves.
 * Each move is one transaction under the conversation's row lock that
 * writes its event line ("Ben joined the conversation", "Escalated to
 * Billing by Ana") and NOTIFYs conversation.updated (changes participants,
 * taken, escalated). A participant receives the conversation's events and
 * messages like its owner; capacity counts them only where the team says
 * so (teams.collaborators_use_capacity, read by chat/assign).
 *
 * Functions return CHAT_OK with *reply an object the caller owns
 * ({"conversation": <agent view>}), or an error and *reply NULL; what the
 * caller must drain after answering is added to *work. */
#ifndef PARLEY_PARTICIPANTS_H
#define PARLEY_PARTICIPANTS_H

#include "chat/actor.h"
#include "chat/assign.h"
#include "chat/errors.h"
#include "core/app.h"

#include <jansson.h>

#define PARTICIPANTS_MAX 8 /* besides the owner, as the schema allows */

enum chat_err participants_invite(struct app *app, const struct actor *a, long long conv, long long agent_id,
                                  json_t **reply) CHAT_CHECKED;
enum chat_err participants_join(struct app *app, const struct actor *a, long long conv, json_t **reply) CHAT_CHECKED;
/* agent_id: who leaves (an agent actor: themselves only; the API: anyone). */
enum chat_err participants_leave(struct app *app, const struct actor *a, long long conv, long long agent_id,
                                 json_t **reply) CHAT_CHECKED;
enum chat_err participants_take(struct app *app, const struct actor *a, long long conv, json_t **reply,
                                struct assign_work *work) CHAT_CHECKED;
/* Exactly one of to_agent, to_team. priority: -1 (to a team: at least
 * high) or 0..3. reason may be NULL. */
enum chat_err participants_escalate(struct app *app, const struct actor *a, long long conv, long long to_agent,
                                    long long to_team, const char *reason, int priority, json_t **reply,
                                    struct assign_work *work) CHAT_CHECKED;

#endif
