#include "live/msgqueue.h"

#include "chat/assign.h"
#include "chat/automation.h"
#include "chat/messages.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/strbuf.h"

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
    const char **files; /* NULL, or nfiles ids: one allocation (the pointers, then the ids) */
    size_t nfiles;
    int counted;      /* included in conn->pending_posts */
    double queued_at; /* monotonic seconds */
};

struct msgqueue {
    struct app *app;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct post *head, *tail;
    long queued;   /* posts waiting for the committer */
    int loaded;    /* posts were waiting when the last batch committed */
    int gathering; /* the committer waits for a batch to fill: wake it only when it is full */
    double gather; /* PARLEY_MESSAGE_BATCH_WAIT_MS, in seconds */
    int stopping;
    pthread_t thread;
};

static void post_free(struct post *p)
{
    if (p->counted)
        wsconn_post_end(p->conn);
    wsconn_unref(p->conn);
    free(p->body);
    free(p->files);
    free(p);
}

int msgqueue_post(struct msgqueue *mq, struct ws_conn *conn, const struct actor *a, const char *request_id,
                  long long conversation_id, const char *kind, const char *body, const char *client_msg_id,
                  const char *const *file_ids, size_t nfiles)
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
    if (nfiles) {
        p->files = malloc(nfiles * (sizeof(char *) + FILE_ID_LEN + 1));
        if (!p->files) {
            free(p->body);
            free(p);
            return -1;
        }
        char *ids = (char *)(p->files + nfiles);
        for (size_t i = 0; i < nfiles; i++) {
            snprintf(ids + i * (FILE_ID_LEN + 1), FILE_ID_LEN + 1, "%s", file_ids[i]);
            p->files[i] = ids + i * (FILE_ID_LEN + 1);
        }
        p->nfiles = nfiles;
    }
    wsconn_ref(conn);
    p->conn = conn;
    pthread_mutex_lock(&mq->lock);
    /* Back-pressure: past the bound, refuse (the client retries with the
     * same client_msg_id) instead of queueing without end. */
    p->queued_at = clock_now();
    if (mq->stopping || mq->queued >= MSGQUEUE_MAX_QUEUED ||
        (mq->head && p->queued_at - mq->head->queued_at > MSGQUEUE_MAX_WAIT_SECONDS)) {
        pthread_mutex_unlock(&mq->lock);
        post_free(p);
        return -1;
    }
    mq->queued++;
    wsconn_post_begin(conn);
    p->counted = 1;
    if (mq->tail)
        mq->tail->next = p;
    else
        mq->head = p;
    mq->tail = p;
    if (!mq->gathering || mq->queued >= MSGQUEUE_BATCH)
        pthread_cond_signal(&mq->wake);
    pthread_mutex_unlock(&mq->lock);
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

/* {"type":"ack","id":…,"duplicate":…,"message":…}, put together as text:
 * the message is PostgreSQL's JSON (valid by construction), the id the
 * client's string, escaped. NULL when out of memory. */
static struct ws_frame *ack_frame(const char *id, int duplicate, const char *message)
{
    struct strbuf b = {0};
    strbuf_str(&b, "{\"type\":\"ack\",");
    if (id) {
        strbuf_str(&b, "\"id\":");
        strbuf_json_string(&b, id);
        strbuf_put(&b, ",", 1);
    }
    strbuf_str(&b, duplicate ? "\"duplicate\":true,\"message\":" : "\"duplicate\":false,\"message\":");
    strbuf_str(&b, message ? message : "null");
    strbuf_put(&b, "}", 1);
    size_t len = b.len;
    char *text = strbuf_take(&b);
    struct ws_frame *f = text ? wsconn_frame_new(text, len) : NULL;
    free(text);
    return f;
}

