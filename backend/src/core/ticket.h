/* ticket: short-lived signed claims a browser carries, checked without the
 * database.
 *
 * Owns the format of the widget's beat ticket: which visitor of which site
 * a heartbeat comes from, for pages of one origin, until when. A heartbeat
 * arrives every 15 s from every open page of every site, so checking it
 * must cost no query: the ticket is "v.s.e.mac", decimal visitor id, site
 * id and expiry (Unix seconds), and the first 18 bytes of
 * HMAC-SHA256(key, "beat|v|s|e|origin") in base64url. The key is derived
 * from the node's secret key file (every node of one deployment shares it).
 * Pure functions. */
#ifndef PARLEY_TICKET_H
#define PARLEY_TICKET_H

#include <stddef.h>

#define TICKET_KEY_BYTES 32
#define TICKET_MAX_LEN   96 /* always enough for a ticket + NUL */

/* Writes the ticket for (visitor, site, origin, expires) into out (size >=
 * TICKET_MAX_LEN). Returns 0 or -1. */
int ticket_make(const unsigned char key[TICKET_KEY_BYTES], long long visitor, long long site, const char *origin,
                long long expires, char *out, size_t outlen);

/* Checks a ticket for a page of origin at time now: 0 with *visitor and
 * *site set, or -1 (malformed, forged, another origin, expired). */
int ticket_check(const unsigned char key[TICKET_KEY_BYTES], const char *ticket, const char *origin, long long now,
                 long long *visitor, long long *site);

#endif
