-- Liveform schema v3: the server's own checks (issue 14).
-- * submissions.verification: the summary the finish decided on (below).
-- * captures.analysis: what the server found in the stored image (JSON, verify.rs `Analysis`:
--   a document side's outline and metrics, the selfie's faces and rules, a liveness frame's faces
--   and picture signature). NULL for captures stored before v3.
-- * liveness_open: the attempt a session has opened and not yet recorded (its id, number and the
--   server's opening time): frames count for it only between its opening and its record.
-- * liveness_attempts.passed is now the server's outcome; device_passed is what the form said;
--   verification the server's reasons per step (JSON, core::liveness::verify::AttemptCheck).
-- Attempts of unfinished submissions that no server ever checked are dropped: the person runs the
-- check again (finished submissions keep theirs, shown without a verification).

ALTER TABLE captures ADD COLUMN analysis TEXT;

-- The server's verification summary as it was when the submission was finished (verify.rs
-- `summary`, decided in the same transaction as the status); NULL before v3 and until finished.
ALTER TABLE submissions ADD COLUMN verification TEXT;

CREATE TABLE liveness_open (
    submission_id TEXT PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
    attempt_id    TEXT NOT NULL,
    attempt       INTEGER NOT NULL CHECK (attempt BETWEEN 1 AND 3),
    opened_ms     INTEGER NOT NULL
);

ALTER TABLE liveness_attempts ADD COLUMN device_passed INTEGER CHECK (device_passed IN (0, 1));
ALTER TABLE liveness_attempts ADD COLUMN verification TEXT;

DELETE FROM liveness_attempts
 WHERE verification IS NULL
   AND submission_id IN (SELECT id FROM submissions WHERE status = 'incomplete');
