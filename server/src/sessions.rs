//! Sessions, the private-mode token ledger and the per-address rate limits, kept in the database
//! (`db.rs`) so that a restart loses nothing and any instance serves any request (issue 16).
//! Tokens are stored only as SHA-256 hashes. Time is passed in (Unix seconds), so every rule is
//! testable without waiting. Everything is blocking: handlers call it through `db::run`.

use std::net::IpAddr;
use std::sync::Arc;

use liveform_core::api::Choice;
use liveform_core::flow::Flow;
use liveform_core::liveness::Challenge;
use liveform_core::{ErrorCode, LaunchParams};
use sha2::{Digest, Sha256};

use crate::args;
use crate::config::PrivateMode;
use crate::db::{Conn, Db, DbError, Row};
use crate::pii::{self, Sealer};

/// One person's session, bound to a project.
#[derive(Debug, Clone)]
pub struct Session {
    pub pid: String,
    pub params: LaunchParams,
    /// The flow at its start (its offer is what every later request is checked against).
    pub flow: Flow,
    /// The country and type the server accepted.
    pub choice: Option<Choice>,
    /// This session's submission (its row is created with the first capture).
    pub submission_id: String,
    pub created: i64,
    pub last_seen: i64,
    /// The person finished (submitted); set by [`SessionStore::mark_finished`].
    pub finished: bool,
    /// The liveness challenges, drawn when the session opened (or the project's fixed ones).
    pub liveness: Vec<Challenge>,
    /// The client's address as the server saw it when the session opened (`client_ip_header`,
    /// `client_ip_hops`): the submission's `ipAddress`. Personal data: sealed with the rest.
    pub ip: Option<String>,
}

/// What of a session is stored as JSON (the rest are columns).
#[derive(serde::Serialize, serde::Deserialize)]
struct Data {
    params: LaunchParams,
    flow: Flow,
    choice: Option<Choice>,
    submission_id: String,
    liveness: Vec<String>,
    /// Absent in sessions stored before schema v6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
}

fn encode(s: &Session) -> Result<String, ErrorCode> {
    serde_json::to_string(&Data {
        params: s.params.clone(),
        flow: s.flow.clone(),
        choice: s.choice.clone(),
        submission_id: s.submission_id.clone(),
        liveness: s.liveness.iter().map(|c| c.as_str().to_owned()).collect(),
        ip: s.ip.clone(),
    })
    .map_err(|_| ErrorCode::Internal)
}

/// `json` as stored: sealed for session `id` when there is a sealer.
fn seal(sealer: Option<&Sealer>, id: &str, json: String) -> Result<String, ErrorCode> {
    match sealer {
        Some(s) => s.seal(&pii::session_place(id), &json).map_err(|e| {
            tracing::error!(error = %e, "cannot seal a session");
            ErrorCode::Internal
        }),
        None => Ok(json),
    }
}

fn decode(sealer: Option<&Sealer>, r: &Row) -> Result<Session, ErrorCode> {
    let mut json = r.text("data").map_err(db_failed)?;
    if pii::is_sealed(&json) {
        let id = r.text("id").map_err(db_failed)?;
        json = sealer
            .ok_or(pii::PiiError::Open)
            .and_then(|s| s.open(&pii::session_place(&id), &json))
            .map_err(|e| {
                tracing::error!(error = %e, "unreadable session record");
                ErrorCode::Internal
            })?;
    }
    let data: Data = serde_json::from_str(&json).map_err(|e| {
        tracing::error!(error = %e, "unreadable session record");
        ErrorCode::Internal
    })?;
    Ok(Session {
        pid: r.text("pid").map_err(db_failed)?,
        params: data.params,
        flow: data.flow,
        choice: data.choice,
        submission_id: data.submission_id,
        created: r.i64("created_s").map_err(db_failed)?,
        last_seen: r.i64("last_seen_s").map_err(db_failed)?,
        finished: r.bool("finished").map_err(db_failed)?,
        liveness: data
            .liveness
            .iter()
            .filter_map(|c| Challenge::parse(c))
            .collect(),
        ip: data.ip,
    })
}

/// A database failure, logged; the person sees `LF-50001`.
pub(crate) fn db_failed(e: DbError) -> ErrorCode {
    tracing::error!(error = %e, "database failed");
    ErrorCode::Internal
}

/// SHA-256 of a token, hex: what the database keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A session's internal id: what every token of the session maps to (never sent out).
pub type SessionId = String;

/// Sessions by id, and the opaque tokens that reach them. A session usually has one token; a
/// handoff to a phone adds a second one for the same state (both stay valid).
pub struct SessionStore {
    db: Arc<Db>,
    idle_secs: i64,
    max_secs: i64,
    sealer: Option<Arc<Sealer>>,
}

impl SessionStore {
    pub fn new(db: Arc<Db>, idle_secs: i64, max_secs: i64) -> Self {
        SessionStore {
            db,
            idle_secs,
            max_secs,
            sealer: None,
        }
    }

    /// Sessions' data (the link's personal parameters among it) sealed at rest with `sealer`
    /// (the storage key's; without one the data is kept in clear).
    pub fn sealed(mut self, sealer: Option<Arc<Sealer>>) -> Self {
        self.sealer = sealer;
        self
    }

