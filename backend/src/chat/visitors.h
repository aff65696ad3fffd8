/* visitors: who a visitor's token belongs to, and what their site demands.
 *
 * Owns the authentication of visitor tokens (pv_..., only their SHA-256 is
 * stored): the visitor and site behind one, whether the page's origin is
 * one of the site's, and whether the site requires a verified identity the
 * visitor does not have. */
#ifndef PARLEY_VISITORS_H
#define PARLEY_VISITORS_H

#include "chat/errors.h"
#include "db/db.h"

enum visitor_auth {
    VISITOR_AUTH_OK,
    VISITOR_AUTH_UNKNOWN,           /* malformed or unknown token */
    VISITOR_AUTH_ORIGIN,            /* the page's origin is not the site's */
    VISITOR_AUTH_IDENTITY_REQUIRED, /* the site requires a verified identity */
};

struct visitor_session {
    long long visitor_id, site_id;
    int verified;
    char *visitor_json; /* {id, name, email, verified}; free with visitors_session_free */
};

/* Authenticates a visitor token for a page of origin (may be ""; our own
 * public_origin is always allowed) and marks it used. CHAT_OK with *result
 * set (out filled only for VISITOR_AUTH_OK), or a database error. */
enum chat_err visitors_authenticate(struct db_pool *db, const char *token, const char *origin,
                                    const char *public_origin, struct visitor_session *out,
                                    enum visitor_auth *result) CHAT_CHECKED;
void visitors_session_free(struct visitor_session *s);

/* Whether the site requires a verified identity now (a missing site does). */
enum chat_err visitors_site_requires_identity(struct db_pool *db, long long site_id, int *required) CHAT_CHECKED;

#endif
