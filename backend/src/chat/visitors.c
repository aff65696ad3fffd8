#include "chat/visitors.h"

#include "core/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum chat_err visitors_authenticate(struct db_pool *db, const char *token, const char *origin,
                                    const char *public_origin, struct visitor_session *out, enum visitor_auth *result)
{
    uint8_t digest[TOKEN_DIGEST_LEN];
    char hash_hex[2 * TOKEN_DIGEST_LEN + 3];
    PGresult *res = NULL;
    memset(out, 0, sizeof(*out));
    *result = VISITOR_AUTH_UNKNOWN;
    if (!token || !token_well_formed("pv_", token))
        return CHAT_OK;
    token_digest(token, strlen(token), digest);
    db_bytea_hex(digest, sizeof(digest), hash_hex);
    enum chat_err err = chat_err_of(
        db_query(db, &res,
                 "WITH t AS (UPDATE visitor_tokens SET last_used_at = now() WHERE token_hash = $1::bytea"
                 "           RETURNING visitor_id, site_id)"
                 " SELECT v.id, v.site_id, ($2 = '' OR $2 = ANY (s.allowed_origins) OR $2 = $3),"
                 "   json_build_object('id', v.id, 'name', v.name, 'email', v.email, 'verified', v.verified)::text,"
                 "   s.identity_required AND NOT v.verified, v.verified"
                 " FROM t JOIN visitors v ON v.id = t.visitor_id JOIN sites s ON s.id = t.site_id",
                 3, (const char *const[]){hash_hex, origin, public_origin}));
    if (err != CHAT_OK || PQntuples(res) != 1) {
        PQclear(res);
        return err;
    }
    if (!db_get_bool(res, 0, 2)) {
        *result = VISITOR_AUTH_ORIGIN;
    } else if (db_get_bool(res, 0, 4)) {
        /* A token issued before the site turned identity_required on. */
        *result = VISITOR_AUTH_IDENTITY_REQUIRED;
    } else {
        out->visitor_id = db_get_ll(res, 0, 0, 0);
        out->site_id = db_get_ll(res, 0, 1, 0);
        out->verified = db_get_bool(res, 0, 5);
        out->visitor_json = strdup(db_get_str(res, 0, 3));
        *result = VISITOR_AUTH_OK;
        if (!out->visitor_json)
            err = CHAT_E_INTERNAL;
    }
    PQclear(res);
    return err;
}

void visitors_session_free(struct visitor_session *s)
{
    free(s->visitor_json);
    s->visitor_json = NULL;
}

enum chat_err visitors_site_requires_identity(struct db_pool *db, long long site_id, int *required)
{
    char site[24];
    PGresult *res = NULL;
    snprintf(site, sizeof(site), "%lld", site_id);
    enum chat_err err = chat_err_of(db_query(db, &res, "SELECT identity_required FROM sites WHERE id = $1::bigint", 1,
                                             (const char *const[]){site}));
    if (err == CHAT_OK)
        *required = PQntuples(res) != 1 || db_get_bool(res, 0, 0);
    PQclear(res);
    return err;
}
