/* msgqueue: the batching committer for chat messages sent over sockets.
 *
 * Owns the path from "a client sent message.send" to "its ack went out":
 * posts are queued by the reader threads, and one committer thread writes
 * whatever has gathered (up to MSGQUEUE_BATCH) with one messages_post --
 * one round trip, one commit, one NOTIFY per batch -- and only after COMMIT
 * queues each sender's ack (or error). While one batch commits, the next
 * gathers; under sustained load (posts were waiting when the last batch
 * committed) a batch also waits up to PARLEY_MESSAGE_BATCH_WAIT_MS from
 * its first post for others to share its commit, since a commit's fixed
 * cost in PostgreSQL is many times a message's (docs/performance.md). A
 * lone message is never held. */
#ifndef PARLEY_MSGQUEUE_H
#define PARLEY_MSGQUEUE_H

#include "chat/actor.h"
#include "core/app.h"
#include "live/wsconn.h"

#define MSGQUEUE_BATCH      256
#define MSGQUEUE_MAX_QUEUED 20000 /* beyond it new posts are refused: unavailable, retry */
/* Nor is a post queued behind one that has waited this long: past what the
 * database can commit, senders are told at once to retry (back-pressure)
 * instead of waiting seconds in a backlog. */
#define MSGQUEUE_MAX_WAIT_SECONDS 0.25

struct msgqueue *msgqueue_start(struct app *app); /* NULL on failure */
void msgqueue_stop(struct msgqueue *mq);          /* commits what is queued, then stops */

/* Posts waiting for the committer now (a metric: a growing number means the
 * database cannot keep up). */
long msgqueue_length(struct msgqueue *mq);

/* Queues a message from conn's actor, with nfiles attachments (file ids).
 * Copies everything it needs and holds a
 * reference on conn until the ack is queued. kind: "message", "note" or
 * "whisper" (a note that is a supervisor's whisper).
 * Returns 0, or -1 if the queue is full, stopping or out of memory. */
int msgqueue_post(struct msgqueue *mq, struct ws_conn *conn, const struct actor *a, const char *request_id,
                  long long conversation_id, const char *kind, const char *body, const char *client_msg_id,
                  const char *const *file_ids, size_t nfiles);

#endif
