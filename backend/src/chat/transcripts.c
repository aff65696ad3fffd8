#include "chat/transcripts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The visibility rule for agent $1 (privileged $2) over conversations c. */
#define AGENT_SEES                                                                                                     \
    " ($2::boolean OR c.assignee_id = $1::bigint OR $1::bigint = ANY (c.participant_ids)"                              \
    "  OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = c.team_id AND tm.agent_id = $1::bigint))"

/* NULL for an absent criterion: the SQL reads NULL as "any". */
static const char *opt(const char *s)
{
    return s && s[0] ? s : NULL;
}

enum chat_err transcripts_search(struct db_pool *db, const struct transcripts_search *s, char **json)
{
    /* q matches the visitor's name or email, or any message text; LIKE's
     * wildcards in q are escaped so they match themselves. */
    const char *params[7] = {DB_ID(s->agent_id), s->privileged ? "true" : "false",    s->status ? s->status : "",
                             s->q ? s->q : "",   s->before ? DB_ID(s->before) : NULL, DB_ID(s->limit),
                             opt(s->country)};
    return chat_err_of(db_query_text(
        db, json,
        "WITH p AS (SELECT '%' || replace(replace(replace($4, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'"
        "           AS pat),"
        " hits AS (SELECT c.* FROM conversations c, p WHERE" AGENT_SEES
        "  AND ($3 = '' OR ($3 = 'open' AND c.status <> 'closed') OR c.status = $3)"
        "  AND ($5::bigint IS NULL OR c.id < $5::bigint)"
        "  AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM visitors v WHERE v.id = c.visitor_id AND v.country = $7))"
        "  AND ($4 = '' OR EXISTS (SELECT 1 FROM visitors v WHERE v.id = c.visitor_id"
        "        AND (v.name ILIKE p.pat OR v.email ILIKE p.pat))"
        "      OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.kind <> 'event'"
        "        AND m.body ILIKE p.pat))"
        "  ORDER BY c.id DESC LIMIT $6::int + 1)"
        " SELECT json_build_object("
        "  'conversations', coalesce((SELECT json_agg(x.j ORDER BY x.id DESC) FROM"
        "    (SELECT h.id, parley_conversation_json(h::conversations, 'agent') ||"
        "       jsonb_build_object('last_message', (SELECT left(m.body, 200) FROM messages m"
        "         WHERE m.conversation_id = h.id AND m.kind = 'message' ORDER BY m.seq DESC LIMIT 1)) AS j"
        "     FROM hits h ORDER BY h.id DESC LIMIT $6::int) x), '[]'::json),"
        "  'next', CASE WHEN (SELECT count(*) FROM hits) > $6::int"
        "    THEN (SELECT min(id) FROM (SELECT id FROM hits ORDER BY id DESC LIMIT $6::int) y)::text END"
        " )::text",
        7, params));
}

enum chat_err transcripts_for_agent(struct db_pool *db, long long agent_id, int privileged, long long id, char **json)
{
    const char *params[3] = {DB_ID(agent_id), privileged ? "true" : "false", DB_ID(id)};
    /* Not visible and not existing look the same: CHAT_E_NOT_FOUND. */
    return chat_err_of(
        db_query_text(db, json,
                      "SELECT json_build_object('conversation', parley_conversation_json(c, 'agent'),"
                      "  'earlier', coalesce((SELECT json_agg(parley_conversation_json(e, 'agent') ORDER BY e.id DESC)"
                      "    FROM (SELECT * FROM conversations e WHERE e.visitor_id = c.visitor_id AND e.id <> c.id"
                      "          ORDER BY e.id DESC LIMIT 20) e), '[]'::json))::text"
                      " FROM conversations c WHERE c.id = $3::bigint AND" AGENT_SEES,
                      3, params));
}