    fn live(&self, s: &Session, now: i64) -> bool {
        now - s.last_seen < self.idle_secs && now - s.created < self.max_secs
    }

    fn tx<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T, ErrorCode>) -> Result<T, ErrorCode> {
        self.db.tx(|c| Ok::<_, Fail>(f(c)))?
    }

    /// Stores a new session reached by `token`; returns its id.
    pub fn insert(
        &self,
        token: String,
        session: Session,
        now: i64,
    ) -> Result<SessionId, ErrorCode> {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).map_err(|_| ErrorCode::Internal)?;
        let id = hex::encode(b);
        let data = seal(self.sealer.as_deref(), &id, encode(&session)?)?;
        self.tx(|c| {
            c.execute(
                "INSERT INTO sessions (id, pid, data, created_s, last_seen_s, finished)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                args![
                    &id,
                    &session.pid,
                    &data,
                    session.created,
                    now,
                    session.finished
                ],
            )
            .map_err(db_failed)?;
            // A token collision (32 random bytes: never in practice) must not share a session.
            c.execute(
                "DELETE FROM session_tokens WHERE token_hash = $1",
                args![token_hash(&token)],
            )
            .map_err(db_failed)?;
            c.execute(
                "INSERT INTO session_tokens (token_hash, session_id) VALUES ($1, $2)",
                args![token_hash(&token), &id],
            )
            .map_err(db_failed)?;
            Ok(id.clone())
        })
    }

    /// The live session `id` (locked until the transaction ends), or why not; an expired one is
    /// removed with all its tokens.
    fn load(&self, c: &mut dyn Conn, id: &str, now: i64) -> Result<Session, ErrorCode> {
        let row = c
            .query_opt("SELECT * FROM sessions WHERE id = $1{lock}", args![id])
            .map_err(db_failed)?
            .ok_or(ErrorCode::SessionExpired)?;
        let s = decode(self.sealer.as_deref(), &row)?;
        if !self.live(&s, now) {
            c.execute("DELETE FROM sessions WHERE id = $1", args![id])
                .map_err(db_failed)?;
            return Err(ErrorCode::SessionExpired);
        }
        Ok(s)
    }

    fn id_of(c: &mut dyn Conn, token: &str) -> Result<SessionId, ErrorCode> {
        c.query_opt(
            "SELECT session_id FROM session_tokens WHERE token_hash = $1",
            args![token_hash(token)],
        )
        .map_err(db_failed)?
        .ok_or(ErrorCode::SessionExpired)?
        .text("session_id")
        .map_err(db_failed)
    }

    /// Applies `f` to the live session `id` and stores it back, touched.
    fn modify<T>(
        &self,
        c: &mut dyn Conn,
        id: &str,
        now: i64,
        f: impl FnOnce(&mut Session) -> T,
    ) -> Result<(T, Session), ErrorCode> {
        let mut s = self.load(c, id, now)?;
        let before = encode(&s)?;
        let out = f(&mut s);
        s.last_seen = now;
        let after = encode(&s)?;
        if after == before {
            c.execute(
                "UPDATE sessions SET last_seen_s = $2, finished = $3 WHERE id = $1",
                args![id, now, s.finished],
            )
        } else {
            let after = seal(self.sealer.as_deref(), id, after)?;
            c.execute(
                "UPDATE sessions SET last_seen_s = $2, finished = $3, data = $4 WHERE id = $1",
                args![id, now, s.finished, after],
            )
        }
        .map_err(db_failed)?;
        Ok((out, s))
    }

    /// The live session for `token` and its id, touched (idle clock restarted); an expired one is
    /// removed with all its tokens.
    pub fn resolve(&self, token: &str, now: i64) -> Result<(SessionId, Session), ErrorCode> {
        // An expired session's removal is committed with the refusal.
        self.db.tx(|c| {
            let r = Self::id_of(c, token).and_then(|id| {
                let (_, s) = self.modify(c, &id, now, |_| ())?;
                Ok((id, s))
            });
            Ok::<_, Fail>(r)
        })?
    }

    /// The live session for `token`, touched (idle clock restarted); expired ones are removed.
    pub fn touch(&self, token: &str, now: i64) -> Result<Session, ErrorCode> {
        self.resolve(token, now).map(|(_, s)| s)
    }

    /// Adds another token for the live session `id` (a handoff to a phone), touching it.
    pub fn add_token(&self, id: &str, token: String, now: i64) -> Result<Session, ErrorCode> {
        self.db.tx(|c| {
            let r = (|| {
                let (_, s) = self.modify(c, id, now, |_| ())?;
                let taken = c
                    .query_opt(
                        "SELECT session_id FROM session_tokens WHERE token_hash = $1",
                        args![token_hash(&token)],
                    )
                    .map_err(db_failed)?;
                if taken.is_some() {
                    return Err(ErrorCode::Internal);
                }
                c.execute(
                    "INSERT INTO session_tokens (token_hash, session_id) VALUES ($1, $2)",
                    args![token_hash(&token), id],
                )
                .map_err(db_failed)?;
                Ok(s)
            })();
            Ok::<_, Fail>(r)
        })?
    }

    /// Applies `f` to the live session for `token` (touching it).
    pub fn update<T>(
        &self,
        token: &str,
        now: i64,
        f: impl FnOnce(&mut Session) -> T,
    ) -> Result<T, ErrorCode> {
        self.tx(|c| {
            let id = Self::id_of(c, token)?;
            self.modify(c, &id, now, f).map(|(t, _)| t)
        })
    }

    /// Records that the session reached by `token` is finished (the submission was made). Every
    /// token of the session sees it; the handoff status turns to `finished`.
    pub fn mark_finished(&self, token: &str, now: i64) -> Result<(), ErrorCode> {
        self.update(token, now, |s| s.finished = true)
    }

    /// The idle time after which a session ends (seconds).
    pub fn idle_secs(&self) -> i64 {
        self.idle_secs
    }

    /// Seconds until the session expires if left idle.
    pub fn expires_in(&self, s: &Session, now: i64) -> i64 {
        (s.last_seen + self.idle_secs).min(s.created + self.max_secs) - now
    }

    /// How long a session can live at most (seconds).
    pub fn max_secs(&self) -> i64 {
        self.max_secs
    }

    /// Removes expired sessions (their tokens and handoff codes go with them); how many.
    pub fn sweep(&self, now: i64) -> Result<u64, ErrorCode> {
        self.tx(|c| {
            c.execute(
                "DELETE FROM sessions WHERE last_seen_s <= $1 OR created_s <= $2",
                args![now - self.idle_secs, now - self.max_secs],
            )
            .map_err(db_failed)
        })
    }

    /// The number of sessions (not tokens).
    pub fn len(&self) -> usize {
        self.tx(|c| {
            c.query_one("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM sessions", &[])
                .and_then(|r| r.i64("n"))
                .map_err(db_failed)
        })
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A transaction's own failure (the database's), as opposed to a refusal it commits.
#[derive(Debug)]
struct Fail(ErrorCode);

