#include "chat/teams.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* open_now and back_at of a team document, from its business_hours, at t. */
static void add_open_now(struct calendar_zones *zones, json_t *team, int64_t t)
{
    json_t *hours = json_object_get(team, "business_hours");
    char *text = json_is_object(hours) ? json_dumps(hours, JSON_COMPACT) : NULL;
    calendar_describe(zones, text, t, team, "open_now");
    free(text);
}

enum chat_err teams_list_json(struct db_pool *db, struct calendar_zones *zones, const char *key, char **json)
{
    char *text = NULL;
    json_t *doc = NULL, *team;
    size_t i;
    enum chat_err err = chat_err_of(db_query_text(db, &text,
                                                  "SELECT json_build_object($1::text,"
                                                  " coalesce(json_agg(parley_team_json(t) ORDER BY t.id), '[]'::json),"
                                                  " 'now', extract(epoch FROM now())::bigint)::text FROM teams t",
                                                  1, (const char *const[]){key}));
    *json = NULL;
    if (err == CHAT_OK && !(doc = json_loads(text, 0, NULL)))
        err = CHAT_E_INTERNAL;
    if (err == CHAT_OK) {
        int64_t now = json_integer_value(json_object_get(doc, "now"));
        json_object_del(doc, "now");
        json_array_foreach(json_object_get(doc, key), i, team)
        {
            add_open_now(zones, team, now);
        }
        if (!(*json = json_dumps(doc, JSON_COMPACT)))
            err = CHAT_E_INTERNAL;
    }
    json_decref(doc);
    free(text);
    return err;
}

enum chat_err teams_all_exist(struct db_pool *db, const long long *ids, int n, int *all)
{
    return chat_err_of(db_ids_exist(db, "teams", ids, n > 0 ? (size_t)n : 0, all));
}

enum chat_err teams_save(struct db_pool *db, long long id, const char *name, const struct team_settings *settings,
                         const long long *member_ids, int nmembers, char **json, struct assign_work *work)
{
    static const struct team_settings keep = {.capacity = -1};
    const struct team_settings *s = settings ? settings : &keep;
    PGresult *res = NULL;
    char *members = NULL;
    *json = NULL;
    if (nmembers >= 0 && !(members = db_id_array(member_ids, (size_t)nmembers)))
        return CHAT_E_INTERNAL;
    /* One statement. The id comes back from the write itself: a second
     * query for "the newest team" would race with another admin's insert. */
    enum chat_err err = chat_err_of_write(db_query(
        db, &res,
        "WITH t AS ("
        "  INSERT INTO teams (name, business_hours, sla, escalation, collaborators_use_capacity)"
        "  SELECT $2, nullif($4, 'null')::jsonb, nullif($5, 'null')::jsonb, nullif($6, 'null')::jsonb,"
        "   coalesce($7::boolean, false) WHERE $1::bigint = 0 RETURNING *),"
        " u AS (UPDATE teams SET name = coalesce($2, name),"
        "   business_hours = CASE WHEN $4::text IS NULL THEN business_hours ELSE nullif($4, 'null')::jsonb END,"
        "   sla = CASE WHEN $5::text IS NULL THEN sla ELSE nullif($5, 'null')::jsonb END,"
        "   escalation = CASE WHEN $6::text IS NULL THEN escalation ELSE nullif($6, 'null')::jsonb END,"
        "   collaborators_use_capacity = coalesce($7::boolean, collaborators_use_capacity)"
        "  WHERE id = $1::bigint AND $1::bigint <> 0 RETURNING *),"
        " target AS (SELECT * FROM t UNION ALL SELECT * FROM u),"
        " d AS (DELETE FROM team_members WHERE $3::bigint[] IS NOT NULL"
        "  AND team_id = (SELECT id FROM target) AND NOT agent_id = ANY ($3::bigint[])),"
        " m AS (INSERT INTO team_members (team_id, agent_id)"
        "  SELECT (SELECT id FROM target), a.id FROM agents a WHERE a.id = ANY ($3::bigint[])"
        "  ON CONFLICT DO NOTHING)"
        /* The members as given (the statement's snapshot has the old ones). */
        " SELECT json_build_object('team', parley_team_json(target::teams)"
        "   || CASE WHEN $3::bigint[] IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('member_ids',"
        "     coalesce((SELECT jsonb_agg(a.id ORDER BY a.id) FROM agents a WHERE a.id = ANY ($3::bigint[])),"
        "       '[]'::jsonb)) END)::text, target.id FROM target",
        7,
        (const char *const[]){DB_ID(id), name, members, s->business_hours, s->sla, s->escalation,
                              s->capacity < 0 ? NULL
                              : s->capacity   ? "true"
                                              : "false"}));
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
