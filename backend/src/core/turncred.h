/* turncred: the ICE servers the two browsers of a call are given.
 *
 * Owns the check of the configured STUN and TURN URL lists and the
 * short-lived TURN credentials of coturn's REST-API scheme
 * (draft-uberti-behave-turn-rest): username "<unix expiry>:<id>", password
 * base64(HMAC-SHA1(secret, username)). The TURN server shares only the
 * secret with parleyd and checks each credential by itself, so no
 * long-lived TURN password ever reaches a browser, and a credential is
 * worthless after its expiry. Pure functions over OpenSSL and jansson. */
#ifndef PARLEY_TURNCRED_H
#define PARLEY_TURNCRED_H

#include <jansson.h>
#include <stddef.h>

#define TURNCRED_MAX_URLS 8
#define TURNCRED_URL_MAX  256

/* 0 when list ("" or comma-separated URLs) holds at most TURNCRED_MAX_URLS
 * URLs of the scheme stun:/stuns: (turn = 0) or turn:/turns: (turn = 1),
 * each at most TURNCRED_URL_MAX characters of printable ASCII without
 * spaces, quotes or backslashes; -1 otherwise. */
int turncred_check_urls(const char *list, int turn);

/* The credential for id valid until expiry (unix seconds) under secret:
 * username "<expiry>:<id>" and the base64 password, into caller buffers.
 * Returns 0, or -1 when a buffer is too small or HMAC failed. */
int turncred_sign(const char *secret, long long expiry, const char *id, char *username, size_t ulen, char *password,
                  size_t plen);

/* The URLs of a checked list as a new JSON array of strings the caller
 * frees, or NULL when out of memory. */
json_t *turncred_url_list(const char *list);

/* RTCConfiguration.iceServers for the party id ("a12", "v34"): the STUN
 * URLs, then the TURN URLs with a credential valid ttl seconds from now.
 * Lists already checked by turncred_check_urls. Returns a new array the
 * caller frees (json_decref), or NULL when out of memory or signing failed. */
json_t *turncred_ice_servers(const char *stun_urls, const char *turn_urls, const char *secret, int ttl, const char *id,
                             long long now);

#endif