impl From<DbError> for Fail {
    fn from(e: DbError) -> Self {
        Fail(db_failed(e))
    }
}

impl From<Fail> for ErrorCode {
    fn from(f: Fail) -> Self {
        f.0
    }
}

/// ARGOS private mode (§1.5): a token is refused more than 3 minutes after its first use, or once
/// a decided submission (approved, rejected, pending) exists for it; time expiry wins when both
/// apply. Within those limits several people may use the same token concurrently. Kept in the
/// database (keyed blind indexes), so a restart forgets nothing. Also the project's pool of
/// registered tokens (the Token API, `token_pool`: the same index, the value sealed).
pub struct TokenLedger {
    db: Arc<Db>,
    sealer: Option<Arc<Sealer>>,
}

/// How long a private-mode token stays usable after its first use.
pub const TOKEN_WINDOW_SECS: i64 = 180;

impl TokenLedger {
    pub fn new(db: Arc<Db>) -> Self {
        TokenLedger { db, sealer: None }
    }

    /// Tokens kept as keyed blind indexes (`pii.rs`) instead of plain SHA-256: an integrator's
    /// tokens may be guessable (a user id, a date), and a plain hash of a guessable value can be
    /// checked against guesses by anyone who reads the database.
    pub fn sealed(mut self, sealer: Option<Arc<Sealer>>) -> Self {
        self.sealer = sealer;
        self
    }

    /// What the ledger keeps of `token` in `pid`.
    fn key(&self, pid: &str, token: &str) -> String {
        match &self.sealer {
            Some(s) => s.index("token", pid, token),
            None => token_hash(token),
        }
    }

    /// Checks and records a use of `token` in project `pid` (no pool rules: a project without
    /// `token_registration`).
    pub fn use_token(&self, pid: &str, token: &str, now: i64) -> Result<(), ErrorCode> {
        self.check_token(pid, token, now, &PrivateMode::default())
    }

