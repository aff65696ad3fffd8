/* log: structured logs in logfmt on stderr.
 *
 * Owns the process-wide log level (a singleton set once at start-up, read
 * without locks afterwards) and the quoting of values so that a hostile
 * string (a path with a newline, say) can never forge a log line. */
#ifndef PARLEY_LOG_H
#define PARLEY_LOG_H

#include "core/config.h"

void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

/* Writes one line: ts=... level=... msg="..." key=value ...
 * The variadic part is pairs of const char * (key, value) ended by NULL.
 * A NULL value is written as an empty string. */
void log_msg(enum log_level level, const char *msg, ...) __attribute__((sentinel));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__, (char *)NULL)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__, (char *)NULL)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__, (char *)NULL)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__, (char *)NULL)

#endif
