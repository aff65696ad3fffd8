/* notify: the catalogue of change notifications, and writing them.
 *
 * Every committed change NOTIFYs channel "parley" in its own transaction,
 * through the SQL functions of backend/src/db/sql/20_notify.sql (the only
 * place the payloads are built); every node, the one that made the change
 * included, delivers them in commit order (live/deliver). PostgreSQL caps a
 * payload at 8000 bytes. The payloads:
 *   M\n<line>...                   messages created (post_messages): not
 *       JSON but a line per message, its routing and its two complete
 *       message.created frames, or "R c seq" for one too large to carry
 *       (the format is described in backend/src/db/sql/40_messages.sql)
 *   {"e":"conv","c":id,"ch":change,"pa":prev_assignee,"ot":old_team}
 *       ("pa" also: a participant who just left)
 *   {"e":"typing","c":id,"v":visitor,"a":assignee,"t":team,"p":[ids],"side":s,"on":b,"n":name,"i":internal}
 *   {"e":"read","c":id,"v":visitor,"a":assignee,"t":team,"p":[ids],"side":s,"seq":n}
 *   {"e":"viewers","c":id,"a":assignee,"t":team,"p":[ids],"l":[{id,name,typing}]}
 *       who has the conversation open in a console (chat/viewers)
 *   {"e":"presence","ag":agent,"st":status,"cn":connected,"n":name}
 *   {"e":"agent_off","ag":agent}                   agent deactivated
 *   {"e":"session_off","ag":agent,"h":[sha256_hex, ...]}
 *       sessions ended (logout, password change, deactivation)
 *   {"e":"agent_rights","ag":agent}                role or teams changed
 *       (trigger): the agent's sockets close (4004)
 *   {"e":"site_identity","s":site}                 the site now requires a
 *       verified identity: its anonymous visitor sockets close (4003)
 * The functions here are for C code inside a transaction; SQL statements
 * call the SQL functions directly. */
#ifndef PARLEY_NOTIFY_H
#define PARLEY_NOTIFY_H

#include "chat/errors.h"

#include <libpq-fe.h>

/* {"e":"conv"}: change is queued, assigned, transferred, closed, reopened,
 * requeued, rated, visitor, participants, taken, escalated, priority or
 * labels; prev_assignee and old_team may be 0. */
enum chat_err notify_conv(PGconn *conn, long long conversation_id, const char *change, long long prev_assignee,
                          long long old_team) CHAT_CHECKED;

/* {"e":"presence"} for an agent (their status, and whether any node has a
 * live connection of theirs). */
enum chat_err notify_presence(PGconn *conn, long long agent_id, const char *name) CHAT_CHECKED;

/* {"e":"agent_off"}: every socket of the agent closes. */
enum chat_err notify_agent_off(PGconn *conn, long long agent_id) CHAT_CHECKED;

#endif
