/* api_common: what several resource files of api/ share.
 *
 * Owns the way a handler answers with a document the domain built (JSON
 * text) or with a domain error (chat_err_desc, with the resource's own
 * words for "not found" and "taken"), reading an array of ids from a body,
 * refusing ids that name no team or agent, and the REST API's notes
 * option, and who acts for a token or a session. Handlers keep their own
 * validation and authorisation. */
#ifndef PARLEY_API_COMMON_H
#define PARLEY_API_COMMON_H

#include "chat/actor.h"
#include "chat/assign.h"
#include "chat/apitokens.h"
#include "chat/sessions.h"
#include "chat/errors.h"
#include "core/problem.h"
#include "http/http.h"

#include <jansson.h>

#define API_MAX_IDS 200

/* Sends JSON text (a document built by SQL) with the status. */
void api_send_json_text(struct http_req *req, int status, const char *json);

/* Answers a domain error: its status and problem slug from chat_err_desc;
 * the detail is not_found for CHAT_E_NOT_FOUND and taken for CHAT_E_TAKEN
 * (what is missing, which name is taken; NULL: none), "the database is not
 * reachable" for CHAT_E_UNAVAILABLE, and the table's text otherwise. */
void api_send_error(struct http_req *req, enum chat_err err, const char *not_found, const char *taken);

/* obj[key] as an array of at most API_MAX_IDS positive ids: *ids (malloc'd,
 * the caller frees) and *n. Absent: *ids NULL and *n -1. A bad value fills
 * *err and returns -1 (nothing to free). */
int api_read_ids(json_t *obj, const char *key, long long **ids, int *n, struct problem_field *err);

/* 0 when each of ids[0..n) names a team (api_require_teams), an agent
 * (api_require_agents) or a site (api_require_sites), or n < 0 (not
 * given); otherwise 400 naming field,
 * or 503, is sent and -1 returned. */
int api_require_teams(struct http_req *req, const long long *ids, int n, const char *field);
int api_require_agents(struct http_req *req, const long long *ids, int n, const char *field);
int api_require_sites(struct http_req *req, const long long *ids, int n, const char *field);

/* The usual end of a handler: CHAT_OK sends json with status, anything
 * else api_send_error(req, err, not_found, taken). */
void api_answer(struct http_req *req, int status, enum chat_err err, const char *json, const char *not_found,
                const char *taken);

/* The answer of a move that returns {"conversation": ...}: 200 with result
 * (which it takes), or the error's problem; then the drains the move asked
 * for (after the answer, so the client learns the result before any event
 * about what followed); work may be NULL. */
void api_answer_move(struct http_req *req, enum chat_err err, json_t *result, const struct assign_work *work);

/* The actor of an API token: its own kind (a bot's token: the bot),
 * privileged (scopes are checked before any domain call). */
void api_token_actor(const struct apitoken *t, struct actor *a);
/* The actor of an agent's session: privileged as a supervisor or admin
 * (a claim the domain narrows by the agent's current role). */
void api_agent_actor(const struct session *s, struct actor *a);

/* The token of "Authorization: Bearer <token>", or NULL. */
const char *api_bearer_token(struct http_req *req);
/* The visitor behind a visitor token: 0 with *a set, or -1 (unknown,
 * revoked, or an origin the site does not allow). */
int api_visitor_from_bearer(struct http_req *req, const char *token, struct actor *a);

/* An admin resource served twice: under /api/v1/... a token with the
 * admin scope, elsewhere (the console) an admin's session, with the CSRF
 * check when change is set. 0, or -1 with the answer sent. */
int api_require_admin(struct http_req *req, int change);

/* REST API v1: include_notes=true, allowed only with the admin scope (notes
 * are internal). 0 with *notes set, or -1 with 400/403 sent. */
int api_want_notes(struct http_req *req, const struct apitoken *t, int *notes);

/* Streams the rows of cursor cur (which it closes) as a 200 answer of
 * content_type: head first (NULL: none), then each row followed by sep,
 * batch rows at a time. A database failure or a client gone ends the body
 * short (no final chunk: the client sees it cut), logged with what. */
void api_stream_rows(struct http_req *req, struct db_cursor *cur, int batch, const char *content_type, const char *head,
                     const char *sep, const char *what);

#endif
