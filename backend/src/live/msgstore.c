#include "live/msgstore.h"

#include "db/db.h"
#include "core/log.h"
#include "live/proto.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct post {
    struct post *next;
    struct ws_conn *conn; /* referenced */
    struct actor actor;
    char request_id[PROTO_ID_MAX * 4 + 1];
    long long conversation_id;
    char kind[8];
    char client_msg_id[PROTO_ID_MAX * 4 + 1];
    char *body;
    int counted; /* included in conn->pending_posts */
};

struct msgstore {
    struct app *app;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct post *head, *tail;
    long queued; /* posts waiting for the committer */
    int stopping;
    pthread_t thread;
};

static void post_free(struct post *p)
{
    if (p->counted)
        atomic_fetch_sub(&p->conn->pending_posts, 1);
    ws_conn_unref(p->conn);
    free(p->body);
    free(p);
}

int msgstore_post(struct msgstore *ms, struct ws_conn *conn, const struct actor *a, const char *request_id,
                  long long conversation_id, const char *kind, const char *body, const char *client_msg_id)
{
    struct post *p = calloc(1, sizeof(*p));
    if (!p)
        return -1;
    p->body = strdup(body);
    if (!p->body) {
        free(p);
        return -1;
    }
    p->actor = *a;
    p->conversation_id = conversation_id;
    snprintf(p->kind, sizeof(p->kind), "%s", kind);
    snprintf(p->request_id, sizeof(p->request_id), "%s", request_id ? request_id : "");
    snprintf(p->client_msg_id, sizeof(p->client_msg_id), "%s", client_msg_id);
    ws_conn_ref(conn);
    p->conn = conn;
    pthread_mutex_lock(&ms->lock);
    /* Back-pressure: past the bound, refuse (the client retries with the
     * same client_msg_id) instead of queueing without end. */
    if (ms->stopping || ms->queued >= MSGSTORE_MAX_QUEUED) {
        pthread_mutex_unlock(&ms->lock);
        post_free(p);
        return -1;
    }
    ms->queued++;
    atomic_fetch_add(&conn->pending_posts, 1);
    p->counted = 1;
    if (ms->tail)
        ms->tail->next = p;
    else
        ms->head = p;
    ms->tail = p;
    pthread_cond_signal(&ms->wake);
    pthread_mutex_unlock(&ms->lock);
    return 0;
}

/* Stable by conversation (merge of runs would be overkill: insertion sort
 * on a batch of at most 256 that is usually already grouped). Keeping one
 * lock order across batches avoids deadlocks between nodes; keeping the
 * arrival order within a conversation keeps seq = arrival order. */
static void sort_by_conversation(struct post **v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct post *x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1]->conversation_id > x->conversation_id) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static const char *status_error(const char *status, const char **message)
{
    if (strcmp(status, "not_found") == 0) {
        *message = "no such conversation";
        return PE_NOT_FOUND;
    }
    if (strcmp(status, "forbidden") == 0) {
        *message = "you may not write in this conversation";
        return PE_FORBIDDEN;
    }
    if (strcmp(status, "closed") == 0) {
        *message = "the conversation is closed";
        return PE_INVALID_STATE;
    }
    if (strcmp(status, "key_taken") == 0) {
        *message = "this client_msg_id is used by another message in the conversation";
        return PE_INVALID_FIELD;
    }
    *message = "the message could not be stored";
    return PE_INTERNAL;
}

