/* Reports (docs/reports.md), served twice by the same handlers: under
 * /api/v1/reports/... to a token with the reports:read scope, under
 * /api/reports/... to a console session (admins and supervisors see
 * everything; an agent sees their own figures: agent_id is theirs whatever
 * they ask). Each request's parameters are checked here (dates, zone, ids,
 * the period's length); the figures are chat/reports'. At most
 * REPORTS_RUNNING reports are computed or exported at once per node (a
 * report is one of the heavier reads, and the pool's connections serve
 * the chats first); a request waits up to REPORTS_WAIT_SECONDS for its
 * turn, at most REPORTS_WAITING of them, and is answered 429 otherwise. */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/calendar.h"
#include "chat/reports.h"
#include "core/clock.h"
#include "core/tzinfo.h"
#include "http/auth.h"
#include "http/bearer.h"
#include "http/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Days since 1970-01-01 of a checked YYYY-MM-DD date. */
static long long day_number(const char *date)
{
    return tzinfo_days_from_civil(atoi(date), atoi(date + 5), atoi(date + 8));
}

/* The reader: 0 with *own the agent whose figures alone they may see (0:
 * everyone's), or -1 with the answer sent. */
static int report_access(struct http_req *req, long long *own)
{
    *own = 0;
    if (strncmp(req->path, "/api/v1/", 8) == 0) {
        struct apitoken t;
        return bearer_require_scope(req, &t, APITOKEN_SCOPE_REPORTS_READ);
    }
    struct session s;
    if (auth_require_agent(req, &s, 0) != 0)
        return -1;
    if (strcmp(s.agent.role, "agent") == 0)
        *own = s.agent.id;
    return 0;
}

/* An id parameter into *out (0 when absent). */
static int id_param(struct http_req *req, const char *name, long long *out)
{
    char text[24];
    int got = params_int(req, name, 1, INT64_MAX, text);
    *out = got > 0 ? atoll(text) : 0;
    return got < 0 ? -1 : 0;
}

/* The filter of the query string into *f; 0, or -1 with 400 sent. */
static int read_filter(struct http_req *req, long long own, struct reports_filter *f)
{
    static const char *const channels[] = {"widget", "api", NULL};
    memset(f, 0, sizeof(*f));
    int got = params_query(req, "tz", f->tz, sizeof(f->tz));
    if (got < 0)
        return -1;
    if (got == 0)
        snprintf(f->tz, sizeof(f->tz), "UTC");
    else if (!calendar_zone_exists(req->app->zones, f->tz))
        return params_invalid(req, "tz", "must be a time zone such as Europe/Paris or UTC");
    if (params_date(req, "from", f->from) < 0 || params_date(req, "to", f->to) < 0 ||
        id_param(req, "team_id", &f->team_id) != 0 || id_param(req, "agent_id", &f->agent_id) != 0 ||
        id_param(req, "site_id", &f->site_id) != 0 || id_param(req, "label_id", &f->label_id) != 0 ||
        params_enum(req, "channel", channels, f->channel, sizeof(f->channel)) < 0)
        return -1;
    if (own)
        f->agent_id = own;
    /* No dates: the seven days up to today (or up to `to`). */
    enum chat_err err = CHAT_OK;
    if (!f->to[0])
        err = reports_date_before(req->app, NULL, f->tz, 0, f->to);
    if (err == CHAT_OK && !f->from[0])
        err = reports_date_before(req->app, f->to, f->tz, 6, f->from);
    if (err != CHAT_OK) {
        api_send_error(req, err, NULL, NULL);
        return -1;
    }
    long long days = day_number(f->to) - day_number(f->from) + 1;
    if (days < 1)
        return params_invalid(req, "from", "must not be after to");
    if (days > REPORTS_MAX_DAYS)
        return params_invalid(req, "from", "a report covers at most 366 days");
    return 0;
}

/* The drill-down's narrowing into *d; 0, or -1 with 400 sent. */
static int read_drill(struct http_req *req, int paged, struct reports_drill *d)
{
    static const char *const outcomes[] = {"answered", "missed", "offline", "bot", "unanswered", NULL};
    static const char *const ratings[] = {"good", "bad", NULL};
    char how[8], limit[24];
    memset(d, 0, sizeof(*d));
    d->dow = d->hour = -1;
    if (params_date(req, "day", d->day) < 0 ||
        params_enum(req, "outcome", outcomes, d->outcome, sizeof(d->outcome)) < 0 ||
        params_enum(req, "rating", ratings, d->rating, sizeof(d->rating)) < 0)
        return -1;
    int got = params_query(req, "hour_of_week", how, sizeof(how));
    if (got < 0)
        return -1;
    if (got > 0) {
        /* d:h or d:hh, digits only */
        size_t len = strlen(how);
        int ok = (len == 3 || len == 4) && how[0] >= '0' && how[0] <= '6' && how[1] == ':' &&
                 strspn(how + 2, "0123456789") == len - 2;
        int hour = ok ? atoi(how + 2) : -1;
        if (!ok || hour > 23)
            return params_invalid(req, "hour_of_week", "must be weekday:hour, weekday 0 (Monday) to 6, hour 0 to 23");
        d->dow = how[0] - '0';
        d->hour = hour;
    }
    if (!paged)
        return 0;
    if (params_query(req, "after", d->after, sizeof(d->after)) < 0 ||
        params_int(req, "limit", 1, REPORTS_LIST_MAX, limit) < 0)
        return -1;
    d->limit = limit[0] ? atoi(limit) : 50;
    return 0;
}

