/* board: the supervisors' live board.
 *
 * Owns the one read that shows, per team, the chats waiting in its queue
 * (highest priority, then longest waiting, first), its agents with their
 * status, connection and load against max_chats, whether the team is within
 * its business hours, and the open chats at risk of missing an SLA target
 * (due within BOARD_RISK_SECONDS, or missed). Supervisors and admins only
 * (the privilege narrowed by the agent's current role). The console reads
 * it again when the events a supervisor receives say something changed;
 * nothing is pushed from here. */
#ifndef PARLEY_BOARD_H
#define PARLEY_BOARD_H

#include "chat/actor.h"
#include "chat/errors.h"
#include "core/app.h"

#include <jansson.h>

#define BOARD_RISK_SECONDS 300 /* "at risk": a due time within five minutes */
#define BOARD_MAX_TEAMS    100
#define BOARD_MAX_ROWS     100 /* waiting chats, agents and chats at risk, per team */

/* *reply = {"board": {"teams": [...], "generated_at"}} (the caller owns
 * it); CHAT_E_FORBIDDEN for anyone but a supervisor or admin. */
enum chat_err board_get(struct app *app, const struct actor *a, json_t **reply) CHAT_CHECKED;

#endif
