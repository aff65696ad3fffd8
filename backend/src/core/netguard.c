#include "core/netguard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* One special-purpose range and why it is refused. Tables rather than a
 * chain of ifs, so each range reads as in the IANA registries; the first
 * match wins, so a narrower range is listed before the one holding it. */
struct range {
    const char *net; /* written as in the registry, parsed with inet_pton */
    int prefix;
    const char *why;
};

static const struct range v4_ranges[] = {
    {"0.0.0.0", 32, "unspecified"},
    {"0.0.0.0", 8, "reserved"}, /* "this network"; 0.0.0.0 itself reaches the local host on Linux */
    {"127.0.0.0", 8, "loopback"},
    {"10.0.0.0", 8, "private"},
    {"172.16.0.0", 12, "private"},
    {"192.168.0.0", 16, "private"},
    {"169.254.169.254", 32, "metadata"}, /* cloud instance metadata (AWS, GCP, Azure, ...) */
    {"169.254.0.0", 16, "link-local"},
    {"100.64.0.0", 10, "cgnat"},
    {"224.0.0.0", 4, "multicast"},
    {"255.255.255.255", 32, "broadcast"},
    {"240.0.0.0", 4, "reserved"},
    {"192.0.0.0", 24, "reserved"},   /* IETF protocol assignments */
    {"192.88.99.0", 24, "reserved"}, /* the withdrawn 6to4 relay anycast: a door into 6to4 */
    {"198.18.0.0", 15, "reserved"},  /* benchmarking */
    {"192.0.2.0", 24, "reserved"},   /* documentation (TEST-NET-1..3) */
    {"198.51.100.0", 24, "reserved"},
    {"203.0.113.0", 24, "reserved"},
};

static const struct range v6_ranges[] = {
    {"::", 128, "unspecified"},
    {"::1", 128, "loopback"},
    {"fd00:ec2::254", 128, "metadata"}, /* AWS's IPv6 instance metadata */
    /* Every form that carries an IPv4 address inside it: the IPv4 address
     * may be one the IPv4 table refuses, and the kernel or a relay will
     * happily reach it. Refused as a class rather than unpacked. */
    {"::ffff:0:0", 96, "ipv4-mapped"},
    {"::", 96, "ipv4-mapped"}, /* IPv4-compatible (deprecated) */
    {"64:ff9b::", 96, "ipv4-mapped"},
    {"64:ff9b:1::", 48, "ipv4-mapped"}, /* local-use NAT64 */
    {"2002::", 16, "ipv4-mapped"},      /* 6to4 */
    {"2001::", 32, "ipv4-mapped"},      /* Teredo */
    {"2001:2::", 48, "reserved"},       /* benchmarking */
    {"2001:db8::", 32, "reserved"},     /* documentation */
    {"3fff::", 20, "reserved"},         /* documentation (RFC 9637) */
    {"100::", 64, "reserved"},          /* discard-only */
    {"fec0::", 10, "reserved"},         /* site-local, deprecated but still routed by some */
    {"fc00::", 7, "unique-local"},
    {"fe80::", 10, "link-local"},
    {"ff00::", 8, "multicast"},
};