static void commit_batch(struct msgqueue *mq, struct post **batch, size_t n)
{
    struct message_post posts[MSGQUEUE_BATCH] = {{.conversation_id = 0}};
    struct message_result results[MSGQUEUE_BATCH];
    long long visitor_convs[MSGQUEUE_BATCH];
    const char *visitor_bodies[MSGQUEUE_BATCH];
    size_t nvisitor = 0;

    sort_by_conversation(batch, n);
    for (size_t i = 0; i < n; i++) {
        struct post *p = batch[i];
        /* The privilege is the socket's claim from its auth: narrowed by
         * the agent's current role. */
        posts[i] = (struct message_post){
            .conversation_id = p->conversation_id,
            .author = p->actor,
            .claimed = 1,
            .kind = strcmp(p->kind, "whisper") == 0 ? "note" : p->kind,
            .whisper = strcmp(p->kind, "whisper") == 0,
            .body = p->body,
            .client_msg_id = p->client_msg_id,
            .file_ids = p->files,
            .nfiles = p->nfiles,
        };
    }
    /* Committed when it returns: acks go out only after that. */
    enum chat_err err = messages_commit(mq->app->db, posts, n, results);
    for (size_t i = 0; i < n; i++) {
        struct post *p = batch[i];
        const char *id = p->request_id[0] ? p->request_id : NULL;
        if (err != CHAT_OK) {
            wsconn_send_error(p->conn, id, chat_err_desc(err)->code,
                              "the message may not have been stored; send it again with the same client_msg_id", NULL);
            continue;
        }
        if (results[i].err != CHAT_OK) {
            const struct chat_err_desc *d = chat_err_desc(results[i].err);
            wsconn_send_error(p->conn, id, d->code, d->text,
                              results[i].err == CHAT_E_KEY_TAKEN ? "client_msg_id" : NULL);
            continue;
        }
        struct ws_frame *ack = ack_frame(id, results[i].duplicate, results[i].message);
        if (ack) {
            wsconn_send(p->conn, ack);
            wsconn_frame_unref(ack);
        }
        if (p->actor.kind == ACTOR_VISITOR && !results[i].duplicate) {
            visitor_convs[nvisitor] = p->conversation_id;
            visitor_bodies[nvisitor++] = p->body;
        }
    }
    if (err == CHAT_OK)
        messages_results_free(results, n);
    /* The visitors' new messages, acknowledged: the automation rules (no
     * work at all while no message rule is enabled), then what they moved. */
    if (nvisitor) {
        struct assign_work work = {.nteams = 0};
        automation_visitor_messages(mq->app, visitor_convs, visitor_bodies, nvisitor, &work);
        assign_run(mq->app, &work);
    }
}

static void *committer_main(void *arg)
{
    struct msgqueue *mq = arg;
    struct post *batch[MSGQUEUE_BATCH];
    for (;;) {
        size_t n = 0;
        pthread_mutex_lock(&mq->lock);
        while (!mq->head && !mq->stopping)
            pthread_cond_wait(&mq->wake, &mq->lock);
        if (!mq->head && mq->stopping) {
            pthread_mutex_unlock(&mq->lock);
            break;
        }
        if (mq->loaded && mq->gather > 0) {
            /* Others are coming: let them share this commit. */
            double until = mq->head->queued_at + mq->gather;
            mq->gathering = 1;
            while (mq->queued < MSGQUEUE_BATCH && !mq->stopping && clock_now() < until) {
                struct timespec at = clock_deadline((long)((until - clock_now()) * 1000.0) + 1);
                pthread_cond_timedwait(&mq->wake, &mq->lock, &at);
            }
            mq->gathering = 0;
        }
        while (mq->head && n < MSGQUEUE_BATCH) {
            batch[n++] = mq->head;
            mq->head = mq->head->next;
            mq->queued--;
        }
        if (!mq->head)
            mq->tail = NULL;
        pthread_mutex_unlock(&mq->lock);
        commit_batch(mq, batch, n);
        for (size_t i = 0; i < n; i++)
            post_free(batch[i]);
        pthread_mutex_lock(&mq->lock);
        mq->loaded = mq->head != NULL;
        pthread_mutex_unlock(&mq->lock);
    }
    return NULL;
}

struct msgqueue *msgqueue_start(struct app *app)
{
    struct msgqueue *mq = calloc(1, sizeof(*mq));
    if (!mq)
        return NULL;
    mq->app = app;
    mq->gather = app->cfg->message_batch_wait_ms / 1000.0;
    pthread_mutex_init(&mq->lock, NULL);
    clock_cond_init(&mq->wake);
    if (pthread_create(&mq->thread, NULL, committer_main, mq) != 0) {
        free(mq);
        return NULL;
    }
    return mq;
}

long msgqueue_length(struct msgqueue *mq)
{
    pthread_mutex_lock(&mq->lock);
    long n = mq->queued;
    pthread_mutex_unlock(&mq->lock);
    return n;
}

void msgqueue_stop(struct msgqueue *mq)
{
    if (!mq)
        return;
    pthread_mutex_lock(&mq->lock);
    mq->stopping = 1;
    pthread_cond_signal(&mq->wake);
    pthread_mutex_unlock(&mq->lock);
    pthread_join(mq->thread, NULL);
    pthread_mutex_destroy(&mq->lock);
    pthread_cond_destroy(&mq->wake);
    free(mq);
}
