-- Liveform schema v4: nothing lives only in one process's memory (issue 16). Sessions, their
-- tokens (only SHA-256 hashes), handoff codes (hashes), the private-mode token ledger (hashes),
-- rate-limit windows and leases (one instance runs retention at a time) move here from memory.
-- Times ending in _s are Unix seconds, _ms milliseconds (UTC).

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    pid         TEXT NOT NULL,
    -- The session's launch parameters, flow, choice, liveness challenges and submission id (JSON).
    data        TEXT NOT NULL,
    created_s   INTEGER NOT NULL,
    last_seen_s INTEGER NOT NULL,
    finished    INTEGER NOT NULL DEFAULT 0 CHECK (finished IN (0, 1))
);
CREATE INDEX sessions_last_seen ON sessions (last_seen_s);
CREATE INDEX sessions_created ON sessions (created_s);

CREATE TABLE session_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE
);
CREATE INDEX session_tokens_session ON session_tokens (session_id);

-- At most one code per session (a new one replaces it); kept until its session is gone so that
-- "used" and "expired" stay distinguishable.
CREATE TABLE handoffs (
    code_hash  TEXT PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE REFERENCES sessions (id) ON DELETE CASCADE,
    expires_s  INTEGER NOT NULL,
    claimed    INTEGER NOT NULL DEFAULT 0 CHECK (claimed IN (0, 1))
);

CREATE TABLE private_tokens (
    pid         TEXT NOT NULL,
    token_hash  TEXT NOT NULL,
    first_use_s INTEGER NOT NULL,
    decided     INTEGER NOT NULL DEFAULT 0 CHECK (decided IN (0, 1)),
    PRIMARY KEY (pid, token_hash)
);

CREATE TABLE rate_counts (
    kind     TEXT NOT NULL,
    addr     TEXT NOT NULL,
    window_s INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (kind, addr, window_s)
);
CREATE INDEX rate_counts_window ON rate_counts (window_s);

CREATE TABLE leases (
    name     TEXT PRIMARY KEY,
    holder   TEXT NOT NULL,
    until_ms INTEGER NOT NULL
);