/* 1 when the first `prefix` bits of a and b agree. */
static int prefix_match(const unsigned char *a, const unsigned char *b, int prefix)
{
    int whole = prefix / 8, rest = prefix % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xFF << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

static const char *range_lookup(const struct range *t, size_t n, int family, const unsigned char *addr)
{
    unsigned char net[16];
    for (size_t i = 0; i < n; i++) {
        /* The tables are constants; a spelling inet_pton refused would be a
         * bug caught by the unit tests, so it simply never matches. */
        if (inet_pton(family, t[i].net, net) == 1 && prefix_match(addr, net, t[i].prefix))
            return t[i].why;
    }
    return NULL;
}

static const unsigned char v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

static int allowed(const struct netguard *g, int family, const unsigned char *addr)
{
    if (!g)
        return 0;
    for (int i = 0; i < g->nallow; i++)
        if (g->allow[i].family == family && prefix_match(addr, g->allow[i].addr, g->allow[i].prefix))
            return 1;
    return 0;
}

const char *netguard_refuse_addr(const struct netguard *g, const struct sockaddr *sa)
{
    if (!sa)
        return "unsupported";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        const unsigned char *a = (const unsigned char *)&in->sin_addr;
        if (allowed(g, AF_INET, a))
            return NULL;
        return range_lookup(v4_ranges, sizeof(v4_ranges) / sizeof(v4_ranges[0]), AF_INET, a);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const unsigned char *a = in6->sin6_addr.s6_addr;
        if (allowed(g, AF_INET6, a))
            return NULL;
        /* An AF_INET6 socket given ::ffff:a.b.c.d talks IPv4 to a.b.c.d, so
         * the IPv4 entries of the allow-list speak for it too. */
        if (memcmp(a, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0 && allowed(g, AF_INET, a + 12))
            return NULL;
        const char *why = range_lookup(v6_ranges, sizeof(v6_ranges) / sizeof(v6_ranges[0]), AF_INET6, a);
        if (why)
            return why;
        /* Outside 2000::/3 nothing is allocated as global unicast: refuse
         * what the registry has not handed out rather than list it all. */
        if ((a[0] & 0xE0) != 0x20)
            return "reserved";
        return NULL;
    }
    return "unsupported";
}

/* --- the allow-list ------------------------------------------------------ */

/* Longest item worth reading: a full IPv6 address with an embedded IPv4
 * part (45) plus "/128". */
#define ITEM_MAX 64

/* A prefix length: decimal digits only (no sign, no spaces, no leading
 * zero), at most max. Returns it, or -1. */
static int parse_prefix(const char *p, int max)
{
    int v = 0;
    if (!*p || (p[0] == '0' && p[1]))
        return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
        if (v > max)
            return -1;
    }
    return v;
}

