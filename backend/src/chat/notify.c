#include "chat/notify.h"

#include "db/db.h"

#include <stdio.h>

enum chat_err notify_conv(PGconn *conn, long long conversation_id, const char *change, long long prev_assignee,
                          long long old_team)
{
    char conv[24], prev[24], team[24];
    snprintf(conv, sizeof(conv), "%lld", conversation_id);
    snprintf(prev, sizeof(prev), "%lld", prev_assignee);
    snprintf(team, sizeof(team), "%lld", old_team);
    return chat_err_of(db_exec(conn, NULL, "SELECT parley_notify_conv($1::bigint, $2, $3::bigint, $4::bigint)", 4,
                               (const char *const[]){conv, change, prev, team}));
}

enum chat_err notify_presence(PGconn *conn, long long agent_id, const char *name)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", agent_id);
    return chat_err_of(
        db_exec(conn, NULL, "SELECT parley_notify_presence($1::bigint, $2)", 2, (const char *const[]){id, name}));
}

enum chat_err notify_agent_off(PGconn *conn, long long agent_id)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", agent_id);
    return chat_err_of(db_exec(conn, NULL, "SELECT parley_notify_agent_off($1::bigint)", 1, (const char *const[]){id}));
}
