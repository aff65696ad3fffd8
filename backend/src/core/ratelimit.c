#include "core/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RL_BUCKETS 4096
#define RL_KEY_MAX 64

struct rl_entry {
    struct rl_entry *next;
    double window_start;
    int count;
    char key[RL_KEY_MAX];
};

struct ratelimit {
    pthread_mutex_t lock;
    int limit;
    double window;
    struct rl_entry *buckets[RL_BUCKETS];
};

static size_t bucket_of(const char *key)
{
    unsigned long h = 5381; /* djb2: keys are ours (ids, IPs), not adversarial enough to matter */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = h * 33 + *p;
    return h % RL_BUCKETS;
}

struct ratelimit *ratelimit_new(int limit, double window_seconds)
{
    struct ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    pthread_mutex_init(&rl->lock, NULL);
    rl->limit = limit;
    rl->window = window_seconds;
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < RL_BUCKETS; i++) {
        struct rl_entry *e = rl->buckets[i];
        while (e) {
            struct rl_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

int ratelimit_take(struct ratelimit *rl, const char *key, double now)
{
    size_t b = bucket_of(key);
    struct rl_entry **pp, *e = NULL;
    int wait = 0;
    if (strlen(key) >= RL_KEY_MAX)
        return 0;
    pthread_mutex_lock(&rl->lock);
    /* Find ours; drop entries whose window is long gone on the way. */
    pp = &rl->buckets[b];
    while (*pp) {
        struct rl_entry *cur = *pp;
        if (strcmp(cur->key, key) == 0) {
            e = cur;
            pp = &cur->next;
        } else if (now - cur->window_start > rl->window * 4) {
            *pp = cur->next;
            free(cur);
        } else {
            pp = &cur->next;
        }
    }
    if (!e) {
        e = calloc(1, sizeof(*e));
        if (!e) {
            pthread_mutex_unlock(&rl->lock);
            return 1; /* out of memory: refuse rather than stop counting */
        }
        strcpy(e->key, key);
        e->window_start = now;
        e->next = rl->buckets[b];
        rl->buckets[b] = e;
    }
    if (now - e->window_start >= rl->window) {
        e->window_start = now;
        e->count = 0;
    }
    if (e->count < rl->limit) {
        e->count++;
    } else {
        wait = (int)ceil(e->window_start + rl->window - now);
        if (wait < 1)
            wait = 1;
    }
    pthread_mutex_unlock(&rl->lock);
    return wait;
}
