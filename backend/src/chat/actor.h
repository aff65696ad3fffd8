/* actor: who is doing something.
 *
 * Owns the one description of the party behind a domain operation, whatever
 * door it came in by (a visitor's or an agent's socket, the console, an API
 * token, the server itself), and its wire name. */
#ifndef PARLEY_ACTOR_H
#define PARLEY_ACTOR_H

enum actor_kind { ACTOR_VISITOR, ACTOR_AGENT, ACTOR_API, ACTOR_BOT, ACTOR_SYSTEM };

struct actor {
    enum actor_kind kind;
    long long id;      /* visitor id, agent id, API token id, bot id; 0 for the system */
    long long site_id; /* visitor: the site the token belongs to */
    int privileged;    /* supervisor/admin agent (as claimed; narrowed by the current role), or an API token */
};

/* The name stored in messages.author_kind: visitor, agent, api, bot, system. */
const char *actor_kind_name(const struct actor *a);

#endif