    /// Checks and records a use of `token` in project `pid` under the project's private mode,
    /// in ARGOS's order: time first (3 minutes after the first use, or a registered token past
    /// its `token_expiry_hours`: `TK-10001`), then a decided submission for the token (its
    /// current status: `TK-10002` approved, `TK-10003` pending, `TK-10004` rejected), then the
    /// pool (`TK-10005`). A refused token is not recorded as used.
    pub fn check_token(
        &self,
        pid: &str,
        token: &str,
        now: i64,
        mode: &PrivateMode,
    ) -> Result<(), ErrorCode> {
        let h = self.key(pid, token);
        // A ledger written before the tokens were keyed (schema v4) holds plain hashes: both count.
        let legacy = token_hash(token);
        self.tx(|c| {
            let row = c
                .query_one(
                    "SELECT CAST(MIN(first_use_s) AS BIGINT) AS first_use_s,
                            CAST(MAX(decided) AS BIGINT) AS decided, MAX(status) AS status
                     FROM private_tokens WHERE pid = $1 AND token_hash IN ($2, $3)",
                    args![pid, &h, &legacy],
                )
                .map_err(db_failed)?;
            if let Some(first) = row.opt_i64("first_use_s").map_err(db_failed)? {
                if now - first > TOKEN_WINDOW_SECS {
                    return Err(ErrorCode::TokenExpired);
                }
            }
            let registered = if mode.registered_only {
                c.query_opt(
                    "SELECT updated_ms FROM token_pool WHERE pid = $1 AND token_ix = $2",
                    args![pid, &h],
                )
                .map_err(db_failed)?
                .map(|r| r.i64("updated_ms"))
                .transpose()
                .map_err(db_failed)?
            } else {
                None
            };
            if let (Some(at_ms), Some(life)) = (registered, mode.expiry_secs) {
                if now.saturating_mul(1000) >= at_ms.saturating_add(life.saturating_mul(1000)) {
                    return Err(ErrorCode::TokenExpired);
                }
            }
            // The decided submission's status as it is now (a review may have changed it); the
            // ledger's record when the submission is gone.
            let current = c
                .query_opt(
                    "SELECT status FROM submissions
                     WHERE pid = $1 AND token_ix = $2
                       AND status IN ('approved', 'pending', 'rejected')
                     ORDER BY updated_ms DESC LIMIT 1",
                    args![pid, &h],
                )
                .map_err(db_failed)?
                .map(|r| r.text("status"))
                .transpose()
                .map_err(db_failed)?;
            let decided = row
                .opt_i64("decided")
                .map_err(db_failed)?
                .is_some_and(|d| d != 0);
            let recorded = row.opt_text("status").map_err(db_failed)?;
            if let Some(status) = current.or(if decided { recorded } else { None }) {
                return Err(decided_code(&status));
            }
            if decided {
                // A ledger row from before v7 whose submission is gone: no status recorded.
                return Err(ErrorCode::TokenApproved);
            }
            if mode.registered_only && registered.is_none() {
                return Err(ErrorCode::TokenNotRegistered);
            }
            c.execute(
                "INSERT INTO private_tokens (pid, token_hash, first_use_s, decided)
                 VALUES ($1, $2, $3, 0) ON CONFLICT (pid, token_hash) DO NOTHING",
                args![pid, &h, now],
            )
            .map_err(db_failed)?;
            Ok(())
        })
    }

    /// Records that a decided submission (`status`: approved, pending or rejected) now exists
    /// for `token` (called by submissions); with `auto_delete` the token leaves the pool (ARGOS:
    /// "used tokens are automatically deleted").
    pub fn mark_decided(
        &self,
        pid: &str,
        token: &str,
        now: i64,
        status: &str,
        auto_delete: bool,
    ) -> Result<(), ErrorCode> {
        let h = self.key(pid, token);
        self.tx(|c| {
            c.execute(
                "INSERT INTO private_tokens (pid, token_hash, first_use_s, decided, status)
                 VALUES ($1, $2, $3, 1, $4)
                 ON CONFLICT (pid, token_hash) DO UPDATE SET decided = 1, status = $4",
                args![pid, &h, now, status],
            )
            .map_err(db_failed)?;
            if auto_delete {
                c.execute(
                    "DELETE FROM token_pool WHERE pid = $1 AND token_ix = $2",
                    args![pid, &h],
                )
                .map_err(db_failed)?;
            }
            Ok(())
        })
    }

