/* roster: the workspace's agents as admins manage them.
 *
 * Owns adding an agent together with their capacity and teams, and the
 * admin's changes to one (name, role, capacity, teams, password, active)
 * with what must follow in the same transaction: a new password ends the
 * agent's other sessions; deactivation closes their sockets on every node
 * (agent_off first, so that they close with 4001), ends every session and
 * puts their chats back in the queue. A role or team change closes the
 * agent's sockets by trigger (agent_rights, db/sql/20_notify.sql). Kept
 * apart from chat/agents, which chat/sessions builds on: these changes end
 * sessions and requeue conversations, so they sit above both. */
#ifndef PARLEY_ROSTER_H
#define PARLEY_ROSTER_H

#include "chat/assign.h"
#include "chat/errors.h"
#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

struct roster_new {
    const char *email, *name, *role, *password;
    long long max_chats;
    const long long *team_ids; /* existing teams (checked by the caller) */
    int nteam_ids;             /* < 0 or 0: no team */
};

/* Checks the fields (agents_check_new), hashes the password, then inserts
 * the agent with their capacity and teams in one transaction. CHAT_OK with
 * *agent = parley_agent_json (the caller decrefs); CHAT_E_INVALID with
 * *field and *message (static text); CHAT_E_TAKEN when the email is in
 * use; or a database error. */
enum chat_err roster_add(struct db_pool *db, const struct roster_new *n, json_t **agent, const char **field,
                         const char **message) CHAT_CHECKED;

/* What to change; NULL or -1 leaves a field as it is. */
struct roster_change {
    long long id;
    const char *name, *role;     /* checked by the caller */
    const char *password_hash;   /* a new password, already hashed (password_hash) */
    const uint8_t *keep_session; /* with a new password: this session stays (an admin's own) */
    long long max_chats;         /* -1: unchanged */
    int active;                  /* -1: unchanged, 0: deactivate, 1: activate */
    const long long *team_ids;   /* the agent's teams from now on (existing: checked by the caller) */
    int nteam_ids;               /* < 0: teams unchanged */
};

/* Applies c in one transaction, then reads the agent back as {"agent":
 * parley_agent_json} JSON text into *json (the caller frees).
 * CHAT_E_NOT_FOUND when there is no such agent. Once the change committed,
 * *work holds what the caller drains (assign_run) after answering, even if
 * reading the agent back failed: the queues the agent's chats went back to,
 * and the agent when their capacity or teams changed. */
enum chat_err roster_change(struct db_pool *db, const struct roster_change *c, char **json,
                            struct assign_work *work) CHAT_CHECKED;

#endif
