//! In-memory sessions, the private-mode token ledger and the per-address rate limiter.
//! Time is passed in (Unix seconds), so every rule is testable without waiting.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use liveform_core::api::Choice;
use liveform_core::flow::Flow;
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
}

/// Sessions by opaque token.
pub struct SessionStore {
    idle_secs: i64,
    max_secs: i64,
    inner: Mutex<HashMap<String, Session>>,
}

/// Above this many sessions, expired ones are swept on insert.
const SWEEP_AT: usize = 10_000;

impl SessionStore {
    pub fn new(idle_secs: i64, max_secs: i64) -> Self {
        SessionStore {
            idle_secs,
            max_secs,
            inner: Mutex::new(HashMap::new()),
        }
    }

    fn live(&self, s: &Session, now: i64) -> bool {
        now - s.last_seen < self.idle_secs && now - s.created < self.max_secs
    }

    pub fn insert(&self, token: String, session: Session, now: i64) {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, s| {
                now - s.last_seen < self.idle_secs && now - s.created < self.max_secs
            });
        }
        map.insert(token, session);
    }

    /// The live session for `token`, touched (idle clock restarted); expired ones are removed.
    pub fn touch(&self, token: &str, now: i64) -> Result<Session, ErrorCode> {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(token) {
            Some(s) if self.live(s, now) => {
                s.last_seen = now;
                Ok(s.clone())
            }
            Some(_) => {
                map.remove(token);
                Err(ErrorCode::SessionExpired)
            }
            None => Err(ErrorCode::SessionExpired),
        }
    }

    /// Applies `f` to the live session for `token` (touching it).
    pub fn update<T>(
        &self,
        token: &str,
        now: i64,
        f: impl FnOnce(&mut Session) -> T,
    ) -> Result<T, ErrorCode> {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(token) {
            Some(s) if self.live(s, now) => {
                s.last_seen = now;
                Ok(f(s))
            }
            _ => Err(ErrorCode::SessionExpired),
        }
    }

    /// Seconds until the session expires if left idle.
    pub fn expires_in(&self, s: &Session, now: i64) -> i64 {
        (s.last_seen + self.idle_secs).min(s.created + self.max_secs) - now
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map(|m| m.len()).unwrap_or(0)
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

/// A fixed-window limiter: at most `per_minute` events per address per 60-second window.
pub struct RateLimiter {
    per_minute: u32,
    inner: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            inner: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok(())` if allowed (and counted), else `Err(seconds to wait)`.
    pub fn check(&self, ip: IpAddr, now: i64) -> Result<(), i64> {
        let window = now - now.rem_euclid(60);
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, (w, _)| *w == window);
        }
        let slot = map.entry(ip).or_insert((window, 0));
        if slot.0 != window {
            *slot = (window, 0);
        }
        if slot.1 >= self.per_minute {
            return Err(window + 60 - now);
        }
        slot.1 += 1;
        Ok(())
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

    #[test]
    fn session_lifetimes() {
        let store = SessionStore::new(60, 100);
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
        let s = Session {
            pid: "p".into(),
            params,
            flow,
            choice: None,
            submission_id: "sub".into(),
            created: 0,
            last_seen: 0,
        };
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
}
