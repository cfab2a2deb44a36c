-- Liveform schema v8: the rules a link toggles and projections (issue 18, item 4).
-- The duplicate-user and prevention-period rules need no column: they find the same identity's
-- submissions through the blind indexes userid_ix / email_ix (v5) and read status, decided_ms,
-- reviewer and comment_code.
-- projection: the id of the projection (`[[project.projection]]`) the link chose with
--   projectionId / projectionName; its fields are left out of the results API and webhooks.
--   NULL: no projection (and in rows from before v8).
ALTER TABLE submissions ADD COLUMN projection TEXT;
