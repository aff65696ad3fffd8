/* filestore: where the bytes of files live.
 *
 * Owns the one small interface every storage backend implements, and the
 * two backends there are:
 *   - "pg" (the default): chunks of FILESTORE_CHUNK bytes as rows of
 *     file_chunks, each written and read by one statement on a pooled
 *     connection, so that every node serves every file with no shared
 *     disk, a slow client never holds a connection, and memory stays one
 *     chunk per transfer;
 *   - "disk": one file per upload under PARLEY_DATA_DIR/files/ab/<id>,
 *     for a single node or nodes that share that directory.
 * A file is addressed by its id (128 random bits, never a name a client
 * chose) and read and written chunk by chunk, in order. Which backend holds
 * a file is recorded with it (files.storage), so a file stays readable when
 * the installation switches. An S3-compatible backend would be a third
 * implementation of the same five calls (parts for chunks).
 *
 * Whether a file is visible is not decided here: the files row's state is
 * (chat/files). */
#ifndef PARLEY_FILESTORE_H
#define PARLEY_FILESTORE_H

#include "chat/errors.h"
#include "db/db.h"

#include <stddef.h>

#define FILESTORE_CHUNK (256 * 1024)

struct filestore;

/* The backend named kind ("pg" or "disk"; disk under data_dir/files,
 * created when missing). NULL with a message in err on failure. Free with
 * filestore_close. */
struct filestore *filestore_open(const char *kind, struct db_pool *db, const char *data_dir, char *err, size_t errlen);
void filestore_close(struct filestore *fs);

/* The backend new files go to ("pg" or "disk"). */
const char *filestore_kind(const struct filestore *fs);

/* Stores chunk n (0, 1, 2 ...; every chunk but the last is FILESTORE_CHUNK
 * bytes) of file id in the current backend. */
enum chat_err filestore_put(struct filestore *fs, const char *id, int n, const void *data, size_t len) CHAT_CHECKED;

/* Makes the chunks written so far durable (disk: fsync); the pg backend's
 * rows are committed as they are written. */
enum chat_err filestore_finish(struct filestore *fs, const char *id) CHAT_CHECKED;

/* Reads chunk n of file id held by backend storage into buf (at least
 * FILESTORE_CHUNK bytes): *len is 0 past the last chunk. */
enum chat_err filestore_get(struct filestore *fs, const char *storage, const char *id, int n, void *buf,
                            size_t *len) CHAT_CHECKED;

/* Deletes the bytes of file id held by backend storage (none is fine). */
enum chat_err filestore_remove(struct filestore *fs, const char *storage, const char *id) CHAT_CHECKED;

#endif
