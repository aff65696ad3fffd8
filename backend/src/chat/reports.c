#include "chat/reports.h"

#include "chat/calendar.h"
#include "core/bizcal.h"
#include "core/log.h"
#include "core/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 500 /* rows per statement of the catch-up */

enum chat_err reports_date_before(struct app *app, const char *date, const char *tz, int days, char out[11])
{
    char *text = NULL;
    enum chat_err err = chat_err_of(
        db_query_text(app->db, &text, "SELECT (coalesce($1::date, (now() AT TIME ZONE $2)::date) - $3::int)::text", 3,
                      (const char *const[]){date, tz, DB_ID(days)}));
    if (err == CHAT_OK)
        snprintf(out, 11, "%s", text);
    free(text);
    return err;
}

/* ------------------------------------------------------------ catch-up */

/* Business seconds in [from, to) of instants with fractions: whole seconds
 * by bizcal, and the fractions at either end by whether that second is
 * open (hours change on whole minutes, so a second is open throughout or
 * not at all). */
static double business_between(const struct bizcal *cal, double from, double to)
{
    if (!(to > from))
        return 0;
    double f = floor(from), t = floor(to);
    double s = (double)bizcal_elapsed(cal, (int64_t)f, (int64_t)t);
    s -= bizcal_is_open(cal, (int64_t)f) ? from - f : 0;
    s += bizcal_is_open(cal, (int64_t)t) ? to - t : 0;
    return s;
}

/* One value of a JSON array: the number, or null. */
static void put_seconds(struct strbuf *b, int have, double v)
{
    if (have)
        strbuf_printf(b, ",%.6f", v);
    else
        strbuf_str(b, ",null");
}

struct business_ctx {
    struct app *app;
    int done;
};

/* The due rows of one batch, computed and written under their row locks. */
static int business_tx(PGconn *conn, void *arg)
{
    struct business_ctx *ctx = arg;
    PGresult *res = NULL;
    struct strbuf b = {0};
    ctx->done = 0;
    int rc = db_exec(conn, &res, "SELECT * FROM parley_report_business_due($1::int)", 1,
                     (const char *const[]){DB_ID(BATCH)});
    if (rc != DB_OK)
        goto done;
    int n = PQntuples(res);
    strbuf_str(&b, "[");
    for (int i = 0; i < n; i++) {
        struct bizcal cal;
        const char *hours = db_get_str(res, i, 1);
        /* 1: the team has no hours (any more): always open, like -1 (unreadable, logged). */
        int rc_cal = calendar_load(ctx->app->zones, hours, &cal), loaded = rc_cal == 0;
        if (rc_cal < 0)
            log_warn("report: a team's business hours cannot be read; counted as always open", "conversation",
                     db_get_str(res, i, 0));
        double t[5];
        int have[5];
        for (int k = 0; k < 5; k++) {
            const char *v = db_get_str(res, i, 2 + k);
            have[k] = v != NULL;
            t[k] = v ? strtod(v, NULL) : 0;
        }
        /* queued, assigned, replied, started, closed */
        double base = have[0] ? t[0] : t[3];
        strbuf_printf(&b, "%s[%s", i ? "," : "", db_get_str(res, i, 0));
        put_seconds(&b, have[0] && have[1], loaded ? business_between(&cal, t[0], t[1]) : t[1] - t[0]);
        put_seconds(&b, have[2], loaded ? business_between(&cal, base, t[2]) : t[2] - base);
        put_seconds(&b, have[4], loaded ? business_between(&cal, t[3], t[4]) : t[4] - t[3]);
        strbuf_str(&b, "]");
    }
    strbuf_str(&b, "]");
    if (b.failed) {
        rc = DB_E_QUERY;
        goto done;
    }
    if (n > 0)
        rc = db_exec(conn, NULL, "SELECT parley_report_business_set($1::jsonb)", 1, (const char *const[]){b.data});
    ctx->done = n;
done:
    PQclear(res);
    strbuf_free(&b);
    return rc;
}

