/* teams: the groups of agents that conversations are queued for.
 *
 * Owns team rows and their members: listing them (parley_team_json,
 * db/sql/30_shapes.sql), creating and renaming a team, and replacing its
 * members. A membership change closes the agents' sockets by trigger
 * (agent_rights), and new members may take waiting conversations: the
 * caller drains what *work names after answering (chat/assign.h). */
#ifndef PARLEY_TEAMS_H
#define PARLEY_TEAMS_H

#include "chat/assign.h"
#include "chat/calendar.h"
#include "chat/errors.h"
#include "db/db.h"

#define TEAM_NAME_MAX 100 /* characters */

/* Every team, by id, as {key: [parley_team_json, ...]} JSON text (key:
 * "teams" for the console, "data" for the REST API), each with open_now
 * and back_at from its business hours (zones: chat/calendar); the caller
 * frees *json. */
enum chat_err teams_list_json(struct db_pool *db, struct calendar_zones *zones, const char *key,
                              char **json) CHAT_CHECKED;

/* *all = 1 when each of ids[0..n) names a team. */
enum chat_err teams_all_exist(struct db_pool *db, const long long *ids, int n, int *all) CHAT_CHECKED;

/* A team's working rules, as validated JSON text: NULL leaves a member as
 * it is, "null" clears it (business_hours: chat/calendar; sla, escalation:
 * chat/sla). capacity: collaborators_use_capacity, -1 leaves it. */
struct team_settings {
    const char *business_hours, *sla, *escalation;
    int capacity;
};

/* Creates a team (id 0; name required) or renames one (name NULL: kept),
 * sets what settings gives (NULL: nothing), and when nmembers >= 0 makes
 * member_ids (existing agents, checked by the caller) its members. CHAT_OK
 * with *json = {"team": <parley_team_json>} (the caller frees) and the team
 * added to *work; CHAT_E_TAKEN when another team has the name;
 * CHAT_E_NOT_FOUND when there is no team id. */
enum chat_err teams_save(struct db_pool *db, long long id, const char *name, const struct team_settings *settings,
                         const long long *member_ids, int nmembers, char **json, struct assign_work *work) CHAT_CHECKED;

#endif
