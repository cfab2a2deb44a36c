-- Liveform schema v2: liveness attempts (issue 7). One row per attempt of a submission, numbered
-- 1..3 in order; `record` is the attempt as the form sent it (core::liveness::LivenessAttempt,
-- JSON), the flags are copied out of it for queries. Times are Unix milliseconds (UTC).

CREATE TABLE liveness_attempts (
    submission_id  TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    attempt        INTEGER NOT NULL CHECK (attempt BETWEEN 1 AND 3),
    passed         INTEGER NOT NULL CHECK (passed IN (0, 1)),
    hidden_during  INTEGER NOT NULL CHECK (hidden_during IN (0, 1)),
    virtual_camera INTEGER NOT NULL CHECK (virtual_camera IN (0, 1)),
    record         TEXT NOT NULL,
    created_ms     INTEGER NOT NULL,
    PRIMARY KEY (submission_id, attempt)
);
