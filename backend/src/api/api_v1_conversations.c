/* REST API v1, conversations: /api/v1/conversations/... for integrators.
 *
 * Reads (conversations:read): the filtered list, one conversation, pages
 * of its messages. Writes (conversations:write): a reply, assign
 * (transfer to an agent or a team), close, reopen; each through the same
 * domain function the sockets use (messages_post, convo_*), as a
 * privileged actor of kind api. Every query parameter is validated,
 * naming the field on a 400. Lists use keyset cursors (`cursor` = the last
 * id seen, `next` in the answer); messages page by seq in either
 * direction; notes appear only with include_notes=true and the admin
 * scope. docs/openapi.yaml describes every route; a test keeps the two in
 * step. */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/bots.h"
#include "chat/convo.h"
#include "chat/messages.h"
#include "chat/transcripts.h"
#include "chat/triage.h"
#include "core/jfield.h"
#include "core/text.h"
#include "http/bearer.h"
#include "http/params.h"
#include "live/proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ reads */

void api_v1_conversations_list(struct http_req *req)
{
    struct apitoken t;
    char status[16] = "", site[24], team[24], assignee[24], visitor[24], cursor[24], limit[24], label[24];
    char priority[16] = "", country[3];
    char created_after[48], created_before[48], closed_after[48], closed_before[48], q[256] = "", *json = NULL;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0)
        return;
    if (params_query(req, "status", status, sizeof(status)) < 0 || params_int(req, "site_id", 1, INT64_MAX, site) < 0 ||
        params_int(req, "team_id", 1, INT64_MAX, team) < 0 ||
        params_int(req, "assignee_id", 1, INT64_MAX, assignee) < 0 ||
        params_int(req, "visitor_id", 1, INT64_MAX, visitor) < 0 ||
        params_int(req, "cursor", 1, INT64_MAX, cursor) < 0 || params_int(req, "limit", 1, 100, limit) < 0 ||
        params_time(req, "created_after", created_after) < 0 ||
        params_time(req, "created_before", created_before) < 0 || params_time(req, "closed_after", closed_after) < 0 ||
        params_time(req, "closed_before", closed_before) < 0 || params_query(req, "q", q, sizeof(q)) < 0 ||
        params_int(req, "label_id", 1, INT64_MAX, label) < 0 ||
        params_query(req, "priority", priority, sizeof(priority)) < 0 || params_country(req, "country", country) < 0)
        return;
    if (priority[0] && triage_priority_value(priority) < 0) {
        params_invalid(req, "priority", "must be low, normal, high or urgent");
        return;
    }
    if (status[0] && strcmp(status, "queued") != 0 && strcmp(status, "assigned") != 0 &&
        strcmp(status, "closed") != 0) {
        params_invalid(req, "status", "must be queued, assigned or closed");
        return;
    }
    if (q[0] && (text_utf8_chars(q, strlen(q)) < 0 || text_has_controls(q, strlen(q), 0))) {
        params_invalid(req, "q", "must be plain text");
        return;
    }
    struct transcripts_filter f = {.status = status,
                                   .site_id = strtoll(site, NULL, 10),
                                   .team_id = strtoll(team, NULL, 10),
                                   .assignee_id = strtoll(assignee, NULL, 10),
                                   .visitor_id = strtoll(visitor, NULL, 10),
                                   .created_after = created_after,
                                   .created_before = created_before,
                                   .closed_after = closed_after,
                                   .closed_before = closed_before,
                                   .q = q,
                                   .label_id = strtoll(label, NULL, 10),
                                   .priority = priority[0] ? triage_priority_value(priority) : -1,
                                   .country = country[0] ? country : NULL,
                                   .after = strtoll(cursor, NULL, 10),
                                   .limit = limit[0] ? atoi(limit) : 50};
    enum chat_err err = transcripts_list(req->app->db, &f, &json);
    api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

void api_v1_conversation_get(struct http_req *req)
{
    struct apitoken t;
    char *json = NULL;
    long long id;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0 ||
        params_path_id(req, "no such conversation", &id) != 0)
        return;
    enum chat_err err = transcripts_conversation(req->app->db, id, &json);
    api_answer(req, 200, err, json, "no such conversation", NULL);
    free(json);
}

