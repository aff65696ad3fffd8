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
#include <stdint.h>
#include <sys/eventfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct bus {
    struct app *app;
    PGconn *conn;
    pthread_t thread;
    int stop_fd; /* eventfd: readable once bus_stop is called */
};

/* Waits up to ms for the stop signal. 1 when it came. */
static int stop_requested(struct bus *bus, int ms)
{
    struct pollfd pfd = {.fd = bus->stop_fd, .events = POLLIN};
    return poll(&pfd, 1, ms) > 0;
}

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
    for (;;) {
        if (PQstatus(bus->conn) != CONNECTION_OK) {
            /* Reconnect with a pause; tell clients to resync once back. */
            if (stop_requested(bus, 1000))
                break;
            PQfinish(bus->conn);
            bus->conn = bus_connect(bus->app->db);
            if (PQstatus(bus->conn) == CONNECTION_OK) {
                log_info("bus reconnected");
                deliver_resync_all(bus->app);
            }
            continue;
        }
        struct pollfd pfd[2] = {{.fd = PQsocket(bus->conn), .events = POLLIN}, {.fd = bus->stop_fd, .events = POLLIN}};
        int rc = poll(pfd, 2, -1);
        if ((rc < 0 && errno != EINTR) || (rc > 0 && pfd[1].revents))
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
    bus->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (bus->stop_fd < 0) {
        snprintf(err, errlen, "cannot create the bus's stop signal");
        free(bus);
        return NULL;
    }
    bus->conn = bus_connect(app->db);
    if (PQstatus(bus->conn) != CONNECTION_OK) {
        snprintf(err, errlen, "DATABASE_URL: bus cannot connect: %.*s", (int)strcspn(PQerrorMessage(bus->conn), "\n"),
                 PQerrorMessage(bus->conn));
        PQfinish(bus->conn);
        close(bus->stop_fd);
        free(bus);
        return NULL;
    }
    if (pthread_create(&bus->thread, NULL, bus_main, bus) != 0) {
        snprintf(err, errlen, "cannot start the bus thread");
        PQfinish(bus->conn);
        close(bus->stop_fd);
        free(bus);
        return NULL;
    }
    return bus;
}

void bus_stop(struct bus *bus)
{
    if (!bus)
        return;
    uint64_t one = 1;
    if (write(bus->stop_fd, &one, sizeof(one)) != sizeof(one))
        log_warn("bus stop signal failed"); /* cannot happen with an eventfd below its maximum */
    pthread_join(bus->thread, NULL);
    PQfinish(bus->conn);
    close(bus->stop_fd);
    free(bus);
}
