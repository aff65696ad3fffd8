#include "chat/messages.h"

#include <stdlib.h>
#include <string.h>

int messages_file_id_valid(const char *s)
{
    return strlen(s) == FILE_ID_LEN && strspn(s, "0123456789abcdef") == FILE_ID_LEN;
}

const char *messages_file_ids(json_t *arr, const char **ids, size_t *n)
{
    json_t *v;
    size_t i;
    *n = 0;
    if (!arr)
        return NULL;
    if (!json_is_array(arr) || json_array_size(arr) < 1 || json_array_size(arr) > MESSAGE_MAX_FILES)
        return "must be an array of 1 to 10 file ids";
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) || !messages_file_id_valid(json_string_value(v)))
            return "each must be the id of a file you uploaded";
        for (size_t k = 0; k < i; k++)
            if (strcmp(ids[k], json_string_value(v)) == 0)
                return "a file may be attached once";
        ids[i] = json_string_value(v);
    }
    *n = json_array_size(arr);
    return NULL;
}

/* post_messages's element: {"c","ak","ai","p","pc","k","b","cm","mt","f","w"}. */
static json_t *post_item(const struct message_post *p)
{
    json_t *it =
        json_pack("{s:I, s:s, s:b, s:b, s:s, s:s}", "c", (json_int_t)p->conversation_id, "ak",
                  actor_kind_name(&p->author), "p", p->author.privileged, "pc", p->claimed, "k", p->kind, "b", p->body);
    if (!it)
        return NULL;
    if (json_object_set_new(it, "ai", p->author.id ? json_integer(p->author.id) : json_null()) != 0 ||
        (p->client_msg_id && json_object_set_new(it, "cm", json_string(p->client_msg_id)) != 0) ||
        (p->meta && json_object_set(it, "mt", p->meta) != 0) ||
        (p->whisper && json_object_set_new(it, "w", json_true()) != 0)) {
        json_decref(it);
        return NULL;
    }
    if (p->nfiles) {
        json_t *f = json_array();
        for (size_t i = 0; f && i < p->nfiles; i++)
            if (json_array_append_new(f, json_string(p->file_ids[i])) != 0) {
                json_decref(f);
                f = NULL;
            }
        if (!f || json_object_set_new(it, "f", f) != 0) {
            json_decref(it);
            return NULL;
        }
    }
    return it;
}

static enum chat_err status_err(const char *status)
{
    if (strcmp(status, "ok") == 0 || strcmp(status, "duplicate") == 0)
        return CHAT_OK;
    if (strcmp(status, "not_found") == 0)
        return CHAT_E_NOT_FOUND;
    if (strcmp(status, "forbidden") == 0)
        return CHAT_E_FORBIDDEN;
    if (strcmp(status, "closed") == 0)
        return CHAT_E_CLOSED;
    if (strcmp(status, "key_taken") == 0)
        return CHAT_E_KEY_TAKEN;
    if (strcmp(status, "file_invalid") == 0)
        return CHAT_E_FILE_INVALID;
    return CHAT_E_INTERNAL;
}

enum chat_err messages_post(PGconn *conn, const struct message_post *posts, size_t n, struct message_result *out)
{
    json_t *items = json_array();
    char *text = NULL;
    PGresult *res = NULL;
    enum chat_err err = CHAT_E_INTERNAL;

    memset(out, 0, n * sizeof(*out));
    for (size_t i = 0; i < n && items; i++) {
        json_t *it = post_item(&posts[i]);
        if (!it || json_array_append_new(items, it) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    text = items ? json_dumps(items, JSON_COMPACT) : NULL;
    if (!text)
        goto done;
    static const struct db_stmt post = {"SELECT idx, status, message FROM post_messages($1::jsonb)", 1};
    int rc = db_exec_stmt(conn, &res, &post, (const char *const[]){text});
    if (rc != DB_OK) {
        err = chat_err_of(rc);
        goto done;
    }
    if ((size_t)PQntuples(res) != n)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const char *status = db_get_str(res, (int)i, 1);
        out[i].err = status_err(status);
        out[i].duplicate = strcmp(status, "duplicate") == 0;
        if (out[i].err == CHAT_OK && db_get_str(res, (int)i, 2)) {
            out[i].message = strdup(db_get_str(res, (int)i, 2));
            if (!out[i].message)
                out[i].err = CHAT_E_INTERNAL;
        }
    }
    err = CHAT_OK;
done:
    PQclear(res);
    free(text);
    json_decref(items);
    return err;
}

enum chat_err messages_commit(struct db_pool *db, const struct message_post *posts, size_t n,
                              struct message_result *out)
{
    PGconn *conn = db_acquire(db);
    if (!conn) {
        memset(out, 0, n * sizeof(*out));
        return CHAT_E_UNAVAILABLE;
    }
    /* One statement outside a transaction is a transaction of its own. */
    enum chat_err err = messages_post(conn, posts, n, out);
    db_release(db, conn);
    return err;
}

enum chat_err messages_post_one(struct db_pool *db, const struct message_post *post, struct message_result *out)
{
    return messages_commit(db, post, 1, out);
}

enum chat_err messages_post_tx(PGconn *conn, const struct message_post *post)
{
    struct message_result r;
    enum chat_err err = messages_post(conn, post, 1, &r);
    if (err == CHAT_OK)
        err = r.err;
    messages_results_free(&r, 1);
    return err;
}

enum chat_err messages_post_event_tx(PGconn *conn, long long conv, const char *body, json_t *meta)
{
    struct message_post line = {
        .conversation_id = conv,
        .author = {.kind = ACTOR_SYSTEM, .privileged = 1},
        .kind = "event",
        .body = body,
        .meta = meta,
    };
    enum chat_err err = meta ? messages_post_tx(conn, &line) : CHAT_E_INTERNAL;
    json_decref(meta);
    return err;
}

void messages_results_free(struct message_result *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(out[i].message);
        out[i].message = NULL;
    }
}

enum chat_err messages_by_refs(struct db_pool *db, const char *refs, message_views_fn fn, void *arg)
{
    static const struct db_stmt by_refs = {
        "SELECT c.visitor_id, c.team_id, c.assignee_id, m.kind = 'note', c.status = 'queued',"
        "       parley_message_json(m, 'visitor')::text, parley_message_json(m, 'agent')::text,"
        "       array_to_string(c.participant_ids, ',')"
        " FROM jsonb_array_elements($1::jsonb) r"
        " JOIN messages m ON m.conversation_id = (r->>0)::bigint AND m.seq = (r->>1)::bigint"
        " JOIN conversations c ON c.id = m.conversation_id"
        " ORDER BY m.conversation_id, m.seq",
        1};
    PGresult *res = NULL;
    enum chat_err err = chat_err_of(db_read_stmt(db, &res, &by_refs, (const char *const[]){refs}));
    for (int i = 0; err == CHAT_OK && i < PQntuples(res); i++) {
        struct message_views m = {
            .visitor_id = db_get_ll(res, i, 0, 0),
            .team_id = db_get_ll(res, i, 1, 0),
            .assignee_id = db_get_ll(res, i, 2, 0),
            .queued = db_get_bool(res, i, 4),
            .visitor_json = db_get_bool(res, i, 3) ? NULL : db_get_str(res, i, 5),
            .agent_json = db_get_str(res, i, 6),
        };
        m.nparticipants = db_id_list(db_get_str(res, i, 7), m.participants, MESSAGE_MAX_PARTICIPANTS);
        fn(&m, arg);
    }
    PQclear(res);
    return err;
}
