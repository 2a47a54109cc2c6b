-- Files in creation order: seq is the list order and never reused, so a
-- deleted file stays as a tombstone (deleted = true) that anchors list
-- cursors. Files are inserted under a per-project advisory lock, so within a
-- project seq order is also commit order and a page never skips a file that
-- commits late.
CREATE TABLE files (
	seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	project    TEXT NOT NULL,
	bytes      BIGINT NOT NULL,
	created_at BIGINT NOT NULL, -- Unix seconds
	filename   TEXT NOT NULL,
	purpose    TEXT NOT NULL,
	expires_at BIGINT NOT NULL, -- Unix seconds; 0: never
	deleted    BOOLEAN NOT NULL DEFAULT false
);

-- Pages of live files, with and without a purpose; tombstones stay out of
-- the indexes so that deleting many files does not slow listing down.
CREATE INDEX files_project ON files (project, seq) WHERE NOT deleted;
CREATE INDEX files_project_purpose ON files (project, purpose, seq) WHERE NOT deleted;
CREATE INDEX files_expires ON files (expires_at) WHERE NOT deleted AND expires_at > 0;

-- The blobs that make a file's bytes, in order.
CREATE TABLE file_blobs (
	file_seq BIGINT NOT NULL REFERENCES files (seq),
	idx      INTEGER NOT NULL,
	key      TEXT NOT NULL,
	size     BIGINT NOT NULL,
	PRIMARY KEY (file_seq, idx)
);

CREATE INDEX file_blobs_key ON file_blobs (key);

-- Uploads, with what their completion listed. part_bytes is the running sum
-- of the recorded parts' sizes, so that AddPart checks its limit with one
-- conditional update of this row.
CREATE TABLE uploads (
	id                 TEXT PRIMARY KEY,
	project            TEXT NOT NULL,
	bytes              BIGINT NOT NULL,
	filename           TEXT NOT NULL,
	purpose            TEXT NOT NULL,
	mime_type          TEXT NOT NULL,
	created_at         BIGINT NOT NULL, -- Unix seconds
	expires_at         BIGINT NOT NULL, -- Unix seconds
	status             TEXT NOT NULL,
	file_expires_after BIGINT NOT NULL,
	part_bytes         BIGINT NOT NULL DEFAULT 0,
	part_ids           TEXT[] NOT NULL DEFAULT '{}',
	md5                TEXT NOT NULL DEFAULT '',
	file_id            TEXT REFERENCES files (id)
);

-- The reaper looks for pending uploads past their expiry.
CREATE INDEX uploads_pending_expires ON uploads (expires_at) WHERE status = 'pending';

-- Parts of pending uploads; dropped when the upload leaves pending.
CREATE TABLE parts (
	id         TEXT PRIMARY KEY,
	upload_id  TEXT NOT NULL REFERENCES uploads (id),
	project    TEXT NOT NULL,
	size       BIGINT NOT NULL,
	created_at BIGINT NOT NULL, -- Unix seconds
	started    BIGINT NOT NULL, -- Unix nanoseconds
	blob_key   TEXT NOT NULL
);

CREATE INDEX parts_upload ON parts (upload_id, started, id);
CREATE INDEX parts_blob_key ON parts (blob_key);

-- Blobs no longer referenced, waiting for a reaper to delete them. A reaper
-- leases what it claims (lease_until), so reapers in several instances never
-- delete the same blobs at once.
CREATE TABLE garbage (
	key         TEXT PRIMARY KEY,
	queued_at   BIGINT NOT NULL,          -- Unix nanoseconds
	lease_until BIGINT NOT NULL DEFAULT 0 -- Unix nanoseconds
);

CREATE INDEX garbage_queued ON garbage (queued_at);
