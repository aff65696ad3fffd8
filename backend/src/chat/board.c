#include "chat/board.h"

#include "chat/calendar.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>

enum chat_err board_get(struct app *app, const struct actor *a, json_t **reply)
{
    char risk[16], rows[16], teams[16], *text = NULL;
    json_t *doc = NULL, *team;
    size_t i;
    *reply = NULL;
    if (a->kind != ACTOR_AGENT || !a->privileged)
        return CHAT_E_FORBIDDEN;
    snprintf(risk, sizeof(risk), "%d", BOARD_RISK_SECONDS);
    snprintf(rows, sizeof(rows), "%d", BOARD_MAX_ROWS);
    snprintf(teams, sizeof(teams), "%d", BOARD_MAX_TEAMS);
    const char *params[4] = {DB_ID(a->id), risk, rows, teams};
    /* NULL (no row) when the agent is no longer privileged. */
    enum chat_err err = chat_err_of(db_query_text(
        app->db, &text,
        "SELECT json_build_object('teams', coalesce(json_agg(x ORDER BY x.id), '[]'::json),"
        "  'generated_at', parley_iso(now()), 'now', extract(epoch FROM now())::bigint)::text"
        " FROM (SELECT t.id, t.name, t.business_hours,"
        "  (SELECT coalesce(jsonb_agg(to_jsonb(w) - 'p' ORDER BY w.p DESC, w.queued_at), '[]'::jsonb) FROM ("
        "     SELECT c.id AS conversation_id, coalesce(v.name, v.email) AS visitor, c.priority AS p,"
        "       parley_priority_name(c.priority) AS priority, parley_iso(c.queued_at) AS queued_at,"
        "       extract(epoch FROM now() - c.queued_at)::bigint AS waiting_seconds"
        "     FROM conversations c JOIN visitors v ON v.id = c.visitor_id"
        "     WHERE c.team_id = t.id AND c.status = 'queued'"
        "     ORDER BY c.priority DESC, c.queued_at LIMIT $3::int) w) AS waiting,"
        "  (SELECT coalesce(json_agg(g ORDER BY g.name, g.id), '[]'::json) FROM ("
        "     SELECT a.id, a.name, a.status, parley_agent_live(a.id) AS connected,"
        "       parley_agent_load(a.id) AS load, a.max_chats"
        "     FROM agents a JOIN team_members tm ON tm.agent_id = a.id"
        "     WHERE tm.team_id = t.id AND a.active ORDER BY a.name, a.id LIMIT $3::int) g) AS agents,"
        "  (SELECT coalesce(json_agg(r ORDER BY r.due_at), '[]'::json) FROM ("
        "     SELECT c.id AS conversation_id, k.kind, parley_iso(k.due) AS due_at, k.due <= now() AS breached,"
        "       (SELECT ag.name FROM agents ag WHERE ag.id = c.assignee_id) AS assignee,"
        "       (SELECT coalesce(v.name, v.email) FROM visitors v WHERE v.id = c.visitor_id) AS visitor"
        "     FROM conversations c CROSS JOIN LATERAL (VALUES"
        "       ('first_response', CASE WHEN c.first_response_at IS NULL THEN c.sla_first_due_at END),"
        "       ('next_response', CASE WHEN c.awaiting_since IS NOT NULL THEN c.sla_next_due_at END),"
        "       ('resolution', c.sla_resolution_due_at)) AS k(kind, due)"
        "     WHERE c.team_id = t.id AND c.status IN ('queued', 'assigned')"
        "       AND k.due < now() + make_interval(secs => $2::int)"
        "     ORDER BY k.due LIMIT $3::int) r) AS at_risk"
        "  FROM teams t WHERE parley_agent_privileged($1::bigint) ORDER BY t.id LIMIT $4::int) x"
        " WHERE parley_agent_privileged($1::bigint)",
        4, params));
    if (err == CHAT_E_NOT_FOUND)
        err = CHAT_E_FORBIDDEN;
    if (err == CHAT_OK && !(doc = json_loads(text, 0, NULL)))
        err = CHAT_E_INTERNAL;
    if (err == CHAT_OK) {
        long long now = json_integer_value(json_object_get(doc, "now"));
        json_object_del(doc, "now");
        json_array_foreach(json_object_get(doc, "teams"), i, team)
        {
            json_t *hours = json_object_get(team, "business_hours");
            char *hours_text = json_is_object(hours) ? json_dumps(hours, JSON_COMPACT) : NULL;
            calendar_describe(app->zones, hours_text, now, team, "open_now");
            free(hours_text);
            json_object_del(team, "business_hours");
        }
        *reply = json_pack("{s:o}", "board", doc);
        doc = NULL;
        if (!*reply)
            err = CHAT_E_INTERNAL;
    }
    json_decref(doc);
    free(text);
    return err;
}
