#include "chat/sites.h"

#include "core/token.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

enum chat_err sites_list_json(struct db_pool *db, const char *key, int with_secret, char **json)
{
    return chat_err_of(db_query_text(db, json,
                                     "SELECT json_build_object($1::text, coalesce(json_agg("
                                     "  parley_site_json(s, $2::boolean) ORDER BY s.id), '[]'::json))::text"
                                     " FROM sites s",
                                     2, (const char *const[]){key, with_secret ? "true" : "false"}));
}

enum chat_err sites_save(struct db_pool *db, long long id, const struct site_fields *f, char **json)
{
    char key[TOKEN_MAX_LEN], secret[TOKEN_MAX_LEN];
    *json = NULL;
    if (token_generate("", key, sizeof(key)) != 0 || token_generate("", secret, sizeof(secret)) != 0)
        return CHAT_E_INTERNAL;
    key[24] = '\0'; /* 144 bits: a public name, not a secret */
    const char *params[9] = {DB_ID(id),
                             f->name,
                             f->origins_json,
                             f->settings_json,
                             f->default_team_id ? DB_ID(f->default_team_id) : NULL,
                             f->identity_required < 0 ? NULL
                             : f->identity_required   ? "true"
                                                      : "false",
                             key,
                             (f->rotate_identity_secret || !id) ? secret : NULL,
                             f->files_json};
    /* A new site without a team goes to the first team. */
    return chat_err_of_write(db_query_text(
        db, json,
        "WITH ins AS (INSERT INTO sites (name, public_key, allowed_origins, widget_settings, default_team_id,"
        "    identity_required, identity_secret, upload_max_bytes, upload_types, visitor_uploads,"
        "    file_retention_days)"
        "  SELECT $2, $7, coalesce(ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), '{}'),"
        "   coalesce($4::jsonb, '{}'), coalesce($5::bigint, (SELECT min(id) FROM teams)),"
        "   coalesce($6::boolean, false), $8, ($9::jsonb->>'max_bytes')::bigint,"
        "   CASE WHEN $9::jsonb ? 'types' THEN ARRAY(SELECT jsonb_array_elements_text($9::jsonb->'types')) END,"
        "   coalesce(($9::jsonb->>'visitor_uploads')::boolean, true), ($9::jsonb->>'retention_days')::int"
        "  WHERE $1::bigint = 0 RETURNING *),"
        " upd AS (UPDATE sites SET name = coalesce($2, name),"
        "   allowed_origins = CASE WHEN $3::jsonb IS NULL THEN allowed_origins"
        "     ELSE ARRAY(SELECT jsonb_array_elements_text($3::jsonb)) END,"
        "   widget_settings = coalesce($4::jsonb, widget_settings),"
        "   default_team_id = coalesce($5::bigint, default_team_id),"
        "   identity_required = coalesce($6::boolean, identity_required),"
        "   identity_secret = coalesce($8, identity_secret),"
        "   upload_max_bytes = CASE WHEN $9::jsonb ? 'max_bytes' THEN ($9::jsonb->>'max_bytes')::bigint"
        "     ELSE upload_max_bytes END,"
        "   upload_types = CASE WHEN $9::jsonb ? 'types'"
        "     THEN ARRAY(SELECT jsonb_array_elements_text($9::jsonb->'types')) ELSE upload_types END,"
        "   visitor_uploads = coalesce(($9::jsonb->>'visitor_uploads')::boolean, visitor_uploads),"
        "   file_retention_days = CASE WHEN $9::jsonb ? 'retention_days'"
        "     THEN ($9::jsonb->>'retention_days')::int ELSE file_retention_days END"
        "  WHERE id = $1::bigint AND $1::bigint <> 0 RETURNING *)"
        " SELECT json_build_object('site', parley_site_json(ROW(s.*)::sites, true))::text"
        " FROM (SELECT * FROM ins UNION ALL SELECT * FROM upd) s",
        9, params));
}

