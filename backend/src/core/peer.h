/* peer: who is at the other end of a connection, as far as we can tell.
 *
 * Owns the client address behind trusted proxies and the same-origin test,
 * the two questions both the HTTP handlers and the WebSocket handshake ask
 * of a request, and what of that address may be stored (PARLEY_IP_STORAGE).
 * Pure: it reads only the values it is given. */
#ifndef PARLEY_PEER_H
#define PARLEY_PEER_H

#include "core/config.h" /* enum ip_storage */

#include <stddef.h>

#define PEER_ADDR_MAX 48 /* an IPv6 address as text, and the NUL */

/* 1 when ip is one of the comma-separated addresses of list. */
int peer_in_list(const char *ip, const char *list);

/* The client address into out: the peer's, or when the peer is one of the
 * trusted proxies, the nearest X-Forwarded-For entry (walking from the
 * right, the entries our proxies appended) that is not a trusted proxy.
 * Anything left of it was written by the client and is not believed. xff
 * may be NULL. */
void peer_client_address(const char *trusted, const char *peer, const char *xff, char *out, size_t outlen);

/* 1 when a request's Origin names this server: the configured public
 * origin, or scheme://Host of the request itself (a browser sets Host to
 * where it sends and Origin to the page that sends: equal means the page
 * came from this server). host may be NULL. */
int peer_origin_is_self(const char *origin, const char *public_origin, const char *host, int is_tls);

/* The address to store for ip under mode, into out (outlen >= 46):
 *   IP_STORE_FULL       the address itself, as given;
 *   IP_STORE_TRUNCATED  its network address as text: the /24 of an IPv4
 *                       address ("203.0.113.0"), also for an IPv4-mapped
 *                       IPv6 address (written as plain IPv4, the same
 *                       client either way), the /48 of IPv6 ("2001:db8:1::"):
 *                       a /24 or a /48 is one site or customer, not a person;
 *   IP_STORE_NONE       "".
 * "" as well for an address that does not parse. Callers geolocate with the
 * full address first: truncation is for what is kept, not what is looked up. */
void peer_address_to_store(const char *ip, enum ip_storage mode, char *out, size_t outlen);

#endif
