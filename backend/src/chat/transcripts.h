/* transcripts: reading conversations back.
 *
 * Owns the reads of stored conversations and messages that are not live
 * traffic: the console's search over them (visible to the agent: their
 * teams' and their own, all for supervisors and admins), the REST API's
 * filtered lists, pages of messages, transcripts (parley_transcript_json,
 * notes only on request) and the bulk export. Lists page by keyset (the
 * last id seen, `next` in the answer), never by OFFSET, so a page costs
 * the same at any depth and concurrent inserts do not shift pages. Every
 * document is built by SQL (parley_conversation_json, parley_message_json)
 * and handed back as JSON text. */
#ifndef PARLEY_TRANSCRIPTS_H
#define PARLEY_TRANSCRIPTS_H

#include "chat/errors.h"
#include "db/db.h"

#include <stddef.h>

/* The console's search; "" or 0 leaves a criterion out. */
struct transcripts_search {
    long long agent_id;
    int privileged;      /* supervisor or admin: sees every conversation */
    const char *status;  /* queued, assigned, closed, or open (not closed) */
    const char *q;       /* in the visitor's name or email, or any message text */
    long long before;    /* conversations with smaller ids (the cursor) */
    int limit;           /* 1..100 */
    const char *country; /* NULL, or the visitor's country (two capitals) */
};

/* {"conversations": [... with last_message], "next": id text or null}
 * into *json (the caller frees). */
enum chat_err transcripts_search(struct db_pool *db, const struct transcripts_search *s, char **json) CHAT_CHECKED;

/* One conversation the agent may see, with the visitor's 20 earlier ones:
 * {"conversation", "earlier"} into *json (the caller frees).
 * CHAT_E_NOT_FOUND when it does not exist or is not theirs to see. */
enum chat_err transcripts_for_agent(struct db_pool *db, long long agent_id, int privileged, long long id,
                                    char **json) CHAT_CHECKED;

/* The REST API's list; NULL or 0 leaves a criterion out. */
struct transcripts_filter {
    const char *status; /* queued, assigned or closed */
    long long site_id, team_id, assignee_id, visitor_id;
    const char *created_after, *created_before, *closed_after, *closed_before; /* RFC 3339 */
    const char *q;       /* full-text search (websearch syntax) over message bodies, notes excluded */
    long long label_id;  /* carries this label */
    int priority;        /* -1: any; 0 low .. 3 urgent */
    const char *country; /* NULL, or the visitor's country (two capitals) */
    long long after;     /* the cursor: conversations with smaller ids */
    int limit;           /* 1..100 */
};

/* {"data": [...], "next": id text or null} into *json (the caller frees). */
enum chat_err transcripts_list(struct db_pool *db, const struct transcripts_filter *f, char **json) CHAT_CHECKED;

/* One conversation as agents see it. CHAT_E_NOT_FOUND when there is none. */
enum chat_err transcripts_conversation(struct db_pool *db, long long id, char **json) CHAT_CHECKED;

/* A page of a conversation's messages: forward, seq > from_seq (-1: from
 * the start) ascending; backward, seq < from_seq (-1: from the end)
 * descending. {"data": [...], "next": the from_seq of the next page, or
 * null at the end} into *json (the caller frees). CHAT_E_NOT_FOUND when
 * there is no such conversation. */
enum chat_err transcripts_messages(struct db_pool *db, long long id, long long from_seq, int limit, int forward,
                                   int notes, char **json) CHAT_CHECKED;

/* parley_transcript_json of one conversation (notes: with internal notes)
 * into *json (the caller frees). CHAT_E_NOT_FOUND when there is none. */
enum chat_err transcripts_get(struct db_pool *db, long long id, int notes, char **json) CHAT_CHECKED;

/* The bulk export: every closed conversation (closed_after < closed_at <
 * closed_before; NULL: unbounded) as one transcript (JSON text) per row,
 * oldest closing first, on a db_cursor (read it with db_cursor_next,
 * TRANSCRIPTS_EXPORT_BATCH at a time; close it with db_cursor_close). */
#define TRANSCRIPTS_EXPORT_BATCH 200

enum chat_err transcripts_export_open(struct db_pool *db, const char *closed_after, const char *closed_before,
                                      int notes, struct db_cursor **out) CHAT_CHECKED;

#endif
