/* errors: the one error model of the domain.
 *
 * Owns enum chat_err, what every chat/ function that can fail returns, and
 * the table that says how each error reaches a client: its WebSocket error
 * code (which is also the problem slug's meaning), the HTTP status and
 * problem slug of the REST APIs, and the text. A database failure inside a
 * domain function becomes CHAT_E_UNAVAILABLE (retry) or CHAT_E_INTERNAL (a
 * bug); nothing above chat/ sees libpq's or the pool's codes.
 *
 * The protocol's own errors (bad JSON, unknown type, not authenticated...)
 * are not the domain's and stay in live/proto.h. */
#ifndef PARLEY_ERRORS_H
#define PARLEY_ERRORS_H

/* Values are negative and below the db layer's DB_E_* codes, so a
 * transaction callback can return either through db_transaction; the one
 * exception, CHAT_E_RETRY, equals DB_E_SERIALIZATION so that a domain
 * function inside a transaction passes a serialization failure or deadlock
 * on and db_transaction reruns. */
enum chat_err {
    CHAT_OK = 0,
    CHAT_E_RETRY = -4,               /* serialization failure or deadlock; after the last rerun: unavailable */
    CHAT_E_NOT_FOUND = -100,         /* no such object, or not the actor's to see */
    CHAT_E_FORBIDDEN = -101,         /* visible, but not the actor's to change */
    CHAT_E_INVALID_STATE = -102,     /* not possible in the conversation's status */
    CHAT_E_CLOSED = -103,            /* writing to a closed conversation */
    CHAT_E_AT_CAPACITY = -104,       /* the agent has max_chats already */
    CHAT_E_AGENT_UNAVAILABLE = -105, /* the target agent has no live connection */
    CHAT_E_KEY_TAKEN = -106,         /* client_msg_id / idempotency key used by another message */
    CHAT_E_UNAVAILABLE = -107,       /* the database cannot be reached now: retry */
    CHAT_E_INTERNAL = -108,          /* a bug, or data the database refused */
    CHAT_E_TAKEN = -109,             /* a name, email, key or shortcut another row has */
    CHAT_E_INVALID = -110,           /* a value not allowed, or a reference to a row that does not exist */
    CHAT_E_FILE_INVALID = -111,      /* an attachment that is not the author's ready upload in the conversation */
    CHAT_E_FILE_TOO_LARGE = -112,    /* an upload past the site's limit */
    CHAT_E_FILE_TYPE = -113,         /* an upload of a type the site does not accept */
    CHAT_E_FILE_REJECTED = -114,     /* the scan hook refused the upload */
    CHAT_E_UPLOADS_DISABLED = -115,  /* the site does not let visitors upload */
    CHAT_E_RATE_LIMITED = -116,      /* an upload limit (per visitor, per site) is reached */
    CHAT_E_FILE_REMOVED = -117,      /* the file's bytes are gone (retention) */
    CHAT_E_LIMIT = -118,             /* the most of these that may exist exist already */
    CHAT_E_VISITOR_OFFLINE = -119,   /* the visitor is not on the site now */
    CHAT_E_VISITOR_CHATTING = -120,  /* the visitor has an open conversation */
    CHAT_E_INVITATION_OPEN = -121,   /* the visitor has an invitation not yet answered */
    CHAT_E_INVITATION_USED = -122,   /* the invitation was answered already */
    CHAT_E_CALLS_DISABLED = -123,    /* the site's setting does not allow this call */
    CHAT_E_CALL_IN_PROGRESS = -124,  /* the conversation, or the agent, has a live call already */
};

/* On every function whose failure must be handled or passed on: ignoring
 * its result is a compile error (-Werror). */
#define CHAT_CHECKED __attribute__((warn_unused_result))

struct chat_err_desc {
    const char *code; /* WebSocket error code */
    int http_status;
    const char *slug; /* problem type slug */
    const char *text; /* for people */
};

/* How err reaches a client (CHAT_OK and unknown values: internal). */
const struct chat_err_desc *chat_err_desc(enum chat_err err);

/* The chat error for a code a transaction returned: CHAT_* values as they
 * are, DB_OK as CHAT_OK, DB_E_NOT_FOUND as CHAT_E_NOT_FOUND, DB_E_UNAVAILABLE
 * as CHAT_E_UNAVAILABLE, DB_E_SERIALIZATION as CHAT_E_RETRY (the same value),
 * any other DB_E_* as CHAT_E_INTERNAL. */
enum chat_err chat_err_of(int rc);

/* chat_err_of for a write of a row people name (an agent, team, site...):
 * DB_E_UNIQUE as CHAT_E_TAKEN and DB_E_CONSTRAINT as CHAT_E_INVALID. */
enum chat_err chat_err_of_write(int rc);

#endif
