#include "chat/notify.h"

#include "db/db.h"

enum chat_err notify_conv(PGconn *conn, long long conversation_id, const char *change, long long prev_assignee,
                          long long old_team)
{
    return chat_err_of(
        db_exec(conn, NULL, "SELECT parley_notify_conv($1::bigint, $2, $3::bigint, $4::bigint)", 4,
                (const char *const[]){DB_ID(conversation_id), change, DB_ID(prev_assignee), DB_ID(old_team)}));
}

enum chat_err notify_presence(PGconn *conn, long long agent_id, const char *name)
{
    return chat_err_of(db_exec(conn, NULL, "SELECT parley_notify_presence($1::bigint, $2)", 2,
                               (const char *const[]){DB_ID(agent_id), name}));
}

enum chat_err notify_agent_off(PGconn *conn, long long agent_id)
{
    return chat_err_of(
        db_exec(conn, NULL, "SELECT parley_notify_agent_off($1::bigint)", 1, (const char *const[]){DB_ID(agent_id)}));
}
