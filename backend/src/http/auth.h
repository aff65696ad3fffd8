/* auth: who sends an HTTP request, for the console's API.
 *
 * Owns the HTTP side of agent sessions: reading the session cookie and the
 * CSRF header, the same-origin and role checks, the Set-Cookie line, and
 * answering the login throttle's refusals. The sessions themselves (lookup,
 * creation, end, CSRF derivation, attempt reservation) are chat/sessions. */
#ifndef PARLEY_AUTH_H
#define PARLEY_AUTH_H

#include "chat/sessions.h"
#include "http/http.h"

#define AUTH_CSRF_HEADER "X-CSRF-Token"

/* auth_require_agent flags */
#define AUTH_STATE_CHANGE 1 /* also require a same Origin and the CSRF token */

/* Resolves the request's session cookie to a live session of an active
 * agent and refreshes its idle timer. On failure the response (401
 * unauthenticated, 403 origin_forbidden or csrf_failed, 503) is sent and -1
 * returned. */
int auth_require_agent(struct http_req *req, struct session *out, unsigned flags);

enum auth_role { AUTH_ROLE_AGENT = 0, AUTH_ROLE_SUPERVISOR = 1, AUTH_ROLE_ADMIN = 2 };

/* auth_require_agent, then 403 forbidden unless the agent's role is at
 * least min_role. The check is here, at the API, not only in the UI. */
int auth_require_role(struct http_req *req, struct session *out, unsigned flags, enum auth_role min_role);

/* The role's rank (agent 0, supervisor 1, admin 2). */
enum auth_role auth_role_rank(const char *role);

/* Adds Set-Cookie for token (NULL: a cookie that clears it); Secure over
 * HTTPS. */
void auth_set_cookie(struct http_req *req, const char *token);

/* Reserves a login attempt for email from the request's client before its
 * password is verified: 0 with *attempt set, or -1 with the answer sent
 * (429 too_many_attempts with Retry-After, or 503). */
int auth_throttle_gate(struct http_req *req, const char *email, long long *attempt);

#endif
