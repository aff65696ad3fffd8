#include "chat/automation.h"

#include "chat/calendar.h"
#include "chat/convo.h"
#include "chat/messages.h"
#include "chat/rules.h"
#include "chat/triage.h"
#include "core/clock.h"
#include "core/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct automation {
    pthread_mutex_t lock;
    json_t *rules;    /* [{id, name, rule}] of the enabled rules, in order; NULL: not loaded */
    double loaded_at; /* monotonic seconds */
};

struct automation *automation_new(void)
{
    struct automation *au = calloc(1, sizeof(*au));
    if (au)
        pthread_mutex_init(&au->lock, NULL);
    return au;
}

void automation_free(struct automation *au)
{
    if (!au)
        return;
    json_decref(au->rules);
    pthread_mutex_destroy(&au->lock);
    free(au);
}

/* ------------------------------------------------------------------ CRUD */

#define RULE_JSON                                                                                                      \
    "json_build_object('id', r.id, 'name', r.name, 'enabled', r.enabled, 'position', r.position, 'rule', r.rule,"      \
    " 'created_at', parley_iso(r.created_at), 'updated_at', parley_iso(r.updated_at))"

enum chat_err automation_list_json(struct db_pool *db, char **json)
{
    return chat_err_of(db_query_text(db, json,
                                     "SELECT json_build_object('rules', coalesce(json_agg(" RULE_JSON
                                     " ORDER BY r.position, r.id), '[]'::json))::text FROM automation_rules r",
                                     0, NULL));
}

/* The next reader reloads (this node's change counts at once). */
static void invalidate(struct automation *au)
{
    pthread_mutex_lock(&au->lock);
    json_decref(au->rules);
    au->rules = NULL;
    pthread_mutex_unlock(&au->lock);
}

#define LABEL_EXISTS_SQL "SELECT EXISTS (SELECT 1 FROM labels WHERE id = $1::bigint)"

/* Whether the query sql (one bigint parameter, one boolean answer) says
 * yes for id: 1 or 0, or a DB_E_* code. */
static int id_exists(struct db_pool *db, const char *sql, json_int_t id)
{
    PGresult *res = NULL;
    int rc = db_query(db, &res, sql, 1, (const char *const[]){DB_ID(id)});
    int found = rc == DB_OK && db_get_bool(res, 0, 0);
    PQclear(res);
    return rc == DB_OK ? found : rc;
}

/* Each id an action or a label condition names must exist (an agent:
 * active): a rule about a label that is not there would silently never (or
 * always) match. CHAT_OK, or CHAT_E_INVALID with the field. */
static enum chat_err check_ids(struct db_pool *db, json_t *rule, char *field, size_t flen)
{
    static const struct {
        const char *key, *sql;
    } refs[] = {
        {"team_id", "SELECT EXISTS (SELECT 1 FROM teams WHERE id = $1::bigint)"},
        {"agent_id", "SELECT EXISTS (SELECT 1 FROM agents WHERE id = $1::bigint AND active)"},
        {"label_id", LABEL_EXISTS_SQL},
    };
    json_t *item;
    size_t i;
    int found;
    json_array_foreach(json_object_get(rule, "actions"), i, item)
    {
        for (size_t k = 0; k < sizeof(refs) / sizeof(refs[0]); k++) {
            json_t *id = json_object_get(item, refs[k].key);
            if (!json_is_integer(id))
                continue;
            if ((found = id_exists(db, refs[k].sql, json_integer_value(id))) < 0)
                return chat_err_of(found);
            if (!found) {
                snprintf(field, flen, "rule.actions[%zu].%s", i, refs[k].key);
                return CHAT_E_INVALID;
            }
        }
    }
    json_array_foreach(json_object_get(rule, "conditions"), i, item)
    {
        json_t *id = json_object_get(item, "value");
        if (!json_is_string(json_object_get(item, "field")) ||
            strcmp(json_string_value(json_object_get(item, "field")), "label") != 0 || !json_is_integer(id))
            continue;
        if ((found = id_exists(db, LABEL_EXISTS_SQL, json_integer_value(id))) < 0)
            return chat_err_of(found);
        if (!found) {
            snprintf(field, flen, "rule.conditions[%zu].value", i);
            return CHAT_E_INVALID;
        }
    }
    return CHAT_OK;
}