enum chat_err transcripts_list(struct db_pool *db, const struct transcripts_filter *f, char **json)
{
    char prio[16];
    snprintf(prio, sizeof(prio), "%d", f->priority);
    const char *params[15] = {opt(f->status),
                              f->site_id ? DB_ID(f->site_id) : NULL,
                              f->team_id ? DB_ID(f->team_id) : NULL,
                              f->assignee_id ? DB_ID(f->assignee_id) : NULL,
                              f->visitor_id ? DB_ID(f->visitor_id) : NULL,
                              opt(f->created_after),
                              opt(f->created_before),
                              opt(f->closed_after),
                              opt(f->closed_before),
                              opt(f->q),
                              f->after ? DB_ID(f->after) : NULL,
                              DB_ID(f->limit),
                              f->label_id ? DB_ID(f->label_id) : NULL,
                              f->priority >= 0 ? prio : NULL,
                              opt(f->country)};
    /* q: PostgreSQL full-text search (websearch syntax) over message bodies,
     * served by the GIN index on to_tsvector('simple', body). */
    return chat_err_of(db_query_text(
        db, json,
        "WITH hits AS (SELECT c.* FROM conversations c WHERE"
        "  ($1::text IS NULL OR c.status = $1) AND ($2::bigint IS NULL OR c.site_id = $2::bigint)"
        "  AND ($3::bigint IS NULL OR c.team_id = $3::bigint)"
        "  AND ($4::bigint IS NULL OR c.assignee_id = $4::bigint)"
        "  AND ($5::bigint IS NULL OR c.visitor_id = $5::bigint)"
        "  AND ($6::timestamptz IS NULL OR c.created_at > $6::timestamptz)"
        "  AND ($7::timestamptz IS NULL OR c.created_at < $7::timestamptz)"
        "  AND ($8::timestamptz IS NULL OR c.closed_at > $8::timestamptz)"
        "  AND ($9::timestamptz IS NULL OR c.closed_at < $9::timestamptz)"
        "  AND ($10::text IS NULL OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id"
        "       AND m.kind <> 'note'"
        "       AND to_tsvector('simple', m.body) @@ websearch_to_tsquery('simple', $10)))"
        "  AND ($11::bigint IS NULL OR c.id < $11::bigint)"
        "  AND ($13::bigint IS NULL OR EXISTS (SELECT 1 FROM conversation_labels cl"
        "       WHERE cl.conversation_id = c.id AND cl.label_id = $13::bigint))"
        "  AND ($14::smallint IS NULL OR c.priority = $14::smallint)"
        "  AND ($15::text IS NULL OR EXISTS (SELECT 1 FROM visitors v WHERE v.id = c.visitor_id AND v.country = $15))"
        "  ORDER BY c.id DESC LIMIT $12::int + 1)"
        " SELECT json_build_object("
        "  'data', coalesce((SELECT json_agg(parley_conversation_json(h, 'agent') ORDER BY h.id DESC)"
        "     FROM (SELECT * FROM hits ORDER BY id DESC LIMIT $12::int) h), '[]'::json),"
        "  'next', CASE WHEN (SELECT count(*) FROM hits) > $12::int THEN"
        "     (SELECT min(id) FROM (SELECT id FROM hits ORDER BY id DESC LIMIT $12::int) x)::text END)::text",
        15, params));
}

enum chat_err transcripts_conversation(struct db_pool *db, long long id, char **json)
{
    return chat_err_of(db_query_text(
        db, json, "SELECT parley_conversation_json(c, 'agent')::text FROM conversations c WHERE c.id = $1::bigint", 1,
        (const char *const[]){DB_ID(id)}));
}

enum chat_err transcripts_messages(struct db_pool *db, long long id, long long from_seq, int limit, int forward,
                                   int notes, char **json)
{
    const char *params[5] = {DB_ID(id), from_seq >= 0 ? DB_ID(from_seq) : NULL, DB_ID(limit),
                             forward ? "true" : "false", notes ? "true" : "false"};
    /* The page and one more row, to know whether there is a next page. */
    return chat_err_of(
        db_query_text(db, json,
                      "WITH page AS (SELECT m.* FROM messages m WHERE m.conversation_id = $1::bigint"
                      "  AND ($5::boolean OR m.kind <> 'note')"
                      "  AND CASE WHEN $4::boolean THEN m.seq > coalesce($2::bigint, 0)"
                      "           ELSE m.seq < coalesce($2::bigint, 9223372036854775807) END"
                      "  ORDER BY CASE WHEN $4::boolean THEN m.seq ELSE -m.seq END LIMIT $3::int + 1)"
                      " SELECT json_build_object("
                      "  'data', coalesce((SELECT json_agg(parley_message_json(x, 'agent')"
                      "      ORDER BY CASE WHEN $4::boolean THEN x.seq ELSE -x.seq END)"
                      "    FROM (SELECT * FROM page ORDER BY CASE WHEN $4::boolean THEN seq ELSE -seq END"
                      "          LIMIT $3::int) x), '[]'::json),"
                      "  'next', CASE WHEN (SELECT count(*) FROM page) > $3::int THEN"
                      "    (SELECT CASE WHEN $4::boolean THEN max(seq) ELSE min(seq) END FROM"
                      "      (SELECT seq FROM page ORDER BY CASE WHEN $4::boolean THEN seq ELSE -seq END"
                      "       LIMIT $3::int) y)::text END)::text"
                      " FROM conversations c WHERE c.id = $1::bigint",
                      5, params));
}

enum chat_err transcripts_get(struct db_pool *db, long long id, int notes, char **json)
{
    return chat_err_of(db_query_text(
        db, json, "SELECT parley_transcript_json(c, $2::boolean)::text FROM conversations c WHERE c.id = $1::bigint", 2,
        (const char *const[]){DB_ID(id), notes ? "true" : "false"}));
}

/* ---------------------------------------------------------------- export */

enum chat_err transcripts_export_open(struct db_pool *db, const char *closed_after, const char *closed_before,
                                      int notes, struct db_cursor **out)
{
    const char *params[3] = {opt(closed_after), opt(closed_before), notes ? "true" : "false"};
    return chat_err_of(
        db_cursor_open(db,
                       "SELECT parley_transcript_json(c, $3::boolean)::text FROM conversations c"
                       " WHERE c.status = 'closed' AND ($1::timestamptz IS NULL OR c.closed_at > $1::timestamptz)"
                       "   AND ($2::timestamptz IS NULL OR c.closed_at < $2::timestamptz)"
                       " ORDER BY c.closed_at, c.id",
                       3, params, out));
}