void api_v1_messages_list(struct http_req *req)
{
    struct apitoken t;
    char from[24], limit[24], direction[16] = "forward", *json = NULL;
    long long id;
    int notes = 0;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_READ) != 0 ||
        params_path_id(req, "no such conversation", &id) != 0)
        return;
    if (params_int(req, "from_seq", 0, INT64_MAX, from) < 0 || params_int(req, "limit", 1, 100, limit) < 0 ||
        params_query(req, "direction", direction, sizeof(direction)) < 0 || api_want_notes(req, &t, &notes) != 0)
        return;
    int forward = strcmp(direction, "forward") == 0;
    if (!forward && strcmp(direction, "backward") != 0) {
        params_invalid(req, "direction", "must be forward or backward");
        return;
    }
    enum chat_err err = transcripts_messages(req->app->db, id, from[0] ? strtoll(from, NULL, 10) : -1,
                                             limit[0] ? atoi(limit) : 50, forward, notes, &json);
    api_answer(req, 200, err, json, "no such conversation", NULL);
    free(json);
}

/* ----------------------------------------------------------------- writes */

/* "handoff": {"summary": "..."} (the summary optional): the reply ends the
 * bot's part. 0 with *on set, or -1 with err filled. */
static int read_handoff(json_t *doc, int *on, const char **summary, struct problem_field *err)
{
    static const char *const fields[] = {"summary", NULL};
    json_t *h = json_object_get(doc, "handoff");
    *on = 0;
    if (!h || json_is_null(h))
        return 0;
    if (!json_is_object(h)) {
        err->field = "handoff";
        err->message = "must be an object, e.g. {\"summary\": \"...\"}";
        return -1;
    }
    if (jfield_only(h, fields, err) != 0 ||
        jfield_string(h, "summary", JF_MULTILINE | JF_TEXT, 0, BOTS_SUMMARY_MAX, summary, err) != 0)
        return -1;
    *on = 1;
    return 0;
}

void api_v1_message_create(struct http_req *req)
{
    static const char *const fields[] = {"body", "idempotency_key", "attachments", "handoff", NULL};
    const char *file_ids[MESSAGE_MAX_FILES];
    size_t nfiles = 0;
    struct apitoken t;
    struct problem_field err;
    const char *body = NULL, *key = NULL, *header_key = http_header(req, "Idempotency-Key"), *summary = NULL;
    int handoff = 0;
    long long conv;
    json_t *doc = NULL;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_WRITE) != 0 ||
        params_path_id(req, "no such conversation", &conv) != 0 || !(doc = http_read_json(req)))
        return;
    const char *why = messages_file_ids(json_object_get(doc, "attachments"), file_ids, &nfiles);
    if (why) {
        params_invalid(req, "attachments", why);
        goto done;
    }
    if (jfield_only(doc, fields, &err) != 0 ||
        jfield_string(doc, "body", (nfiles ? 0 : JF_REQUIRED) | JF_MULTILINE | JF_TEXT, nfiles ? 0 : 1,
                      req->app->cfg->message_max_chars, &body, &err) != 0 ||
        jfield_string(doc, "idempotency_key", 0, 1, PROTO_ID_MAX, &key, &err) != 0 ||
        read_handoff(doc, &handoff, &summary, &err) != 0) {
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
    struct message_post post = {.conversation_id = conv,
                                .kind = "message",
                                .body = body ? body : "",
                                .client_msg_id = key,
                                .file_ids = file_ids,
                                .nfiles = nfiles};
    struct message_result r = {.err = CHAT_OK};
    api_token_actor(&t, &post.author);
    enum chat_err e = messages_post_one(req->app->db, &post, &r);
    if (e == CHAT_OK)
        e = r.err;
    if (e == CHAT_OK) {
        /* A bot's reply with the handoff action: the message first (a bot
         * writes only while the conversation is its own), then the handoff. */
        struct assign_work work = {.nteams = 0};
        enum chat_err h = handoff ? bots_handoff(req->app, &post.author, conv, summary, &work) : CHAT_OK;
        json_t *msg = json_loads(r.message, 0, NULL);
        json_t *answer = json_pack("{s:o, s:b}", "message", msg ? msg : json_null(), "duplicate", r.duplicate);
        if (handoff && answer)
            json_object_set_new(answer, "handed_off", json_boolean(h == CHAT_OK));
        http_send_json(req, r.duplicate ? 200 : 201, answer);
        assign_run(req->app, &work);
    } else if (e == CHAT_E_UNAVAILABLE) {
        http_send_problem(req, 503, "unavailable",
                          key ? "the message may not have been stored; retry with the same idempotency key"
                              : "the message may not have been stored; read the conversation before posting "
                                "again, or post with an Idempotency-Key");
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
    struct apitoken t;
    struct problem_field err;
    struct actor a;
    long long agent = 0, team = 0, conv;
    const char *reason = NULL;
    json_t *doc, *result = NULL;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_WRITE) != 0 ||
        params_path_id(req, "no such conversation", &conv) != 0 || !(doc = http_read_json(req)))
        return;
    if (jfield_only(doc, fields, &err) != 0 || jfield_int(doc, "agent_id", 0, 1, INT64_MAX, &agent, &err) != 0 ||
        jfield_int(doc, "team_id", 0, 1, INT64_MAX, &team, &err) != 0 ||
        jfield_string(doc, "reason", JF_TEXT, 0, PROTO_REASON_MAX, &reason, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
    } else if ((agent != 0) == (team != 0)) {
        params_invalid(req, "agent_id", "give exactly one of agent_id and team_id");
    } else {
        api_token_actor(&t, &a);
        struct assign_work work = {.nteams = 0};
        enum chat_err e = convo_transfer(req->app, &a, conv, agent, team, reason, &result, &work);
        api_answer_move(req, e, result, &work);
    }
    json_decref(doc);
}