enum chat_err automation_save(struct app *app, long long id, const char *name, int enabled, int position, json_t *rule,
                              char *field, size_t flen, char **json)
{
    char *rule_text = NULL, pos[16], max[16];
    *json = NULL;
    *field = '\0';
    if (rule) {
        enum chat_err err = check_ids(app->db, rule, field, flen);
        if (err != CHAT_OK)
            return err;
        if (!(rule_text = json_dumps(rule, JSON_COMPACT)))
            return CHAT_E_INTERNAL;
    }
    snprintf(pos, sizeof(pos), "%d", position);
    snprintf(max, sizeof(max), "%d", AUTOMATION_MAX_RULES);
    const char *params[6] = {
        DB_ID(id), name, enabled < 0 ? NULL : enabled ? "true" : "false", position < 0 ? NULL : pos, rule_text, max};
    enum chat_err err = chat_err_of_write(db_query_text(
        app->db, json,
        "WITH ins AS (INSERT INTO automation_rules (name, enabled, position, rule)"
        "  SELECT $2, coalesce($3::boolean, true), coalesce($4::int, 0), $5::jsonb WHERE $1::bigint = 0"
        "    AND (SELECT count(*) FROM automation_rules) < $6::int RETURNING *),"
        " upd AS (UPDATE automation_rules SET name = coalesce($2, name), enabled = coalesce($3::boolean, enabled),"
        "  position = coalesce($4::int, position), rule = coalesce($5::jsonb, rule), updated_at = now()"
        "  WHERE id = $1::bigint AND $1::bigint <> 0 RETURNING *)"
        " SELECT json_build_object('rule', " RULE_JSON ")::text FROM (SELECT * FROM ins UNION ALL SELECT * FROM upd) r",
        6, params));
    free(rule_text);
    if (err == CHAT_E_NOT_FOUND && id == 0)
        err = CHAT_E_LIMIT;
    if (err == CHAT_OK)
        invalidate(app->automation);
    return err;
}

enum chat_err automation_delete(struct app *app, long long id)
{
    char *found = NULL;
    enum chat_err err = chat_err_of(
        db_query_text(app->db, &found, "DELETE FROM automation_rules WHERE id = $1::bigint RETURNING id::text", 1,
                      (const char *const[]){DB_ID(id)}));
    free(found);
    if (err == CHAT_OK)
        invalidate(app->automation);
    return err;
}

/* ------------------------------------------------------------------- run */

/* The enabled rules for trigger (a new reference, or NULL when there are
 * none or they cannot be read). */
static json_t *rules_for(struct app *app, const char *trigger)
{
    struct automation *au = app->automation;
    json_t *out = NULL, *r;
    size_t i;
    double now = clock_now();
    pthread_mutex_lock(&au->lock);
    if (!au->rules || now - au->loaded_at >= AUTOMATION_CACHE_SECONDS) {
        char *text = NULL;
        if (db_query_text(app->db, &text,
                          "SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'rule', rule)"
                          " ORDER BY position, id), '[]'::json)::text FROM automation_rules WHERE enabled",
                          0, NULL) == DB_OK) {
            json_decref(au->rules);
            au->rules = json_loads(text, 0, NULL);
            au->loaded_at = now;
        }
        free(text);
    }
    json_array_foreach(au->rules, i, r)
    {
        const char *t = json_string_value(json_object_get(json_object_get(r, "rule"), "trigger"));
        if (!t || strcmp(t, trigger) != 0)
            continue;
        if (!out)
            out = json_array();
        json_array_append(out, r);
    }
    pthread_mutex_unlock(&au->lock);
    return out;
}

/* What the rules may test about conversation conv (a new reference, or
 * NULL): chat/rules' snapshot. */
static json_t *snapshot(struct app *app, long long conv, const char *trigger, const char *message)
{
    PGresult *res = NULL;
    int rc = db_query(app->db, &res,
                      "SELECT json_build_object('page_url', c.page_url, 'referrer', c.referrer, 'prechat', c.prechat,"
                      "  'attributes', v.attributes, 'country', v.country,"
                      "  'language', coalesce(v.attributes->>'language', c.prechat->>'language'),"
                      "  'labels', coalesce((SELECT json_agg(cl.label_id ORDER BY cl.label_id)"
                      "     FROM conversation_labels cl WHERE cl.conversation_id = c.id), '[]'::json),"
                      "  'status', c.status)::text,"
                      "  t.business_hours::text, extract(epoch FROM now())::bigint"
                      " FROM conversations c JOIN visitors v ON v.id = c.visitor_id JOIN teams t ON t.id = c.team_id"
                      " WHERE c.id = $1::bigint",
                      1, (const char *const[]){DB_ID(conv)});
    json_t *ctx = rc == DB_OK && PQntuples(res) == 1 ? json_loads(db_get_str(res, 0, 0), 0, NULL) : NULL;
    if (ctx) {
        int64_t back_at = 0;
        int open = calendar_open_at(app->zones, db_get_str(res, 0, 1), db_get_ll(res, 0, 2, 0), &back_at);
        json_object_set_new(ctx, "business_hours", json_string(open ? "open" : "closed"));
        json_object_set_new(ctx, "trigger", json_string(trigger));
        if (message)
            json_object_set_new(ctx, "message", json_string(message));
    }
    PQclear(res);
    return ctx;
}

