//! In-memory sessions, the private-mode token ledger and the per-address rate limiter.
//! Time is passed in (Unix seconds), so every rule is testable without waiting.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use liveform_core::api::Choice;
use liveform_core::flow::Flow;
use liveform_core::liveness::Challenge;
use liveform_core::{ErrorCode, LaunchParams};

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
}

/// A session's internal id: what every token of the session maps to (never sent out).
pub type SessionId = u64;

/// Sessions by id, and the opaque tokens that reach them. A session usually has one token; a
/// handoff to a phone adds a second one for the same state (both stay valid).
pub struct SessionStore {
    idle_secs: i64,
    max_secs: i64,
    inner: Mutex<Sessions>,
}

#[derive(Default)]
struct Sessions {
    next_id: SessionId,
    by_id: HashMap<SessionId, Entry>,
    tokens: HashMap<String, SessionId>,
}

struct Entry {
    session: Session,
    tokens: Vec<String>,
}

impl Sessions {
    fn remove(&mut self, id: SessionId) {
        if let Some(e) = self.by_id.remove(&id) {
            for t in e.tokens {
                self.tokens.remove(&t);
            }
        }
    }
}

/// Above this many sessions, expired ones are swept on insert.
const SWEEP_AT: usize = 10_000;

impl SessionStore {
    pub fn new(idle_secs: i64, max_secs: i64) -> Self {
        SessionStore {
            idle_secs,
            max_secs,
            inner: Mutex::new(Sessions::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn live(&self, s: &Session, now: i64) -> bool {
        now - s.last_seen < self.idle_secs && now - s.created < self.max_secs
    }

    /// Stores a new session reached by `token`; returns its id.
    pub fn insert(&self, token: String, session: Session, now: i64) -> SessionId {
        let mut map = self.lock();
        if map.by_id.len() >= SWEEP_AT {
            let dead: Vec<SessionId> = map
                .by_id
                .iter()
                .filter(|(_, e)| !self.live(&e.session, now))
                .map(|(id, _)| *id)
                .collect();
            for id in dead {
                map.remove(id);
            }
        }
        let id = map.next_id;
        map.next_id += 1;
        if let Some(old) = map.tokens.insert(token.clone(), id) {
            // A token collision (32 random bytes: never in practice) must not share a session.
            map.remove(old);
            map.tokens.insert(token.clone(), id);
        }
        map.by_id.insert(
            id,
            Entry {
                session,
                tokens: vec![token],
            },
        );
        id
    }

    /// The live session for `token` and its id, touched (idle clock restarted); an expired one is
    /// removed with all its tokens.
    pub fn resolve(&self, token: &str, now: i64) -> Result<(SessionId, Session), ErrorCode> {
        let mut map = self.lock();
        let id = *map.tokens.get(token).ok_or(ErrorCode::SessionExpired)?;
        match map.by_id.get_mut(&id) {
            Some(e) if self.live(&e.session, now) => {
                e.session.last_seen = now;
                Ok((id, e.session.clone()))
            }
            _ => {
                map.remove(id);
                map.tokens.remove(token);
                Err(ErrorCode::SessionExpired)
            }
        }
    }

    /// The live session for `token`, touched (idle clock restarted); expired ones are removed.
    pub fn touch(&self, token: &str, now: i64) -> Result<Session, ErrorCode> {
        self.resolve(token, now).map(|(_, s)| s)
    }

    /// Adds another token for the live session `id` (a handoff to a phone), touching it.
    pub fn add_token(&self, id: SessionId, token: String, now: i64) -> Result<Session, ErrorCode> {
        let mut map = self.lock();
        match map.by_id.get(&id) {
            Some(e) if self.live(&e.session, now) => {}
            _ => {
                map.remove(id);
                return Err(ErrorCode::SessionExpired);
            }
        }
        if map.tokens.contains_key(&token) {
            return Err(ErrorCode::Internal);
        }
        map.tokens.insert(token.clone(), id);
        let e = map.by_id.get_mut(&id).ok_or(ErrorCode::SessionExpired)?;
        e.tokens.push(token);
        e.session.last_seen = now;
        Ok(e.session.clone())
    }

    /// Applies `f` to the live session for `token` (touching it).
    pub fn update<T>(
        &self,
        token: &str,
        now: i64,
        f: impl FnOnce(&mut Session) -> T,
    ) -> Result<T, ErrorCode> {
        let mut map = self.lock();
        let id = *map.tokens.get(token).ok_or(ErrorCode::SessionExpired)?;
        match map.by_id.get_mut(&id) {
            Some(e) if self.live(&e.session, now) => {
                e.session.last_seen = now;
                Ok(f(&mut e.session))
            }
            _ => Err(ErrorCode::SessionExpired),
        }
    }

    /// Records that the session reached by `token` is finished (the submission was made). Every
    /// token of the session sees it; the handoff status turns to `finished`.
    pub fn mark_finished(&self, token: &str, now: i64) -> Result<(), ErrorCode> {
        self.update(token, now, |s| s.finished = true)
    }

    /// Seconds until the session expires if left idle.
    pub fn expires_in(&self, s: &Session, now: i64) -> i64 {
        (s.last_seen + self.idle_secs).min(s.created + self.max_secs) - now
    }

    /// How long a session can live at most (seconds).
    pub fn max_secs(&self) -> i64 {
        self.max_secs
    }

    /// The number of sessions (not tokens).
    pub fn len(&self) -> usize {
        self.inner.lock().map(|m| m.by_id.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// ARGOS private mode (§1.5): a token is refused more than 3 minutes after its first use, or once
/// a decided submission (approved, rejected, pending) exists for it; time expiry wins when both
/// apply. Within those limits several people may use the same token concurrently.
pub struct TokenLedger {
    inner: Mutex<HashMap<(String, String), TokenUse>>,
}

#[derive(Debug, Clone, Copy)]
struct TokenUse {
    first_use: i64,
    decided: bool,
}

/// How long a private-mode token stays usable after its first use.
pub const TOKEN_WINDOW_SECS: i64 = 180;

impl Default for TokenLedger {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenLedger {
    pub fn new() -> Self {
        TokenLedger {
            inner: Mutex::new(HashMap::new()),
        }
    }

    /// Checks and records a use of `token` in project `pid`.
    pub fn use_token(&self, pid: &str, token: &str, now: i64) -> Result<(), ErrorCode> {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map
            .entry((pid.to_owned(), token.to_owned()))
            .or_insert(TokenUse {
                first_use: now,
                decided: false,
            });
        if now - entry.first_use > TOKEN_WINDOW_SECS {
            return Err(ErrorCode::TokenExpired);
        }
        if entry.decided {
            return Err(ErrorCode::TokenUsed);
        }
        Ok(())
    }

    /// Records that a decided submission now exists for `token` (called by submissions).
    pub fn mark_decided(&self, pid: &str, token: &str, now: i64) {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.entry((pid.to_owned(), token.to_owned()))
            .or_insert(TokenUse {
                first_use: now,
                decided: true,
            })
            .decided = true;
    }
}

/// Per-address counts in one-minute windows (the shared mechanism of [`RateLimiter`] and
/// [`FailureLimiter`]); stale windows are swept once the map reaches `SWEEP_AT` entries.
struct MinuteCounts(Mutex<HashMap<IpAddr, (i64, u32)>>);

impl MinuteCounts {
    fn new() -> Self {
        MinuteCounts(Mutex::new(HashMap::new()))
    }

    /// Runs `f` on `ip`'s count in the window holding `now`, with the seconds left in it.
    fn with<T>(&self, ip: IpAddr, now: i64, f: impl FnOnce(&mut u32, i64) -> T) -> T {
        let window = now - now.rem_euclid(60);
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, (w, _)| *w == window);
        }
        let slot = map.entry(ip).or_insert((window, 0));
        if slot.0 != window {
            *slot = (window, 0);
        }
        f(&mut slot.1, window + 60 - now)
    }
}

/// A fixed-window limiter: at most `per_minute` events per address per 60-second window.
pub struct RateLimiter {
    per_minute: u32,
    counts: MinuteCounts,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            counts: MinuteCounts::new(),
        }
    }

    /// `Ok(())` if allowed (and counted), else `Err(seconds to wait)`.
    pub fn check(&self, ip: IpAddr, now: i64) -> Result<(), i64> {
        self.counts.with(ip, now, |n, wait| {
            if *n >= self.per_minute {
                return Err(wait);
            }
            *n += 1;
            Ok(())
        })
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
    pub fn new(per_minute: u32) -> Self {
        FailureLimiter {
            per_minute,
            counts: MinuteCounts::new(),
        }
    }

    /// `Err(seconds to wait)` while `ip` is over its failures for this minute.
    pub fn blocked(&self, ip: IpAddr, now: i64) -> Result<(), i64> {
        self.counts.with(ip, now, |n, wait| {
            if *n >= self.per_minute {
                Err(wait)
            } else {
                Ok(())
            }
        })
    }

    /// Counts one failure of `ip`.
    pub fn failed(&self, ip: IpAddr, now: i64) {
        self.counts.with(ip, now, |n, _| *n = n.saturating_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_window_and_decided() {
        let l = TokenLedger::new();
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
        l.mark_decided("p", "other123", 2000);
        assert_eq!(
            l.use_token("p", "other123", 2001),
            Err(ErrorCode::TokenUsed)
        );
        l.mark_decided("q", "tok12345", 1000 + 500);
        assert_eq!(
            l.use_token("q", "tok12345", 1000 + 1000),
            Err(ErrorCode::TokenExpired),
            "time expiry wins"
        );
    }

    #[test]
    fn rate_limit_windows() {
        let r = RateLimiter::new(2);
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
        }
    }

    #[test]
    fn session_lifetimes() {
        let store = SessionStore::new(60, 100);
        let s = test_session();
        store.insert("t".into(), s.clone(), 0);
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
        store.insert("u".into(), s, 0);
        assert_eq!(
            store.touch("u", 60).unwrap_err(),
            ErrorCode::SessionExpired,
            "idle lifetime"
        );
    }

    #[test]
    fn two_tokens_share_one_session() {
        let store = SessionStore::new(60, 100);
        let id = store.insert("desk".into(), test_session(), 0);
        assert_eq!(
            store.add_token(id, "desk".into(), 1).unwrap_err(),
            ErrorCode::Internal
        );
        store.add_token(id, "phone".into(), 10).unwrap();
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
            store.add_token(id, "late".into(), 151).unwrap_err(),
            ErrorCode::SessionExpired
        );
    }
}