static void commit_batch(struct msgstore *ms, struct post **batch, size_t n)
{
    json_t *items = json_array();
    char *text = NULL;
    PGresult *res = NULL;
    int rc = DB_E_QUERY;

    sort_by_conversation(batch, n);
    for (size_t i = 0; i < n && items; i++) {
        struct post *p = batch[i];
        /* "pc": the privilege is the socket's claim from its auth; the
         * function narrows it with the agent's current role. */
        json_t *it = json_pack("{s:I, s:s, s:I, s:b, s:b, s:s, s:s, s:s}", "c", (json_int_t)p->conversation_id, "ak",
                               convo_actor_kind(&p->actor), "ai", (json_int_t)p->actor.id, "p", p->actor.privileged,
                               "pc", 1, "k", p->kind, "b", p->body, "cm", p->client_msg_id);
        if (!it || json_array_append_new(items, it) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    text = items ? json_dumps(items, JSON_COMPACT) : NULL;
    json_decref(items);
    if (text) {
        const char *params[1] = {text};
        PGconn *conn = db_acquire(ms->app->db);
        rc = DB_E_UNAVAILABLE;
        if (conn) {
            /* One statement in autocommit: it is its own transaction, so
             * the rows below are committed when it returns. */
            rc = db_exec(conn, &res, "SELECT idx, status, message::text FROM post_messages($1::jsonb) ORDER BY idx", 1,
                         params);
            db_release(ms->app->db, conn);
        }
        free(text);
    }
    for (size_t i = 0; i < n; i++) {
        struct post *p = batch[i];
        const char *id = p->request_id[0] ? p->request_id : NULL;
        if (rc != DB_OK || (int)i >= PQntuples(res)) {
            ws_send_error(p->conn, id, rc == DB_E_UNAVAILABLE ? PE_UNAVAILABLE : PE_INTERNAL,
                          "the message was not stored; send it again", NULL);
            continue;
        }
        const char *status = db_get_str(res, (int)i, 1);
        if (strcmp(status, "ok") == 0 || strcmp(status, "duplicate") == 0) {
            json_t *msg = json_loads(db_get_str(res, (int)i, 2), 0, NULL);
            json_t *ack = json_pack("{s:s, s:o, s:b}", "type", "ack", "message", msg, "duplicate",
                                    strcmp(status, "duplicate") == 0);
            if (ack && id)
                json_object_set_new(ack, "id", json_string(id));
            ws_send_json(p->conn, ack);
        } else {
            const char *message;
            const char *code = status_error(status, &message);
            ws_send_error(p->conn, id, code, message, strcmp(code, PE_INVALID_FIELD) == 0 ? "client_msg_id" : NULL);
        }
    }
    PQclear(res);
}

static void *committer_main(void *arg)
{
    struct msgstore *ms = arg;
    struct post *batch[MSGSTORE_BATCH];
    for (;;) {
        size_t n = 0;
        pthread_mutex_lock(&ms->lock);
        while (!ms->head && !ms->stopping)
            pthread_cond_wait(&ms->wake, &ms->lock);
        if (!ms->head && ms->stopping) {
            pthread_mutex_unlock(&ms->lock);
            break;
        }
        while (ms->head && n < MSGSTORE_BATCH) {
            batch[n++] = ms->head;
            ms->head = ms->head->next;
            ms->queued--;
        }
        if (!ms->head)
            ms->tail = NULL;
        pthread_mutex_unlock(&ms->lock);
        commit_batch(ms, batch, n);
        for (size_t i = 0; i < n; i++)
            post_free(batch[i]);
    }
    return NULL;
}

struct msgstore *msgstore_start(struct app *app)
{
    struct msgstore *ms = calloc(1, sizeof(*ms));
    if (!ms)
        return NULL;
    ms->app = app;
    pthread_mutex_init(&ms->lock, NULL);
    pthread_cond_init(&ms->wake, NULL);
    if (pthread_create(&ms->thread, NULL, committer_main, ms) != 0) {
        free(ms);
        return NULL;
    }
    return ms;
}

long msgstore_queued(struct msgstore *ms)
{
    pthread_mutex_lock(&ms->lock);
    long n = ms->queued;
    pthread_mutex_unlock(&ms->lock);
    return n;
}

void msgstore_stop(struct msgstore *ms)
{
    if (!ms)
        return;
    pthread_mutex_lock(&ms->lock);
    ms->stopping = 1;
    pthread_cond_signal(&ms->wake);
    pthread_mutex_unlock(&ms->lock);
    pthread_join(ms->thread, NULL);
    pthread_mutex_destroy(&ms->lock);
    pthread_cond_destroy(&ms->wake);
    free(ms);
}