enum chat_err reports_catch_up(struct app *app, int budget)
{
    int left = budget, n = BATCH;
    enum chat_err err = CHAT_OK;
    /* Rows rebuilt first: a rebuild may make business figures due. */
    while (err == CHAT_OK && n == BATCH && left > 0) {
        char *text = NULL;
        err = chat_err_of(db_query_text(app->db, &text, "SELECT parley_report_catch_up($1::int)::text", 1,
                                        (const char *const[]){DB_ID(BATCH)}));
        n = text ? atoi(text) : 0;
        left -= n;
        free(text);
    }
    n = BATCH;
    left = budget;
    while (err == CHAT_OK && n == BATCH && left > 0) {
        struct business_ctx ctx = {app, 0};
        err = chat_err_of(db_transaction(app->db, business_tx, &ctx));
        n = ctx.done;
        left -= n;
    }
    return err;
}

void reports_sweep(struct app *app)
{
    if (reports_catch_up(app, REPORTS_SWEEP_ROWS) != CHAT_OK)
        log_warn("report rows not brought up to date");
}

/* ---------------------------------------------------------------- reads */

/* The filter as the SQL functions' first eight parameters: from, to, tz,
 * team, agent, site, label, channel. ids holds the ids' text. */
static void filter_params(const struct reports_filter *f, char ids[4][DB_ID_LEN], const char **p)
{
    p[0] = f->from;
    p[1] = f->to;
    p[2] = f->tz;
    p[3] = f->team_id ? db_id_text(ids[0], f->team_id) : NULL;
    p[4] = f->agent_id ? db_id_text(ids[1], f->agent_id) : NULL;
    p[5] = f->site_id ? db_id_text(ids[2], f->site_id) : NULL;
    p[6] = f->label_id ? db_id_text(ids[3], f->label_id) : NULL;
    p[7] = f->channel[0] ? f->channel : NULL;
}

#define FILTER_ARGS "$1::date, $2::date, $3, $4::bigint, $5::bigint, $6::bigint, $7::bigint, $8"

/* One of the documents, after the catch-up: sql takes the first nparams of
 * the filter's parameters, and extra (NULL: none) as $9. */
static enum chat_err report_doc(struct app *app, const struct reports_filter *f, const char *sql, int nparams,
                                const char *extra, char **json)
{
    char ids[4][DB_ID_LEN];
    const char *p[9];
    *json = NULL;
    enum chat_err err = reports_catch_up(app, REPORTS_READ_ROWS);
    if (err != CHAT_OK)
        return err;
    filter_params(f, ids, p);
    p[8] = extra;
    return chat_err_of(db_query_text(app->db, json, sql, extra ? 9 : nparams, p));
}

enum chat_err reports_summary(struct app *app, const struct reports_filter *f, char **json)
{
    return report_doc(app, f, "SELECT parley_report_summary(" FILTER_ARGS ")", 8, NULL, json);
}

enum chat_err reports_timeseries(struct app *app, const struct reports_filter *f, const char *interval, char **json)
{
    return report_doc(app, f,
                      "SELECT parley_report_timeseries($1::date, $2::date, $3, $9, $4::bigint, $5::bigint,"
                      " $6::bigint, $7::bigint, $8)",
                      8, interval, json);
}

enum chat_err reports_agents(struct app *app, const struct reports_filter *f, char **json)
{
    return report_doc(app, f, "SELECT parley_report_agents(" FILTER_ARGS ")", 8, NULL, json);
}

enum chat_err reports_heatmap(struct app *app, const struct reports_filter *f, char **json)
{
    return report_doc(app, f, "SELECT parley_report_heatmap(" FILTER_ARGS ")", 8, NULL, json);
}

enum chat_err reports_activity(struct app *app, const struct reports_filter *f, char **json)
{
    /* Site, label and channel are about conversations: not used here. */
    return report_doc(app, f, "SELECT parley_report_activity($1::date, $2::date, $3, $4::bigint, $5::bigint)", 5, NULL,
                      json);
}

/* The drill-down's parameters 9..16: day, weekday, hour, outcome, rating,
 * the cursor's start time and id, the page size (NULL: all). -1 when the
 * cursor is not one ("<ISO time>,<id>"). */
