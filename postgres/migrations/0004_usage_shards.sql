-- project_usage holds each project's usage in up to 16 rows (shards) whose
-- sum is the usage: a change that no quota limits goes to one row picked at
-- random, so that concurrent creates of one project do not all wait for the
-- lock of one row until each other's commit. The usage already stored is
-- shard 0.
ALTER TABLE project_usage ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
ALTER TABLE project_usage DROP CONSTRAINT project_usage_pkey;
ALTER TABLE project_usage ADD PRIMARY KEY (project, shard);
