/* auth: agent sessions, CSRF tokens and login throttling.
 *
 * Owns the session cookie (parley_session: 256-bit random, only its SHA-256
 * stored, idle and absolute expiry), the CSRF token derived from it
 * (HMAC-SHA256 of the session secret, so it needs no storage and dies with
 * the session), the end of sessions (with the close of their sockets on
 * every node, through the session_off notification), and the per-account
 * and per-IP login attempt windows kept in PostgreSQL so that every node
 * counts the same. An attempt is reserved before its password is verified,
 * atomically (parley_login_reserve, migration 0005), so parallel guesses
 * are limited exactly like sequential ones. */
#ifndef PARLEY_AUTH_H
#define PARLEY_AUTH_H

#include "chat/agents.h"
#include "http/http.h"
#include "core/token.h"

#include <stdint.h>

#define AUTH_COOKIE      "parley_session"
#define AUTH_CSRF_HEADER "X-CSRF-Token"
#define AUTH_CSRF_LEN    44 /* 43 chars + NUL */

/* auth_require_agent flags */
#define AUTH_STATE_CHANGE 1 /* also require a same Origin and the CSRF token */

struct auth_session {
    struct agent agent;
    uint8_t token_hash[TOKEN_DIGEST_LEN];
    char csrf[AUTH_CSRF_LEN];
};

/* Resolves the request's session cookie to a live session of an active
 * agent and refreshes its idle timer. On failure the response (401
 * unauthenticated, 403 origin_forbidden or csrf_failed, 503) is sent and -1
 * returned. */
int auth_require_agent(struct http_req *req, struct auth_session *out, unsigned flags);

enum auth_role { AUTH_ROLE_AGENT = 0, AUTH_ROLE_SUPERVISOR = 1, AUTH_ROLE_ADMIN = 2 };

/* auth_require_agent, then 403 forbidden unless the agent's role is at
 * least min_role. The check is here, at the API, not only in the UI. */
int auth_require_role(struct http_req *req, struct auth_session *out, unsigned flags, enum auth_role min_role);

/* The role's rank (agent 0, supervisor 1, admin 2). */
enum auth_role auth_role_rank(const char *role);

/* Looks up a live session by its cookie value (and refreshes its idle
 * timer). Returns 0 found, 1 no such live session, -1 database error. */
int auth_session_lookup(struct app *app, const char *cookie, struct auth_session *out);

/* The CSRF token that belongs to a session secret. Returns 0 or -1. */
int auth_csrf_token(const char *session_token, char out[AUTH_CSRF_LEN]);

/* Creates a session for agent_id; writes the secret (for the cookie) into
 * token (size TOKEN_MAX_LEN). Returns DB_OK or a DB_E_* code. */
int auth_session_create(struct http_req *req, long long agent_id, char *token, size_t tokenlen);

/* Ends the session with that hash (logout). Like auth_sessions_end_tx it
 * NOTIFYs session_off, so every node closes the sockets opened with it
 * (close 4002). Returns a DB_* code. */
int auth_session_delete(struct db_pool *pool, const uint8_t token_hash[TOKEN_DIGEST_LEN]);

/* Inside the caller's transaction: ends every session of agent_id except
 * the one whose hash is keep (NULL: all of them), and NOTIFYs session_off
 * with their hashes (at most 100 a notification), so that every node closes
 * the sockets opened with them once the transaction commits. Used when a
 * password changes and when an agent is deactivated. Returns a DB_* code. */
int auth_sessions_end_tx(PGconn *conn, long long agent_id, const uint8_t *keep);

/* Adds Set-Cookie for token (NULL: a cookie that clears it). */
void auth_set_cookie(struct http_req *req, const char *token);

/* Reserves one password attempt for email (known or not) from the
 * request's IP, before the password is verified. Returns 0 with *attempt
 * set; 1 when the account's or the IP's window is full, with *retry_after
 * (seconds, >= 1) set; -1 on database error. The reservation counts as a
 * failed attempt until auth_throttle_clear. */
int auth_throttle_reserve(struct http_req *req, const char *email, long long *attempt, int *retry_after);

/* auth_throttle_reserve, answering for the caller when no attempt may be
 * made (429 too_many_attempts with Retry-After, or 503). Returns 0 with
 * *attempt set, or -1 when the response has been sent. */
int auth_throttle_gate(struct http_req *req, const char *email, long long *attempt);

/* After a right password: forgets the account's attempts up to and
 * including this one (later ones, still in flight, keep counting). */
void auth_throttle_clear(struct http_req *req, const char *email, long long attempt);

#endif
