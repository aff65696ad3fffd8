/* REST API v1: /api/v1/... for integrators, with bearer tokens.
 *
 * Every route authenticates the token (apitokens), checks its scope, and
 * validates each query parameter, naming the field on a 400. Lists use
 * keyset cursors (`cursor` = the last id seen, `next` in the answer);
 * messages page by seq in either direction. Internal notes appear only
 * with include_notes=true and the admin scope. docs/openapi.yaml describes
 * every route; a test keeps the two in step. */
#include "api/api.h"
#include "http/params.h"
#include "api/api_common.h"
#include "http/bearer.h"
#include "chat/convo.h"
#include "chat/messages.h"
#include "db/db.h"
#include "core/jfield.h"
#include "core/log.h"
#include "live/proto.h"
#include "core/strbuf.h"
#include "core/text.h"

#include <civetweb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_TYPE         "application/json; charset=utf-8"
#define EXPORT_BATCH      200
#define EXPORT_BATCH_TEXT "200"

static int auth_scope(struct http_req *req, struct apitoken *t, enum apitoken_scope scope)
{
    return bearer_require_scope(req, t, scope);
}

/* Answers with the JSON text in row 0, column 0; 404 when there is none. */
static void answer(struct http_req *req, int status, int rc, PGresult *res, const char *what)
{
    if (rc != DB_OK)
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
    else if (PQntuples(res) != 1 || !db_get_str(res, 0, 0))
        http_send_problem(req, 404, "not_found", what);
    else
        http_send_body(req, status, JSON_TYPE, db_get_str(res, 0, 0), strlen(db_get_str(res, 0, 0)));
    PQclear(res);
}

/* ---------------------------------------------------------- conversations */

