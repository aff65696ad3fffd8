#include "live/hub.h"

#include <stdlib.h>
#include <string.h>

#define HUB_BUCKETS 4096

struct hub {
    pthread_rwlock_t lock;
    /* Every authenticated conn, a list per role: an event for the agents
     * scans only theirs (a message's watchers were looked for among every
     * visitor's sockets too). */
    struct ws_conn *all[2];                /* [0] visitors, [1] agents */
    struct ws_conn *visitors[HUB_BUCKETS]; /* by visitor id */
    struct ws_conn *agents[HUB_BUCKETS];   /* by agent id */
    int nvisitors, nagents;
};

static size_t bucket_of(long long id)
{
    return (size_t)((unsigned long long)id * 0x9E3779B97F4A7C15ull >> 52) % HUB_BUCKETS;
}

struct hub *hub_new(void)
{
    struct hub *hub = calloc(1, sizeof(*hub));
    if (!hub)
        return NULL;
    pthread_rwlock_init(&hub->lock, NULL);
    return hub;
}

void hub_free(struct hub *hub)
{
    if (!hub)
        return;
    pthread_rwlock_destroy(&hub->lock);
    free(hub);
}

static struct ws_conn **role_list(struct hub *hub, const struct ws_conn *c)
{
    return &hub->all[c->role == PROTO_VISITOR ? 0 : 1];
}

static struct ws_conn **index_head(struct hub *hub, const struct ws_conn *c)
{
    return c->role == PROTO_VISITOR ? &hub->visitors[bucket_of(c->visitor_id)] : &hub->agents[bucket_of(c->agent.id)];
}

int hub_add(struct hub *hub, struct ws_conn *c, int max_per_visitor)
{
    pthread_rwlock_wrlock(&hub->lock);
    struct ws_conn **head = index_head(hub, c);
    if (c->role == PROTO_VISITOR) {
        int same = 0;
        for (struct ws_conn *o = *head; o; o = o->idx_next)
            if (o->visitor_id == c->visitor_id)
                same++;
        if (same >= max_per_visitor) {
            pthread_rwlock_unlock(&hub->lock);
            return -1;
        }
        hub->nvisitors++;
    } else {
        hub->nagents++;
    }
    c->idx_prev = NULL;
    c->idx_next = *head;
    if (*head)
        (*head)->idx_prev = c;
    *head = c;
    struct ws_conn **list = role_list(hub, c);
    c->hub_prev = NULL;
    c->hub_next = *list;
    if (*list)
        (*list)->hub_prev = c;
    *list = c;
    pthread_rwlock_unlock(&hub->lock);
    return 0;
}

void hub_remove(struct hub *hub, struct ws_conn *c)
{
    pthread_rwlock_wrlock(&hub->lock);
    struct ws_conn **head = index_head(hub, c);
    struct ws_conn **list = role_list(hub, c);
    int member = c->hub_prev || *list == c;
    if (member) {
        if (c->idx_prev)
            c->idx_prev->idx_next = c->idx_next;
        else
            *head = c->idx_next;
        if (c->idx_next)
            c->idx_next->idx_prev = c->idx_prev;
        if (c->hub_prev)
            c->hub_prev->hub_next = c->hub_next;
        else
            *list = c->hub_next;
        if (c->hub_next)
            c->hub_next->hub_prev = c->hub_prev;
        c->hub_next = c->hub_prev = c->idx_next = c->idx_prev = NULL;
        if (c->role == PROTO_VISITOR)
            hub->nvisitors--;
        else
            hub->nagents--;
    }
    pthread_rwlock_unlock(&hub->lock);
}

static int agent_in_team(const struct ws_conn *c, long long team_id)
{
    for (int i = 0; i < c->nteams; i++)
        if (c->teams[i] == team_id)
            return 1;
    return 0;
}

static int agent_involved(const struct ws_conn *c, const struct hub_event *ev)
{
    if ((ev->assignee_id && c->agent.id == ev->assignee_id) ||
        (ev->prev_assignee_id && c->agent.id == ev->prev_assignee_id))
        return 1;
    for (int i = 0; i < ev->nparticipants && i < HUB_MAX_PARTICIPANTS; i++)
        if (c->agent.id == ev->participants[i])
            return 1;
    return 0;
}

/* Whether an agent connection is in the event's audience. */
static int agent_wants(const struct ws_conn *c, const struct hub_event *ev)
{
    int watching = atomic_load(&c->watching);
    if (ev->skip_agent_id && c->agent.id == ev->skip_agent_id)
        return 0;
    if ((ev->audience & HUB_ALL_AGENTS))
        return 1;
    if ((ev->audience & HUB_INVOLVED) && agent_involved(c, ev))
        return 1;
    if (watching && (ev->audience & HUB_PRIV_WATCHERS) && c->privileged)
        return 1;
    if (watching && (ev->audience & HUB_TEAM_WATCHERS) && (c->privileged || agent_in_team(c, ev->team_id)))
        return 1;
    return 0;
}

