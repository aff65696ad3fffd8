/* workspace: what a fresh database gets on the first start.
 *
 * Owns the first-run set-up, safe to run on every start and on several
 * nodes at once: an admin agent when there is no agent at all (with a
 * random password, shown once by the caller), and when there is no team a
 * "Support" team holding every agent with a demo site for it, whose widget
 * may run on our own origin. */
#ifndef PARLEY_WORKSPACE_H
#define PARLEY_WORKSPACE_H

#include "chat/errors.h"
#include "db/db.h"

#include <stddef.h>

/* When no agent exists yet, creates an admin ("Admin", email) with a
 * random password of 20 base64url characters written to password_out
 * (outlen > 20). *created = 1 when it did; 0 when an agent existed (or
 * another node created it first). */
enum chat_err workspace_bootstrap_admin(struct db_pool *db, const char *email, char *password_out, size_t outlen,
                                        int *created) CHAT_CHECKED;

/* When no team exists yet, creates the Support team with every agent in it
 * and the demo site, allowing public_origin. *created = 1 with the site's
 * key in site_key (keylen > 24) when it did. */
enum chat_err workspace_bootstrap(struct db_pool *db, const char *public_origin, char *site_key, size_t keylen,
                                  int *created) CHAT_CHECKED;

#endif
