-- 0006_files: files and attachments (the functions that read and write
-- them are in backend/src/db/sql/60_files.sql).

-- A file someone uploaded into a conversation. Its id is 128 random bits
-- (never a sequence: nobody can guess another file's address). It is
--   'pending'  while its bytes arrive (and are scanned): invisible to all,
--              removed by the sweeper when its node died or it took too long;
--   'ready'    complete and clean: its uploader may attach it to a message
--              (message_id), and then whoever may read that message may
--              download it; never attached, it is swept after a while;
--   'rejected' the scan hook refused it (bytes deleted, the row kept);
--   'removed'  the site's retention period passed (bytes deleted; the
--              message shows "file removed").
CREATE TABLE files (
    id               text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
    site_id          bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    uploader_kind    text NOT NULL CHECK (uploader_kind IN ('visitor', 'agent', 'api')),
    uploader_id      bigint NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'ready', 'rejected', 'removed')),
    -- The node receiving a pending file: when that node is gone, so is the upload.
    node_id          text,
    storage          text NOT NULL CHECK (storage IN ('pg', 'disk')),
    name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    content_type     text NOT NULL CHECK (char_length(content_type) <= 127),
    size             bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    sha256           bytea CHECK (octet_length(sha256) = 32),
    width            integer CHECK (width > 0),
    height           integer CHECK (height > 0),
    message_id       bigint REFERENCES messages (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    ready_at         timestamptz,
    attached_at      timestamptz,
    removed_at       timestamptz,
    CHECK (message_id IS NULL OR state IN ('ready', 'removed'))
);
CREATE INDEX files_message_idx ON files (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX files_conversation_idx ON files (conversation_id, created_at);
CREATE INDEX files_unattached_idx ON files (created_at) WHERE message_id IS NULL;
CREATE INDEX files_retention_idx ON files (site_id, attached_at) WHERE state = 'ready' AND message_id IS NOT NULL;

-- The bytes of files kept in PostgreSQL (storage 'pg', the default: every
-- node reads every file with no shared disk), in chunks streamed in and out
-- one at a time so that memory stays bounded by a chunk.
CREATE TABLE file_chunks (
    file_id  text NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    n        integer NOT NULL CHECK (n >= 0),
    data     bytea NOT NULL,
    PRIMARY KEY (file_id, n)
);
-- Chunks are mostly compressed formats already (images, zip, office): do
-- not spend CPU trying to compress them again.
ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- Per site: the largest file (NULL: the server's ceiling,
-- PARLEY_UPLOAD_MAX_BYTES), the allowed types (NULL: the default set),
-- whether visitors may upload, and how long files are kept (NULL: for ever).
ALTER TABLE sites
    ADD COLUMN upload_max_bytes bigint CHECK (upload_max_bytes > 0),
    ADD COLUMN upload_types text[],
    ADD COLUMN visitor_uploads boolean NOT NULL DEFAULT true,
    ADD COLUMN file_retention_days integer CHECK (file_retention_days BETWEEN 1 AND 3650);

-- Counters of the upload limits, shared by every node: uploads per visitor
-- per minute, bytes per site per day. One row per (what, whose, window);
-- the sweeper deletes past windows.
CREATE TABLE upload_counters (
    scope        text NOT NULL CHECK (scope IN ('visitor_minute', 'site_day_bytes')),
    owner_id     bigint NOT NULL,
    window_start timestamptz NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (scope, owner_id, window_start)
);

-- Secrets every node must share (the key that signs file links). Created by
-- the first node that needs one; 32 random bytes from parleyd.
CREATE TABLE server_secrets (
    name        text PRIMARY KEY,
    value       bytea NOT NULL CHECK (octet_length(value) >= 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- What a message carries, as its readers see it: a copy of its files'
-- shapes taken when it was posted (and rewritten when one is removed), so
-- that rendering a message costs no lookup. files.message_id stays the
-- truth for who may download.
ALTER TABLE messages ADD COLUMN attachments jsonb;
