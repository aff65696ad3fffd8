/* assign: who gets which waiting conversation, and giving it to them.
 *
 * Owns the assignment policy, as pure functions over a snapshot (unit
 * tested without a database):
 *   - the highest priority first (urgent, high, normal, low), then the
 *     longest waiting (assign_order_queue);
 *   - to the candidate agent with the fewest open chats below their own
 *     (a participation counts as an open chat where the conversation's team
 *     says collaborators use capacity)
 *     max_chats; ties go to the longest idle (oldest last assignment, never
 *     assigned first), then the lowest id;
 *   - candidates are online, connected members of the team; away and
 *     offline agents, and agents without a live connection, get none;
 * the assignment step itself (assign_tx: the row, the event line, the
 * notification), and draining: applying the policy to a team in one
 * transaction under a per-team advisory lock, so several nodes draining at
 * once never assign a conversation twice or overfill an agent.
 *
 * Draining is the one way routing is triggered. A domain operation that
 * queues a conversation or frees capacity does not drain inside its own
 * transaction: it records the teams and agents concerned in a struct
 * assign_work, and its caller runs assign_run after answering, so that the
 * client learns the result before any event about what followed. A drain
 * that fails (the database is down) is logged and made good by
 * assign_drain_waiting, which every node runs every few seconds. */
#ifndef PARLEY_ASSIGN_H
#define PARLEY_ASSIGN_H

#include "chat/errors.h"
#include "core/app.h"

#include <libpq-fe.h>
#include <stddef.h>

struct assign_agent {
    long long id;
    int open; /* conversations assigned now */
    int max_chats;
    double last_assigned_at; /* epoch seconds; 0 = never */
    int online;              /* chose status "online" (not away/offline) */
    int connected;           /* has a live connection on some node */
    int in_team;             /* member of the team being drained */
};

/* 1 when the agent may receive new conversations of the team at all. */
int assign_eligible(const struct assign_agent *a);

#define ASSIGN_DECLINED_MAX 8

/* A conversation waiting in a team's queue. */
struct assign_queued {
    long long id;
    int priority;                            /* 0 low .. 3 urgent */
    double queued_at;                        /* epoch seconds */
    long long declined[ASSIGN_DECLINED_MAX]; /* agents who let it wait unanswered: not offered it again */
    int ndeclined;
};

/* Sorts q into the order the router serves it: the highest priority first,
 * then the longest waiting, then the lowest id. */
void assign_order_queue(struct assign_queued *q, size_t n);

struct assign_plan_item {
    long long conversation_id;
    long long agent_id;
};

/* Index of the eligible agent to give the next conversation to, or -1 if
 * nobody eligible has capacity. */
int assign_pick_agent(const struct assign_agent *agents, size_t n);

/* Plans assignments for conversations (in queue order) over agents, none
 * to an agent who declined it,
 * updating agents' open counts and last_assigned_at (to `now`) as it goes.
 * Returns the number of assignments written to out (at most max_out). */
size_t assign_plan(const struct assign_queued *conversations, size_t nconv, struct assign_agent *agents, size_t nagents,
                   double now, struct assign_plan_item *out, size_t max_out);

/* Inside a transaction: assigns the conversation to an active agent, writes
 * the event line and notifies with the given change ("assigned" by a drain
 * or an accept, "reopened", "transferred"). CHAT_E_NOT_FOUND when the agent
 * is not active. */
enum chat_err assign_tx(PGconn *conn, long long conv, long long agent_id, const char *change) CHAT_CHECKED;

/* name as the text of an event line or note: cleaned as an identifier
 * (rows stored before names were checked may hide bidi controls). out holds
 * len bytes. */
void assign_name_for_text(const char *name, char *out, size_t len);

/* What to drain once a change is committed and answered. */
#define ASSIGN_WORK_MAX 8
struct assign_work {
    long long teams[ASSIGN_WORK_MAX];  /* queues that may have waiting conversations */
    long long agents[ASSIGN_WORK_MAX]; /* agents whose capacity grew: their teams */
    int nteams, nagents;
    int overflow; /* more than fits: assign_run drains every waiting team */
};

void assign_work_team(struct assign_work *w, long long team_id);
void assign_work_agent(struct assign_work *w, long long agent_id);
/* Adds what from names to w. */
void assign_work_merge(struct assign_work *w, const struct assign_work *from);

/* Drains what w names. Failures are logged (assign_drain_waiting makes
 * them good). */
void assign_run(struct app *app, const struct assign_work *w);

/* Assigns as much of a team's queue as capacity allows. Returns CHAT_OK (or
 * the error that stopped it); *assigned, when not NULL, counts assignments. */
enum chat_err assign_drain(struct app *app, long long team_id, int *assigned) CHAT_CHECKED;

/* Drains every team that has waiting conversations (the safety net for
 * drains that failed or triggers that were lost). */
enum chat_err assign_drain_waiting(struct app *app) CHAT_CHECKED;

#endif
