-- Uploads, with what their completion listed. part_bytes is the running sum
-- of the recorded parts' sizes, so that AddPart checks its limit in O(1).
CREATE TABLE uploads (
	id                 TEXT PRIMARY KEY,
	project            TEXT NOT NULL,
	bytes              INTEGER NOT NULL,
	filename           TEXT NOT NULL,
	purpose            TEXT NOT NULL,
	mime_type          TEXT NOT NULL,
	created_at         INTEGER NOT NULL, -- Unix seconds
	expires_at         INTEGER NOT NULL, -- Unix seconds
	status             TEXT NOT NULL,
	file_expires_after INTEGER NOT NULL,
	part_bytes         INTEGER NOT NULL DEFAULT 0,
	part_ids           TEXT NOT NULL DEFAULT '[]', -- JSON array
	md5                TEXT NOT NULL DEFAULT '',
	file_id            TEXT REFERENCES files (id)
) WITHOUT ROWID;

-- The reaper looks for pending uploads past their expiry.
CREATE INDEX uploads_pending_expires ON uploads (expires_at) WHERE status = 'pending';

-- Parts of pending uploads; dropped when the upload leaves pending.
CREATE TABLE parts (
	id         TEXT PRIMARY KEY,
	upload_id  TEXT NOT NULL REFERENCES uploads (id),
	project    TEXT NOT NULL,
	size       INTEGER NOT NULL,
	created_at INTEGER NOT NULL, -- Unix seconds
	started    INTEGER NOT NULL, -- Unix nanoseconds
	blob_key   TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX parts_upload ON parts (upload_id, started, id);
CREATE INDEX parts_blob_key ON parts (blob_key);

-- Files in creation order: seq is the list order and never reused, so a
-- deleted file stays as a tombstone (deleted = 1) that anchors list cursors.
CREATE TABLE files (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	id         TEXT NOT NULL UNIQUE,
	project    TEXT NOT NULL,
	bytes      INTEGER NOT NULL,
	created_at INTEGER NOT NULL, -- Unix seconds
	filename   TEXT NOT NULL,
	purpose    TEXT NOT NULL,
	expires_at INTEGER NOT NULL, -- Unix seconds; 0: never
	deleted    INTEGER NOT NULL DEFAULT 0
);

-- Pages of live files, with and without a purpose; tombstones stay out of
-- the indexes so that deleting many files does not slow listing down.
CREATE INDEX files_project ON files (project, seq) WHERE deleted = 0;
CREATE INDEX files_project_purpose ON files (project, purpose, seq) WHERE deleted = 0;
CREATE INDEX files_expires ON files (expires_at) WHERE deleted = 0 AND expires_at > 0;

-- The blobs that make a file's bytes, in order.
CREATE TABLE file_blobs (
	file_seq INTEGER NOT NULL REFERENCES files (seq),
	idx      INTEGER NOT NULL,
	key      TEXT NOT NULL,
	size     INTEGER NOT NULL,
	PRIMARY KEY (file_seq, idx)
) WITHOUT ROWID;

CREATE INDEX file_blobs_key ON file_blobs (key);

-- Blobs no longer referenced, waiting for the reaper to delete them.
CREATE TABLE garbage (
	key         TEXT PRIMARY KEY,
	queued_at   INTEGER NOT NULL,          -- Unix nanoseconds
	lease_until INTEGER NOT NULL DEFAULT 0 -- Unix nanoseconds
) WITHOUT ROWID;

CREATE INDEX garbage_queued ON garbage (queued_at);
