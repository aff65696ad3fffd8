/* automation: the admin's automation rules, stored, cached and run.
 *
 * Owns automation_rules (migration 0011): their CRUD and JSON shape {id,
 * name, enabled, position, rule, created_at, updated_at}, with the rule
 * checked by chat/rules (rules_validate) and the ids its actions name
 * checked to exist; a per-process cache of the enabled rules (reloaded when
 * this node changes them, and at most AUTOMATION_CACHE_SECONDS after
 * another node did); and running them:
 *   - conversation.created: after a visitor's new conversation is
 *     committed and answered (automation_conversation_created);
 *   - message.created: after a batch of visitor messages is committed
 *     and acknowledged (automation_visitor_messages). Only visitor
 *     messages trigger rules: what a rule sends never triggers another.
 * For each conversation the snapshot (page, referrer, language, pre-chat
 * answers, visitor attributes and country, labels, whether its team is in
 * business hours, the message text) is read once; every matching rule's
 * actions run in rule order, each through the domain function an agent's
 * move uses, as the system: assign_team (a transfer to that team's queue),
 * assign_agent (to that agent when connected), set_priority, add_label,
 * send_message (to the visitor, author system), add_note, close. An action
 * that cannot apply (the agent is not connected, the label was deleted) is
 * skipped and logged; the rest still run. With no enabled rule for a
 * trigger, running costs one lock-free check. */
#ifndef PARLEY_AUTOMATION_H
#define PARLEY_AUTOMATION_H

#include "chat/assign.h"
#include "chat/errors.h"
#include "core/app.h"
#include "db/db.h"

#include <jansson.h>
#include <stddef.h>

#define AUTOMATION_MAX_RULES     100 /* in the workspace */
#define AUTOMATION_CACHE_SECONDS 5   /* another node's change reaches this one within this */
#define AUTOMATION_NAME_MAX      100

struct automation;

/* NULL when out of memory; free with automation_free. */
struct automation *automation_new(void);
void automation_free(struct automation *au);

/* {"rules": [...]} by position, id (JSON text, the caller frees). */
enum chat_err automation_list_json(struct db_pool *db, char **json) CHAT_CHECKED;

/* Creates (id 0: name and rule required) or updates (NULL / -1: kept) a
 * rule. rule must have passed rules_validate; the ids its actions name are
 * checked here (CHAT_E_INVALID with *field, e.g. "rule.actions[0].team_id").
 * *json = {"rule": {...}} (the caller frees). CHAT_E_LIMIT at
 * AUTOMATION_MAX_RULES; CHAT_E_NOT_FOUND when there is no rule id. */
enum chat_err automation_save(struct app *app, long long id, const char *name, int enabled, int position, json_t *rule,
                              char *field, size_t flen, char **json) CHAT_CHECKED;
enum chat_err automation_delete(struct app *app, long long id) CHAT_CHECKED;

/* Runs the conversation.created rules for a new conversation. */
void automation_conversation_created(struct app *app, long long conv, struct assign_work *work);

/* Runs the message.created rules for visitor messages: convs[i] received
 * text bodies[i] (n of them, in commit order). */
void automation_visitor_messages(struct app *app, const long long *convs, const char *const *bodies, size_t n,
                                 struct assign_work *work);

#endif