static int drill_params(const struct reports_drill *d, char buf[5][DB_ID_LEN], char at[48], const char **p)
{
    p[8] = d->day[0] ? d->day : NULL;
    p[9] = d->dow >= 0 ? db_id_text(buf[0], d->dow) : NULL;
    p[10] = d->hour >= 0 ? db_id_text(buf[1], d->hour) : NULL;
    p[11] = d->outcome[0] ? d->outcome : NULL;
    p[12] = d->rating[0] ? d->rating : NULL;
    p[13] = p[14] = NULL;
    p[15] = d->limit > 0 ? db_id_text(buf[2], d->limit + 1) : NULL;
    if (!d->after[0])
        return 0;
    /* The cursor came from our own "next": 2026-11-03T14:05:06.123456Z,42 */
    const char *comma = strrchr(d->after, ',');
    size_t tlen = comma ? (size_t)(comma - d->after) : 0;
    char *end = NULL;
    long long id = comma ? strtoll(comma + 1, &end, 10) : 0;
    if (!comma || tlen != 27 || id <= 0 || *end || strspn(d->after, "0123456789-T:.Z") < tlen)
        return -1;
    memcpy(at, d->after, tlen);
    at[tlen] = '\0';
    p[13] = at;
    p[14] = db_id_text(buf[3], id);
    return 0;
}

#define LIST_ARGS FILTER_ARGS ", $9::date, $10::int, $11::int, $12, $13, $14::timestamptz, $15::bigint, $16::int"

/* The drill-down's parameters (p, with the texts they point to) once the
 * rows are up to date. */
struct list_params {
    char ids[4][DB_ID_LEN], buf[5][DB_ID_LEN], at[48];
    const char *p[16];
};

static enum chat_err list_prepare(struct app *app, const struct reports_filter *f, const struct reports_drill *d,
                                  struct list_params *lp)
{
    filter_params(f, lp->ids, lp->p);
    if (drill_params(d, lp->buf, lp->at, lp->p) != 0)
        return CHAT_E_INVALID;
    return reports_catch_up(app, REPORTS_READ_ROWS);
}

enum chat_err reports_list(struct app *app, const struct reports_filter *f, const struct reports_drill *d, char **json)
{
    struct list_params lp;
    *json = NULL;
    enum chat_err err = list_prepare(app, f, d, &lp);
    if (err != CHAT_OK)
        return err;
    /* The page and one more row, to know whether there is a next page. */
    return chat_err_of(db_query_text(
        app->db, json,
        "WITH page AS (SELECT r AS rc, row_number() OVER (ORDER BY r.started_at DESC, r.conversation_id DESC) AS n"
        "  FROM parley_report_list(" LIST_ARGS ") r)"
        " SELECT json_build_object("
        "  'data', coalesce((SELECT json_agg(parley_report_row(x.rc) ORDER BY x.n)"
        "     FROM page x WHERE x.n < $16::int), '[]'::json),"
        "  'next', (SELECT parley_iso((x.rc).started_at) || ',' || (x.rc).conversation_id FROM page x"
        "     WHERE x.n = $16::int - 1 AND EXISTS (SELECT 1 FROM page y WHERE y.n = $16::int)))::text",
        16, lp.p));
}

enum chat_err reports_export_open(struct app *app, const struct reports_filter *f, const struct reports_drill *d,
                                  char **header, struct db_cursor **out)
{
    struct list_params lp;
    *header = NULL;
    *out = NULL;
    enum chat_err err = list_prepare(app, f, d, &lp);
    if (err == CHAT_OK)
        err = chat_err_of(db_query_text(
            app->db, header, "SELECT parley_csv_line(parley_report_row(NULL::report_conversations), true)", 0, NULL));
    if (err == CHAT_OK)
        err = chat_err_of(db_cursor_open(app->db,
                                         "SELECT parley_csv_line(parley_report_row(r), false)"
                                         " FROM parley_report_list(" LIST_ARGS ") r",
                                         16, lp.p, out));
    if (err != CHAT_OK) {
        free(*header);
        *header = NULL;
    }
    return err;
}
