#include "core/geoip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct geoip {
    MMDB_s db[GEOIP_MAX_FILES];
    int n;                 /* files open in db[] */
    char description[256]; /* see geoip_description */
    char attribution[32];  /* see geoip_attribution */
};

/* Where each field lives, MaxMind's schema first, then ip-location-db's
 * flat one. A MaxMind "city" is a map and the flat "city" a string: the
 * type check in read_text keeps the two apart. */
static const char *const path_country[] = {"country", "iso_code", NULL};
static const char *const path_country_flat[] = {"country_code", NULL};
static const char *const path_region[] = {"subdivisions", "0", "names", "en", NULL};
static const char *const path_region_flat[] = {"state1", NULL};
static const char *const path_city[] = {"city", "names", "en", NULL};
static const char *const path_city_flat[] = {"city", NULL};
static const char *const path_zone[] = {"location", "time_zone", NULL};
static const char *const path_zone_flat[] = {"timezone", NULL};

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0
 * when it is not one (overlong forms, surrogates and code points above
 * U+10FFFF included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F))
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
            return 0;
        return 4;
    }
    return 0;
}

size_t geoip_copy_text(char *dst, size_t dstlen, const char *src, size_t srclen)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t w = 0, i = 0;
    while (i < srclen) {
        size_t len = utf8_len(s + i, srclen - i);
        if (len == 0) { /* a stray byte: drop it, resynchronise on the next */
            i++;
            continue;
        }
        /* C0 controls and DEL (one byte), C1 controls (U+0080..U+009F,
         * encoded C2 80..C2 9F): nothing a name needs, and they could
         * break a log line or a terminal. */
        if ((len == 1 && (s[i] < 0x20 || s[i] == 0x7F)) || (len == 2 && s[i] == 0xC2 && s[i + 1] < 0xA0)) {
            i += len;
            continue;
        }
        if (w + len >= dstlen) /* the whole character or nothing */
            break;
        memcpy(dst + w, s + i, len);
        w += len;
        i += len;
    }
    dst[w] = '\0';
    return w;
}

/* Copies the string at path under entry into dst; 1 when it was a non-empty
 * string. */
static int read_text(MMDB_entry_s *entry, const char *const *path, char *dst, size_t dstlen)
{
    MMDB_entry_data_s data;
    if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
        data.type != MMDB_DATA_TYPE_UTF8_STRING)
        return 0;
    return geoip_copy_text(dst, dstlen, data.utf8_string, data.data_size) > 0;
}

/* Fills out from one record; 1 when any field was there. */
static int read_place(MMDB_entry_s *entry, struct geo_place *out)
{
    char country[8] = "";
    if (!read_text(entry, path_country, country, sizeof(country)))
        read_text(entry, path_country_flat, country, sizeof(country));
    if (strlen(country) == 2 && ((country[0] | 0x20) >= 'a' && (country[0] | 0x20) <= 'z') &&
        ((country[1] | 0x20) >= 'a' && (country[1] | 0x20) <= 'z')) {
        out->country[0] = (char)(country[0] & ~0x20);
        out->country[1] = (char)(country[1] & ~0x20);
        out->country[2] = '\0';
        if (strcmp(out->country, "ZZ") == 0)
            out->country[0] = '\0';
    }
    if (!read_text(entry, path_region, out->region, sizeof(out->region)))
        read_text(entry, path_region_flat, out->region, sizeof(out->region));
    if (!read_text(entry, path_city, out->city, sizeof(out->city)))
        read_text(entry, path_city_flat, out->city, sizeof(out->city));
    if (!read_text(entry, path_zone, out->time_zone, sizeof(out->time_zone)))
        read_text(entry, path_zone_flat, out->time_zone, sizeof(out->time_zone));
    return out->country[0] || out->region[0] || out->city[0] || out->time_zone[0];
}

/* Addresses that have no place: looking them up could only find a bogus
 * one. Documentation ranges are not listed (see the header). */
static int reserved_v4(const unsigned char *a)
{
    if (a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224) /* "this" net, private, loopback, multicast, 240/4 */
        return 1;
    if (a[0] == 100 && (a[1] & 0xC0) == 64) /* CGNAT 100.64/10 */
        return 1;
    if ((a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xF0) == 16) || (a[0] == 192 && a[1] == 168))
        return 1;                                                                           /* link-local, private */
    return (a[0] == 192 && a[1] == 0 && a[2] == 0) || (a[0] == 198 && (a[1] & 0xFE) == 18); /* IETF, benchmarking */
}

static int reserved_v6(const unsigned char *a)
{
    static const unsigned char zero15[15];
    if (memcmp(a, zero15, 15) == 0 && a[15] <= 1) /* :: and ::1 */
        return 1;
    /* unique-local fc00::/7, multicast ff00::/8, link-local fe80::/10 and
     * site-local fec0::/10 */
    return (a[0] & 0xFE) == 0xFC || a[0] == 0xFF || (a[0] == 0xFE && (a[1] & 0x80) == 0x80);
}