void api_v1_conversations_list(struct http_req *req)
{
    struct apitoken p;
    char status[16] = "", site[24], team[24], assignee[24], visitor[24], cursor[24], limit[24];
    char created_after[48], created_before[48], closed_after[48], closed_before[48], q[256] = "";
    PGresult *res = NULL;
    if (auth_scope(req, &p, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0)
        return;
    if (params_query(req, "status", status, sizeof(status)) < 0 || params_int(req, "site_id", 1, INT64_MAX, site) < 0 ||
        params_int(req, "team_id", 1, INT64_MAX, team) < 0 ||
        params_int(req, "assignee_id", 1, INT64_MAX, assignee) < 0 ||
        params_int(req, "visitor_id", 1, INT64_MAX, visitor) < 0 ||
        params_int(req, "cursor", 1, INT64_MAX, cursor) < 0 || params_int(req, "limit", 1, 100, limit) < 0 ||
        params_time(req, "created_after", created_after) < 0 ||
        params_time(req, "created_before", created_before) < 0 || params_time(req, "closed_after", closed_after) < 0 ||
        params_time(req, "closed_before", closed_before) < 0 || params_query(req, "q", q, sizeof(q)) < 0)
        return;
    if (status[0] && strcmp(status, "queued") != 0 && strcmp(status, "assigned") != 0 &&
        strcmp(status, "closed") != 0) {
        params_invalid(req, "status", "must be queued, assigned or closed");
        return;
    }
    if (q[0] && (text_utf8_chars(q, strlen(q)) < 0 || text_has_controls(q, strlen(q), 0))) {
        params_invalid(req, "q", "must be plain text");
        return;
    }
    const char *params[12] = {status[0] ? status : NULL,
                              site[0] ? site : NULL,
                              team[0] ? team : NULL,
                              assignee[0] ? assignee : NULL,
                              visitor[0] ? visitor : NULL,
                              created_after[0] ? created_after : NULL,
                              created_before[0] ? created_before : NULL,
                              closed_after[0] ? closed_after : NULL,
                              closed_before[0] ? closed_before : NULL,
                              q[0] ? q : NULL,
                              cursor[0] ? cursor : NULL,
                              limit[0] ? limit : "50"};
    /* q: PostgreSQL full-text search (websearch syntax) over message bodies,
     * served by the GIN index on to_tsvector('simple', body). */
    int rc =
        db_query(req->app->db, &res,
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
                 "  ORDER BY c.id DESC LIMIT $12::int + 1)"
                 " SELECT json_build_object("
                 "  'data', coalesce((SELECT json_agg(parley_conversation_json(h, 'agent') ORDER BY h.id DESC)"
                 "     FROM (SELECT * FROM hits ORDER BY id DESC LIMIT $12::int) h), '[]'::json),"
                 "  'next', CASE WHEN (SELECT count(*) FROM hits) > $12::int THEN"
                 "     (SELECT min(id) FROM (SELECT id FROM hits ORDER BY id DESC LIMIT $12::int) x)::text END)::text",
                 12, params);
    answer(req, 200, rc, res, NULL);
}

void api_v1_conversation_get(struct http_req *req)
{
    struct apitoken p;
    char id[24];
    PGresult *res = NULL;
    if (auth_scope(req, &p, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0 ||
        params_path_id_text(req, "no such conversation", id) != 0)
        return;
    int rc = db_query(req->app->db, &res,
                      "SELECT parley_conversation_json(c, 'agent')::text FROM conversations c WHERE c.id = $1::bigint",
                      1, (const char *const[]){id});
    answer(req, 200, rc, res, "no such conversation");
}

void api_v1_messages_list(struct http_req *req)
{
    struct apitoken p;
    char id[24], from[24], limit[24], direction[16] = "forward";
    int notes = 0;
    PGresult *res = NULL;
    if (auth_scope(req, &p, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0 ||
        params_path_id_text(req, "no such conversation", id) != 0)
        return;
    if (params_int(req, "from_seq", 0, INT64_MAX, from) < 0 || params_int(req, "limit", 1, 100, limit) < 0 ||
        params_query(req, "direction", direction, sizeof(direction)) < 0 || api_want_notes(req, &p, &notes) != 0)
        return;
    int forward = strcmp(direction, "forward") == 0;
    if (!forward && strcmp(direction, "backward") != 0) {
        params_invalid(req, "direction", "must be forward or backward");
        return;
    }
    /* forward: seq > from_seq (default 0) ascending; backward: seq <
     * from_seq (default: past the end) descending. next = from_seq for the
     * next page in the same direction, or null at the end. */
    const char *params[5] = {id, from[0] ? from : NULL, limit[0] ? limit : "50", forward ? "true" : "false",
                             notes ? "true" : "false"};
    int rc = db_query(req->app->db, &res,
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
                      5, params);
    answer(req, 200, rc, res, "no such conversation");
}

/* ------------------------------------------------------------ transcript */

/* Text with <, >, &, " and ' escaped: every visitor string in the HTML
 * transcript goes through here. */
static void tb_html(struct strbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            strbuf_str(b, "&lt;");
            break;
        case '>':
            strbuf_str(b, "&gt;");
            break;
        case '&':
            strbuf_str(b, "&amp;");
            break;
        case '"':
            strbuf_str(b, "&quot;");
            break;
        case '\'':
            strbuf_str(b, "&#39;");
            break;
        default:
            strbuf_put(b, s, 1);
        }
    }
}

static const char *jstr(json_t *obj, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : fallback;
}

/* Names and bodies are text from people (docs/architecture.md, "Text from
 * people"): balanced (text_bidi_balance) so that no control inside them can
 * reach past their end, and isolated so that their direction cannot reorder
 * the labels, times and punctuation printed around them: FSI ... PDI in
 * text (text_isolate), <bdi> or dir="auto" in HTML. Rows written before the
 * policy may still hold unpaired controls, so this is done here again. */

/* s[0..n) as one line of plain text that cannot reorder what is around it. */
static void tb_isolated(struct strbuf *b, const char *s, size_t n)
{
    char *tmp;
    if (!text_has_bidi_controls(s, n) && !text_needs_isolation(s, n)) {
        strbuf_put(b, s, n);
        return;
    }
    if (!(tmp = malloc(n + TEXT_ISOLATE_EXTRA))) {
        b->failed = 1;
        return;
    }
    strbuf_put(b, tmp, text_isolate(s, n, tmp));
    free(tmp);
}

/* s balanced and escaped for HTML. */
static void tb_html_text(struct strbuf *b, const char *s)
{
    size_t n = strlen(s);
    char *tmp;
    if (!text_has_bidi_controls(s, n)) {
        tb_html(b, s);
        return;
    }
    if (!(tmp = malloc(n + 1))) {
        b->failed = 1;
        return;
    }
    text_bidi_balance(s, n, tmp);
    tb_html(b, tmp);
    free(tmp);
}

/* A name or another value from people, isolated from what follows. */
static void tb_value(struct strbuf *b, int html, const char *s)
{
    if (html) {
        strbuf_str(b, "<bdi>");
        tb_html_text(b, s);
        strbuf_str(b, "</bdi>");
    } else {
        tb_isolated(b, s, strlen(s));
    }
}

/* "Ann (agent)" / "Vic (visitor)" / "System" for an author object. */
static void tb_author(struct strbuf *b, int html, json_t *author)
{
    const char *kind = jstr(author, "kind", "system");
    if (strcmp(kind, "system") == 0) {
        strbuf_str(b, "System");
        return;
    }
    tb_value(b, html, jstr(author, "name", kind));
    strbuf_str(b, " (");
    strbuf_str(b, kind); /* visitor, agent or api: from the schema's CHECK */
    strbuf_str(b, ")");
}

/* A body in text: each line isolated on its own, continuation lines
 * indented so that each message stays one block. */
static void tb_body_lines(struct strbuf *b, const char *s)
{
    for (;;) {
        size_t n = strcspn(s, "\r\n");
        tb_isolated(b, s, n);
        s += n;
        if (!*s)
            return;
        s += (s[0] == '\r' && s[1] == '\n') ? 2 : 1;
        strbuf_str(b, "\n    ");
    }
}

/* "Visitor: Ann <ann@x.io>" in text, <dt>/<dd> in HTML: the header lines
 * both transcript formats share. */
static void header_open(struct strbuf *b, int html, const char *label)
{
    strbuf_str(b, html ? "<dt>" : "");
    strbuf_str(b, label);
    strbuf_str(b, html ? "</dt><dd>" : ": ");
}

static void header_close(struct strbuf *b, int html)
{
    strbuf_str(b, html ? "</dd>" : "\n");
}

/* A header line whose value the server wrote (a status, a time). */
static void header_field(struct strbuf *b, int html, const char *label, const char *value)
{
    header_open(b, html, label);
    if (html)
        tb_html(b, value);
    else
        strbuf_str(b, value);
    header_close(b, html);
}

static void header_fields(struct strbuf *b, int html, json_t *conv)
{
    json_t *visitor = json_object_get(conv, "visitor");
    const char *email = jstr(visitor, "email", NULL);
    if (html)
        header_field(b, html, "Status", jstr(conv, "status", ""));
    header_open(b, html, "Team");
    tb_value(b, html, jstr(conv, "team", "-"));
    header_close(b, html);
    header_open(b, html, "Visitor");
    tb_value(b, html, jstr(visitor, "name", "(anonymous)"));
    if (email) {
        strbuf_str(b, html ? " &lt;" : " <");
        tb_value(b, html, email);
        strbuf_str(b, html ? "&gt;" : ">");
    }
    header_close(b, html);
    header_field(b, html, "Started", jstr(conv, "created_at", "-"));
    header_field(b, html, "Closed", jstr(conv, "closed_at", "-"));
}

static void render_text(json_t *doc, struct strbuf *b)
{
    json_t *conv = json_object_get(doc, "conversation");
    json_t *messages = json_object_get(doc, "messages"), *parts = json_object_get(doc, "participants"), *m;
    char line[512];
    size_t i;
    snprintf(line, sizeof(line), "Conversation #%lld (%s)\n",
             (long long)json_integer_value(json_object_get(conv, "id")), jstr(conv, "status", ""));
    strbuf_str(b, line);
    header_fields(b, 0, conv);
    strbuf_str(b, "Participants: ");
    json_array_foreach(parts, i, m)
    {
        strbuf_str(b, i ? ", " : "");
        tb_author(b, 0, m);
    }
    strbuf_str(b, "\n\n");
    json_array_foreach(messages, i, m)
    {
        const char *kind = jstr(m, "kind", "message");
        strbuf_str(b, "[");
        strbuf_str(b, jstr(m, "created_at", ""));
        strbuf_str(b, "] ");
        if (strcmp(kind, "event") == 0) {
            strbuf_str(b, "-- ");
            tb_body_lines(b, jstr(m, "body", ""));
            strbuf_str(b, " --\n");
            continue;
        }
        tb_author(b, 0, json_object_get(m, "author"));
        strbuf_str(b, strcmp(kind, "note") == 0 ? " [internal note]: " : ": ");
        tb_body_lines(b, jstr(m, "body", ""));
        strbuf_str(b, "\n");
    }
}

static void render_html(json_t *doc, struct strbuf *b)
{
    json_t *conv = json_object_get(doc, "conversation");
    json_t *messages = json_object_get(doc, "messages"), *m;
    char id[32];
    size_t i;
    snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(conv, "id")));
    strbuf_str(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Conversation #");
    strbuf_str(b, id);
    strbuf_str(
        b, "</title>\n<style>"
           "body{font:14px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;color:#1f2328;padding:0 1rem}"
           "h1{font-size:1.25rem}dl{display:grid;grid-template-columns:8rem 1fr;gap:.25rem 1rem}dt{color:#59636e}"
           "ol{list-style:none;padding:0}li{margin:.75rem 0;padding:.5rem .75rem;border-radius:8px;background:#f6f8fa}"
           "li.visitor{background:#eef6ff}li.note{background:#fff8c5;border-left:3px solid #d4a72c}"
           "li.event{background:none;color:#59636e;text-align:center;font-size:.9em}"
           ".meta{color:#59636e;font-size:.85em}.body{white-space:pre-wrap;overflow-wrap:anywhere}"
           "@media print{body{margin:0}li{break-inside:avoid}}"
           "</style></head><body>\n<h1>Conversation #");
    strbuf_str(b, id);
    strbuf_str(b, "</h1>\n<dl>");
    header_fields(b, 1, conv);
    strbuf_str(b, "</dl>\n<ol>\n");
    json_array_foreach(messages, i, m)
    {
        const char *kind = jstr(m, "kind", "message");
        const char *author_kind = jstr(json_object_get(m, "author"), "kind", "system");
        strbuf_str(b, "<li class=\"");
        strbuf_str(b, strcmp(kind, "message") == 0 && strcmp(author_kind, "visitor") == 0 ? "visitor"
                      : strcmp(kind, "note") == 0                                         ? "note"
                      : strcmp(kind, "event") == 0                                        ? "event"
                                                                                          : "agent");
        strbuf_str(b, "\"><div class=\"meta\">");
        tb_html(b, jstr(m, "created_at", ""));
        if (strcmp(kind, "event") != 0) {
            strbuf_str(b, " &middot; ");
            tb_author(b, 1, json_object_get(m, "author"));
            if (strcmp(kind, "note") == 0)
                strbuf_str(b, " &middot; internal note");
        }
        /* dir="auto": the body's own first strong letter sets its direction
         * (an Arabic message reads right to left), and the element isolates
         * it from the meta line. */
        strbuf_str(b, "</div><div class=\"body\" dir=\"auto\">");
        tb_html_text(b, jstr(m, "body", ""));
        strbuf_str(b, "</div></li>\n");
    }
    strbuf_str(b, "</ol>\n</body></html>\n");
}

