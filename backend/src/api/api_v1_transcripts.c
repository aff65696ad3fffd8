/* REST API v1, transcripts (transcripts:read): one conversation's
 * transcript as JSON, plain text or HTML, and the bulk export of closed
 * conversations as NDJSON, streamed.
 *
 * The text and HTML forms are rendered here from parley_transcript_json
 * (chat/transcripts). Every string from people is balanced and isolated
 * (below), and the HTML is escaped and sent with a CSP of its own that
 * lets it run nothing. */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/transcripts.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "http/bearer.h"
#include "http/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* "Location: Munich, Bavaria, DE (Europe/Berlin)" when anything is known:
 * geolocation data, shown as text like the rest. */
static void location_field(struct strbuf *b, int html, json_t *loc)
{
    static const char *const parts[] = {"city", "region", "country"};
    char line[400] = "";
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        const char *v = jstr(loc, parts[i], NULL);
        if (v && n < sizeof(line))
            n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", n ? ", " : "", v);
    }
    const char *zone = jstr(loc, "time_zone", NULL);
    if (zone && n < sizeof(line))
        n += (size_t)snprintf(line + n, sizeof(line) - n, n ? " (%s)" : "%s", zone);
    if (!n)
        return;
    header_open(b, html, "Location");
    tb_value(b, html, line);
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
    location_field(b, html, json_object_get(visitor, "location"));
    header_field(b, html, "Started", jstr(conv, "created_at", "-"));
    header_field(b, html, "Closed", jstr(conv, "closed_at", "-"));
}

/* A message's files: each named, with its size, type and an absolute link
 * (public_url + its url: the REST API serves it to a transcripts:read
 * token); a removed one says so. */
static void tb_attachments(struct strbuf *b, int html, const char *base, json_t *m)
{
    json_t *files = json_object_get(m, "attachments"), *f;
    size_t i;
    char detail[160];
    if (!json_is_array(files) || json_array_size(files) == 0)
        return;
    strbuf_str(b, html ? "<ul class=\"files\">" : "");
    json_array_foreach(files, i, f)
    {
        const char *name = jstr(f, "name", "file");
        int removed = json_is_true(json_object_get(f, "removed"));
        snprintf(detail, sizeof(detail), "%lld bytes, %s", (long long)json_integer_value(json_object_get(f, "size")),
                 jstr(f, "type", "application/octet-stream"));
        if (html) {
            strbuf_str(b, "<li>");
            if (removed) {
                strbuf_str(b, "<span dir=\"auto\">");
                tb_html_text(b, name);
                strbuf_str(b, "</span> &middot; file removed");
            } else {
                strbuf_str(b, "<a rel=\"noopener noreferrer\" href=\"");
                tb_html(b, base);
                tb_html(b, jstr(f, "url", ""));
                strbuf_str(b, "\" dir=\"auto\">");
                tb_html_text(b, name);
                strbuf_str(b, "</a> &middot; ");
                tb_html(b, detail);
            }
            strbuf_str(b, "</li>");
        } else {
            strbuf_str(b, removed ? "\n    [file removed] " : "\n    [file] ");
            tb_body_lines(b, name);
            if (!removed) {
                strbuf_str(b, " (");
                strbuf_str(b, detail);
                strbuf_str(b, ") ");
                strbuf_str(b, base);
                strbuf_str(b, jstr(f, "url", ""));
            }
        }
    }
    strbuf_str(b, html ? "</ul>" : "");
}

static void render_text(json_t *doc, const char *base, struct strbuf *b)
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
        tb_attachments(b, 0, base, m);
        strbuf_str(b, "\n");
    }
}

static void render_html(json_t *doc, const char *base, struct strbuf *b)
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
           ".files{margin:.25rem 0 0;padding-left:1.25rem;font-size:.9em;overflow-wrap:anywhere}"
           ".files li{margin:0;padding:0;background:none;border-radius:0}"
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
        strbuf_str(b, "</div>");
        tb_attachments(b, 1, base, m);
        strbuf_str(b, "</li>\n");
    }
    strbuf_str(b, "</ol>\n</body></html>\n");
}

void api_v1_transcript(struct http_req *req)
{
    struct apitoken t;
    char format[8] = "json", *json = NULL;
    long long id;
    int notes = 0;
    struct strbuf b = {0};
    json_t *doc = NULL;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_TRANSCRIPTS_READ) != 0 ||
        params_path_id(req, "no such conversation", &id) != 0)
        return;
    if (params_query(req, "format", format, sizeof(format)) < 0 || api_want_notes(req, &t, &notes) != 0)
        return;
    if (strcmp(format, "json") != 0 && strcmp(format, "txt") != 0 && strcmp(format, "html") != 0) {
        params_invalid(req, "format", "must be json, txt or html");
        return;
    }
    enum chat_err err = transcripts_get(req->app->db, id, notes, &json);
    if (err != CHAT_OK) {
        api_send_error(req, err, "no such conversation", NULL);
        goto done;
    }
    if (strcmp(format, "json") == 0) {
        api_send_json_text(req, 200, json);
        goto done;
    }
    if (!(doc = json_loads(json, 0, NULL))) {
        http_send_problem(req, 500, "internal", NULL);
        goto done;
    }
    if (strcmp(format, "txt") == 0) {
        render_text(doc, req->app->cfg->public_url, &b);
    } else {
        render_html(doc, req->app->cfg->public_url, &b);
        /* A static document: its own inline style, nothing else at all. */
        req->csp = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
                   "frame-ancestors 'none'";
    }
    if (b.failed || !b.data)
        http_send_problem(req, 500, "internal", NULL);
    else
        http_send_body(req, 200, strcmp(format, "txt") == 0 ? "text/plain; charset=utf-8" : "text/html; charset=utf-8",
                       b.data, b.len);
done:
    json_decref(doc);
    free(b.data);
    free(json);
}

/* --------------------------------------------------------- bulk export */

/* GET /api/v1/transcripts?closed_after=...: every closed conversation (and
 * its messages) as one JSON line, oldest closing first, streamed as the
 * domain reads it, a batch at a time, so memory stays flat whatever the
 * number of conversations. */
void api_v1_transcripts_export(struct http_req *req)
{
    struct apitoken t;
    struct db_cursor *cur = NULL;
    char after[48], before[48];
    int notes = 0;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_TRANSCRIPTS_READ) != 0 ||
        params_time(req, "closed_after", after) < 0 || params_time(req, "closed_before", before) < 0 ||
        api_want_notes(req, &t, &notes) != 0)
        return;
    enum chat_err err = transcripts_export_open(req->app->db, after, before, notes, &cur);
    if (err != CHAT_OK)
        api_send_error(req, err, NULL, NULL);
    else
        api_stream_rows(req, cur, TRANSCRIPTS_EXPORT_BATCH, "application/x-ndjson; charset=utf-8", NULL, "\n",
                        "transcript export");
}
