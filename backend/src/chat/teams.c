#include "chat/teams.h"

#include <stdlib.h>
#include <string.h>

enum chat_err teams_list_json(struct db_pool *db, const char *key, char **json)
{
    return chat_err_of(db_query_text(db, json,
                                     "SELECT json_build_object($1::text,"
                                     " coalesce(json_agg(parley_team_json(t) ORDER BY t.id), '[]'::json))::text"
                                     " FROM teams t",
                                     1, (const char *const[]){key}));
}

enum chat_err teams_all_exist(struct db_pool *db, const long long *ids, int n, int *all)
{
    return chat_err_of(db_ids_exist(db, "teams", ids, n > 0 ? (size_t)n : 0, all));
}

enum chat_err teams_save(struct db_pool *db, long long id, const char *name, const long long *member_ids, int nmembers,
                         char **json, struct assign_work *work)
{
    PGresult *res = NULL;
    char *members = NULL;
    *json = NULL;
    if (nmembers >= 0 && !(members = db_id_array(member_ids, (size_t)nmembers)))
        return CHAT_E_INTERNAL;
    /* One statement. The id comes back from the write itself: a second
     * query for "the newest team" would race with another admin's insert. */
    enum chat_err err = chat_err_of_write(
        db_query(db, &res,
                 "WITH t AS ("
                 "  INSERT INTO teams (name) SELECT $2 WHERE $1::bigint = 0 RETURNING id),"
                 " u AS (UPDATE teams SET name = coalesce($2, name) WHERE id = $1::bigint AND $1::bigint <> 0"
                 "  RETURNING id),"
                 " target AS (SELECT id FROM t UNION ALL SELECT id FROM u),"
                 " d AS (DELETE FROM team_members WHERE $3::bigint[] IS NOT NULL"
                 "  AND team_id = (SELECT id FROM target) AND NOT agent_id = ANY ($3::bigint[])),"
                 " m AS (INSERT INTO team_members (team_id, agent_id)"
                 "  SELECT (SELECT id FROM target), a.id FROM agents a WHERE a.id = ANY ($3::bigint[])"
                 "  ON CONFLICT DO NOTHING)"
                 " SELECT json_build_object('team', json_build_object('id', target.id, 'name',"
                 "   coalesce($2, (SELECT name FROM teams WHERE id = target.id))))::text, target.id FROM target",
                 3, (const char *const[]){DB_ID(id), name, members}));
    if (err == CHAT_OK && PQntuples(res) != 1)
        err = CHAT_E_NOT_FOUND;
    if (err == CHAT_OK && !(*json = strdup(db_get_str(res, 0, 0))))
        err = CHAT_E_INTERNAL;
    if (err == CHAT_OK) /* new members may take waiting conversations */
        assign_work_team(work, db_get_ll(res, 0, 1, 0));
    PQclear(res);
    free(members);
    return err;
}
