/* journey: what agents read about the people on their sites.
 *
 * Owns the two reads behind the console's Visitors view and visitor panel:
 * everyone online now (SQL visitors_online, written by chat/online) with
 * filters, and one visitor's context and journey (their visits, newest
 * first, each with its pages and the time spent on each). An agent sees the
 * visitors of sites whose default team they are in, and the visitor of any
 * conversation they see; supervisors and admins see all. */
#ifndef PARLEY_JOURNEY_H
#define PARLEY_JOURNEY_H

#include "chat/actor.h"
#include "chat/errors.h"
#include "db/db.h"

#define JOURNEY_ONLINE_LIMIT_MAX 500
#define JOURNEY_VISITS           10 /* visits in a context */
#define JOURNEY_PAGES            50 /* pages per visit (the latest) */

struct journey_filter {
    long long site_id;   /* 0: any */
    const char *country; /* NULL: any; else two capitals */
    int chatting;        /* -1 any, 0 not, 1 in an open conversation */
    int returning;       /* -1 any, 0 new, 1 returning */
    const char *q;       /* NULL or text in page URL/title, name, email, city */
    int limit;           /* 1..JOURNEY_ONLINE_LIMIT_MAX */
};

/* {"visitors": [...], "total", "now"} into *json (the caller frees). */
enum chat_err journey_online(struct db_pool *db, const struct actor *agent, const struct journey_filter *f,
                             char **json) CHAT_CHECKED;

/* {"visitor": {...}, "visits": [...]} into *json (the caller frees);
 * CHAT_E_NOT_FOUND when there is none the agent sees (an API token,
 * ACTOR_API, sees every visitor). */
enum chat_err journey_context(struct db_pool *db, const struct actor *agent, long long visitor_id,
                              char **json) CHAT_CHECKED;

#endif