int geoip_lookup(const struct geoip *g, const char *ip, struct geo_place *out)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    int v6 = 0;

    memset(out, 0, sizeof(*out));
    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (!ip || strlen(ip) >= INET6_ADDRSTRLEN)
        return -1;
    if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1) {
        if (inet_pton(AF_INET6, ip, &sin6.sin6_addr) != 1)
            return -1;
        v6 = 1;
    }
    /* ::ffff:a.b.c.d is an IPv4 client seen through a dual-stack socket:
     * ask as IPv4, which also reaches the IPv4-only file. */
    if (v6 && memcmp(sin6.sin6_addr.s6_addr, mapped, sizeof(mapped)) == 0) {
        memcpy(&sin.sin_addr, sin6.sin6_addr.s6_addr + 12, 4);
        v6 = 0;
    }
    if (v6 ? reserved_v6(sin6.sin6_addr.s6_addr) : reserved_v4((const unsigned char *)&sin.sin_addr))
        return 0;
    if (!g)
        return 0;
    sin.sin_family = AF_INET;
    sin6.sin6_family = AF_INET6;
    sa = v6 ? (const struct sockaddr *)&sin6 : (const struct sockaddr *)&sin;
    for (int i = 0; i < g->n; i++) {
        int mmdb_err = MMDB_SUCCESS;
        if (v6 && g->db[i].metadata.ip_version != 6)
            continue;
        MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&g->db[i], sa, &mmdb_err);
        if (mmdb_err != MMDB_SUCCESS || !r.found_entry)
            continue;
        if (read_place(&r.entry, out)) {
            out->found = 1;
            return 0;
        }
        memset(out, 0, sizeof(*out));
    }
    return 0;
}

/* 1 when the file is DB-IP's data: by its name (ip-location-db's files
 * carry no description) or by its metadata (DB-IP's own downloads do). */
static int is_dbip(const MMDB_s *db, const char *base)
{
    if (strncasecmp(base, "dbip", 4) == 0)
        return 1;
    if (db->metadata.database_type &&
        (strcasestr(db->metadata.database_type, "dbip") || strcasestr(db->metadata.database_type, "db-ip")))
        return 1;
    for (size_t i = 0; i < db->metadata.description.count; i++) {
        const char *d = db->metadata.description.descriptions[i]->description;
        if (d && (strcasestr(d, "dbip") || strcasestr(d, "db-ip")))
            return 1;
    }
    return 0;
}

struct geoip *geoip_open(const char *path, char *err, size_t errlen)
{
    struct geoip *g = NULL, *ret = NULL;
    char file[1024];
    const char *p = path;
    uint64_t built = 0;
    size_t dlen = 0;

    snprintf(err, errlen, "%s", "");
    if (!path || !*path) {
        snprintf(err, errlen, "no database file configured");
        goto done;
    }
    g = calloc(1, sizeof(*g));
    if (!g) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (;;) {
        size_t n = strcspn(p, ","), a = 0, b = n;
        while (a < b && p[a] == ' ')
            a++;
        while (b > a && p[b - 1] == ' ')
            b--;
        if (b == a || b - a >= sizeof(file)) {
            snprintf(err, errlen, "expected one or two .mmdb files separated by a comma");
            goto done;
        }
        if (g->n == GEOIP_MAX_FILES) {
            snprintf(err, errlen, "more than %d files", GEOIP_MAX_FILES);
            goto done;
        }
        memcpy(file, p + a, b - a);
        file[b - a] = '\0';
        errno = 0;
        int rc = MMDB_open(file, MMDB_MODE_MMAP, &g->db[g->n]);
        if (rc != MMDB_SUCCESS) {
            int e = errno;
            snprintf(err, errlen, "%s: %s%s%s", file, MMDB_strerror(rc),
                     rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR ? ": " : "",
                     rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR ? strerror(e) : "");
            goto done;
        }
        g->n++;
        /* The description: base names without ".mmdb", joined by " + ". */
        const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
        size_t blen = strlen(base);
        if (blen > 5 && strcmp(base + blen - 5, ".mmdb") == 0)
            blen -= 5;
        int w = snprintf(g->description + dlen, sizeof(g->description) - dlen, "%s%.*s", dlen ? " + " : "", (int)blen,
                         base);
        if (w > 0)
            dlen = dlen + (size_t)w < sizeof(g->description) ? dlen + (size_t)w : sizeof(g->description) - 1;
        if (is_dbip(&g->db[g->n - 1], base))
            snprintf(g->attribution, sizeof(g->attribution), "IP Geolocation by DB-IP");
        if (g->db[g->n - 1].metadata.build_epoch > built)
            built = g->db[g->n - 1].metadata.build_epoch;
        p += n;
        if (*p != ',')
            break;
        p++;
    }
    if (built) {
        char day[16];
        struct tm tm;
        time_t t = (time_t)built;
        if (gmtime_r(&t, &tm) && strftime(day, sizeof(day), "%Y-%m-%d", &tm) > 0 && dlen < sizeof(g->description))
            snprintf(g->description + dlen, sizeof(g->description) - dlen, " (built %s)", day);
    }
    ret = g;
    g = NULL;
done:
    geoip_close(g);
    return ret;
}

void geoip_close(struct geoip *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n; i++)
        MMDB_close(&g->db[i]);
    free(g);
}

const char *geoip_description(const struct geoip *g)
{
    return g ? g->description : "";
}

const char *geoip_attribution(const struct geoip *g)
{
    return g ? g->attribution : "";
}
