/* proto: the WebSocket protocol's inbound messages, parsed and validated.
 *
 * Owns the envelope ({"type", "id", ...}), the set of message types each
 * side (visitor, agent) may send, every field's type and limit, and the
 * stable error codes sent back. Pure: no I/O, no database; the result points
 * into the parsed document, which the caller frees with proto_msg_free.
 * docs/protocol.md is the prose version of this file. */
#ifndef PARLEY_PROTO_H
#define PARLEY_PROTO_H

#include "chat/messages.h"

#include <jansson.h>
#include <stddef.h>

enum proto_role { PROTO_VISITOR, PROTO_AGENT };

enum proto_type {
    PT_AUTH,
    PT_PING,
    PT_CONVERSATION_START, /* visitor */
    PT_MESSAGE_SEND,
    PT_NOTE_SEND, /* agent */
    PT_TYPING,
    PT_READ,
    PT_SYNC,
    PT_CONVERSATION_CLOSE,
    PT_CONVERSATION_REOPEN,   /* agent */
    PT_CONVERSATION_ACCEPT,   /* agent */
    PT_CONVERSATION_TRANSFER, /* agent */
    PT_STATUS_SET,            /* agent */
    PT_QUEUE_SUBSCRIBE,       /* agent */
    PT_CONVERSATIONS_LIST,    /* both: the caller's open conversations */
    PT_CONVERSATION_RATE,     /* visitor: good/bad and a comment after close */
    PT_VISITOR_UPDATE,        /* visitor: name, email, custom attributes, current page */
    PT_CONVERSATION_INVITE,   /* agent: a colleague joins as a participant */
    PT_CONVERSATION_JOIN,     /* agent (supervisor, admin): barge in */
    PT_CONVERSATION_LEAVE,    /* agent: a participant leaves */
    PT_CONVERSATION_TAKE,     /* agent: a participant or supervisor takes ownership */
    PT_CONVERSATION_ESCALATE, /* agent: to a team or an agent, nobody leaves */
    PT_CONVERSATION_PRIORITY, /* agent: conversation.set_priority */
    PT_CONVERSATION_LABELS,   /* agent: conversation.set_labels */
    PT_CONVERSATION_VIEW,     /* agent: this socket shows (or stops showing) a conversation */
    PT_BOARD_GET,             /* agent (supervisor, admin): the live board */
    PT_INVITATION_GET,        /* visitor: the invitation to chat waiting for them, if any */
    PT_INVITATION_DISMISS,    /* visitor: closed an invitation unanswered */
    PT_CALL_START,            /* both: an agent calls, a visitor asks for a call */
    PT_CALL_ACCEPT,           /* both: the callee answers */
    PT_CALL_DECLINE,          /* both: the callee refuses */
    PT_CALL_HANGUP,           /* both: either party ends it */
    PT_CALL_REJOIN,           /* both: a new socket of a party becomes its end */
    PT_CALL_SIGNAL,           /* both: SDP, ICE candidate or control, relayed to the other end */
};

/* Stable error codes (sent as "code" in error replies). */
#define PE_BAD_JSON              "bad_json"
#define PE_FRAME_TOO_LARGE       "frame_too_large"
#define PE_UNSUPPORTED_FRAME     "unsupported_frame"
#define PE_UNKNOWN_TYPE          "unknown_type"
#define PE_INVALID_FIELD         "invalid_field"
#define PE_MESSAGE_TOO_LONG      "message_too_long"
#define PE_NOT_AUTHENTICATED     "not_authenticated"
#define PE_AUTH_FAILED           "auth_failed"
#define PE_ALREADY_AUTHENTICATED "already_authenticated"
#define PE_ORIGIN_FORBIDDEN      "origin_forbidden"
#define PE_FORBIDDEN             "forbidden"
#define PE_NOT_FOUND             "not_found"
#define PE_INVALID_STATE         "invalid_state"
#define PE_AGENT_UNAVAILABLE     "agent_unavailable"
#define PE_AT_CAPACITY           "at_capacity"
#define PE_RATE_LIMITED          "rate_limited"
#define PE_TOO_MANY_SOCKETS      "too_many_sockets"
#define PE_UNAVAILABLE           "unavailable"
#define PE_INTERNAL              "internal"
#define PE_IDENTITY_REQUIRED     "identity_required"

