#include "core/connlimit.h"

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CL_BUCKETS 4096
#define CL_KEY_MAX 48

struct cl_entry {
    struct cl_entry *next;
    int count[CONNLIMIT_NCLASSES];
    char key[CL_KEY_MAX];
};

struct connlimit {
    pthread_mutex_t lock;
    int limits[CONNLIMIT_NCLASSES];
    unsigned long long refused[CONNLIMIT_NCLASSES]; /* guarded by lock */
    uint64_t seed;
    struct cl_entry *buckets[CL_BUCKETS];
};

int connlimit_key(const char *addr, char out[CL_KEY_MAX])
{
    unsigned char a[16];
    if (inet_pton(AF_INET, addr, a) == 1) {
        snprintf(out, CL_KEY_MAX, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, a) != 1)
        return -1;
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
        snprintf(out, CL_KEY_MAX, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
        return 0;
    }
    snprintf(out, CL_KEY_MAX, "%x:%x:%x:%x::/64", a[0] << 8 | a[1], a[2] << 8 | a[3], a[4] << 8 | a[5],
             a[6] << 8 | a[7]);
    return 0;
}

/* FNV-1a over the key, started from a random per-process seed. */
static size_t bucket_of(const struct connlimit *cl, const char *key)
{
    uint64_t h = 1469598103934665603ULL ^ cl->seed;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return (size_t)(h % CL_BUCKETS);
}

struct connlimit *connlimit_new(const int limits[CONNLIMIT_NCLASSES])
{
    struct connlimit *cl = calloc(1, sizeof(*cl));
    if (!cl)
        return NULL;
    pthread_mutex_init(&cl->lock, NULL);
    memcpy(cl->limits, limits, sizeof(cl->limits));
    if (RAND_bytes((unsigned char *)&cl->seed, sizeof(cl->seed)) != 1)
        cl->seed = (uint64_t)(uintptr_t)cl;
    return cl;
}

void connlimit_free(struct connlimit *cl)
{
    if (!cl)
        return;
    for (size_t i = 0; i < CL_BUCKETS; i++) {
        struct cl_entry *e = cl->buckets[i];
        while (e) {
            struct cl_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    pthread_mutex_destroy(&cl->lock);
    free(cl);
}

/* The entry's link in its bucket, or the bucket's end. Under the lock. */
static struct cl_entry **find(struct connlimit *cl, const char *key)
{
    struct cl_entry **pp = &cl->buckets[bucket_of(cl, key)];
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* Frees the entry at *pp once it holds nothing. Under the lock. */
static void drop_if_empty(struct cl_entry **pp)
{
    struct cl_entry *e = *pp;
    for (int i = 0; i < CONNLIMIT_NCLASSES; i++)
        if (e->count[i])
            return;
    *pp = e->next;
    free(e);
}

int connlimit_acquire(struct connlimit *cl, enum connlimit_class cls, const char *addr)
{
    char key[CL_KEY_MAX];
    int rc = -1;
    if (connlimit_key(addr, key) != 0)
        return -1;
    pthread_mutex_lock(&cl->lock);
    struct cl_entry **pp = find(cl, key);
    if (!*pp) {
        *pp = calloc(1, sizeof(**pp));
        if (*pp)
            strcpy((*pp)->key, key);
    }
    if (*pp && (*pp)->count[cls] < cl->limits[cls]) {
        (*pp)->count[cls]++;
        rc = 0;
    } else {
        cl->refused[cls]++;
    }
    /* A refused first contact must not leave an empty entry behind. */
    if (rc != 0 && *pp)
        drop_if_empty(pp);
    pthread_mutex_unlock(&cl->lock);
    return rc;
}

void connlimit_release(struct connlimit *cl, enum connlimit_class cls, const char *addr)
{
    char key[CL_KEY_MAX];
    if (connlimit_key(addr, key) != 0)
        return;
    pthread_mutex_lock(&cl->lock);
    struct cl_entry **pp = find(cl, key);
    if (*pp && (*pp)->count[cls] > 0) {
        (*pp)->count[cls]--;
        drop_if_empty(pp);
    }
    pthread_mutex_unlock(&cl->lock);
}

int connlimit_count(struct connlimit *cl, enum connlimit_class cls, const char *addr)
{
    char key[CL_KEY_MAX];
    int n = 0;
    if (connlimit_key(addr, key) != 0)
        return 0;
    pthread_mutex_lock(&cl->lock);
    struct cl_entry *e = *find(cl, key);
    if (e)
        n = e->count[cls];
    pthread_mutex_unlock(&cl->lock);
    return n;
}

unsigned long long connlimit_refused(struct connlimit *cl, enum connlimit_class cls)
{
    pthread_mutex_lock(&cl->lock);
    unsigned long long n = cl->refused[cls];
    pthread_mutex_unlock(&cl->lock);
    return n;
}