/* Parses one trimmed item into *net. Returns 0 or -1 with err set. */
static int parse_item(const char *item, struct netguard_net *net, char *err, size_t errlen)
{
    char addr[ITEM_MAX];
    unsigned char masked[16];
    const char *slash = strchr(item, '/');
    size_t alen = slash ? (size_t)(slash - item) : strlen(item);
    int bits, rc = -1;

    memset(net, 0, sizeof(*net));
    if (alen == 0 || alen >= sizeof(addr)) {
        snprintf(err, errlen, "\"%s\" is not an address or CIDR", item);
        goto done;
    }
    memcpy(addr, item, alen);
    addr[alen] = '\0';
    net->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    bits = net->family == AF_INET ? 32 : 128;
    /* inet_pton, not inet_aton: the allow-list is written by a person, and
     * "10.1" meaning 10.0.0.1 is never what they meant. It also refuses a
     * zone ("fe80::1%eth0"). */
    if (inet_pton(net->family, addr, net->addr) != 1) {
        snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", item);
        goto done;
    }
    net->prefix = slash ? parse_prefix(slash + 1, bits) : bits;
    if (net->prefix < 0) {
        snprintf(err, errlen, "\"%s\" has a bad prefix length (0..%d)", item, bits);
        goto done;
    }
    /* Host bits beyond the prefix: refuse rather than guess which of
     * "10.0.0.1/8" and "10.0.0.1/32" the operator meant, and say what the
     * network would be. */
    memcpy(masked, net->addr, sizeof(masked));
    for (int b = net->prefix; b < bits; b++)
        masked[b / 8] &= (unsigned char)~(0x80 >> (b % 8));
    if (memcmp(masked, net->addr, sizeof(masked)) != 0) {
        char canon[INET6_ADDRSTRLEN];
        inet_ntop(net->family, masked, canon, sizeof(canon));
        snprintf(err, errlen, "\"%s\" has host bits set beyond /%d (the network is %s/%d)", item, net->prefix, canon,
                 net->prefix);
        goto done;
    }
    /* ::ffff:a.b.c.d/n (n >= 96) names IPv4 addresses: keep it as the IPv4
     * entry, which netguard_refuse_addr checks for both spellings. */
    if (net->family == AF_INET6 && net->prefix >= 96 && memcmp(net->addr, v4_mapped_prefix, 12) == 0) {
        memmove(net->addr, net->addr + 12, 4);
        memset(net->addr + 4, 0, 12);
        net->family = AF_INET;
        net->prefix -= 96;
    }
    rc = 0;
done:
    return rc;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

int netguard_parse(struct netguard *g, const char *cidrs, char *err, size_t errlen)
{
    const char *p = cidrs;
    int rc = -1;

    memset(g, 0, sizeof(*g));
    if (err && errlen)
        err[0] = '\0';
    if (!err)
        errlen = 0;
    while (is_space(*p))
        p++;
    if (!*p)
        return 0; /* the empty list */
    for (;;) {
        char item[ITEM_MAX + 1];
        const char *start, *end;
        while (is_space(*p))
            p++;
        start = p;
        while (*p && *p != ',')
            p++;
        end = p;
        while (end > start && is_space(end[-1]))
            end--;
        if (end == start) {
            snprintf(err, errlen, "empty item in the list (a stray comma?)");
            goto done;
        }
        if ((size_t)(end - start) > ITEM_MAX) {
            snprintf(err, errlen, "\"%.20s...\" is too long for an address", start);
            goto done;
        }
        memcpy(item, start, (size_t)(end - start));
        item[end - start] = '\0';
        if (g->nallow == NETGUARD_MAX_ALLOW) {
            snprintf(err, errlen, "more than %d networks (at \"%s\")", NETGUARD_MAX_ALLOW, item);
            goto done;
        }
        if (parse_item(item, &g->allow[g->nallow], err, errlen) < 0)
            goto done;
        g->nallow++;
        if (!*p)
            break;
        p++; /* the comma */
    }
    rc = 0;
done:
    if (rc < 0)
        memset(g, 0, sizeof(*g));
    return rc;
}

/* --- URL hosts ----------------------------------------------------------- */

/* 1 for exactly four dot-separated decimal parts, 0..255, no leading
 * zeros, nothing else: the one IPv4 spelling every parser reads alike. */
static int canonical_ipv4(const char *s)
{
    for (int part = 0; part < 4; part++) {
        int v = 0, digits = 0;
        if (part > 0 && *s++ != '.')
            return 0;
        if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
            return 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (*s++ - '0');
            if (++digits > 3 || v > 255)
                return 0;
        }
        if (digits == 0)
            return 0;
    }
    return *s == '\0';
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

const char *netguard_refuse_host(const char *host)
{
    size_t len;
    const char *label, *last = NULL;

    if (!host || !*host)
        return "bad-host";
    if (strchr(host, ':')) {
        unsigned char a[16];
        /* inet_pton has no zones anyway; the "%" test says it plainly. */
        if (strchr(host, '%') || inet_pton(AF_INET6, host, a) != 1)
            return "bad-host";
        return NULL;
    }
    if (canonical_ipv4(host))
        return NULL;
    len = strlen(host);
    if (host[len - 1] == '.')
        len--; /* one final dot: the fully qualified spelling */
    if (len == 0 || len > 253)
        return "bad-host";
    label = host;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || host[i] == '.') {
            size_t llen = (size_t)(host + i - label);
            if (llen == 0 || llen > 63)
                return "bad-host";
            last = label;
            label = host + i + 1;
        } else if (!is_alnum(host[i]) && host[i] != '-') {
            return "bad-host";
        }
    }
    /* A last label that is a number makes the whole host a number to
     * inet_aton (the only way its octal, hex, integer and short forms
     * parse), and is never a top-level domain: the WHATWG URL standard
     * refuses the same hosts. Checking the label, not asking inet_aton,
     * also catches the forms it refuses today (08.0.0.1, 1.2.3.4.5). */
    {
        size_t llen = (size_t)(host + len - last);
        int digits = 1;
        for (size_t i = 0; i < llen; i++)
            if (last[i] < '0' || last[i] > '9')
                digits = 0;
        if (digits || (llen >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')))
            return "odd-spelling";
    }
    return NULL;
}