void hub_publish(struct hub *hub, const struct hub_event *ev)
{
    pthread_rwlock_rdlock(&hub->lock);
    if ((ev->audience & HUB_VISITOR) && ev->visitor_frame) {
        for (struct ws_conn *c = hub->visitors[bucket_of(ev->visitor_id)]; c; c = c->idx_next)
            if (c->visitor_id == ev->visitor_id)
                wsconn_send(c, ev->visitor_frame);
    }
    if ((ev->audience & ~HUB_VISITOR) && ev->agent_frame) {
        unsigned broad = HUB_ALL_AGENTS | HUB_PRIV_WATCHERS | HUB_TEAM_WATCHERS;
        if (ev->audience & broad) {
            for (struct ws_conn *c = hub->all[1]; c; c = c->hub_next)
                if (agent_wants(c, ev))
                    wsconn_send(c, ev->agent_frame);
        } else {
            /* Only the involved agents: look them up, don't scan. */
            long long ids[2 + HUB_MAX_PARTICIPANTS] = {ev->assignee_id, ev->prev_assignee_id};
            int n = 2;
            for (int i = 0; i < ev->nparticipants && i < HUB_MAX_PARTICIPANTS; i++)
                ids[n++] = ev->participants[i];
            for (int k = 0; k < n; k++) {
                int seen = !ids[k];
                for (int j = 0; j < k && !seen; j++)
                    seen = ids[j] == ids[k];
                if (seen)
                    continue;
                for (struct ws_conn *c = hub->agents[bucket_of(ids[k])]; c; c = c->idx_next)
                    if (c->agent.id == ids[k])
                        wsconn_send(c, ev->agent_frame);
            }
        }
    }
    pthread_rwlock_unlock(&hub->lock);
}

/* Queues f to the connections of one visitor or agent; key (NULL: any)
 * narrows them to the socket with that call key. */
static void send_to(struct hub *hub, int agent, long long id, const char *key, struct ws_frame *f)
{
    pthread_rwlock_rdlock(&hub->lock);
    for (struct ws_conn *c = (agent ? hub->agents : hub->visitors)[bucket_of(id)]; c; c = c->idx_next)
        if ((agent ? c->agent.id : c->visitor_id) == id && (!key || strcmp(c->call_key, key) == 0))
            wsconn_send(c, f);
    pthread_rwlock_unlock(&hub->lock);
}

void hub_send_visitor(struct hub *hub, long long visitor_id, struct ws_frame *f)
{
    send_to(hub, 0, visitor_id, NULL, f);
}

void hub_send_agent(struct hub *hub, long long agent_id, struct ws_frame *f)
{
    send_to(hub, 1, agent_id, NULL, f);
}

void hub_send_call_end(struct hub *hub, int agent, long long id, const char *key, struct ws_frame *f)
{
    send_to(hub, agent, id, key, f);
}

void hub_close_agent(struct hub *hub, long long agent_id, int code, const char *reason)
{
    pthread_rwlock_rdlock(&hub->lock);
    for (struct ws_conn *c = hub->agents[bucket_of(agent_id)]; c; c = c->idx_next)
        if (c->agent.id == agent_id)
            wsconn_close(c, code, reason);
    pthread_rwlock_unlock(&hub->lock);
}

static int session_listed(const struct ws_conn *c, const char *const *hashes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(c->session_hash, hashes[i]) == 0)
            return 1;
    return 0;
}

void hub_close_sessions(struct hub *hub, long long agent_id, const char *const *hashes, size_t n, int code,
                        const char *reason)
{
    pthread_rwlock_rdlock(&hub->lock);
    if (agent_id > 0) {
        for (struct ws_conn *c = hub->agents[bucket_of(agent_id)]; c; c = c->idx_next)
            if (c->agent.id == agent_id && session_listed(c, hashes, n))
                wsconn_close(c, code, reason);
    } else {
        for (struct ws_conn *c = hub->all[1]; c; c = c->hub_next)
            if (session_listed(c, hashes, n))
                wsconn_close(c, code, reason);
    }
    pthread_rwlock_unlock(&hub->lock);
}

void hub_close_unverified(struct hub *hub, long long site_id, int code, const char *reason)
{
    /* Rare (an admin changed a setting): a scan of every connection is fine. */
    pthread_rwlock_rdlock(&hub->lock);
    for (struct ws_conn *c = hub->all[0]; c; c = c->hub_next)
        if (c->site_id == site_id && !c->verified)
            wsconn_close(c, code, reason);
    pthread_rwlock_unlock(&hub->lock);
}

void hub_broadcast(struct hub *hub, struct ws_frame *f)
{
    pthread_rwlock_rdlock(&hub->lock);
    for (int role = 0; role < 2; role++)
        for (struct ws_conn *c = hub->all[role]; c; c = c->hub_next)
            wsconn_send(c, f);
    pthread_rwlock_unlock(&hub->lock);
}

int hub_agent_connections(struct hub *hub, long long agent_id)
{
    int n = 0;
    pthread_rwlock_rdlock(&hub->lock);
    for (struct ws_conn *c = hub->agents[bucket_of(agent_id)]; c; c = c->idx_next)
        if (c->agent.id == agent_id)
            n++;
    pthread_rwlock_unlock(&hub->lock);
    return n;
}

int hub_has_visitor(struct hub *hub, long long visitor_id)
{
    int found = 0;
    pthread_rwlock_rdlock(&hub->lock);
    for (struct ws_conn *c = hub->visitors[bucket_of(visitor_id)]; c && !found; c = c->idx_next)
        found = c->visitor_id == visitor_id;
    pthread_rwlock_unlock(&hub->lock);
    return found;
}

int hub_has_agents(struct hub *hub)
{
    pthread_rwlock_rdlock(&hub->lock);
    int n = hub->nagents;
    pthread_rwlock_unlock(&hub->lock);
    return n > 0;
}

int hub_has_visitors(struct hub *hub)
{
    pthread_rwlock_rdlock(&hub->lock);
    int n = hub->nvisitors;
    pthread_rwlock_unlock(&hub->lock);
    return n > 0;
}
