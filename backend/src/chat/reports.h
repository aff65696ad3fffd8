/* reports: service levels and satisfaction (docs/reports.md).
 *
 * Owns a report's filter (period as local dates in a zone, team, credited
 * agent, site, label, channel) and the drill-down's narrowing, the calls of
 * the parley_report_* SQL functions (db/sql/97_reports.sql) that compute
 * every figure, and the catch-up that keeps report_conversations current:
 * conversations queued by their events are rebuilt from the record, and
 * the business-time figures are computed here from the team's hours
 * (chat/calendar, core/bizcal), which SQL does not have. Every node's
 * ticker runs the catch-up each second (reports_sweep), and each report
 * runs it before it reads, so a report sees every event committed before
 * it. No state of its own. */
#ifndef PARLEY_REPORTS_H
#define PARLEY_REPORTS_H

#include "chat/errors.h"
#include "core/app.h"
#include "core/tzinfo.h"
#include "db/db.h"

#define REPORTS_MAX_DAYS     366  /* the longest period */
#define REPORTS_HOUR_DAYS    31   /* the longest period of an hourly series */
#define REPORTS_LIST_MAX     200  /* rows per page of the drill-down */
#define REPORTS_CSV_BATCH    500  /* rows per fetch of the export */
#define REPORTS_SWEEP_ROWS   2000 /* rows the ticker brings up to date per second */
#define REPORTS_READ_ROWS    5000 /* rows a report request brings up to date before it reads */
#define REPORTS_RUNNING      2    /* reports computed at once per node */
#define REPORTS_WAITING      16   /* requests waiting for their turn per node (more: 429) */
#define REPORTS_WAIT_SECONDS 10   /* the longest a request waits for its turn (then 429) */

struct reports_filter {
    char from[11], to[11]; /* YYYY-MM-DD, local dates in tz, both included */
    char tz[TZINFO_NAME_MAX + 1];
    long long team_id, agent_id, site_id, label_id; /* 0: any */
    char channel[8];                                /* "": any; widget | api */
};

/* What the drill-down narrows a filter to (each: any when unset). */
struct reports_drill {
    char day[11];     /* a local date */
    int dow, hour;    /* weekday (0 = Monday) and hour of the zone; -1: any */
    char outcome[12]; /* answered | missed | offline | bot | unanswered */
    char rating[8];   /* good | bad */
    char after[48];   /* the cursor: the previous page's "next" */
    int limit;        /* rows per page */
};

/* The date days before date (YYYY-MM-DD; NULL: today in zone tz) into
 * out. */
enum chat_err reports_date_before(struct app *app, const char *date, const char *tz, int days,
                                  char out[11]) CHAT_CHECKED;

/* Rebuilds queued report rows and fills due business-time figures, at most
 * budget rows of each. CHAT_OK when nothing is left to do within budget. */
enum chat_err reports_catch_up(struct app *app, int budget) CHAT_CHECKED;
/* The ticker's catch-up: errors are logged. */
void reports_sweep(struct app *app);

/* The documents of the endpoints, as JSON text into *json (the caller
 * frees). Each catches up first. interval: day | hour | week. */
enum chat_err reports_summary(struct app *app, const struct reports_filter *f, char **json) CHAT_CHECKED;
enum chat_err reports_timeseries(struct app *app, const struct reports_filter *f, const char *interval,
                                 char **json) CHAT_CHECKED;
enum chat_err reports_agents(struct app *app, const struct reports_filter *f, char **json) CHAT_CHECKED;
enum chat_err reports_heatmap(struct app *app, const struct reports_filter *f, char **json) CHAT_CHECKED;
enum chat_err reports_activity(struct app *app, const struct reports_filter *f, char **json) CHAT_CHECKED;

/* A page of the conversations behind a number: {"data": [rows], "next":
 * cursor or null}. CHAT_E_INVALID when d->after is not a cursor. */
enum chat_err reports_list(struct app *app, const struct reports_filter *f, const struct reports_drill *d,
                           char **json) CHAT_CHECKED;

/* The CSV export of the same rows, all of them: *header the header line
 * (the caller frees) and *out a cursor of one CSV line per row (read with
 * db_cursor_next, REPORTS_CSV_BATCH at a time; close with db_cursor_close). */
enum chat_err reports_export_open(struct app *app, const struct reports_filter *f, const struct reports_drill *d,
                                  char **header, struct db_cursor **out) CHAT_CHECKED;

#endif
