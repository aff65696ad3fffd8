/* invitations: asking a visitor who is browsing to chat.
 *
 * Owns invitations (an agent's, from the online list, or a rule's, made by
 * SQL parley_beats_flush when an online visitor matches one) and their
 * course: pending until the widget fetches it (shown), then accepted (the
 * visitor answered: the conversation starts with the invitation's message,
 * and an agent's invitation goes to that agent when they can take it) or
 * ignored (dismissed, or the visitor left). Also the admin's automatic
 * invitation rules per site and their validation. The inviting agent hears
 * each change (invitation.updated, from a trigger). */
#ifndef PARLEY_INVITATIONS_H
#define PARLEY_INVITATIONS_H

#include "chat/actor.h"
#include "chat/errors.h"
#include "db/db.h"

#include <jansson.h>
#include <stddef.h>

#define INVITATION_MESSAGE_MAX 1000
#define INVITATION_RULES_MAX   50 /* per site */
#define INVITATION_NAME_MAX    100
#define INVITATION_MATCH_MAX   500 /* url_contains, referrer_contains */
#define INVITATION_COUNTRIES   50
#define INVITATION_FIELD_MAX   64
#define INVITATION_REASON_MAX  160

/* --- the visitor's widget --- */

/* The visitor's open invitation into *out ({id, message, sender_name,
 * agent: {name} | null, created_at}), marked shown; *out NULL when there is
 * none. The caller decrefs. */
enum chat_err invitations_fetch(struct db_pool *db, long long visitor_id, long long site_id, json_t **out) CHAT_CHECKED;

/* The visitor closed it unanswered: ignored. CHAT_E_NOT_FOUND when it is
 * not theirs, CHAT_E_INVITATION_USED when answered already. */
enum chat_err invitations_dismiss(struct db_pool *db, long long visitor_id, long long id) CHAT_CHECKED;

/* Inside the transaction that creates conversation conv for the visitor:
 * invitation id becomes accepted by it. An agent's invitation goes to that
 * agent when they are connected and have room (*agent_id set; the caller
 * assigns), else the conversation queues as usual; *message, *sender_name
 * (malloc'd, the caller frees) are what to post first. CHAT_E_NOT_FOUND /
 * CHAT_E_INVITATION_USED as above. */
enum chat_err invitations_accept_tx(PGconn *conn, long long visitor_id, long long id, long long conv,
                                    long long *agent_id, char **message, char **sender_name) CHAT_CHECKED;

/* --- the agents --- */

/* An agent invites an online visitor of a site they see. *json = {"invitation":
 * {...}} (the caller frees). CHAT_E_NOT_FOUND (no such visitor, or not
 * theirs to see), CHAT_E_VISITOR_OFFLINE, CHAT_E_VISITOR_CHATTING,
 * CHAT_E_INVITATION_OPEN. */
enum chat_err invitations_send(struct db_pool *db, const struct actor *agent, long long visitor_id, const char *message,
                               char **json) CHAT_CHECKED;

/* --- automatic invitation rules (admins) --- */

struct invitation_rule_in {
    long long site_id;       /* 0: keep (required to create) */
    const char *name;        /* NULL: keep */
    int enabled;             /* -1: keep */
    int position;            /* -1: keep */
    const char *message;     /* NULL: keep */
    const char *sender_name; /* NULL: keep */
    json_t *conditions;      /* NULL: keep; checked by invitations_conditions_check */
};

/* Checks a rule's conditions object: 0, or -1 with the field at fault
 * ("conditions.min_visits") and a reason. */
int invitations_conditions_check(json_t *cond, char *field, size_t flen, char *reason, size_t rlen);

/* {"rules": [...]} with each rule's stats, into *json (the caller frees). */
enum chat_err invitations_rules_json(struct db_pool *db, char **json) CHAT_CHECKED;
/* Creates (id 0) or changes a rule; *json = {"rule": ...}. CHAT_E_INVALID
 * (no such site), CHAT_E_LIMIT (INVITATION_RULES_MAX for the site),
 * CHAT_E_NOT_FOUND. */
enum chat_err invitations_rule_save(struct db_pool *db, long long id, const struct invitation_rule_in *in,
                                    char **json) CHAT_CHECKED;
enum chat_err invitations_rule_delete(struct db_pool *db, long long id) CHAT_CHECKED;

#endif
