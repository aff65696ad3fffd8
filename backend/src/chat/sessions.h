/* sessions: agents' login sessions, their CSRF tokens, their rights, and
 * login throttling.
 *
 * Owns the session (a 256-bit random secret, carried in the cookie
 * SESSION_COOKIE; only its SHA-256 is stored; idle and absolute expiry),
 * the CSRF token derived from it (HMAC-SHA256 of the secret, so it needs no
 * storage and dies with the session), the end of sessions (each end
 * NOTIFYs session_off so that every node closes their sockets), the rights
 * a session's agent has now (role and teams, for sockets), and the login
 * attempt reservation that makes N parallel guesses count exactly like N
 * sequential ones (parley_login_reserve, db/sql/50_login.sql). */
#ifndef PARLEY_SESSIONS_H
#define PARLEY_SESSIONS_H

#include "chat/agents.h"
#include "chat/errors.h"
#include "core/config.h"
#include "core/token.h"
#include "db/db.h"

#include <stddef.h>
#include <stdint.h>

#define SESSION_COOKIE    "parley_session"
#define SESSION_CSRF_LEN  44 /* 43 chars + NUL */
#define SESSION_MAX_TEAMS 32

struct session {
    struct agent agent;
    uint8_t token_hash[TOKEN_DIGEST_LEN];
    char csrf[SESSION_CSRF_LEN];
};

/* The CSRF token that belongs to a session secret. Returns 0 or -1. */
int sessions_csrf_token(const char *secret, char out[SESSION_CSRF_LEN]);

/* Looks up a live session by its cookie value (and refreshes its idle
 * timer). CHAT_OK found, CHAT_E_NOT_FOUND no such live session (or the
 * agent is inactive), CHAT_E_UNAVAILABLE/INTERNAL on database errors. */
enum chat_err sessions_lookup(struct db_pool *db, const struct config *cfg, const char *cookie,
                              struct session *out) CHAT_CHECKED;

/* A new session for agent_id; writes the secret (for the cookie) into
 * token (size TOKEN_MAX_LEN). ip: the client; user_agent: may be NULL. */
enum chat_err sessions_create(struct db_pool *db, long long agent_id, const char *ip, const char *user_agent,
                              char *token, size_t tokenlen) CHAT_CHECKED;

/* Ends one session (logout). */
enum chat_err sessions_delete(struct db_pool *db, const uint8_t token_hash[TOKEN_DIGEST_LEN]) CHAT_CHECKED;

/* Inside a transaction: ends every session of the agent but keep (may be
 * NULL). */
enum chat_err sessions_end_tx(PGconn *conn, long long agent_id, const uint8_t *keep) CHAT_CHECKED;

/* What the agent of a session may do now: their role and teams (sorted,
 * at most SESSION_MAX_TEAMS). CHAT_E_NOT_FOUND when the session or the
 * agent is gone. */
struct session_rights {
    char role[16];
    long long teams[SESSION_MAX_TEAMS];
    int nteams;
};
enum chat_err sessions_rights(struct db_pool *db, const uint8_t token_hash[TOKEN_DIGEST_LEN],
                              struct session_rights *out) CHAT_CHECKED;
int sessions_rights_equal(const struct session_rights *a, const struct session_rights *b);

/* Reserves a login (or password change) attempt for email from ip before
 * the password is verified. CHAT_OK with *attempt set, or
 * CHAT_E_AT_CAPACITY ("too many attempts") with *retry_after seconds (at
 * least 1), or a database error. */
enum chat_err sessions_reserve_attempt(struct db_pool *db, const struct config *cfg, const char *email, const char *ip,
                                       long long *attempt, int *retry_after) CHAT_CHECKED;

/* After a verified password: the account's reservations up to attempt stop
 * counting as failures. */
void sessions_clear_attempts(struct db_pool *db, const char *email, long long attempt);

/* An agent changes their own password (hash: from password_hash): in one
 * transaction the hash is stored and every other session of theirs ends
 * (keep: the session that made the change), with its sockets on every
 * node. CHAT_E_NOT_FOUND when the agent is gone or inactive. */
enum chat_err sessions_change_password(struct db_pool *db, long long agent_id, const char *hash,
                                       const uint8_t keep[TOKEN_DIGEST_LEN]) CHAT_CHECKED;

#endif
