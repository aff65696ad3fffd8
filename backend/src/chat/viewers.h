/* viewers: who has a conversation open in the console, and who of them is
 * typing, across nodes.
 *
 * Owns the rows of conversation_viewers (migration 0009; functions in
 * db/sql/90_escalation.sql): an agent socket that shows a conversation
 * counts once per node (a second tab adds a connection, not a viewer);
 * closing it, or the socket, takes it away. Every change the others can
 * see (someone arrives, leaves, starts or stops typing) NOTIFYs
 * {"e":"viewers"} with the new list, which every node delivers to the
 * agents who may see the conversation as conversation.viewers. A node that
 * stops takes its viewers with it; the presence tick removes those of a
 * node that died (viewers_sweep). */
#ifndef PARLEY_VIEWERS_H
#define PARLEY_VIEWERS_H

#include "chat/actor.h"
#include "chat/errors.h"
#include "core/app.h"

#include <jansson.h>

/* Conversations one socket may show at once (the console shows one; a few
 * more cover a tab switching between them). */
#define VIEWERS_PER_SOCKET 4

/* How long a typing flag lasts unless renewed (clients renew it every few
 * seconds while typing). */
#define VIEWERS_TYPING_SECONDS 8

/* The agent's socket on this node opened (open = 1) or closed conversation
 * conv. Opening requires that the agent may see it (CHAT_E_NOT_FOUND
 * otherwise); closing what is not open is not an error. When opening and
 * viewers is not NULL, *viewers is set to the list as it is now (the
 * others hear of a change only, so a socket that adds nothing to the set,
 * a second tab, would otherwise never learn it); the caller owns it. */
enum chat_err viewers_set(struct app *app, const struct actor *a, long long conv, int open,
                          json_t **viewers) CHAT_CHECKED;

/* The agent typing (on) or not in a conversation they have open here; note
 * when what they type is a note or a whisper rather than a reply. */
enum chat_err viewers_typing(struct app *app, long long agent_id, long long conv, int on, int note) CHAT_CHECKED;

/* Removes the viewers of nodes that stopped heartbeating (node_id NULL) or
 * of this stopping node, telling the others. Returns how many, or -1. */
int viewers_sweep(struct app *app, const char *node_id);

#endif