/* Close codes of our own (4000-4999; protocol.md section 12). */
#define PROTO_CLOSE_AUTH_FIRST     4001 /* "authenticate first"; also "deactivated" */
#define PROTO_CLOSE_LOGGED_OUT     4002 /* the socket's session ended */
#define PROTO_CLOSE_AUTH_REFUSED   4003 /* reason: the error code */
#define PROTO_CLOSE_RIGHTS_CHANGED 4004 /* the agent's role or teams changed: authenticate again */

struct proto_limits {
    long max_frame_bytes;   /* the whole frame */
    long max_message_chars; /* message and note bodies */
};

#define PROTO_ID_MAX             64 /* request id and client_msg_id, characters */
#define PROTO_URL_MAX            2048
#define PROTO_REASON_MAX         500
#define PROTO_COMMENT_MAX        2000
#define PROTO_ATTR_MAX_KEYS      50
#define PROTO_ATTR_VALUE_MAX     500
#define PROTO_PRECHAT_MAX_FIELDS 20
#define PROTO_PRECHAT_VALUE_MAX  1000
#define PROTO_SYNC_LIMIT_MAX     500
#define PROTO_LABELS_MAX         20    /* labels on one conversation */
#define PROTO_SDP_MAX            32768 /* a session description, bytes */
#define PROTO_CANDIDATE_MAX      1024  /* an ICE candidate line, bytes */

struct proto_msg {
    enum proto_type type;
    const char *id;            /* request id or NULL */
    long long conversation_id; /* 0 when absent */
    const char *body;
    const char *client_msg_id;
    const char *file_ids[MESSAGE_MAX_FILES]; /* message.send / note.send attachments */
    size_t nfiles;
    const char *token;                     /* auth (visitor) */
    const char *csrf_token;                /* auth (agent) */
    const char *status;                    /* status.set */
    long long seq;                         /* read */
    long long after_seq;                   /* sync */
    long long limit;                       /* sync */
    int on;                                /* typing; conversation.view */
    int internal;                          /* typing: an internal note or whisper (never shown to the visitor) */
    int whisper;                           /* note.send: a supervisor's whisper to the agents */
    long long agent_id;                    /* conversation.invite */
    const char *priority;                  /* set_priority, escalate: low|normal|high|urgent */
    long long label_ids[PROTO_LABELS_MAX]; /* set_labels */
    size_t nlabels;
    long long to_agent_id; /* transfer: exactly one of these two */
    long long to_team_id;
    const char *reason;              /* transfer, escalate */
    const char *page_url, *referrer; /* conversation.start */
    int offline;                     /* conversation.start: left while nobody was online */
    long long invitation_id;         /* conversation.start (answering one), invitation.dismiss */
    const char *rating, *comment;    /* conversation.rate */
    const char *name, *email;        /* visitor.update */
    json_t *attributes;              /* visitor.update: flat object, borrowed */
    json_t *prechat;                 /* conversation.start: object, borrowed */
    long long call_id;               /* call.* but call.start */
    const char *media;               /* call.start: audio|video */
    const char *signal_kind;         /* call.signal: "description", "candidate" or "control" */
    json_t *signal;                  /* call.signal: its value (checked), borrowed */
    json_t *root;                    /* owns everything above */
};

struct proto_error {
    const char *code;              /* one of PE_* */
    const char *field;             /* offending field or NULL */
    const char *message;           /* human-readable, static */
    char id[PROTO_ID_MAX * 4 + 1]; /* request id when it could be read */
};

/* Parses one text frame. Returns 0 with *out filled (free with
 * proto_msg_free), or -1 with *err filled and nothing to free. */
int proto_parse(const char *text, size_t len, enum proto_role role, const struct proto_limits *limits,
                struct proto_msg *out, struct proto_error *err);

void proto_msg_free(struct proto_msg *msg);

/* The wire name of a type ("message.send"). */
const char *proto_type_name(enum proto_type type);

/* A reply frame: {"type":"error","id":...,"code":...,"message":...,"field":...}.
 * Returns a malloc'd string (caller frees) or NULL. */
char *proto_error_frame(const char *id, const char *code, const char *message, const char *field);

#endif
