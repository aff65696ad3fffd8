/* netguard: which network addresses an outbound webhook may reach.
 *
 * Owns the SSRF policy of the webhook sender: the classes of address a
 * request must never be sent to (loopback, private, link-local, the cloud
 * metadata address, CGNAT, multicast, reserved and documentation ranges,
 * and every IPv6 form that embeds an IPv4 address), the operator's
 * allow-list that lets chosen networks through anyway
 * (PARLEY_WEBHOOK_ALLOW_PRIVATE), and which spellings of a URL host are
 * accepted at all.
 *
 * Two checks, because neither is enough alone:
 *   - netguard_refuse_host runs when an endpoint's URL is saved: it refuses
 *     hosts that only look harmless ("0x7f.1" is 127.0.0.1 to glibc), so an
 *     admin sees a clear error instead of a delivery that fails later.
 *   - netguard_refuse_addr runs on every address actually connected to
 *     (after DNS), which is the check that stops rebinding and names that
 *     resolve inward. A name passing the first check proves nothing.
 * Pure functions; a struct netguard is filled once at start and only read. */
#ifndef PARLEY_NETGUARD_H
#define PARLEY_NETGUARD_H

#include <stddef.h>
#include <sys/socket.h>

struct netguard_net {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
};

#define NETGUARD_MAX_ALLOW 32

struct netguard {
    struct netguard_net allow[NETGUARD_MAX_ALLOW];
    int nallow;
};

/* Parses the allow-list: comma-separated CIDRs, IPv4 or IPv6, spaces
 * allowed around commas; a bare address means /32 or /128; "" (or only
 * spaces) is the empty list. Refused, with a message naming the bad item
 * in err: an address inet_pton does not take (so no odd IPv4 spellings),
 * an IPv6 zone ("%eth0"), a prefix out of range, host bits set beyond the
 * prefix (10.0.0.1/8 is a typo or a misunderstanding, never silently
 * widened), an empty item, more than NETGUARD_MAX_ALLOW items.
 * An IPv4-mapped entry (::ffff:a.b.c.d, prefix >= 96) is stored as the
 * IPv4 entry it names, so it lets both spellings of that address through.
 * Returns 0, or -1 with g left empty. */
int netguard_parse(struct netguard *g, const char *cidrs, char *err, size_t errlen);

/* NULL when the address may be reached; otherwise a short reason:
 * "unspecified", "loopback", "private", "link-local", "metadata"
 * (169.254.169.254, fd00:ec2::254), "cgnat" (100.64/10), "multicast",
 * "broadcast", "reserved" (0/8, 240/4, 192.0.0/24, 192.88.99/24,
 * benchmarking 198.18/15 and 2001:2::/48, documentation ranges
 * 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20,
 * discard 100::/64, site-local fec0::/10, and any IPv6 outside 2000::/3
 * not named here), "unique-local" (fc00::/7), "ipv4-mapped"
 * (::ffff:0:0/96, ::/96 IPv4-compatible, 64:ff9b::/96 and 64:ff9b:1::/48
 * NAT64, 2002::/16 6to4, 2001::/32 Teredo), "unsupported" (a family other
 * than AF_INET / AF_INET6, or sa NULL).
 * The allow-list is checked first: an address inside one of its networks
 * passes whatever its class. An IPv4-mapped IPv6 address is also matched
 * against the IPv4 entries by the address it embeds. g may be NULL (an
 * empty list). */
const char *netguard_refuse_addr(const struct netguard *g, const struct sockaddr *sa);

/* The host part of a URL (IPv6 without its brackets). NULL when it is a
 * DNS name (letters, digits, hyphens; labels 1..63 bytes, at most 253
 * bytes, one final dot allowed), a canonical dotted-decimal IPv4 address
 * (four parts 0..255, no leading zeros) or an IPv6 literal inet_pton takes
 * without a zone. Otherwise a reason:
 *   "odd-spelling"  a name whose last label is all digits or starts with
 *                   0x: covers every non-canonical number glibc's
 *                   inet_aton / getaddrinfo turn into an address (octal
 *                   0177.0.0.1, hex 0x7f.0.0.1 and 0x7f000001, the integer
 *                   2130706433, short forms 127.1 and 10.1.1, leading
 *                   zeros 127.000.000.001), and "127.0.0.1." too;
 *   "bad-host"      NULL, empty, too long, an empty or over-long label,
 *                   any other character (spaces, "_", "%", "@", ...).
 * Accepting a name says nothing about where it points: the address
 * connected to must still pass netguard_refuse_addr. */
const char *netguard_refuse_host(const char *host);

#endif
