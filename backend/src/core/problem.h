/* problem: RFC 9457 problem documents (application/problem+json).
 *
 * Owns the shape of every error body parleyd returns: a stable type URN built
 * from a slug, a title, the status, an optional detail, the request id and an
 * optional list of field errors. Pure: no I/O. */
#ifndef PARLEY_PROBLEM_H
#define PARLEY_PROBLEM_H

#include <jansson.h>

#define PROBLEM_TYPE_PREFIX "urn:parley:problem:"

/* Field-level validation error; a problem carries up to PROBLEM_MAX_FIELDS. */
struct problem_field {
    const char *field;
    const char *message;
};

/* Renders the problem as a compact JSON string. slug must be [a-z0-9_]+.
 * detail, request_id and fields may be NULL (nfields then 0).
 * Returns a malloc'd string the caller frees, or NULL on bad arguments. */
char *problem_render(int status, const char *slug, const char *title, const char *detail, const char *request_id,
                     const struct problem_field *fields, size_t nfields);

/* problem_render with extension members (RFC 9457 section 3.2): members, an
 * object or NULL, is merged in without replacing a standard member; it is
 * not consumed. */
char *problem_render_with(int status, const char *slug, const char *title, const char *detail, const char *request_id,
                          const struct problem_field *fields, size_t nfields, json_t *members);

/* The canonical title for a slug (e.g. "not_found" -> "Not found"), or a
 * generic one for unknown slugs. Never NULL. */
const char *problem_title(const char *slug);

#endif