    fn tx<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T, ErrorCode>) -> Result<T, ErrorCode> {
        self.db.tx(|c| Ok::<_, Fail>(f(c)))?
    }

    /// The sealer the pool needs: registered tokens are kept sealed, never in clear.
    fn pool_sealer(&self) -> Result<&Sealer, ErrorCode> {
        self.sealer.as_deref().ok_or(ErrorCode::StorageUnavailable)
    }

    /// Registers `tokens` (valid, at most [`POOL_PER_REQUEST`]) in `pid`'s pool at `now_ms`;
    /// one already there is overwritten (its registration time renewed: ARGOS "overwritten, no
    /// duplication error"). Refused whole with `LF-70008` when the pool would exceed
    /// [`POOL_MAX`]. Returns the pool's size after.
    pub fn register(&self, pid: &str, tokens: &[String], now_ms: i64) -> Result<i64, ErrorCode> {
        let sealer = self.pool_sealer()?;
        let mut rows = Vec::with_capacity(tokens.len());
        for t in tokens {
            let ix = sealer.index("token", pid, t);
            if rows.iter().any(|(i, _)| *i == ix) {
                continue;
            }
            let sealed = sealer.seal(&pool_place(pid, &ix), t).map_err(|e| {
                tracing::error!(error = %e, "cannot seal a token");
                ErrorCode::Internal
            })?;
            rows.push((ix, sealed));
        }
        self.tx(|c| {
            let mut fresh = 0i64;
            for (ix, _) in &rows {
                let there = c
                    .query_opt(
                        "SELECT 1 AS one FROM token_pool WHERE pid = $1 AND token_ix = $2",
                        args![pid, ix],
                    )
                    .map_err(db_failed)?;
                if there.is_none() {
                    fresh += 1;
                }
            }
            let before = pool_count(c, pid)?;
            if before + fresh > POOL_MAX {
                return Err(ErrorCode::TokenPoolFull);
            }
            for (ix, sealed) in &rows {
                c.execute(
                    "INSERT INTO token_pool (pid, token_ix, token, updated_ms) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (pid, token_ix)
                     DO UPDATE SET token = excluded.token, updated_ms = excluded.updated_ms,
                                   expired_notified = 0",
                    args![pid, ix, sealed, now_ms],
                )
                .map_err(db_failed)?;
            }
            Ok(before + fresh)
        })
    }

    /// Removes `tokens` from `pid`'s pool: (deleted, not found). The ledger's record of their
    /// use stays (a deleted token is not a fresh one).
    pub fn unregister(&self, pid: &str, tokens: &[String]) -> Result<(u64, u64), ErrorCode> {
        let ixs: Vec<String> = tokens.iter().map(|t| self.key(pid, t)).collect();
        self.tx(|c| {
            let (mut deleted, mut missing) = (0, 0);
            for ix in &ixs {
                match c
                    .execute(
                        "DELETE FROM token_pool WHERE pid = $1 AND token_ix = $2",
                        args![pid, ix],
                    )
                    .map_err(db_failed)?
                {
                    0 => missing += 1,
                    n => deleted += n,
                }
            }
            Ok((deleted, missing))
        })
    }

    /// How many tokens `pid`'s pool holds.
    pub fn pool_size(&self, pid: &str) -> Result<i64, ErrorCode> {
        self.tx(|c| pool_count(c, pid))
    }

    /// One registered token, or `None`.
    pub fn registered(&self, pid: &str, token: &str) -> Result<Option<PoolEntry>, ErrorCode> {
        let ix = self.key(pid, token);
        let mut found = self.pool_rows("WHERE t.pid = $1 AND t.token_ix = $2", args![pid, &ix])?;
        Ok(found.pop())
    }

    /// `pid`'s pool in registration order (then index), at most `limit` after `after`
    /// (a token and its registration time, the previous page's last).
    pub fn pool_page(
        &self,
        pid: &str,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<PoolEntry>, ErrorCode> {
        let lim = i64::from(limit);
        match after {
            None => self.pool_rows(
                "WHERE t.pid = $1 ORDER BY t.updated_ms, t.token_ix LIMIT $2",
                args![pid, lim],
            ),
            Some((ms, tok)) => {
                let ix = self.key(pid, tok);
                self.pool_rows(
                    "WHERE t.pid = $1 AND (t.updated_ms > $2 OR (t.updated_ms = $2 AND t.token_ix > $3))
                     ORDER BY t.updated_ms, t.token_ix LIMIT $4",
                    args![pid, ms, ix, lim],
                )
            }
        }
    }

    fn pool_rows(&self, tail: &str, a: &[crate::db::Value]) -> Result<Vec<PoolEntry>, ErrorCode> {
        let sealer = self.pool_sealer()?;
        let rows = self.tx(|c| {
            c.query(
                &format!(
                    "SELECT t.pid, t.token_ix, t.token, t.updated_ms,
                            p.first_use_s, p.decided
                     FROM token_pool t
                     LEFT JOIN private_tokens p ON p.pid = t.pid AND p.token_hash = t.token_ix
                     {tail}"
                ),
                a,
            )
            .map_err(db_failed)
        })?;
        rows.iter()
            .map(|r| {
                let pid = r.text("pid").map_err(db_failed)?;
                let ix = r.text("token_ix").map_err(db_failed)?;
                let token = sealer
                    .open(&pool_place(&pid, &ix), &r.text("token").map_err(db_failed)?)
                    .map_err(|e| {
                        tracing::error!(error = %e, "unreadable registered token");
                        ErrorCode::Internal
                    })?;
                Ok(PoolEntry {
                    token,
                    updated_ms: r.i64("updated_ms").map_err(db_failed)?,
                    first_use_s: r.opt_i64("first_use_s").map_err(db_failed)?,
                    used: r.opt_i64("decided").map_err(db_failed)?.unwrap_or(0) != 0,
                })
            })
            .collect()
    }

    /// Removes the registered tokens of `pid` past their expiry at `now` (a project with
    /// `token_auto_delete` and `token_expiry_hours`; the minute's sweep); how many.
    pub fn sweep_expired(&self, pid: &str, expiry_secs: i64, now: i64) -> Result<u64, ErrorCode> {
        let cutoff_ms = now.saturating_sub(expiry_secs).saturating_mul(1000);
        self.tx(|c| {
            c.execute(
                "DELETE FROM token_pool WHERE pid = $1 AND updated_ms <= $2",
                args![pid, cutoff_ms],
            )
            .map_err(db_failed)
        })
    }
}

/// A refused token's code for the status of its decided submission.
fn decided_code(status: &str) -> ErrorCode {
    match status {
        "pending" => ErrorCode::TokenPending,
        "rejected" => ErrorCode::TokenRejected,
        _ => ErrorCode::TokenApproved,
    }
}

fn pool_count(c: &mut dyn Conn, pid: &str) -> Result<i64, ErrorCode> {
    c.query_one(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM token_pool WHERE pid = $1",
        args![pid],
    )
    .and_then(|r| r.i64("n"))
    .map_err(db_failed)
}

