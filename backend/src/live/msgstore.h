/* msgstore: the batching committer for chat messages.
 *
 * Owns the path from "a client sent message.send" to "its ack went out":
 * posts are queued by the reader threads, and one committer thread writes
 * whatever has gathered (up to MSGSTORE_BATCH) in a single transaction
 * through post_messages() -- one round trip, one commit, one NOTIFY per
 * batch -- and only after COMMIT queues each sender's ack (or error).
 * Natural batching: no timer; while one batch commits, the next gathers. */
#ifndef PARLEY_MSGSTORE_H
#define PARLEY_MSGSTORE_H

#include "core/app.h"
#include "chat/convo.h"
#include "live/ws.h"

#define MSGSTORE_BATCH      256
#define MSGSTORE_MAX_QUEUED 20000 /* beyond it new posts are refused: unavailable, retry */

struct msgstore *msgstore_start(struct app *app); /* NULL on failure */
void msgstore_stop(struct msgstore *ms);          /* commits what is queued, then stops */

/* Posts waiting for the committer now (a metric: a growing number means the
 * database cannot keep up). */
long msgstore_queued(struct msgstore *ms);

/* Queues a message from conn's actor. Copies everything it needs and holds a
 * reference on conn until the ack is queued. kind: "message" or "note".
 * Returns 0, or -1 if the store is stopping or out of memory. */
int msgstore_post(struct msgstore *ms, struct ws_conn *conn, const struct actor *a, const char *request_id,
                  long long conversation_id, const char *kind, const char *body, const char *client_msg_id);

#endif