/* A slot among the node's running reports, waited for a little (a console
 * page asks for five at once); 0, or -1 with 429 sent when none came free
 * in time or too many wait already (each waiter holds a worker thread). */
static int report_slot(struct http_req *req)
{
    struct app *app = req->app;
    int got = 0;
    if (atomic_fetch_add(&app->reports_waiting, 1) < REPORTS_WAITING) {
        double until = clock_now() + REPORTS_WAIT_SECONDS;
        for (;;) {
            int n = atomic_load(&app->reports_running);
            if (n < REPORTS_RUNNING && atomic_compare_exchange_weak(&app->reports_running, &n, n + 1)) {
                got = 1;
                break;
            }
            if (clock_now() >= until)
                break;
            nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        }
    }
    atomic_fetch_sub(&app->reports_waiting, 1);
    if (got)
        return 0;
    snprintf(req->extra_headers, sizeof(req->extra_headers), "Retry-After: 1\r\n");
    http_send_problem(req, 429, "too_many_requests", "other reports are being computed: try again in a second");
    return -1;
}

enum report_doc { DOC_SUMMARY, DOC_TIMESERIES, DOC_AGENTS, DOC_HEATMAP, DOC_ACTIVITY, DOC_LIST };

static void report(struct http_req *req, enum report_doc which)
{
    static const char *const intervals[] = {"day", "hour", "week", NULL};
    struct reports_filter f;
    struct reports_drill d;
    char interval[8] = "";
    long long own;
    char *json = NULL;
    if (report_access(req, &own) != 0 || read_filter(req, own, &f) != 0 ||
        (which == DOC_LIST && read_drill(req, 1, &d) != 0) ||
        (which == DOC_TIMESERIES && params_enum(req, "interval", intervals, interval, sizeof(interval)) < 0))
        return;
    if (which == DOC_TIMESERIES && !interval[0])
        snprintf(interval, sizeof(interval), "day");
    if (strcmp(interval, "hour") == 0 && day_number(f.to) - day_number(f.from) + 1 > REPORTS_HOUR_DAYS) {
        params_invalid(req, "interval", "hour is for periods of at most 31 days");
        return;
    }
    if (report_slot(req) != 0)
        return;
    enum chat_err err = which == DOC_SUMMARY      ? reports_summary(req->app, &f, &json)
                        : which == DOC_TIMESERIES ? reports_timeseries(req->app, &f, interval, &json)
                        : which == DOC_AGENTS     ? reports_agents(req->app, &f, &json)
                        : which == DOC_HEATMAP    ? reports_heatmap(req->app, &f, &json)
                        : which == DOC_ACTIVITY   ? reports_activity(req->app, &f, &json)
                                                  : reports_list(req->app, &f, &d, &json);
    atomic_fetch_sub(&req->app->reports_running, 1);
    if (err == CHAT_E_INVALID)
        params_invalid(req, "after", "is not a cursor this endpoint gave");
    else
        api_answer(req, 200, err, json, NULL, NULL);
    free(json);
}

void api_reports_summary(struct http_req *req)
{
    report(req, DOC_SUMMARY);
}

void api_reports_timeseries(struct http_req *req)
{
    report(req, DOC_TIMESERIES);
}

void api_reports_agents(struct http_req *req)
{
    report(req, DOC_AGENTS);
}

void api_reports_heatmap(struct http_req *req)
{
    report(req, DOC_HEATMAP);
}

void api_reports_activity(struct http_req *req)
{
    report(req, DOC_ACTIVITY);
}

void api_reports_conversations(struct http_req *req)
{
    report(req, DOC_LIST);
}

/* GET .../reports/export: the rows of reports/conversations, all of them,
 * as CSV, streamed a batch at a time. */
void api_reports_export(struct http_req *req)
{
    struct reports_filter f;
    struct reports_drill d;
    struct db_cursor *cur = NULL;
    char *header = NULL;
    long long own;
    if (report_access(req, &own) != 0 || read_filter(req, own, &f) != 0 || read_drill(req, 0, &d) != 0 ||
        report_slot(req) != 0)
        return;
    enum chat_err err = reports_export_open(req->app, &f, &d, &header, &cur);
    if (err != CHAT_OK) {
        api_send_error(req, err, NULL, NULL);
    } else {
        snprintf(req->extra_headers, sizeof(req->extra_headers),
                 "Content-Disposition: attachment; filename=\"parley-report-%s-%s.csv\"\r\n", f.from, f.to);
        api_stream_rows(req, cur, REPORTS_CSV_BATCH, "text/csv; charset=utf-8", header, "", "report export");
    }
    free(header);
    atomic_fetch_sub(&req->app->reports_running, 1);
}
