#include "live/bus.h"

#include "core/clock.h"
#include "db/db.h"
#include "live/deliver.h"
#include "core/log.h"
#include "core/metrics.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct bus {
    struct app *app;
    PGconn *conn;
    pthread_t thread;
    atomic_int stop;
};

static PGconn *bus_connect(struct db_pool *db)
{
    PGconn *conn = db_connect(db, "parleyd-bus");
    PGresult *res;
    if (PQstatus(conn) != CONNECTION_OK)
        return conn;
    res = PQexec(conn, "LISTEN " BUS_CHANNEL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        log_error("bus LISTEN failed", "error", PQerrorMessage(conn));
    PQclear(res);
    return conn;
}

static void bus_drain(struct bus *bus)
{
    PGnotify *n;
    while ((n = PQnotifies(bus->conn)) != NULL) {
        double t0 = clock_now();
        deliver_notification(bus->app, n->extra);
        metrics_bus_observe(bus->app->metrics, clock_now() - t0);
        PQfreemem(n);
    }
}

static void *bus_main(void *arg)
{
    struct bus *bus = arg;
    while (!atomic_load(&bus->stop)) {
        if (PQstatus(bus->conn) != CONNECTION_OK) {
            /* Reconnect with a pause; tell clients to resync once back. */
            sleep(1);
            PQfinish(bus->conn);
            bus->conn = bus_connect(bus->app->db);
            if (PQstatus(bus->conn) == CONNECTION_OK) {
                log_info("bus reconnected");
                deliver_resync_all(bus->app);
            }
            continue;
        }
        struct pollfd pfd = {.fd = PQsocket(bus->conn), .events = POLLIN};
        int rc = poll(&pfd, 1, 250); /* wakes up to notice bus_stop */
        if (rc < 0 && errno != EINTR)
            break;
        if (rc > 0) {
            if (PQconsumeInput(bus->conn) == 0) {
                log_warn("bus connection lost", "error", PQerrorMessage(bus->conn));
                PQreset(bus->conn);
                if (PQstatus(bus->conn) == CONNECTION_OK) {
                    PGresult *res = PQexec(bus->conn, "LISTEN " BUS_CHANNEL);
                    PQclear(res);
                    deliver_resync_all(bus->app);
                }
                continue;
            }
            bus_drain(bus);
        }
    }
    return NULL;
}

struct bus *bus_start(struct app *app, char *err, size_t errlen)
{
    struct bus *bus = calloc(1, sizeof(*bus));
    if (!bus) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bus->app = app;
    atomic_init(&bus->stop, 0);
    bus->conn = bus_connect(app->db);
    if (PQstatus(bus->conn) != CONNECTION_OK) {
        snprintf(err, errlen, "DATABASE_URL: bus cannot connect: %.*s", (int)strcspn(PQerrorMessage(bus->conn), "\n"),
                 PQerrorMessage(bus->conn));
        PQfinish(bus->conn);
        free(bus);
        return NULL;
    }
    if (pthread_create(&bus->thread, NULL, bus_main, bus) != 0) {
        snprintf(err, errlen, "cannot start the bus thread");
        PQfinish(bus->conn);
        free(bus);
        return NULL;
    }
    return bus;
}

void bus_stop(struct bus *bus)
{
    if (!bus)
        return;
    atomic_store(&bus->stop, 1);
    pthread_join(bus->thread, NULL);
    PQfinish(bus->conn);
    free(bus);
}
