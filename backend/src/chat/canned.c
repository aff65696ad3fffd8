#include "chat/canned.h"

#include <stdlib.h>

/* The JSON of a canned_responses row c: the one shape of a canned response. */
#define CANNED_JSON                                                                                                    \
    "json_build_object('id', c.id, 'shortcut', c.shortcut, 'body', c.body, 'updated_at', parley_iso(c.updated_at))"

enum chat_err canned_list_json(struct db_pool *db, char **json)
{
    return chat_err_of(db_query_text(db, json,
                                     "SELECT json_build_object('canned', coalesce(json_agg(" CANNED_JSON
                                     " ORDER BY c.shortcut), '[]'::json))::text FROM canned_responses c",
                                     0, NULL));
}

enum chat_err canned_save(struct db_pool *db, long long id, const char *shortcut, const char *body, long long author,
                          char **json)
{
    const char *params[4] = {DB_ID(id), shortcut, body, DB_ID(author)};
    return chat_err_of_write(
        db_query_text(db, json,
                      "WITH ins AS (INSERT INTO canned_responses (shortcut, body, created_by)"
                      "  SELECT $2, $3, $4::bigint WHERE $1::bigint = 0 RETURNING *),"
                      " upd AS (UPDATE canned_responses SET shortcut = coalesce($2, shortcut),"
                      "  body = coalesce($3, body), updated_at = now() WHERE id = $1::bigint AND $1::bigint <> 0"
                      "  RETURNING *)"
                      " SELECT json_build_object('canned', " CANNED_JSON ")::text"
                      " FROM (SELECT * FROM ins UNION ALL SELECT * FROM upd) c",
                      4, params));
}

enum chat_err canned_delete(struct db_pool *db, long long id)
{
    char *found = NULL;
    enum chat_err err =
        chat_err_of(db_query_text(db, &found, "DELETE FROM canned_responses WHERE id = $1::bigint RETURNING id::text",
                                  1, (const char *const[]){DB_ID(id)}));
    free(found);
    return err;
}