/// Where a registered token's value is sealed.
pub(crate) fn pool_place(pid: &str, ix: &str) -> String {
    format!("token_pool.token/{pid}/{ix}")
}

/// The most tokens a project's pool holds (ARGOS: 100,000 per project).
pub const POOL_MAX: i64 = 100_000;

/// The most tokens one Token API request registers or deletes (ARGOS: 500).
pub const POOL_PER_REQUEST: usize = 500;

/// One registered token as the Token API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolEntry {
    pub token: String,
    /// When it was (last) registered (ARGOS `updateTime`).
    pub updated_ms: i64,
    /// Its first use by a link (Unix seconds), if any.
    pub first_use_s: Option<i64>,
    /// A decided submission used it.
    pub used: bool,
}

impl PoolEntry {
    /// Whether the token can no longer open a session at `now` (ARGOS `expired`): registration
    /// past `expiry_secs`, first used more than 3 minutes ago, or used by a decided submission
    /// (ARGOS: a registered token "expires immediately after a single submission").
    pub fn expired(&self, expiry_secs: Option<i64>, now: i64) -> bool {
        self.used
            || self
                .first_use_s
                .is_some_and(|f| now - f > TOKEN_WINDOW_SECS)
            || expiry_secs.is_some_and(|l| {
                now.saturating_mul(1000) >= self.updated_ms.saturating_add(l.saturating_mul(1000))
            })
    }
}

/// Forgets the private tokens of `pid` first used before `cutoff_s` (the project's retention: the
/// submissions they decided are gone too); how many. Only retention calls this: a forgotten token
/// could be used again, so without `retention_days` the ledger keeps every token (one row each).
pub fn forget_tokens_before(db: &Db, pid: &str, cutoff_s: i64) -> Result<u64, DbError> {
    db.tx(|c| {
        c.execute(
            "DELETE FROM private_tokens WHERE pid = $1 AND first_use_s < $2",
            args![pid, cutoff_s],
        )
    })
}

/// Per-address counts in one-minute windows, in the database (shared by every instance): the
/// mechanism of [`RateLimiter`] and [`FailureLimiter`]. Old windows are removed by `sweep`.
struct MinuteCounts {
    db: Arc<Db>,
    kind: &'static str,
    sealer: Option<Arc<Sealer>>,
}

fn window(now: i64) -> (i64, i64) {
    let w = now - now.rem_euclid(60);
    (w, w + 60 - now)
}

impl MinuteCounts {
    /// What the database keeps of an address: its keyed blind index (`pii.rs`) when there is a
    /// key, so the table of counts is not a log of who used the form.
    fn addr(&self, ip: IpAddr) -> String {
        match &self.sealer {
            Some(s) => s.index("addr", self.kind, &ip.to_string()),
            None => ip.to_string(),
        }
    }

    /// Counts one event unless `limit` are counted already: `Ok(())` or `Err(seconds to wait)`.
    fn take(&self, ip: IpAddr, now: i64, limit: u32) -> Result<(), i64> {
        let (w, wait) = window(now);
        let counted = self.db.tx(|c| {
            c.query_opt(
                "INSERT INTO rate_counts (kind, addr, window_s, n) VALUES ($1, $2, $3, 1)
                 ON CONFLICT (kind, addr, window_s) DO UPDATE SET n = rate_counts.n + 1
                   WHERE rate_counts.n < $4
                 RETURNING n",
                args![self.kind, self.addr(ip), w, limit],
            )
        });
        match counted {
            Ok(Some(_)) if limit > 0 => Ok(()),
            Ok(_) => Err(wait),
            // The database is down: every request fails anyway; do not add a misleading 429.
            Err(e) => {
                db_failed(e);
                Ok(())
            }
        }
    }

    fn count(&self, ip: IpAddr, now: i64) -> u32 {
        let (w, _) = window(now);
        self.db
            .tx(|c| {
                c.query_opt(
                    "SELECT n FROM rate_counts WHERE kind = $1 AND addr = $2 AND window_s = $3",
                    args![self.kind, self.addr(ip), w],
                )
            })
            .map_err(db_failed)
            .ok()
            .flatten()
            .and_then(|r| r.i64("n").ok())
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn add(&self, ip: IpAddr, now: i64) {
        let (w, _) = window(now);
        if let Err(e) = self.db.tx(|c| {
            c.execute(
                "INSERT INTO rate_counts (kind, addr, window_s, n) VALUES ($1, $2, $3, 1)
                 ON CONFLICT (kind, addr, window_s) DO UPDATE SET n = rate_counts.n + 1",
                args![self.kind, self.addr(ip), w],
            )
        }) {
            db_failed(e);
        }
    }
}

/// Removes rate-limit windows that have ended (every kind).
pub fn sweep_rate_counts(db: &Db, now: i64) -> Result<u64, DbError> {
    db.tx(|c| {
        c.execute(
            "DELETE FROM rate_counts WHERE window_s < $1",
            args![window(now).0],
        )
    })
}

/// A fixed-window limiter: at most `per_minute` events per address per 60-second window.
pub struct RateLimiter {
    per_minute: u32,
    counts: MinuteCounts,
}

impl RateLimiter {
    pub fn new(db: Arc<Db>, per_minute: u32) -> Self {
        Self::of_kind(db, "session", per_minute)
    }

