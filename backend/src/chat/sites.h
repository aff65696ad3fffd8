/* sites: the websites that carry the widget.
 *
 * Owns site rows: their public key (24 random base64url characters, what
 * the snippet names), the origins whose pages may run the widget, the
 * widget's settings, the team new conversations go to, and identity
 * verification (the secret, generated here and rotated on request, and
 * whether a verified identity is required: turning it on closes the
 * site's anonymous sockets by trigger, site_identity). Wire shape:
 * parley_site_json (db/sql/30_shapes.sql); the secret only for admins. */
#ifndef PARLEY_SITES_H
#define PARLEY_SITES_H

#include "chat/calendar.h"
#include "chat/errors.h"
#include "db/db.h"

#define SITE_NAME_MAX 100 /* characters */

/* What a create or an update sets; NULL, 0 or -1 keeps a value. */
struct site_fields {
    const char *name;           /* required to create */
    const char *origins_json;   /* JSON array of checked origins */
    const char *settings_json;  /* JSON object of checked widget settings */
    long long default_team_id;  /* an existing team; 0: kept (create: the first team) */
    int identity_required;      /* -1: kept (create: false) */
    int rotate_identity_secret; /* 1: a new secret (create: always) */
    const char *files_json;     /* JSON object of checked file settings: max_bytes, types, visitor_uploads,
                                   retention_days (null: for ever); absent keys kept; NULL: all kept */
};

/* Every site, by id, as {key: [parley_site_json, ...]} JSON text (key:
 * "sites" for the console, "data" for the REST API; with_secret: the
 * identity secret too, for admins); the caller frees *json. */
enum chat_err sites_list_json(struct db_pool *db, const char *key, int with_secret, char **json) CHAT_CHECKED;

/* Creates a site (id 0) or updates one. CHAT_OK with *json = {"site":
 * parley_site_json, with the secret} (the caller frees); CHAT_E_TAKEN when
 * the new key is in use; CHAT_E_NOT_FOUND when there is no site id. */
enum chat_err sites_save(struct db_pool *db, long long id, const struct site_fields *f, char **json) CHAT_CHECKED;

/* A site as the widget's session endpoint needs it. */
struct site_gate {
    long long id;
    int origin_allowed; /* the page's origin is one of the site's (exactly) */
    int identity_required;
    char *identity_secret; /* NULL when the site has none */
    char *public_json;     /* {id, name, settings}: what the widget may know */
};

/* The site whose public key is key, seen from a page of origin.
 * CHAT_E_NOT_FOUND when no site has the key. Free with
 * sites_gate_free. */
enum chat_err sites_gate(struct db_pool *db, const char *key, const char *origin, struct site_gate *out) CHAT_CHECKED;
void sites_gate_free(struct site_gate *g);

/* What the widget's loader needs before any visitor exists: *json = {name,
 * settings, files, online, open, back_at} (the caller frees; open: within
 * the site's team's business hours, back_at: when they open next, null when
 * open; online: open and someone of the team is online and connected) and
 * *allowed = 1 when a page of origin may run it (origin "" or
 * public_origin: our own pages). CHAT_E_NOT_FOUND when no site has the
 * key. zones: the process's time zones (chat/calendar). */
enum chat_err sites_widget_json(struct db_pool *db, struct calendar_zones *zones, const char *key, const char *origin,
                                const char *public_origin, int *allowed, char **json) CHAT_CHECKED;

/* The public key of the first site (the demo page's); the caller frees
 * *key. CHAT_E_NOT_FOUND when there is no site yet. */
enum chat_err sites_first_key(struct db_pool *db, char **key) CHAT_CHECKED;

/* *all = 1 when each of ids[0..n) names a site. */
enum chat_err sites_all_exist(struct db_pool *db, const long long *ids, int n, int *all) CHAT_CHECKED;

#endif
