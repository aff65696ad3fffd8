/* bots: agent bots that take a site's or a team's new conversations first.
 *
 * Owns the bots rows (migrations/0008_bots.sql; functions in
 * db/sql/80_bots.sql). A bot is a webhook endpoint (chat/webhooks: it
 * hears conversation.created, message.created, conversation.queued and
 * conversation.closed of the conversations it handles, never notes, never
 * its own messages) and an API token it answers with through the REST API
 * (its messages are authored by the bot, shown to the visitor under its
 * name). A conversation it handles has status 'bot': no agent is offered
 * it until the bot hands it off (bots_handoff: REST, or the handoff action
 * of a reply), which queues it in its team with the bot's summary as an
 * internal note; the presence ticker hands off what a bot left unanswered
 * past its timeout or can no longer hear (bots_sweep). The moment the
 * conversation leaves status 'bot' the bot stops hearing of it (its
 * undelivered events are cancelled in the same transaction). */
#ifndef PARLEY_BOTS_H
#define PARLEY_BOTS_H

#include "chat/actor.h"
#include "chat/assign.h"
#include "chat/errors.h"
#include "chat/webhooks.h"
#include "core/app.h"

#define BOTS_NAME_MAX    100
#define BOTS_SUMMARY_MAX 2000
#define BOTS_MAX         50

/* What a create or update sets: NULL / -1 = leave as it is. sites and
 * teams: JSON arrays of ids (checked to exist by the caller). */
struct bot_fields {
    const char *name;
    const char *url;
    int timeout_seconds;
    int enabled;
    const char *sites;
    const char *teams;
};

/* Creates a bot with its endpoint and token: the endpoint's secret into
 * secret, the token into token (both shown once), its shape into *json.
 * CHAT_E_TAKEN (the name), CHAT_E_LIMIT (BOTS_MAX bots). */
enum chat_err bots_create(struct app *app, const struct bot_fields *f, char secret[WHSIG_SECRET_MAX], char *token,
                          size_t token_len, char **json) CHAT_CHECKED;
/* A new token for bot id into token (shown once); the old one is revoked. */
enum chat_err bots_new_token(struct app *app, long long id, char *token, size_t token_len) CHAT_CHECKED;
enum chat_err bots_update(struct app *app, long long id, const struct bot_fields *f, char **json) CHAT_CHECKED;
/* Deletes a bot: its conversations are handed off (their teams into work). */
enum chat_err bots_delete(struct app *app, long long id, struct assign_work *work) CHAT_CHECKED;
/* {"data": [bot, ...]} (not deleted), newest first. */
enum chat_err bots_list_json(struct app *app, char **json) CHAT_CHECKED;
enum chat_err bots_get_json(struct app *app, long long id, char **json) CHAT_CHECKED;

/* Hands conversation conv off to its team's queue with summary (NULL or
 * "": a default line) as the bot's internal note. who: a bot (only its own
 * conversations; others are CHAT_E_NOT_FOUND) or an integration.
 * CHAT_E_INVALID_STATE when no bot handles it now. The team goes into
 * work (assignment runs after commit). */
enum chat_err bots_handoff(struct app *app, const struct actor *who, long long conv, const char *summary,
                           struct assign_work *work) CHAT_CHECKED;

/* Hands off what bots left unanswered past their timeouts or can no longer
 * hear (the presence ticker, every node, once a second). */
void bots_sweep(struct app *app, struct assign_work *work);

#endif
