/* sla: each team's SLA clocks and escalation rules, and the sweep that keeps
 * them on every node.
 *
 * Owns teams.sla ({"first_response_seconds", "next_response_seconds",
 * "resolution_seconds", "business_time"}) and teams.escalation
 * ({"queue_wait": {"after_seconds", "to_team_id" | "priority"},
 * "reassign_after_seconds", "visitor_idle": {"after_seconds", "message"}}):
 * their validation, and what follows from them, once a second on every node
 * (sla_sweep, from the presence ticker):
 *   - due times: a conversation's first-response, next-response and
 *     resolution due times, computed once per anchor (its start, the
 *     visitor's oldest unanswered message) in business time (chat/calendar)
 *     or wall time, and written only where still unset, so that nodes
 *     computing at once write the same value once;
 *   - breaches (SQL parley_sla_breaches): each missed target is a row of
 *     sla_breaches (its key lets one node's insert through), a note for the
 *     agents and conversation.updated change "sla";
 *   - the rules, each in one transaction over rows locked with SKIP LOCKED
 *     and re-checked by the update that acts, so that two nodes sweeping at
 *     once act on a conversation once: a chat waiting in the queue past
 *     queue_wait moves to another team or is raised in priority (the
 *     supervisors, who watch every conversation, hear conversation.updated
 *     change "escalated" or "priority"); a chat the router gave an agent who
 *     has not answered within reassign_after_seconds goes back to the front
 *     of the queue and is not offered to that agent again; a chat whose
 *     visitor has been silent past visitor_idle after the agent's answer is
 *     closed with the team's message. An agent silent past the
 *     next-response target is a breach (flagged, not moved). */
#ifndef PARLEY_SLA_H
#define PARLEY_SLA_H

#include "chat/assign.h"
#include "chat/errors.h"
#include "core/app.h"

#include <jansson.h>
#include <stddef.h>

#define SLA_TARGET_MIN       10       /* seconds */
#define SLA_TARGET_MAX       31536000 /* a year */
#define SLA_RULE_AFTER_MIN   5        /* seconds */
#define SLA_RULE_AFTER_MAX   604800   /* a week */
#define SLA_IDLE_MESSAGE_MAX 2000     /* characters */
#define SLA_SWEEP_BATCH      200      /* conversations per team and step per tick */

/* Checks an SLA policy or an escalation document an admin sends (null is
 * handled by the caller). 0, or -1 with the field at fault ("sla.
 * first_response_seconds") and a reason. An escalation's to_team_id is
 * returned in *to_team (0: none) for the caller to check that it exists. */
int sla_validate_policy(json_t *doc, char *field, size_t flen, char *reason, size_t rlen);
int sla_validate_escalation(json_t *doc, long long *to_team, char *field, size_t flen, char *reason, size_t rlen);

/* One round: due times, breaches and rules of every team that has an SLA
 * or rules. Teams whose queues got conversations (moved in, put back) are
 * added to *work for the caller to drain. Failures are logged; the next
 * round tries again. */
void sla_sweep(struct app *app, struct assign_work *work);

#endif
