/* router: who gets which waiting conversation.
 *
 * Owns the assignment policy, as pure functions over a snapshot (unit
 * tested without a database):
 *   - the longest-waiting conversation first (queue order as given);
 *   - to the candidate agent with the fewest open chats below their own
 *     max_chats; ties go to the longest idle (oldest last assignment, never
 *     assigned first), then the lowest id;
 *   - candidates are online, connected members of the team; away and
 *     offline agents, and agents without a live connection, get none.
 * and router_drain, which applies it to a team in one transaction under a
 * per-team advisory lock, so several nodes draining at once never assign a
 * conversation twice or overfill an agent. */
#ifndef PARLEY_ROUTER_H
#define PARLEY_ROUTER_H

#include "core/app.h"

#include <stddef.h>

struct router_agent {
    long long id;
    int open; /* conversations assigned now */
    int max_chats;
    double last_assigned_at; /* epoch seconds; 0 = never */
    int online;              /* chose status "online" (not away/offline) */
    int connected;           /* has a live connection on some node */
    int in_team;             /* member of the team being drained */
};

/* 1 when the agent may receive new conversations of the team at all. */
int router_eligible(const struct router_agent *a);

struct router_assignment {
    long long conversation_id;
    long long agent_id;
};

/* Index of the eligible agent to give the next conversation to, or -1 if
 * nobody eligible has capacity. */
int router_pick_agent(const struct router_agent *agents, size_t n);

/* Plans assignments for conversations (ids in queue order) over agents,
 * updating agents' open counts and last_assigned_at (to `now`) as it goes.
 * Returns the number of assignments written to out (at most max_out). */
size_t router_plan(const long long *conversations, size_t nconv, struct router_agent *agents, size_t nagents,
                   double now, struct router_assignment *out, size_t max_out);

/* Assigns as much of a team's queue as capacity allows; returns the number
 * assigned or -1 on a database error. */
int router_drain(struct app *app, long long team_id);

/* Drains every team the agent belongs to (they came online or freed up). */
void router_drain_agent_teams(struct app *app, long long agent_id);

#endif