/* close and reopen: the same steps around a different convo_* move. */
typedef enum chat_err (*convo_move_fn)(struct app *app, const struct actor *a, long long conv, json_t **reply,
                                       struct assign_work *work);

static void simple_move(struct http_req *req, convo_move_fn move)
{
    struct apitoken t;
    struct actor a;
    long long conv;
    json_t *result = NULL;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_WRITE) != 0 ||
        params_path_id(req, "no such conversation", &conv) != 0)
        return;
    api_token_actor(&t, &a);
    struct assign_work work = {.nteams = 0};
    enum chat_err e = move(req->app, &a, conv, &result, &work);
    api_answer_move(req, e, result, &work);
}

void api_v1_close(struct http_req *req)
{
    simple_move(req, convo_close);
}

void api_v1_reopen(struct http_req *req)
{
    simple_move(req, convo_reopen);
}

void api_v1_handoff(struct http_req *req)
{
    static const char *const fields[] = {"summary", NULL};
    struct apitoken t;
    struct problem_field err;
    struct actor a;
    const char *summary = NULL;
    char *json = NULL;
    long long conv;
    json_t *doc;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_WRITE) != 0 ||
        params_path_id(req, "no such conversation", &conv) != 0 || !(doc = http_read_json(req)))
        return;
    if (jfield_only(doc, fields, &err) != 0 ||
        jfield_string(doc, "summary", JF_MULTILINE | JF_TEXT, 0, BOTS_SUMMARY_MAX, &summary, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
    } else {
        api_token_actor(&t, &a);
        struct assign_work work = {.nteams = 0};
        enum chat_err e = bots_handoff(req->app, &a, conv, summary, &work);
        if (e == CHAT_OK)
            e = transcripts_conversation(req->app->db, conv, &json);
        if (e == CHAT_OK) {
            json_t *c = json_loads(json, 0, NULL);
            http_send_json(req, 200, json_pack("{s:o}", "conversation", c ? c : json_null()));
        } else {
            api_send_error(req, e, "no such conversation handled by a bot", NULL);
        }
        assign_run(req->app, &work);
    }
    free(json);
    json_decref(doc);
}