enum chat_err sites_gate(struct db_pool *db, const char *key, const char *origin, struct site_gate *out)
{
    PGresult *res = NULL;
    memset(out, 0, sizeof(*out));
    /* Only the site's own origins: not even our frame's, or any page could
     * frame us and mint tokens for any site. */
    enum chat_err err =
        chat_err_of(db_query(db, &res,
                             "SELECT id, $2 = ANY (allowed_origins), identity_secret, identity_required,"
                             "  json_build_object('id', id, 'name', name, 'settings', widget_settings,"
                             "   'files', parley_site_files_json(s, false))::text"
                             " FROM sites s WHERE public_key = $1",
                             2, (const char *const[]){key, origin}));
    if (err == CHAT_OK && PQntuples(res) != 1)
        err = CHAT_E_NOT_FOUND;
    if (err == CHAT_OK) {
        out->id = db_get_ll(res, 0, 0, 0);
        out->origin_allowed = db_get_bool(res, 0, 1);
        out->identity_required = db_get_bool(res, 0, 3);
        if (db_get_str(res, 0, 2) && !(out->identity_secret = strdup(db_get_str(res, 0, 2))))
            err = CHAT_E_INTERNAL;
        if (!(out->public_json = strdup(db_get_str(res, 0, 4))))
            err = CHAT_E_INTERNAL;
    }
    PQclear(res);
    if (err != CHAT_OK)
        sites_gate_free(out);
    return err;
}

void sites_gate_free(struct site_gate *g)
{
    free(g->identity_secret);
    free(g->public_json);
    g->identity_secret = g->public_json = NULL;
}

enum chat_err sites_widget_json(struct db_pool *db, struct calendar_zones *zones, const char *key, const char *origin,
                                const char *public_origin, int *allowed, char **json)
{
    PGresult *res = NULL;
    json_t *doc = NULL;
    *allowed = 0;
    *json = NULL;
    enum chat_err err =
        chat_err_of(db_query(db, &res,
                             "SELECT ($2 = '' OR $2 = ANY (s.allowed_origins) OR $2 = $3),"
                             "  json_build_object('name', s.name, 'settings', s.widget_settings,"
                             "   'files', parley_site_files_json(s, false),"
                             "   'online', EXISTS (SELECT 1 FROM team_members tm JOIN agents a ON a.id = tm.agent_id"
                             "     WHERE tm.team_id = s.default_team_id AND a.active AND a.status = 'online'"
                             "       AND parley_agent_live(a.id)))::text,"
                             "  (SELECT t.business_hours::text FROM teams t WHERE t.id = s.default_team_id),"
                             "  extract(epoch FROM now())::bigint"
                             " FROM sites s WHERE s.public_key = $1",
                             3, (const char *const[]){key, origin, public_origin}));
    if (err == CHAT_OK && PQntuples(res) != 1)
        err = CHAT_E_NOT_FOUND;
    if (err == CHAT_OK) {
        *allowed = db_get_bool(res, 0, 0);
        doc = json_loads(db_get_str(res, 0, 1), 0, NULL);
        /* Outside business hours nobody is "online": the offline form. */
        if (doc && !calendar_describe(zones, db_get_str(res, 0, 2), db_get_ll(res, 0, 3, 0), doc, "open"))
            json_object_set_new(doc, "online", json_false());
        if (!doc || !(*json = json_dumps(doc, JSON_COMPACT)))
            err = CHAT_E_INTERNAL;
    }
    json_decref(doc);
    PQclear(res);
    return err;
}

enum chat_err sites_first_key(struct db_pool *db, char **key)
{
    return chat_err_of(db_query_text(db, key, "SELECT public_key FROM sites ORDER BY id LIMIT 1", 0, NULL));
}

enum chat_err sites_all_exist(struct db_pool *db, const long long *ids, int n, int *all)
{
    return chat_err_of(db_ids_exist(db, "sites", ids, n > 0 ? (size_t)n : 0, all));
}
