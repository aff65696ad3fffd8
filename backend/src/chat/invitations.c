#include "chat/invitations.h"

#include "core/jfield.h"
#include "core/problem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INVITATION_JSON                                                                                                \
    "json_build_object('id', i.id, 'visitor_id', i.visitor_id, 'site_id', i.site_id, 'status', i.status,"              \
    " 'message', i.message, 'sender_name', i.sender_name, 'automatic', i.automatic, 'rule_id', i.rule_id,"             \
    " 'agent_id', i.agent_id, 'conversation_id', i.conversation_id, 'created_at', parley_iso(i.created_at))"

enum chat_err invitations_fetch(struct db_pool *db, long long visitor_id, long long site_id, json_t **out)
{
    char *text = NULL;
    *out = NULL;
    int rc = db_query_text(
        db, &text,
        "WITH i AS (UPDATE invitations SET status = 'shown', shown_at = coalesce(shown_at, now())"
        "           WHERE visitor_id = $1::bigint AND site_id = $2::bigint AND status IN ('pending', 'shown')"
        "           RETURNING *)"
        " SELECT coalesce((SELECT json_build_object('id', i.id, 'message', i.message, 'sender_name', i.sender_name,"
        "   'agent', (SELECT json_build_object('name', a.name) FROM agents a WHERE a.id = i.agent_id),"
        "   'created_at', parley_iso(i.created_at)) FROM i), 'null'::json)::text",
        2, (const char *const[]){DB_ID(visitor_id), DB_ID(site_id)});
    enum chat_err err = chat_err_of(rc);
    if (err == CHAT_OK && text && strcmp(text, "null") != 0 && !(*out = json_loads(text, 0, NULL)))
        err = CHAT_E_INTERNAL;
    free(text);
    return err;
}

/* Why an invitation named by a visitor cannot change: not theirs or none
 * (not found), or answered already (used). */
static enum chat_err why_not(PGconn *conn, long long visitor_id, long long id)
{
    PGresult *res = NULL;
    int rc = db_exec(conn, &res, "SELECT 1 FROM invitations WHERE id = $1::bigint AND visitor_id = $2::bigint", 2,
                     (const char *const[]){DB_ID(id), DB_ID(visitor_id)});
    enum chat_err err = chat_err_of(rc);
    if (err == CHAT_OK)
        err = PQntuples(res) ? CHAT_E_INVITATION_USED : CHAT_E_NOT_FOUND;
    PQclear(res);
    return err;
}

struct dismiss_ctx {
    long long visitor_id, id;
};

static int dismiss_tx(PGconn *conn, void *arg)
{
    struct dismiss_ctx *ctx = arg;
    PGresult *res = NULL;
    int rc = db_exec(conn, &res,
                     "UPDATE invitations SET status = 'ignored', ended_at = now()"
                     " WHERE id = $1::bigint AND visitor_id = $2::bigint AND status IN ('pending', 'shown')",
                     2, (const char *const[]){DB_ID(ctx->id), DB_ID(ctx->visitor_id)});
    if (rc == DB_OK && strcmp(PQcmdTuples(res), "0") == 0)
        rc = why_not(conn, ctx->visitor_id, ctx->id);
    PQclear(res);
    return rc;
}

