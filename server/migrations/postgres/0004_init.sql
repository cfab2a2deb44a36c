-- Liveform on PostgreSQL: the whole schema v4 at once (PostgreSQL support starts at v4; later
-- versions add a file here and one in ../sqlite with the same number). The same tables and
-- columns as the SQLite migrations 0001-0004 (see them for what each holds); integers are
-- BIGINT, flags BIGINT 0/1, so one SQL text serves both engines.

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
    created_ms      BIGINT NOT NULL,
    updated_ms      BIGINT NOT NULL,
    submitted_ms    BIGINT,
    decided_ms      BIGINT,
    reviewer        TEXT,
    admin           TEXT,
    comment         TEXT,
    verification    TEXT
);
CREATE INDEX submissions_pid_userid ON submissions (pid, userid);
CREATE INDEX submissions_pid_email ON submissions (pid, email);
CREATE INDEX submissions_created ON submissions (pid, created_ms);

CREATE TABLE captures (
    submission_id TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    capture_id    TEXT NOT NULL,
    slot          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    bytes         BIGINT NOT NULL,
    width         BIGINT,
    height        BIGINT,
    sha256        TEXT NOT NULL,
    file          TEXT NOT NULL UNIQUE,
    created_ms    BIGINT NOT NULL,
    analysis      TEXT,
    seq           BIGSERIAL,
    PRIMARY KEY (submission_id, capture_id)
);
CREATE INDEX captures_slot ON captures (submission_id, slot);

CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    pid           TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    event         TEXT NOT NULL,
    body          TEXT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    next_ms       BIGINT NOT NULL,
    created_ms    BIGINT NOT NULL,
    dead          BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE INDEX outbox_due ON outbox (dead, next_ms);

CREATE TABLE liveness_attempts (
    submission_id  TEXT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    attempt        BIGINT NOT NULL CHECK (attempt BETWEEN 1 AND 3),
    passed         BIGINT NOT NULL CHECK (passed IN (0, 1)),
    hidden_during  BIGINT NOT NULL CHECK (hidden_during IN (0, 1)),
    virtual_camera BIGINT NOT NULL CHECK (virtual_camera IN (0, 1)),
    record         TEXT NOT NULL,
    created_ms     BIGINT NOT NULL,
    device_passed  BIGINT CHECK (device_passed IN (0, 1)),
    verification   TEXT,
    PRIMARY KEY (submission_id, attempt)
);

CREATE TABLE liveness_open (
    submission_id TEXT PRIMARY KEY REFERENCES submissions (id) ON DELETE CASCADE,
    attempt_id    TEXT NOT NULL,
    attempt       BIGINT NOT NULL CHECK (attempt BETWEEN 1 AND 3),
    opened_ms     BIGINT NOT NULL
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    pid         TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_s   BIGINT NOT NULL,
    last_seen_s BIGINT NOT NULL,
    finished    BIGINT NOT NULL DEFAULT 0 CHECK (finished IN (0, 1))
);
CREATE INDEX sessions_last_seen ON sessions (last_seen_s);
CREATE INDEX sessions_created ON sessions (created_s);

CREATE TABLE session_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE
);
CREATE INDEX session_tokens_session ON session_tokens (session_id);

CREATE TABLE handoffs (
    code_hash  TEXT PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE REFERENCES sessions (id) ON DELETE CASCADE,
    expires_s  BIGINT NOT NULL,
    claimed    BIGINT NOT NULL DEFAULT 0 CHECK (claimed IN (0, 1))
);

CREATE TABLE private_tokens (
    pid         TEXT NOT NULL,
    token_hash  TEXT NOT NULL,
    first_use_s BIGINT NOT NULL,
    decided     BIGINT NOT NULL DEFAULT 0 CHECK (decided IN (0, 1)),
    PRIMARY KEY (pid, token_hash)
);

CREATE TABLE rate_counts (
    kind     TEXT NOT NULL,
    addr     TEXT NOT NULL,
    window_s BIGINT NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (kind, addr, window_s)
);
CREATE INDEX rate_counts_window ON rate_counts (window_s);

CREATE TABLE leases (
    name     TEXT PRIMARY KEY,
    holder   TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