/* Posts a message or note authored by the system. */
static enum chat_err post_system(struct app *app, long long conv, const char *kind, const char *body, long long rule)
{
    struct message_post post = {.conversation_id = conv,
                                .author = {.kind = ACTOR_SYSTEM, .privileged = 1},
                                .kind = kind,
                                .body = body,
                                .meta = json_pack("{s:I}", "automation_rule", (json_int_t)rule)};
    struct message_result r = {.err = CHAT_OK};
    enum chat_err err = post.meta ? messages_post_one(app->db, &post, &r) : CHAT_E_INTERNAL;
    if (err == CHAT_OK)
        err = r.err;
    messages_results_free(&r, 1);
    json_decref(post.meta);
    return err;
}

/* One action of rule (id, name) on conversation conv; ctx's labels follow
 * add_label. Returns whether the conversation is still open. */
static int run_action(struct app *app, long long conv, json_t *ctx, json_t *action, long long rule_id,
                      const char *rule_name, struct assign_work *work)
{
    const struct actor sys = {.kind = ACTOR_SYSTEM, .privileged = 1};
    const char *type = json_string_value(json_object_get(action, "type"));
    json_t *reply = NULL;
    char reason[160];
    enum chat_err err = CHAT_OK;
    int open = 1;
    snprintf(reason, sizeof(reason), "automation rule \"%s\"", rule_name);
    if (strcmp(type, "assign_team") == 0) {
        err = convo_transfer(app, &sys, conv, 0, json_integer_value(json_object_get(action, "team_id")), reason, &reply,
                             work);
    } else if (strcmp(type, "assign_agent") == 0) {
        err = convo_transfer(app, &sys, conv, json_integer_value(json_object_get(action, "agent_id")), 0, reason,
                             &reply, work);
    } else if (strcmp(type, "set_priority") == 0) {
        err = triage_set_priority(
            app, &sys, conv, triage_priority_value(json_string_value(json_object_get(action, "priority"))), &reply);
    } else if (strcmp(type, "add_label") == 0) {
        json_t *labels = json_object_get(ctx, "labels"), *l;
        long long ids[TRIAGE_LABELS_MAX + 1];
        size_t n = 0, i;
        long long want = json_integer_value(json_object_get(action, "label_id"));
        json_array_foreach(labels, i, l)
        {
            if (n < TRIAGE_LABELS_MAX && json_integer_value(l) != want)
                ids[n++] = json_integer_value(l);
        }
        ids[n++] = want;
        err = n <= TRIAGE_LABELS_MAX ? triage_set_labels(app, &sys, conv, ids, n, &reply) : CHAT_E_LIMIT;
        if (err == CHAT_OK)
            json_array_append_new(labels, json_integer(want));
    } else if (strcmp(type, "send_message") == 0 || strcmp(type, "add_note") == 0) {
        err = post_system(app, conv, type[0] == 's' ? "message" : "note",
                          json_string_value(json_object_get(action, "body")), rule_id);
    } else if (strcmp(type, "close") == 0) {
        err = convo_close(app, &sys, conv, &reply, work);
        open = err != CHAT_OK;
    }
    json_decref(reply);
    if (err != CHAT_OK) {
        char conv_text[24], rule_text[24];
        snprintf(conv_text, sizeof(conv_text), "%lld", conv);
        snprintf(rule_text, sizeof(rule_text), "%lld", rule_id);
        log_warn("automation action skipped", "rule", rule_text, "action", type, "conversation", conv_text, "error",
                 chat_err_desc(err)->code);
    }
    return open;
}

/* The rules that match conversation conv, their actions in order. */
static void run_rules(struct app *app, json_t *rules, long long conv, const char *trigger, const char *message,
                      struct assign_work *work)
{
    json_t *ctx = snapshot(app, conv, trigger, message), *r, *action;
    size_t i, k;
    int open = 1;
    if (!ctx) {
        log_warn("automation rules not run: the conversation could not be read");
        return;
    }
    json_array_foreach(rules, i, r)
    {
        json_t *rule = json_object_get(r, "rule");
        if (!open || !rules_match(rule, ctx))
            continue;
        json_array_foreach(json_object_get(rule, "actions"), k, action)
        {
            if (open)
                open = run_action(app, conv, ctx, action, json_integer_value(json_object_get(r, "id")),
                                  json_string_value(json_object_get(r, "name")), work);
        }
    }
    json_decref(ctx);
}

void automation_conversation_created(struct app *app, long long conv, struct assign_work *work)
{
    json_t *rules = rules_for(app, "conversation.created");
    if (rules)
        run_rules(app, rules, conv, "conversation.created", NULL, work);
    json_decref(rules);
}

void automation_visitor_messages(struct app *app, const long long *convs, const char *const *bodies, size_t n,
                                 struct assign_work *work)
{
    json_t *rules = n ? rules_for(app, "message.created") : NULL;
    for (size_t i = 0; rules && i < n; i++)
        run_rules(app, rules, convs[i], "message.created", bodies[i], work);
    json_decref(rules);
}