    /// A limiter with its own counts (`kind`): e.g. the deployment-wide one, checked with one
    /// fixed address.
    pub fn of_kind(db: Arc<Db>, kind: &'static str, per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            counts: MinuteCounts {
                db,
                kind,
                sealer: None,
            },
        }
    }

    /// Addresses counted by their keyed blind index (see [`TokenLedger::sealed`]).
    pub fn sealed(mut self, sealer: Option<Arc<Sealer>>) -> Self {
        self.counts.sealer = sealer;
        self
    }

    /// `Ok(())` if allowed (and counted), else `Err(seconds to wait)`.
    pub fn check(&self, ip: IpAddr, now: i64) -> Result<(), i64> {
        self.counts.take(ip, now, self.per_minute)
    }
}

/// Counts failures (wrong results-API keys) per address in one-minute windows; an address with
/// `per_minute` failures in the current window is refused until it ends, before its key is even
/// compared. Successes are not counted.
pub struct FailureLimiter {
    per_minute: u32,
    counts: MinuteCounts,
}

impl FailureLimiter {
    pub fn new(db: Arc<Db>, per_minute: u32) -> Self {
        FailureLimiter {
            per_minute,
            counts: MinuteCounts {
                db,
                kind: "key_failure",
                sealer: None,
            },
        }
    }

    /// Addresses counted by their keyed blind index (see [`TokenLedger::sealed`]).
    pub fn sealed(mut self, sealer: Option<Arc<Sealer>>) -> Self {
        self.counts.sealer = sealer;
        self
    }

    /// `Err(seconds to wait)` while `ip` is over its failures for this minute.
    pub fn blocked(&self, ip: IpAddr, now: i64) -> Result<(), i64> {
        if self.counts.count(ip, now) >= self.per_minute {
            Err(window(now).1)
        } else {
            Ok(())
        }
    }

