/* bearer: who sends a REST API v1 request.
 *
 * Owns the HTTP side of API tokens: reading "Authorization: Bearer ...",
 * applying the per-token request rate limit (app->api_rate: per node, in
 * memory, one-minute windows), and the answers when a token is missing,
 * unknown, limited or lacks a scope (401 with WWW-Authenticate, 429 with
 * Retry-After, 403 insufficient_scope naming the scope). The tokens
 * themselves (format, scopes, lookup) are chat/apitokens. */
#ifndef PARLEY_BEARER_H
#define PARLEY_BEARER_H

#include "chat/apitokens.h"
#include "http/http.h"

/* Authenticates the request's bearer token and takes one request from its
 * rate limit. On failure the response (401, 429, 503) is sent and -1
 * returned. */
int bearer_authenticate(struct http_req *req, struct apitoken *out);

/* 403 insufficient_scope (naming the scope) unless the token has the scope
 * (or admin); returns 0 or -1. */
int bearer_require(struct http_req *req, const struct apitoken *t, enum apitoken_scope scope);

/* bearer_authenticate, then bearer_require. */
int bearer_require_scope(struct http_req *req, struct apitoken *out, enum apitoken_scope scope);

#endif
