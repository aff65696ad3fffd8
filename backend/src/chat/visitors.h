/* visitors: the people who chat from a site's widget, and their tokens.
 *
 * Owns visitor rows and visitor tokens (pv_..., 256 random bits, only their
 * SHA-256 stored, bound to one site and one visitor): starting a widget
 * session (a token carried over, or a new visitor, or the one visitor of a
 * verified identity), the authentication of a token (the visitor and site
 * behind one, whether the page's origin is one of the site's, and whether
 * the site requires a verified identity the visitor does not have), and
 * the visitor as the REST API shows them. */
#ifndef PARLEY_VISITORS_H
#define PARLEY_VISITORS_H

#include "chat/errors.h"
#include "core/token.h"
#include "db/db.h"

#include <jansson.h>

#define VISITOR_TOKEN_PREFIX "pv_"

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

/* A widget session to start, for a site whose rules the caller checked
 * (origin, identity hash). */
struct visitor_start {
    long long site_id;
    const char *token; /* the token the widget holds, or NULL */
    /* A verified identity, or id NULL. The identity's visitor is the same
     * row on every device; a name or email given replaces the stored one,
     * and only this way can a verified visitor's name and email change. */
    const char *identity_id, *name, *email;
    const char *user_agent; /* may be NULL */
    const char *ip;         /* as PARLEY_IP_STORAGE keeps it; NULL or "": none is stored */
    /* Looked up from the address before it was cut, and from the
     * User-Agent: "" or NULL when unknown (what is stored stays). */
    const char *country, *region, *city, *time_zone;
    const char *device_json; /* {browser, os, device, …} merged into the stored one; may be NULL */
};

/* In one transaction: the visitor (the token's when it is this site's and,
 * with an identity, the identity's; otherwise a new one), a token for them
 * (the one given when it still names them, else a new one, written into
 * token_out, size TOKEN_MAX_LEN), and their last visit. *visitor = {id,
 * name, email, verified} (the caller decrefs). */
enum chat_err visitors_start(struct db_pool *db, const struct visitor_start *in, char *token_out,
                             json_t **visitor) CHAT_CHECKED;

/* A visitor as the REST API shows them, with their conversation ids, into
 * *json (the caller frees). CHAT_E_NOT_FOUND when there is none. */
enum chat_err visitors_get_json(struct db_pool *db, long long id, char **json) CHAT_CHECKED;

#endif