void api_v1_transcript(struct http_req *req)
{
    struct apitoken p;
    char id[24], format[8] = "json";
    int notes = 0;
    PGresult *res = NULL;
    struct strbuf b = {0};
    json_t *doc = NULL;
    if (auth_scope(req, &p, APITOKEN_SCOPE_TRANSCRIPTS_READ) != 0 ||
        params_path_id_text(req, "no such conversation", id) != 0)
        return;
    if (params_query(req, "format", format, sizeof(format)) < 0 || api_want_notes(req, &p, &notes) != 0)
        return;
    if (strcmp(format, "json") != 0 && strcmp(format, "txt") != 0 && strcmp(format, "html") != 0) {
        params_invalid(req, "format", "must be json, txt or html");
        return;
    }
    const char *params[2] = {id, notes ? "true" : "false"};
    int rc = db_query(
        req->app->db, &res,
        "SELECT parley_transcript_json(c, $2::boolean)::text FROM conversations c WHERE c.id = $1::bigint", 2, params);
    if (rc != DB_OK || PQntuples(res) != 1 || strcmp(format, "json") == 0) {
        answer(req, 200, rc, res, "no such conversation");
        return;
    }
    doc = json_loads(db_get_str(res, 0, 0), 0, NULL);
    PQclear(res);
    if (!doc) {
        http_send_problem(req, 500, "internal", NULL);
        return;
    }
    if (strcmp(format, "txt") == 0) {
        render_text(doc, &b);
    } else {
        render_html(doc, &b);
        /* A static document: its own inline style, nothing else at all. */
        req->csp = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
                   "frame-ancestors 'none'";
    }
    json_decref(doc);
    if (b.failed || !b.data)
        http_send_problem(req, 500, "internal", NULL);
    else
        http_send_body(req, 200, strcmp(format, "txt") == 0 ? "text/plain; charset=utf-8" : "text/html; charset=utf-8",
                       b.data, b.len);
    free(b.data);
}

