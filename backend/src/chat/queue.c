#include "chat/queue.h"

enum chat_err queue_positions(struct db_pool *db, long long team_id, queue_position_fn fn, void *arg)
{
    static const struct db_stmt positions = {
        "WITH q AS (SELECT id, visitor_id, row_number() OVER (ORDER BY queued_at, id) AS pos"
        "           FROM conversations WHERE team_id = $1::bigint AND status = 'queued'),"
        " recent AS (SELECT assigned_at FROM conversations WHERE team_id = $1::bigint"
        "            AND assigned_at > now() - interval '1 day' ORDER BY assigned_at DESC LIMIT 10),"
        " rate AS (SELECT CASE WHEN count(*) >= 2 THEN"
        "            extract(epoch FROM max(assigned_at) - min(assigned_at)) / (count(*) - 1) END AS gap"
        "          FROM recent)"
        " SELECT q.id, q.visitor_id, q.pos, ceil(q.pos * least(greatest(coalesce(rate.gap, 60), 5), 600))::bigint"
        " FROM q, rate ORDER BY q.pos",
        1};
    PGresult *res = NULL;
    enum chat_err err = chat_err_of(db_read_stmt(db, &res, &positions, (const char *const[]){DB_ID(team_id)}));
    for (int i = 0; err == CHAT_OK && i < PQntuples(res); i++) {
        struct queue_position p = {
            .conversation_id = db_get_ll(res, i, 0, 0),
            .visitor_id = db_get_ll(res, i, 1, 0),
            .position = db_get_ll(res, i, 2, 0),
            .wait_seconds = db_get_ll(res, i, 3, 0),
        };
        fn(&p, arg);
    }
    PQclear(res);
    return err;
}

enum chat_err queue_teams_of_visitor(struct db_pool *db, long long visitor_id, long long *teams, int max, int *n)
{
    PGresult *res = NULL;
    *n = 0;
    enum chat_err err = chat_err_of(db_read(
        db, &res, "SELECT DISTINCT team_id FROM conversations WHERE visitor_id = $1::bigint AND status = 'queued'", 1,
        (const char *const[]){DB_ID(visitor_id)}));
    for (int i = 0; err == CHAT_OK && i < PQntuples(res) && *n < max; i++)
        teams[(*n)++] = db_get_ll(res, i, 0, 0);
    PQclear(res);
    return err;
}
