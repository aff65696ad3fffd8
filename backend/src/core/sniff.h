/* sniff: what a file is, from its bytes, and what it may be called.
 *
 * Owns the magic numbers of the types Parley accepts (the catalogue an
 * admin picks a site's allowed types from), the pixel size of raster
 * images read from their headers, which types are served inline, and the
 * cleaning of a file name a client sent. The client's Content-Type and the
 * name's extension are never believed: the one use of the name is to tell
 * CSV from plain text, which no byte can.
 *
 * Markup (HTML, SVG, XML) is recognised so that it can be refused or served
 * as an attachment, never taken for text or an image. Pure functions. */
#ifndef PARLEY_SNIFF_H
#define PARLEY_SNIFF_H

#include <stddef.h>

/* How many leading bytes sniff_type wants to see (it works with fewer). */
#define SNIFF_HEAD_BYTES 4096
/* A cleaned name's longest length in bytes (UTF-8 kept whole). */
#define SNIFF_NAME_MAX 255

#define SNIFF_TYPE_SVG     "image/svg+xml"
#define SNIFF_TYPE_HTML    "text/html"
#define SNIFF_TYPE_UNKNOWN "application/octet-stream"

struct sniff_result {
    const char *type;  /* a catalogue type, text/html, or application/octet-stream */
    int width, height; /* raster images whose header was in the bytes; else 0 */
};

/* The type of a file from its first len bytes (len may be less than the
 * whole file; text is judged on what is there). name: the cleaned name
 * (CSV or plain text). */
void sniff_type(const unsigned char *head, size_t len, const char *name, struct sniff_result *out);

/* 1 for the raster image types served inline (png, jpeg, gif, webp). */
int sniff_is_raster(const char *type);

/* The catalogue, NULL-terminated: every type a site may allow. */
extern const char *const sniff_catalogue[];
/* (The types a site allows when it has not chosen are the catalogue but
 * SVG and "any other file": parley_default_upload_types() in SQL.) */
/* 1 when type is in the catalogue. */
int sniff_known(const char *type);

/* A client's file name (raw bytes, n of them, already percent-decoded; may
 * hold NUL) as stored: path separators become "_", NUL, control, bidi
 * override and invisible formatting characters are dropped, leading dots
 * and surrounding spaces trimmed, cut to SNIFF_NAME_MAX bytes on a
 * character boundary; nothing left gives "file". out holds
 * SNIFF_NAME_MAX + 1 bytes. Returns -1 when the name is not valid UTF-8. */
int sniff_clean_name(const char *raw, size_t n, char out[SNIFF_NAME_MAX + 1]);

#endif
