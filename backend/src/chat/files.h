/* files: uploads, downloads and the life of a file.
 *
 * Owns the files rows (migrations/0006_files.sql, functions in
 * db/sql/60_files.sql) and what happens to them:
 *   - an upload is begun (every check and limit at once, in the database,
 *     so the limits count across nodes), fed chunk by chunk (type sniffed
 *     from the first chunk's bytes, size counted against the site's limit,
 *     SHA-256 computed, bytes stored through chat/filestore), then finished
 *     (the scan hook, PARLEY_UPLOAD_SCAN_CMD, gets the file on stdin; exit
 *     0 makes it ready) or ended without finishing (bytes and row deleted);
 *   - a download is allowed only to someone who may read it (the uploader
 *     until it is sent; then whoever may read its message) or to the
 *     holder of a signed link: HMAC-SHA256 over the id and an expiry, with
 *     a key every node shares (server_secrets), valid PARLEY_FILE_LINK_SECONDS;
 *   - a sweeper thread removes pending uploads whose node died or that took
 *     too long, files never sent, rejected files, and files past their
 *     site's retention period (their messages then say "removed").
 * Attaching a file to a message is part of chat/messages (post_messages).
 *
 * One struct files per process, built by main (files_open) and shared
 * through struct app; it holds the storage backend, the link key, the
 * count of uploads being received, and the sweeper. */
#ifndef PARLEY_FILES_H
#define PARLEY_FILES_H

#include "chat/actor.h"
#include "chat/errors.h"
#include "chat/messages.h"
#include "core/app.h"

#include <stddef.h>

struct files;
struct file_upload;

/* Opens the storage backend (PARLEY_UPLOAD_STORAGE), loads or creates the
 * link key, and starts the sweeper (its first sweep at once: debris of a
 * crash goes at start-up). NULL with a message in err. */
struct files *files_open(struct app *app, char *err, size_t errlen);
/* Stops the sweeper and frees. */
void files_close(struct files *f);

/* Starts an upload by who into conversation conv. name: the client's
 * name, cleaned (core/sniff). declared: the Content-Length, or -1 when the
 * body is chunked. CHAT_OK with *out (end it with files_upload_end), or:
 * CHAT_E_NOT_FOUND, CHAT_E_CLOSED, CHAT_E_UPLOADS_DISABLED,
 * CHAT_E_FILE_TOO_LARGE, CHAT_E_RATE_LIMITED, CHAT_E_AT_CAPACITY (this
 * node receives PARLEY_UPLOAD_CONCURRENCY uploads already),
 * CHAT_E_UNAVAILABLE; *why says more. */
struct file_refusal {
    int retry_after;     /* CHAT_E_RATE_LIMITED, CHAT_E_AT_CAPACITY: seconds */
    long long max_bytes; /* the site's limit (known once the conversation was found) */
};
enum chat_err files_upload_begin(struct app *app, const struct actor *who, long long conv, const char *name,
                                 long long declared, struct file_upload **out, struct file_refusal *why) CHAT_CHECKED;

/* The site's limit for this upload, in bytes. */
long long files_upload_limit(const struct file_upload *u);
/* The type the first chunk's bytes showed, or NULL before it. */
const char *files_upload_type(const struct file_upload *u);

/* Stores the next chunk: FILESTORE_CHUNK bytes, or fewer for the last one.
 * The first chunk's bytes decide the type: CHAT_E_FILE_TYPE when the site
 * does not accept it. CHAT_E_FILE_TOO_LARGE when the file would pass the
 * limit (nothing of the chunk is stored). */
enum chat_err files_upload_write(struct file_upload *u, const unsigned char *data, size_t len) CHAT_CHECKED;

/* Completes the upload: durable bytes, the scan hook, state ready. CHAT_OK
 * with *file_json (the file's shape; the caller frees), or
 * CHAT_E_FILE_TYPE (an empty file has no type), CHAT_E_FILE_REJECTED
 * (the scan refused it), CHAT_E_UNAVAILABLE. */
enum chat_err files_upload_finish(struct file_upload *u, char **file_json) CHAT_CHECKED;

/* Ends the upload and frees u: one not finished is deleted (bytes and
 * row). The bytes received count against the site's day either way. */
void files_upload_end(struct file_upload *u);

/* A file ready to be sent, as files_find describes it. */
struct file_meta {
    char id[FILE_ID_LEN + 1];
    char storage[8];
    char type[128];
    char name[256 * 4];
    long long size;
};

/* The file id if who may download it (who NULL: the holder of a valid
 * signed link; with_notes: an API token with the admin scope). CHAT_OK
 * with *out, CHAT_E_FILE_REMOVED (who may read it, but its bytes are
 * gone), CHAT_E_NOT_FOUND (no such file, not ready, or not who's to
 * see: one answer, so that existence does not leak), CHAT_E_UNAVAILABLE. */
enum chat_err files_find(struct app *app, const char *id, const struct actor *who, int with_notes,
                         struct file_meta *out) CHAT_CHECKED;

/* Chunk n of a found file into buf (FILESTORE_CHUNK bytes); *len 0 at the end. */
enum chat_err files_read(struct app *app, const struct file_meta *m, int n, void *buf, size_t *len) CHAT_CHECKED;

/* A signed link to file id: "/api/files/<id>?expires=<unix>&sig=<hex>"
 * into url (at least 160 bytes), valid PARLEY_FILE_LINK_SECONDS; its
 * expiry (Unix seconds) in *expires. */
void files_link(struct app *app, const char *id, char *url, size_t len, long long *expires);
/* 1 when sig signs id until expires (text, from the query) and that time
 * has not passed. */
int files_link_valid(struct app *app, const char *id, const char *expires, const char *sig);

/* The files of conversation conv that agent who may see, as
 * {"files": [file + message_seq, kind, author, created_at]} (the visitor
 * panel). CHAT_E_NOT_FOUND when the agent may not see the conversation. */
enum chat_err files_list_json(struct app *app, const struct actor *who, long long conv, char **json) CHAT_CHECKED;

/* One sweep now (the sweeper's work; tests and start-up). */
void files_sweep(struct files *f);

#endif