    /// Counts one failure of `ip`.
    pub fn failed(&self, ip: IpAddr, now: i64) {
        self.counts.add(ip, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Arc<Db> {
        Arc::new(Db::open_memory().unwrap())
    }

    #[test]
    fn token_window_and_decided() {
        let l = TokenLedger::new(db());
        assert_eq!(l.use_token("p", "tok12345", 1000), Ok(()));
        assert_eq!(
            l.use_token("p", "tok12345", 1000 + 180),
            Ok(()),
            "concurrent use within 3 minutes"
        );
        assert_eq!(
            l.use_token("q", "tok12345", 1000 + 400),
            Ok(()),
            "tokens are per project"
        );
        assert_eq!(
            l.use_token("p", "tok12345", 1000 + 181),
            Err(ErrorCode::TokenExpired)
        );
        l.mark_decided("p", "other123", 2000, "approved", false)
            .unwrap();
        assert_eq!(
            l.use_token("p", "other123", 2001),
            Err(ErrorCode::TokenApproved)
        );
        l.mark_decided("q", "tok12345", 1000 + 500, "approved", false)
            .unwrap();
        assert_eq!(
            l.use_token("q", "tok12345", 1000 + 1000),
            Err(ErrorCode::TokenExpired),
            "time expiry wins"
        );
    }

    /// With a storage key, the database keeps sessions sealed, tokens and addresses as keyed blind
    /// indexes; ledgers written with plain hashes (schema v4) still count (issue 15, finding 6).
    #[test]
    fn sealed_sessions_tokens_and_addresses() {
        let db = db();
        let sealer = Some(Arc::new(Sealer::new(&[5; 32])));
        let store = SessionStore::new(db.clone(), 60, 100).sealed(sealer.clone());
        let mut s = test_session();
        s.params.userid = Some("user-4711".into());
        let id = store.insert("t".into(), s, 0).unwrap();
        store
            .update("t", 1, |s| s.params.cf1 = Some("custom-one".into()))
            .unwrap();
        let data = db
            .tx(|c| c.query_one("SELECT data FROM sessions", &[])?.text("data"))
            .unwrap();
        assert!(pii::is_sealed(&data) && !data.contains("user-4711") && !data.contains("custom"));
        let back = store.touch("t", 2).unwrap();
        assert_eq!(back.params.userid.as_deref(), Some("user-4711"));
        assert_eq!(back.params.cf1.as_deref(), Some("custom-one"));
        // A session written in clear (before v5, or without a key) still reads.
        let clear = SessionStore::new(db.clone(), 60, 100);
        clear.insert("c".into(), test_session(), 0).unwrap();
        assert!(store.touch("c", 1).is_ok());
        // Sealed for its own row only.
        db.tx(|c| {
            c.execute(
                "UPDATE sessions SET data = $1 WHERE id <> $2",
                args![&data, &id],
            )
        })
        .unwrap();
        assert_eq!(store.touch("c", 2).unwrap_err(), ErrorCode::Internal);

        let l = TokenLedger::new(db.clone()).sealed(sealer.clone());
        l.mark_decided("p", "tok-secret", 10, "approved", false)
            .unwrap();
        let legacy = TokenLedger::new(db.clone());
        legacy
            .mark_decided("p", "old-token", 10, "approved", false)
            .unwrap();
        let hashes: Vec<String> = db
            .tx(|c| {
                c.query("SELECT token_hash FROM private_tokens", &[])?
                    .iter()
                    .map(|r| r.text("token_hash"))
                    .collect::<Result<_, _>>()
            })
            .unwrap();
        assert!(
            !hashes.contains(&token_hash("tok-secret")),
            "keyed, not a plain hash"
        );
        assert_eq!(
            l.use_token("p", "tok-secret", 11),
            Err(ErrorCode::TokenApproved)
        );
        assert_eq!(
            l.use_token("p", "old-token", 11),
            Err(ErrorCode::TokenApproved)
        );

        let r = RateLimiter::new(db.clone(), 5).sealed(sealer);
        let ip: IpAddr = "203.0.113.77".parse().unwrap();
        assert!(r.check(ip, 120).is_ok());
        let addrs: Vec<String> = db
            .tx(|c| {
                c.query("SELECT addr FROM rate_counts", &[])?
                    .iter()
                    .map(|r| r.text("addr"))
                    .collect::<Result<_, _>>()
            })
            .unwrap();
        assert!(addrs.iter().all(|a| !a.contains("203.0.113")), "{addrs:?}");
    }

    #[test]
    fn rate_limit_windows() {
        let r = RateLimiter::new(db(), 2);
        let ip: IpAddr = [127, 0, 0, 1].into();
        let other: IpAddr = [127, 0, 0, 2].into();
        assert!(r.check(ip, 120).is_ok());
        assert!(r.check(ip, 130).is_ok());
        assert_eq!(r.check(ip, 150), Err(30));
        assert!(r.check(other, 150).is_ok());
        assert!(r.check(ip, 180).is_ok(), "new window");
    }

    fn test_session() -> Session {
        let params = liveform_core::RawQuery::parse("pid=p")
            .unwrap()
            .resolve(&liveform_core::LaunchContext {
                key: "k",
                algorithm: liveform_core::Algorithm::Ecb,
                encrypted_only: false,
                now_unix: 0,
            })
            .unwrap();
        let offer = liveform_core::policy::offer(
            liveform_core::policy::SupportTable::builtin().unwrap(),
            &liveform_core::policy::PolicyInput::default(),
        )
        .unwrap();
        let flow = Flow::new(liveform_core::flow::FlowConfig::default(), offer).unwrap();
        Session {
            pid: "p".into(),
            params,
            flow,
            choice: None,
            submission_id: "sub".into(),
            created: 0,
            last_seen: 0,
            finished: false,
            liveness: vec![Challenge::Closer, Challenge::TurnLeft],
            ip: None,
        }
    }

    #[test]
    fn session_lifetimes() {
        let store = SessionStore::new(db(), 60, 100);
        let s = test_session();
        store.insert("t".into(), s.clone(), 0).unwrap();
        assert!(store.touch("t", 59).is_ok());
        assert!(store.touch("t", 99).is_ok(), "idle clock restarted at 59");
        assert_eq!(
            store.touch("t", 100).unwrap_err(),
            ErrorCode::SessionExpired,
            "absolute lifetime"
        );
        assert_eq!(
            store.touch("t", 101).unwrap_err(),
            ErrorCode::SessionExpired,
            "removed"
        );
        store.insert("u".into(), s, 0).unwrap();
        assert_eq!(
            store.touch("u", 60).unwrap_err(),
            ErrorCode::SessionExpired,
            "idle lifetime"
        );
    }

    #[test]
    fn two_tokens_share_one_session() {
        let store = SessionStore::new(db(), 60, 100);
        let id = store.insert("desk".into(), test_session(), 0).unwrap();
        assert_eq!(
            store.add_token(&id, "desk".into(), 1).unwrap_err(),
            ErrorCode::Internal
        );
        store.add_token(&id, "phone".into(), 10).unwrap();
        assert_eq!(store.len(), 1);
        store
            .update("phone", 20, |s| {
                s.choice = Some(Choice {
                    country: liveform_core::Alpha3::parse("KOR").unwrap(),
                    id_type: None,
                })
            })
            .unwrap();
        let (same, s) = store.resolve("desk", 30).unwrap();
        assert_eq!(same, id);
        assert!(s.choice.is_some(), "the desktop sees the phone's choice");
        store.mark_finished("desk", 40).unwrap();
        assert!(store.touch("phone", 50).unwrap().finished);
        assert_eq!(
            store.touch("desk", 150).unwrap_err(),
            ErrorCode::SessionExpired
        );
        assert_eq!(
            store.touch("phone", 150).unwrap_err(),
            ErrorCode::SessionExpired,
            "expiry ends every token"
        );
        assert!(store.is_empty());
        assert_eq!(
            store.add_token(&id, "late".into(), 151).unwrap_err(),
            ErrorCode::SessionExpired
        );
    }
}
