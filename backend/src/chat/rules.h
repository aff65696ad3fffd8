/* rules: automation rules, what one may say and whether it applies.
 *
 * Owns the rule language administrators write (stored as JSON, checked on
 * save with rules_validate):
 *
 *   {"trigger":"conversation.created" | "message.created",
 *    "match":"all" | "any",                        (optional, default all)
 *    "conditions":[{"field":"page_url","op":"contains","value":"/pricing"}],
 *    "actions":[{"type":"assign_team","team_id":2}]}
 *
 * that is: which fields a condition may test and with which operators, which
 * actions exist and what their parameters must be, and every bound on a
 * rule's size; and deciding whether a rule's conditions hold for a snapshot
 * of a conversation (rules_match). Both are tables in rules.c (fields with
 * their operators, actions with their parameters).
 *
 * Pure: no database, no I/O. The caller loads the rules and builds the
 * snapshot, checks that the ids a rule names exist (teams, agents, labels),
 * and carries out the actions of the rules that match, in order.
 *
 * Matching: text comparisons fold ASCII letters only (other bytes compare as
 * they are); a field the snapshot lacks, holds as null or as an empty string
 * is "" for the text operators and not set for is_set / is_not_set; numbers
 * and booleans among pre-chat answers and attributes compare as their JSON
 * text ("42", "true"). A rule without conditions matches on its trigger
 * alone, whatever its match mode. */
#ifndef PARLEY_RULES_H
#define PARLEY_RULES_H

#include <jansson.h>

#define RULES_MAX_CONDITIONS  20
#define RULES_MAX_ACTIONS     10
#define RULES_MAX_VALUE_BYTES 500  /* a text condition's value, each item of an "in" list */
#define RULES_MAX_IN_VALUES   50   /* items of an "in" list */
#define RULES_MAX_KEY         64   /* the key of prechat.<key>, attribute.<key>: [A-Za-z0-9_.-] */
#define RULES_MAX_BODY_CHARS  2000 /* send_message and add_note bodies, in characters */

/* Buffer sizes that always hold rules_validate's answers whole: the longest
 * path is "conditions[19]." and a key, the longest reason under 60 bytes. */
#define RULES_FIELD_MAX  96
#define RULES_REASON_MAX 96

/* 0 when rule is a valid rule. Else -1, with the path of the first field at
 * fault in field ("conditions[2].op", "actions[0].team_id", "" for the rule
 * itself) and a short English reason ("is not allowed for this field"), each
 * truncated to its buffer (either may be NULL). Bounds are checked before
 * what they bound is read, and no part of the document is walked
 * recursively: any size or depth is refused in time linear in the keys of
 * the rule's own objects. Ids are checked to be positive integers only. */
int rules_validate(const json_t *rule, char *field, size_t flen, char *reason, size_t rlen);

/* ctx: {"trigger":"conversation.created","page_url":"..","referrer":"..",
 *       "language":"..","message":"..","prechat":{..},"attributes":{..},
 *       "labels":[ids],"business_hours":"open"|"closed","country":".."}
 * 1 when the rule's trigger equals ctx.trigger and its conditions hold (all
 * or any of them), else 0. A rule rules_validate refuses never matches (0),
 * so the function is safe on any document, ctx included (NULL too). */
int rules_match(const json_t *rule, const json_t *ctx);

#endif
