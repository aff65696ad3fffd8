/* triage: how urgent a conversation is and what it is about.
 *
 * Owns a conversation's priority (low, normal, high, urgent: the router
 * serves the highest first, then the longest waiting), the admin-managed
 * list of labels (a unique name and a colour) with their JSON shape
 * {id, name, colour}, and the labels a conversation carries (at most
 * TRIAGE_LABELS_MAX). A priority change is a note for the agents (meta
 * event "priority"; never shown to the visitor) and conversation.updated
 * change "priority"; a label change is a note too (meta event "labels",
 * "added" and "removed" label ids; the body names them) and change
 * "labels". Who may change the list of labels (admins) is checked by
 * the caller; a conversation's priority and labels are changed by the
 * agents who see it (its team, its owner and participants, supervisors and
 * admins) and by integrations. */
#ifndef PARLEY_TRIAGE_H
#define PARLEY_TRIAGE_H

#include "chat/actor.h"
#include "chat/errors.h"
#include "core/app.h"
#include "db/db.h"

#include <jansson.h>
#include <stddef.h>

#define TRIAGE_LABELS_MAX     20 /* on one conversation */
#define TRIAGE_LABEL_NAME_MAX 50
#define TRIAGE_LABELS_TOTAL   500 /* in the workspace */

/* "low".."urgent" for 0..3 (NULL otherwise), and back (-1 when unknown). */
const char *triage_priority_name(int value);
int triage_priority_value(const char *name);

/* Sets the priority (0..3). Reply {"conversation": <agent view>} (caller
 * owns); CHAT_E_INVALID_STATE when closed. */
enum chat_err triage_set_priority(struct app *app, const struct actor *a, long long conv, int priority,
                                  json_t **reply) CHAT_CHECKED;
/* Replaces the conversation's labels with ids[0..n) (CHAT_E_NOT_FOUND when
 * one of them does not exist). Reply as above. */
enum chat_err triage_set_labels(struct app *app, const struct actor *a, long long conv, const long long *ids, size_t n,
                                json_t **reply) CHAT_CHECKED;

/* {"labels": [...]} by name, JSON text the caller frees. */
enum chat_err triage_labels_json(struct db_pool *db, char **json) CHAT_CHECKED;
/* Creates (id 0: name required, colour NULL = grey) or updates (NULL:
 * kept) a label: *json = {"label": {...}}, caller frees. CHAT_E_TAKEN when
 * another label has the name, CHAT_E_LIMIT when the workspace has
 * TRIAGE_LABELS_TOTAL, CHAT_E_NOT_FOUND when there is no label id. */
enum chat_err triage_label_save(struct db_pool *db, long long id, const char *name, const char *colour,
                                char **json) CHAT_CHECKED;
/* Deletes a label (and takes it off every conversation). */
enum chat_err triage_label_delete(struct db_pool *db, long long id) CHAT_CHECKED;

#endif
