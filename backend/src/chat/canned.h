/* canned: canned responses, the replies agents insert by shortcut.
 *
 * Owns their rows (a unique shortcut, a body, who wrote it, when it last
 * changed) and their JSON shape {id, shortcut, body, updated_at}. Who may
 * change them (supervisors and admins) is checked by the caller. */
#ifndef PARLEY_CANNED_H
#define PARLEY_CANNED_H

#include "chat/errors.h"
#include "db/db.h"

/* Every canned response, by shortcut, as {"canned": [...]} JSON text (the
 * caller frees *json). */
enum chat_err canned_list_json(struct db_pool *db, char **json) CHAT_CHECKED;

/* Creates one (id 0; shortcut and body required) or updates one (NULL:
 * kept). CHAT_OK with *json = {"canned": {...}} (the caller frees);
 * CHAT_E_TAKEN when another has the shortcut; CHAT_E_NOT_FOUND when there
 * is no canned response id. author: the agent who creates it. */
enum chat_err canned_save(struct db_pool *db, long long id, const char *shortcut, const char *body, long long author,
                          char **json) CHAT_CHECKED;

/* CHAT_E_NOT_FOUND when there is no canned response id. */
enum chat_err canned_delete(struct db_pool *db, long long id) CHAT_CHECKED;

#endif