/* ------------------------------------------------------------------ writes */

/* A move's answer: the result, or its error as the table in chat/errors.c
 * says; then the drains the move asked for (after the answer, so the
 * client learns the result before any event about what followed). */
static void reply_move(struct http_req *req, enum chat_err err, json_t *result, const struct assign_work *work)
{
    if (err == CHAT_OK) {
        http_send_json(req, 200, result);
    } else {
        const struct chat_err_desc *d = chat_err_desc(err);
        json_decref(result);
        http_send_problem(req, d->http_status, d->slug, d->text);
    }
    assign_run(req->app, work);
}

static void api_actor(const struct apitoken *p, struct actor *a)
{
    memset(a, 0, sizeof(*a));
    a->kind = ACTOR_API;
    a->id = p->id;
    a->privileged = 1;
}

void api_v1_message_create(struct http_req *req)
{
    static const char *const fields[] = {"body", "idempotency_key", NULL};
    struct apitoken p;
    struct problem_field err;
    const char *body = NULL, *key = NULL, *header_key = http_header(req, "Idempotency-Key");
    char id[24];
    json_t *doc = NULL;
    if (auth_scope(req, &p, APITOKEN_SCOPE_CONVERSATIONS_WRITE) != 0 ||
        params_path_id_text(req, "no such conversation", id) != 0 || !(doc = http_read_json(req)))
        return;
    if (jfield_only(doc, fields, &err) != 0 ||
        jfield_string(doc, "body", JF_REQUIRED | JF_MULTILINE | JF_TEXT, 1, req->app->cfg->message_max_chars, &body,
                      &err) != 0 ||
        jfield_string(doc, "idempotency_key", 0, 1, PROTO_ID_MAX, &key, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    if (!key)
        key = header_key;
    if (key && (!key[0] || strlen(key) > PROTO_ID_MAX ||
                strspn(key, "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~") != strlen(key))) {
        params_invalid(req, "idempotency_key", "must be 1 to 64 printable ASCII characters");
        goto done;
    }
    /* Through the same function as every chat message: gap-free seq, dedupe
     * on the key per author, NOTIFY so the visitor's socket gets it live. */
    struct message_post post = {
        .conversation_id = strtoll(id, NULL, 10), .kind = "message", .body = body, .client_msg_id = key};
    struct message_result r = {.err = CHAT_OK};
    api_actor(&p, &post.author);
    enum chat_err e = messages_post_one(req->app->db, &post, &r);
    if (e == CHAT_OK)
        e = r.err;
    if (e == CHAT_OK) {
        json_t *msg = json_loads(r.message, 0, NULL);
        http_send_json(req, r.duplicate ? 200 : 201,
                       json_pack("{s:o, s:b}", "message", msg ? msg : json_null(), "duplicate", r.duplicate));
    } else if (e == CHAT_E_UNAVAILABLE) {
        http_send_problem(req, 503, "unavailable", "the message was not stored; retry with the same key");
    } else if (e == CHAT_E_KEY_TAKEN) {
        params_invalid(req, "idempotency_key", "is used by another message in this conversation");
    } else {
        const struct chat_err_desc *d = chat_err_desc(e);
        http_send_problem(req, d->http_status, d->slug, d->text);
    }
    messages_results_free(&r, 1);
done:
    json_decref(doc);
}

void api_v1_assign(struct http_req *req)
{
    static const char *const fields[] = {"agent_id", "team_id", "reason", NULL};
    struct apitoken p;
    struct problem_field err;
    struct actor a;
    long long agent = 0, team = 0, conv;
    const char *reason = NULL;
    char id[24];
    json_t *doc, *result = NULL;
    if (auth_scope(req, &p, APITOKEN_SCOPE_CONVERSATIONS_WRITE) != 0 ||
        params_path_id_text(req, "no such conversation", id) != 0 || !(doc = http_read_json(req)))
        return;
    if (jfield_only(doc, fields, &err) != 0 || jfield_int(doc, "agent_id", 0, 1, INT64_MAX, &agent, &err) != 0 ||
        jfield_int(doc, "team_id", 0, 1, INT64_MAX, &team, &err) != 0 ||
        jfield_string(doc, "reason", JF_TEXT, 0, PROTO_REASON_MAX, &reason, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
    } else if ((agent != 0) == (team != 0)) {
        params_invalid(req, "agent_id", "give exactly one of agent_id and team_id");
    } else {
        conv = strtoll(id, NULL, 10);
        api_actor(&p, &a);
        struct assign_work work = {.nteams = 0};
        enum chat_err e = convo_transfer(req->app, &a, conv, agent, team, reason, &result, &work);
        reply_move(req, e, result, &work);
    }
    json_decref(doc);
}

/* close and reopen: the same steps around a different convo_* move. */
typedef enum chat_err (*convo_move_fn)(struct app *app, const struct actor *a, long long conv, json_t **reply,
                                       struct assign_work *work);

static void simple_move(struct http_req *req, convo_move_fn move)
{
    struct apitoken p;
    struct actor a;
    char id[24];
    json_t *result = NULL;
    if (auth_scope(req, &p, APITOKEN_SCOPE_CONVERSATIONS_WRITE) != 0 ||
        params_path_id_text(req, "no such conversation", id) != 0)
        return;
    api_actor(&p, &a);
    struct assign_work work = {.nteams = 0};
    enum chat_err e = move(req->app, &a, strtoll(id, NULL, 10), &result, &work);
    reply_move(req, e, result, &work);
}

void api_v1_close(struct http_req *req)
{
    simple_move(req, convo_close);
}

void api_v1_reopen(struct http_req *req)
{
    simple_move(req, convo_reopen);
}

/* -------------------------------------------------------- other resources */

void api_v1_visitor_get(struct http_req *req)
{
    struct apitoken p;
    char id[24];
    PGresult *res = NULL;
    if (auth_scope(req, &p, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0 ||
        params_path_id_text(req, "no such conversation", id) != 0)
        return;
    int rc = db_query(req->app->db, &res,
                      "SELECT json_build_object('id', v.id, 'site_id', v.site_id, 'external_id', v.external_id,"
                      " 'verified', v.verified, 'name', v.name, 'email', v.email, 'attributes', v.attributes,"
                      " 'user_agent', v.user_agent, 'country', v.country, 'city', v.city,"
                      " 'created_at', parley_iso(v.created_at), 'last_seen_at', parley_iso(v.last_seen_at),"
                      " 'conversation_ids', coalesce((SELECT json_agg(c.id ORDER BY c.id DESC) FROM conversations c"
                      "    WHERE c.visitor_id = v.id), '[]'::json))::text"
                      " FROM visitors v WHERE v.id = $1::bigint",
                      1, (const char *const[]){id});
    answer(req, 200, rc, res, "no such visitor");
}

static void list_resource(struct http_req *req, const char *sql)
{
    struct apitoken p;
    PGresult *res = NULL;
    if (auth_scope(req, &p, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0)
        return;
    int rc = db_query(req->app->db, &res, sql, 0, NULL);
    answer(req, 200, rc, res, NULL);
}

void api_v1_agents(struct http_req *req)
{
    list_resource(req, "SELECT json_build_object('data', coalesce(json_agg(parley_agent_json(a) ORDER BY a.id),"
                       " '[]'::json))::text FROM agents a");
}

void api_v1_teams(struct http_req *req)
{
    list_resource(req, "SELECT json_build_object('data', coalesce(json_agg(parley_team_json(t) ORDER BY t.id),"
                       " '[]'::json))::text FROM teams t");
}

void api_v1_sites(struct http_req *req)
{
    list_resource(req, "SELECT json_build_object('data', coalesce(json_agg(parley_site_json(s, false) ORDER BY s.id),"
                       " '[]'::json))::text FROM sites s");
}

/* --------------------------------------------------------- bulk export */

/* GET /api/v1/transcripts?closed_after=...: every closed conversation (and
 * its messages) as one JSON line, oldest closing first, streamed from a
 * server-side cursor EXPORT_BATCH rows at a time, so memory stays flat
 * whatever the number of conversations. */
void api_v1_transcripts_export(struct http_req *req)
{
    struct apitoken p;
    char after[48], before[48];
    int notes = 0, rc, failed = 0;
    PGconn *conn = NULL;
    PGresult *res = NULL;
    if (auth_scope(req, &p, APITOKEN_SCOPE_TRANSCRIPTS_READ) != 0 || params_time(req, "closed_after", after) < 0 ||
        params_time(req, "closed_before", before) < 0 || api_want_notes(req, &p, &notes) != 0)
        return;
    conn = db_acquire(req->app->db);
    if (!conn) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return;
    }
    const char *params[3] = {after[0] ? after : NULL, before[0] ? before : NULL, notes ? "true" : "false"};
    rc = db_exec(conn, NULL, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
    if (rc == DB_OK)
        rc = db_exec(conn, NULL,
                     "DECLARE export NO SCROLL CURSOR FOR"
                     " SELECT parley_transcript_json(c, $3::boolean)::text FROM conversations c"
                     " WHERE c.status = 'closed' AND ($1::timestamptz IS NULL OR c.closed_at > $1::timestamptz)"
                     "   AND ($2::timestamptz IS NULL OR c.closed_at < $2::timestamptz)"
                     " ORDER BY c.closed_at, c.id",
                     3, params);
    if (rc != DB_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        goto done;
    }
    http_stream_begin(req, 200, "application/x-ndjson; charset=utf-8");
    for (;;) {
        rc = db_exec(conn, &res, "FETCH " EXPORT_BATCH_TEXT " FROM export", 0, NULL);
        if (rc != DB_OK) {
            failed = 1; /* the body ends short: no final newline-terminated line */
            break;
        }
        int n = PQntuples(res);
        for (int i = 0; i < n && !failed; i++) {
            const char *line = db_get_str(res, i, 0);
            if (http_stream_write(req, line, strlen(line)) != 0 || http_stream_write(req, "\n", 1) != 0)
                failed = 1;
        }
        PQclear(res);
        res = NULL;
        if (n < EXPORT_BATCH || failed)
            break;
    }
    if (!failed)
        http_stream_end(req);
    else
        log_warn("transcript export ended early", "rid", req->request_id);
done:
    PQclear(res);
    db_release(req->app->db, conn); /* rolls the read-only transaction back */
}