enum chat_err invitations_dismiss(struct db_pool *db, long long visitor_id, long long id)
{
    struct dismiss_ctx ctx = {visitor_id, id};
    return chat_err_of(db_transaction(db, dismiss_tx, &ctx));
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

enum chat_err invitations_accept_tx(PGconn *conn, long long visitor_id, long long id, long long conv,
                                    long long *agent_id, char **message, char **sender_name)
{
    PGresult *res = NULL;
    *agent_id = 0;
    *message = *sender_name = NULL;
    /* An ignored invitation may still be answered: the visitor's tab was
     * hidden long enough to count as gone, then they came back to it. */
    int rc = db_exec(conn, &res,
                     "UPDATE invitations i SET status = 'accepted', conversation_id = $3::bigint, ended_at = now()"
                     " WHERE i.id = $1::bigint AND i.visitor_id = $2::bigint"
                     "   AND i.status IN ('pending', 'shown', 'ignored') AND i.conversation_id IS NULL"
                     " RETURNING i.message, i.sender_name,"
                     "   (SELECT a.id FROM agents a WHERE a.id = i.agent_id AND a.active AND parley_agent_live(a.id)"
                     "      AND a.status = 'online' AND parley_agent_load(a.id) < a.max_chats)",
                     3, (const char *const[]){DB_ID(id), DB_ID(visitor_id), DB_ID(conv)});
    enum chat_err err = chat_err_of(rc);
    if (err == CHAT_OK && PQntuples(res) != 1) {
        PQclear(res);
        return why_not(conn, visitor_id, id);
    }
    if (err == CHAT_OK) {
        *message = dup_or_null(db_get_str(res, 0, 0));
        *sender_name = dup_or_null(db_get_str(res, 0, 1));
        *agent_id = db_get_ll(res, 0, 2, 0);
        if (!*message || !*sender_name)
            err = CHAT_E_INTERNAL;
    }
    PQclear(res);
    return err;
}

struct send_ctx {
    const struct actor *agent;
    long long visitor_id;
    const char *message;
    char *json;
};

static int send_tx(PGconn *conn, void *arg)
{
    struct send_ctx *ctx = arg;
    PGresult *res = NULL;
    free(ctx->json);
    ctx->json = NULL;
    /* The visitor's row lock orders this with their conversation.start. */
    int rc = db_exec(conn, &res,
                     "SELECT parley_agent_sees_site($2::bigint, $3::boolean, v.site_id),"
                     "  EXISTS (SELECT 1 FROM visitors_online o WHERE o.visitor_id = v.id AND o.leaving_at IS NULL),"
                     "  EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = v.id AND c.status <> 'closed'),"
                     "  EXISTS (SELECT 1 FROM invitations i WHERE i.visitor_id = v.id"
                     "                                        AND i.status IN ('pending', 'shown'))"
                     " FROM visitors v WHERE v.id = $1::bigint FOR UPDATE",
                     3,
                     (const char *const[]){DB_ID(ctx->visitor_id), DB_ID(ctx->agent->id),
                                           ctx->agent->privileged ? "true" : "false"});
    if (rc != DB_OK)
        goto done;
    if (PQntuples(res) != 1 || !db_get_bool(res, 0, 0))
        rc = CHAT_E_NOT_FOUND;
    else if (!db_get_bool(res, 0, 1))
        rc = CHAT_E_VISITOR_OFFLINE;
    else if (db_get_bool(res, 0, 2))
        rc = CHAT_E_VISITOR_CHATTING;
    else if (db_get_bool(res, 0, 3))
        rc = CHAT_E_INVITATION_OPEN;
    if (rc != DB_OK)
        goto done;
    PQclear(res);
    res = NULL;
    rc = db_exec(conn, &res,
                 "WITH i AS (INSERT INTO invitations (site_id, visitor_id, agent_id, automatic, message, sender_name)"
                 "           SELECT v.site_id, v.id, a.id, false, $3, left(a.name, 200)"
                 "             FROM visitors v, agents a WHERE v.id = $1::bigint AND a.id = $2::bigint"
                 "           RETURNING *)"
                 " SELECT json_build_object('invitation', " INVITATION_JSON ")::text FROM i",
                 3, (const char *const[]){DB_ID(ctx->visitor_id), DB_ID(ctx->agent->id), ctx->message});
    if (rc == DB_E_UNIQUE)
        rc = CHAT_E_INVITATION_OPEN;
    else if (rc == DB_OK && PQntuples(res) != 1)
        rc = CHAT_E_NOT_FOUND;
    else if (rc == DB_OK && !(ctx->json = strdup(db_get_str(res, 0, 0))))
        rc = CHAT_E_INTERNAL;
done:
    PQclear(res);
    return rc;
}

enum chat_err invitations_send(struct db_pool *db, const struct actor *agent, long long visitor_id, const char *message,
                               char **json)
{
    struct send_ctx ctx = {.agent = agent, .visitor_id = visitor_id, .message = message};
    enum chat_err err = chat_err_of(db_transaction(db, send_tx, &ctx));
    if (err != CHAT_OK) {
        free(ctx.json);
        ctx.json = NULL;
    }
    *json = ctx.json;
    return err;
}

/* ----------------------------------------------------------------- rules */

static int refuse(char *field, size_t flen, const char *key, char *reason, size_t rlen, const char *why)
{
    snprintf(field, flen, "conditions%s%s", key ? "." : "", key ? key : "");
    snprintf(reason, rlen, "%s", why);
    return -1;
}

int invitations_conditions_check(json_t *cond, char *field, size_t flen, char *reason, size_t rlen)
{
    static const char *const keys[] = {
        "time_on_page_seconds", "url_contains", "min_visits", "countries", "referrer_contains", NULL};
    struct problem_field err;
    long long n;
    const char *s;
    if (!json_is_object(cond))
        return refuse(field, flen, NULL, reason, rlen, "must be an object");
    if (jfield_only(cond, keys, &err) != 0)
        return refuse(field, flen, err.field, reason, rlen, "is not a condition");
    if (jfield_int(cond, "time_on_page_seconds", 0, 0, 86400, &n, &err) != 0)
        return refuse(field, flen, keys[0], reason, rlen, "must be seconds from 0 to 86400");
    if (jfield_string(cond, "url_contains", 0, 1, INVITATION_MATCH_MAX, &s, &err) != 0)
        return refuse(field, flen, keys[1], reason, rlen, "must be text of 1 to 500 characters");
    if (jfield_int(cond, "min_visits", 0, 1, 1000, &n, &err) != 0)
        return refuse(field, flen, keys[2], reason, rlen, "must be a number from 1 to 1000");
    json_t *countries = json_object_get(cond, "countries");
    if (countries) {
        size_t i;
        json_t *c;
        if (!json_is_array(countries) || json_array_size(countries) < 1 ||
            json_array_size(countries) > INVITATION_COUNTRIES)
            return refuse(field, flen, keys[3], reason, rlen, "must be a list of 1 to 50 country codes");
        json_array_foreach(countries, i, c)
        {
            const char *code = json_string_value(c);
            if (!code || strlen(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z')
                return refuse(field, flen, keys[3], reason, rlen,
                              "must hold two-letter ISO 3166 country codes in capitals, like DE");
        }
    }
    if (jfield_string(cond, "referrer_contains", 0, 1, INVITATION_MATCH_MAX, &s, &err) != 0)
        return refuse(field, flen, keys[4], reason, rlen, "must be text of 1 to 500 characters");
    return 0;
}

enum chat_err invitations_rules_json(struct db_pool *db, char **json)
{
    return chat_err_of(
        db_query_text(db, json,
                      "SELECT json_build_object('rules', coalesce(json_agg(parley_invitation_rule_json(r)"
                      " ORDER BY r.site_id, r.position, r.id), '[]'::json))::text"
                      " FROM invitation_rules r",
                      0, NULL));
}

struct save_ctx {
    long long id;
    const struct invitation_rule_in *in;
    char *json;
};

static int save_tx(PGconn *conn, void *arg)
{
    struct save_ctx *ctx = arg;
    const struct invitation_rule_in *in = ctx->in;
    PGresult *res = NULL;
    char enabled[8], position[16], *cond = NULL;
    int rc = DB_OK;
    free(ctx->json);
    ctx->json = NULL;
    if (in->conditions && !(cond = json_dumps(in->conditions, JSON_COMPACT)))
        return CHAT_E_INTERNAL;
    snprintf(enabled, sizeof(enabled), "%s", in->enabled ? "true" : "false");
    snprintf(position, sizeof(position), "%d", in->position);
    if (in->site_id) {
        /* The site's row lock serialises counting its rules. */
        rc = db_exec(conn, &res,
                     "SELECT (SELECT count(*) FROM invitation_rules r WHERE r.site_id = s.id"
                     "          AND r.id IS DISTINCT FROM nullif($2::bigint, 0))"
                     " FROM sites s WHERE s.id = $1::bigint FOR UPDATE",
                     2, (const char *const[]){DB_ID(in->site_id), DB_ID(ctx->id)});
        if (rc == DB_OK && PQntuples(res) != 1)
            rc = CHAT_E_INVALID;
        else if (rc == DB_OK && db_get_ll(res, 0, 0, 0) >= INVITATION_RULES_MAX)
            rc = CHAT_E_LIMIT;
        PQclear(res);
        res = NULL;
        if (rc != DB_OK)
            goto done;
    }
    const char *params[8] = {DB_ID(ctx->id),
                             in->site_id ? DB_ID(in->site_id) : NULL,
                             in->name,
                             in->enabled >= 0 ? enabled : NULL,
                             in->position >= 0 ? position : NULL,
                             in->message,
                             in->sender_name,
                             cond};
    rc = db_exec(conn, &res,
                 ctx->id ? "WITH r AS (UPDATE invitation_rules SET site_id = coalesce($2::bigint, site_id),"
                           "  name = coalesce($3, name), enabled = coalesce($4::boolean, enabled),"
                           "  position = coalesce($5::int, position), message = coalesce($6, message),"
                           "  sender_name = coalesce($7, sender_name), conditions = coalesce($8::jsonb, conditions),"
                           "  updated_at = now() WHERE id = $1::bigint RETURNING *)"
                           " SELECT json_build_object('rule', parley_invitation_rule_json(r))::text FROM r"
                         : "WITH r AS (INSERT INTO invitation_rules (site_id, name, enabled, position, message,"
                           "  sender_name, conditions) SELECT $2::bigint, $3, coalesce($4::boolean, true),"
                           "  coalesce($5::int, 0), $6, coalesce($7, ''), coalesce($8::jsonb, '{}')"
                           "  WHERE $1::bigint = 0 RETURNING *)"
                           " SELECT json_build_object('rule', parley_invitation_rule_json(r))::text FROM r",
                 8, params);
    if (rc == DB_OK && PQntuples(res) != 1)
        rc = CHAT_E_NOT_FOUND;
    else if (rc == DB_OK && !(ctx->json = strdup(db_get_str(res, 0, 0))))
        rc = CHAT_E_INTERNAL;
done:
    free(cond);
    PQclear(res);
    return rc;
}

enum chat_err invitations_rule_save(struct db_pool *db, long long id, const struct invitation_rule_in *in, char **json)
{
    struct save_ctx ctx = {.id = id, .in = in};
    enum chat_err err = chat_err_of_write(db_transaction(db, save_tx, &ctx));
    if (err != CHAT_OK) {
        free(ctx.json);
        ctx.json = NULL;
    }
    *json = ctx.json;
    return err;
}

enum chat_err invitations_rule_delete(struct db_pool *db, long long id)
{
    PGresult *res = NULL;
    int rc =
        db_query(db, &res, "DELETE FROM invitation_rules WHERE id = $1::bigint", 1, (const char *const[]){DB_ID(id)});
    enum chat_err err = chat_err_of(rc);
    if (err == CHAT_OK && strcmp(PQcmdTuples(res), "0") == 0)
        err = CHAT_E_NOT_FOUND;
    PQclear(res);
    return err;
}
