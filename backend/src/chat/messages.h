/* messages: the one way a message is written.
 *
 * Owns the call of post_messages() (backend/src/db/sql/40_messages.sql):
 * a batch of messages in one statement, each checked (the conversation
 * exists, the author may write to it, it is open), deduplicated on its
 * client_msg_id per author, given the conversation's next gap-free seq, and
 * NOTIFYed with the messages themselves. Every writer goes through here: the
 * sockets' batching committer (live/msgqueue), the REST API's replies, and
 * the event lines and notes of the conversation state machine (chat/convo). */
#ifndef PARLEY_MESSAGES_H
#define PARLEY_MESSAGES_H

#include "chat/actor.h"
#include "chat/errors.h"
#include "db/db.h"

#include <jansson.h>
#include <stddef.h>

#define MESSAGE_MAX_FILES 10 /* attachments per message */
#define FILE_ID_LEN       32 /* a file id: 128 random bits as lowercase hex */

/* 1 when s has the shape of a file id (FILE_ID_LEN lowercase hex digits). */
int messages_file_id_valid(const char *s);

/* A message's attachments as a client sent them (arr; NULL: none): 1 to
 * MESSAGE_MAX_FILES distinct file ids, borrowed from arr into ids, *n of
 * them. Returns NULL, or why they are refused (for people). Whose files
 * they are is post_messages's to check. */
const char *messages_file_ids(json_t *arr, const char **ids, size_t *n);

struct message_post {
    long long conversation_id;
    struct actor author; /* ACTOR_SYSTEM for event lines */
    int claimed;         /* author.privileged is a socket's claim: narrow it by the agent's current role */
    const char *kind;    /* "message", "note" or "event" */
    int whisper;         /* a note that is a supervisor's or admin's whisper to the agents */
    const char *body;
    const char *client_msg_id;   /* NULL: none (no deduplication) */
    json_t *meta;                /* NULL or an object (event lines: their code and agent) */
    const char *const *file_ids; /* files to attach (the author's uploads): nfiles of them */
    size_t nfiles;
};

struct message_result {
    enum chat_err err; /* CHAT_OK, CHAT_E_NOT_FOUND, CHAT_E_FORBIDDEN, CHAT_E_CLOSED, CHAT_E_KEY_TAKEN or
                          CHAT_E_FILE_INVALID */
    int duplicate;     /* the client_msg_id was stored already: that message */
    char *message;     /* CHAT_OK: the message as its author sees it (JSON text); free with messages_results_free */
};

/* Writes posts[0..n) with one statement on conn: inside the caller's
 * transaction when one is open, otherwise as its own (committed when this
 * returns). Posts of one conversation keep their order; callers sort a
 * batch by conversation so that row locks are taken in one order on every
 * node. Fills out[0..n) and returns CHAT_OK, or returns CHAT_E_UNAVAILABLE
 * or CHAT_E_INTERNAL when nothing was stored. */
enum chat_err messages_post(PGconn *conn, const struct message_post *posts, size_t n,
                            struct message_result *out) CHAT_CHECKED;

/* messages_post on a pooled connection, as a transaction of its own:
 * committed when this returns CHAT_OK. */
enum chat_err messages_commit(struct db_pool *db, const struct message_post *posts, size_t n,
                              struct message_result *out) CHAT_CHECKED;
/* messages_commit of one post. */
enum chat_err messages_post_one(struct db_pool *db, const struct message_post *post,
                                struct message_result *out) CHAT_CHECKED;

/* Inside a transaction: one post that must be stored (an event line, a
 * note); its result's error, if any, is returned. */
enum chat_err messages_post_tx(PGconn *conn, const struct message_post *post) CHAT_CHECKED;
/* Inside a transaction: an event line (kind event, author the system) in
 * conversation conv. Takes meta (NULL: out of memory, CHAT_E_INTERNAL). */
enum chat_err messages_post_event_tx(PGconn *conn, long long conv, const char *body, json_t *meta) CHAT_CHECKED;

void messages_results_free(struct message_result *out, size_t n);

/* A stored message as delivered: who follows it and both views. */
#define MESSAGE_MAX_PARTICIPANTS 8 /* conversations.participant_ids */

struct message_views {
    long long visitor_id, team_id, assignee_id;
    long long participants[MESSAGE_MAX_PARTICIPANTS]; /* the other agents in it */
    int nparticipants;
    int queued;               /* its conversation waits in the queue (the team may read along) */
    const char *visitor_json; /* NULL for a note: the visitor never sees it */
    const char *agent_json;
};
typedef void (*message_views_fn)(const struct message_views *m, void *arg);

/* Calls fn for each message named by refs (JSON text: [[conversation_id,
 * seq], ...], as in a notification), in conversation and seq order. */
enum chat_err messages_by_refs(struct db_pool *db, const char *refs, message_views_fn fn, void *arg) CHAT_CHECKED;

#endif
