/* peer: who is at the other end of a connection, as far as we can tell.
 *
 * Owns the client address behind trusted proxies and the same-origin test,
 * the two questions both the HTTP handlers and the WebSocket handshake ask
 * of a request. Pure: it reads only the values it is given. */
#ifndef PARLEY_PEER_H
#define PARLEY_PEER_H

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

#endif
