-- project_usage is what each project holds: the bytes of its files not
-- deleted and of the recorded parts of its pending uploads, its files not
-- deleted, its pending uploads. Every change to those records changes it in
-- the same transaction, so that a quota is checked against it in one step.
-- The records already stored are counted once, here.
CREATE TABLE project_usage (
	project         TEXT PRIMARY KEY,
	bytes           INTEGER NOT NULL DEFAULT 0,
	files           INTEGER NOT NULL DEFAULT 0,
	pending_uploads INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

INSERT INTO project_usage (project, bytes, files, pending_uploads)
SELECT project, sum(bytes), sum(files), sum(pending_uploads) FROM (
	SELECT project, bytes, 1 AS files, 0 AS pending_uploads FROM files WHERE deleted = 0
	UNION ALL
	SELECT project, part_bytes, 0, 1 FROM uploads WHERE status = 'pending'
) AS counted GROUP BY project;
