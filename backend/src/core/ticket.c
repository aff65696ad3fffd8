#include "core/ticket.h"

#include "core/token.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAC_BYTES 18 /* 144 bits: forging one needs 2^144 tries */

static int ticket_mac(const unsigned char key[TICKET_KEY_BYTES], long long visitor, long long site, long long expires,
                      const char *origin, char *out, size_t outlen)
{
    char msg[400];
    uint8_t mac[32];
    int n = snprintf(msg, sizeof(msg), "beat|%lld|%lld|%lld|%s", visitor, site, expires, origin);
    if (n < 0 || (size_t)n >= sizeof(msg) || token_hmac(key, TICKET_KEY_BYTES, msg, (size_t)n, mac) != 0)
        return -1;
    return token_b64url_encode(mac, MAC_BYTES, out, outlen) < 0 ? -1 : 0;
}

int ticket_make(const unsigned char key[TICKET_KEY_BYTES], long long visitor, long long site, const char *origin,
                long long expires, char *out, size_t outlen)
{
    char mac[40];
    if (visitor <= 0 || site <= 0 || expires <= 0 || !origin ||
        ticket_mac(key, visitor, site, expires, origin, mac, sizeof(mac)) != 0)
        return -1;
    int n = snprintf(out, outlen, "%lld.%lld.%lld.%s", visitor, site, expires, mac);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* A positive decimal of at most 18 digits ending at sep; advances *p. */
static long long read_number(const char **p, char sep)
{
    long long v = 0;
    int digits = 0;
    while (**p >= '0' && **p <= '9' && digits < 18) {
        v = v * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    if (digits == 0 || **p != sep)
        return -1;
    (*p)++;
    return v;
}

int ticket_check(const unsigned char key[TICKET_KEY_BYTES], const char *ticket, const char *origin, long long now,
                 long long *visitor, long long *site)
{
    char mac[40];
    const char *p = ticket;
    if (!ticket || !origin || strlen(ticket) >= TICKET_MAX_LEN)
        return -1;
    long long v = read_number(&p, '.'), s = read_number(&p, '.'), e = read_number(&p, '.');
    if (v <= 0 || s <= 0 || e <= 0 || e < now)
        return -1;
    if (ticket_mac(key, v, s, e, origin, mac, sizeof(mac)) != 0 || !token_equal(mac, p))
        return -1;
    *visitor = v;
    *site = s;
    return 0;
}
