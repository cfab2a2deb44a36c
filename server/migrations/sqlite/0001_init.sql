-- Liveform schema v1: submissions, their captures (files are AES-256-GCM encrypted under
-- server.storage_key, named at random), and the webhook outbox.
-- Times are Unix milliseconds (UTC).

CREATE TABLE submissions (
    id              TEXT PRIMARY KEY,
    pid             TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('incomplete', 'pending', 'approved', 'rejected')),
    userid          TEXT,
    email           TEXT,
    cf1             TEXT,
    cf2             TEXT,
    cf3             TEXT,
    token           TEXT,
    id_type         TEXT,
    issuing_country TEXT,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    submitted_ms    INTEGER,
    decided_ms      INTEGER,
    reviewer        TEXT,
    admin           TEXT,
    comment         TEXT
);
CREATE INDEX submissions_pid_userid ON submissions (pid, userid);
CREATE INDEX submissions_pid_email ON submissions (pid, email);
CREATE INDEX submissions_created ON submissions (pid, created_ms);

CREATE TABLE captures (
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    capture_id    TEXT NOT NULL,
    slot          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    bytes         INTEGER NOT NULL,
    width         INTEGER,
    height        INTEGER,
    sha256        TEXT NOT NULL,
    file          TEXT NOT NULL UNIQUE,
    created_ms    INTEGER NOT NULL,
    PRIMARY KEY (submission_id, capture_id)
);
CREATE INDEX captures_slot ON captures (submission_id, slot);

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    pid           TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    event         TEXT NOT NULL,
    body          TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_ms       INTEGER NOT NULL,
    created_ms    INTEGER NOT NULL,
    dead          INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE INDEX outbox_due ON outbox (dead, next_ms);
