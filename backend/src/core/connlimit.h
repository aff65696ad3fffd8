/* connlimit: what each client address holds at once.
 *
 * Owns the per-address concurrency limits that keep one client from taking
 * the server's worker threads or sockets: TCP connections (by peer address,
 * from accept to close), HTTP requests being served, open WebSockets, and
 * WebSockets still waiting for their auth frame (these three by client
 * address, X-Forwarded-For resolved through trusted proxies).
 *
 * Addresses are counted by network: an IPv4 address as itself, an IPv6
 * address by its /64 (one subscriber usually holds a whole /64, so counting
 * single IPv6 addresses would limit nothing). One hash table, seeded per
 * process so that chosen addresses cannot pile into one bucket, guarded by
 * one mutex; an entry is freed when all its counts are back to zero, so
 * memory follows the number of addresses holding something. Pure: no I/O. */
#ifndef PARLEY_CONNLIMIT_H
#define PARLEY_CONNLIMIT_H

enum connlimit_class {
    CONNLIMIT_TCP,       /* TCP connections, counted from accept to close */
    CONNLIMIT_HTTP,      /* HTTP requests being served (each holds a worker) */
    CONNLIMIT_WS,        /* open WebSockets (each holds a worker) */
    CONNLIMIT_WS_UNAUTH, /* WebSockets that have not authenticated yet */
    CONNLIMIT_NCLASSES
};

struct connlimit;

/* limits[class] is the most one address may hold of that class. NULL on
 * OOM. Free with connlimit_free. */
struct connlimit *connlimit_new(const int limits[CONNLIMIT_NCLASSES]);
void connlimit_free(struct connlimit *cl);

/* Counts one more of cls for addr (an IPv4 or IPv6 address as text).
 * Returns 0 when allowed; -1, counting nothing, when addr's network holds
 * its limit already, or addr is not an address, or memory ran out. Every 0
 * must be matched by exactly one connlimit_release with the same cls and
 * addr. */
int connlimit_acquire(struct connlimit *cl, enum connlimit_class cls, const char *addr);
void connlimit_release(struct connlimit *cl, enum connlimit_class cls, const char *addr);

/* What addr's network holds of cls now. */
int connlimit_count(struct connlimit *cl, enum connlimit_class cls, const char *addr);

/* Refusals of cls since start (for /metrics). */
unsigned long long connlimit_refused(struct connlimit *cl, enum connlimit_class cls);

/* The counting key of addr: IPv4 (also IPv4-mapped IPv6) as dotted text,
 * IPv6 as its /64 ("2001:db8:1:2::/64"). Returns 0, or -1 when addr is not
 * an address. out must hold 48 bytes. */
int connlimit_key(const char *addr, char out[48]);

#endif
