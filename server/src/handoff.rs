//! Handing a session to another device: a desktop without a camera shows a QR code carrying a
//! one-time, short-lived handoff token; a phone that opens it claims the token and gets its own
//! session token for the same session; the desktop polls what became of the code.
//!
//! * `POST /api/handoff` (session header) → [`HandoffView`]: a new code, replacing the previous.
//! * `POST /api/handoff/claim` `{"token"}` (no session header) → [`SessionView`] of the same
//!   session under a new token. Once per code; rate-limited per address like session creation.
//! * `GET /api/handoff` (session header) → [`HandoffStatus`].
//!
//! Only the SHA-256 of a handoff token is kept. Time is passed in. The handlers are in
//! `routes/handoff.rs`; [`create`], [`status`] and [`claim`] are what they run (blocking).

use std::sync::Arc;

use liveform_core::api::{HandoffState, HandoffStatus, HandoffView, SessionView};
use liveform_core::ErrorCode;

use crate::args;
use crate::config::ServerSettings;
use crate::db::{Db, DbError};
use crate::error::ApiError;
use crate::qr::QrTooLong;
use crate::sessions::{db_failed, token_hash, SessionId};
use crate::state::{new_session_token, AppState};

/// Why a handoff request is refused.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    #[error("handoff is off: server.public_base_url is not set")]
    NotConfigured,
    #[error("this handoff code was already used")]
    Used,
    #[error("unknown, replaced or expired handoff code")]
    Expired,
    #[error("unknown or expired session")]
    Session(ErrorCode),
    #[error("the session's project was removed from the configuration")]
    ProjectRemoved,
    #[error("no system randomness")]
    NoRandomness,
    #[error("cannot draw the QR code: {0}")]
    Qr(#[from] QrTooLong),
}

impl HandoffError {
    /// The catalogue code the server answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            HandoffError::NotConfigured => ErrorCode::HandoffUnavailable,
            HandoffError::Used => ErrorCode::HandoffUsed,
            HandoffError::Expired => ErrorCode::HandoffExpired,
            HandoffError::Session(code) => *code,
            HandoffError::ProjectRemoved => ErrorCode::UnknownProject,
            HandoffError::NoRandomness | HandoffError::Qr(_) => ErrorCode::Internal,
        }
    }
}

impl From<HandoffError> for ApiError {
    fn from(e: HandoffError) -> Self {
        ApiError::new(e.code(), e.to_string())
    }
}

/// The handoff codes, in the database (hashes only): at most one per session, each claimable once
/// before it expires; any instance can claim a code another one issued. A code goes with its
/// session (so "used" and "expired" stay distinguishable while the session can still be reached).
pub struct Handoffs {
    db: Arc<Db>,
    lifetime_secs: i64,
}

impl Handoffs {
    pub fn new(db: Arc<Db>, lifetime_secs: i64) -> Self {
        Handoffs { db, lifetime_secs }
    }

    /// From `[server] handoff_minutes`.
    pub fn for_settings(db: Arc<Db>, s: &ServerSettings) -> Self {
        Handoffs::new(db, i64::from(s.handoff_minutes) * 60)
    }

    /// Records a new code for `session`, replacing its previous one; it expires at `now` plus the
    /// lifetime, or at `not_after` if earlier (the session's own end). Returns the expiry.
    pub fn issue(
        &self,
        session: &str,
        token: &str,
        now: i64,
        not_after: i64,
    ) -> Result<i64, HandoffError> {
        let expires = (now + self.lifetime_secs).min(not_after);
        self.db
            .tx(|c| {
                c.execute("DELETE FROM handoffs WHERE session_id = $1", args![session])?;
                c.execute(
                    "INSERT INTO handoffs (code_hash, session_id, expires_s, claimed)
                     VALUES ($1, $2, $3, 0)",
                    args![token_hash(token), session, expires],
                )
            })
            .map_err(|e| HandoffError::Session(db_failed(e)))?;
        Ok(expires)
    }

    /// Consumes a code: the session it opens, or why not.
    pub fn claim(&self, token: &str, now: i64) -> Result<SessionId, HandoffError> {
        self.db
            .tx(|c| {
                let Some(row) = c.query_opt(
                    "SELECT session_id, expires_s, claimed FROM handoffs WHERE code_hash = $1{lock}",
                    args![token_hash(token)],
                )?
                else {
                    return Ok(Err(HandoffError::Expired));
                };
                if row.bool("claimed")? {
                    return Ok(Err(HandoffError::Used));
                }
                if now >= row.i64("expires_s")? {
                    return Ok(Err(HandoffError::Expired));
                }
                c.execute(
                    "UPDATE handoffs SET claimed = 1 WHERE code_hash = $1",
                    args![token_hash(token)],
                )?;
                Ok(Ok(row.text("session_id")?))
            })
            .map_err(|e: DbError| HandoffError::Session(db_failed(e)))?
    }

    /// What became of `session`'s latest code (`finished` is the session's, not known here).
    pub fn status(&self, session: &str, now: i64) -> Result<HandoffStatus, HandoffError> {
        let row = self
            .db
            .tx(|c| {
                c.query_opt(
                    "SELECT expires_s, claimed FROM handoffs WHERE session_id = $1",
                    args![session],
                )
            })
            .map_err(|e| HandoffError::Session(db_failed(e)))?;
        let read = |r: &crate::db::Row| -> Result<(i64, bool), DbError> {
            Ok((r.i64("expires_s")?, r.bool("claimed")?))
        };
        let ticket = row
            .as_ref()
            .map(read)
            .transpose()
            .map_err(|e| HandoffError::Session(db_failed(e)))?;
        let (state, expires_in) = match ticket {
            None => (HandoffState::None, 0),
            Some((_, true)) => (HandoffState::Claimed, 0),
            Some((expires, _)) if now >= expires => (HandoffState::Expired, 0),
            Some((expires, _)) => (HandoffState::Waiting, expires - now),
        };
        Ok(HandoffStatus { state, expires_in })
    }
}

/// `<base>/?handoff=<token>`: the address the QR code carries.
pub fn handoff_url(base: &str, token: &str) -> String {
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("handoff", token)
        .finish();
    format!("{base}/?{q}")
}

/// Makes a new code for the session reached by `session_token`.
pub fn create(
    state: &AppState,
    session_token: &str,
    now: i64,
) -> Result<HandoffView, HandoffError> {
    let (id, session) = state
        .sessions
        .resolve(session_token, now)
        .map_err(HandoffError::Session)?;
    let base = state
        .config
        .server
        .public_base_url
        .as_deref()
        .ok_or(HandoffError::NotConfigured)?;
    let token = new_session_token().ok_or(HandoffError::NoRandomness)?;
    let url = handoff_url(base, &token);
    let qr_svg = crate::qr::svg_of(&url)?;
    let not_after = session.created + state.sessions.max_secs();
    let expires = state.handoffs.issue(&id, &token, now, not_after)?;
    Ok(HandoffView {
        url,
        qr_svg,
        expires_in: expires - now,
    })
}

/// What became of the latest code of the session reached by `session_token`.
pub fn status(
    state: &AppState,
    session_token: &str,
    now: i64,
) -> Result<HandoffStatus, HandoffError> {
    let (id, session) = state
        .sessions
        .resolve(session_token, now)
        .map_err(HandoffError::Session)?;
    if session.finished {
        return Ok(HandoffStatus {
            state: HandoffState::Finished,
            expires_in: 0,
        });
    }
    state.handoffs.status(&id, now)
}

/// Consumes `handoff_token` and opens its session for this device under a new session token.
pub fn claim(state: &AppState, handoff_token: &str, now: i64) -> Result<SessionView, HandoffError> {
    let id = state.handoffs.claim(handoff_token, now)?;
    let token = new_session_token().ok_or(HandoffError::NoRandomness)?;
    let session = state
        .sessions
        .add_token(&id, token.clone(), now)
        .map_err(HandoffError::Session)?;
    let project = state
        .config
        .project(&session.pid)
        .ok_or(HandoffError::ProjectRemoved)?;
    Ok(state.session_view(project, token, &session, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handoffs_with_sessions(ids: &[&str]) -> Handoffs {
        let db = Arc::new(Db::open_memory().unwrap());
        for id in ids {
            db.tx(|c| {
                c.execute(
                    "INSERT INTO sessions (id, pid, data, created_s, last_seen_s) VALUES ($1, 'p', '{}', 0, 0)",
                    args![*id],
                )
            })
            .unwrap();
        }
        Handoffs::new(db, 600)
    }

    #[test]
    fn one_claim_per_code_and_a_new_code_replaces_the_old() {
        let h = handoffs_with_sessions(&["1", "2"]);
        let state = |h: &Handoffs, s: &str, now| h.status(s, now).unwrap().state;
        assert_eq!(state(&h, "1", 0), HandoffState::None);
        assert_eq!(h.issue("1", "first", 100, i64::MAX).unwrap(), 700);
        assert_eq!(
            h.status("1", 100).unwrap(),
            HandoffStatus {
                state: HandoffState::Waiting,
                expires_in: 600
            }
        );
        assert_eq!(
            h.issue("1", "second", 200, 500).unwrap(),
            500,
            "not past the session"
        );
        assert!(matches!(h.claim("first", 201), Err(HandoffError::Expired)));
        assert!(matches!(
            h.claim("nonsense", 201),
            Err(HandoffError::Expired)
        ));
        assert_eq!(h.claim("second", 202).unwrap(), "1");
        assert_eq!(state(&h, "1", 203), HandoffState::Claimed);
        assert!(matches!(h.claim("second", 204), Err(HandoffError::Used)));
        assert!(
            matches!(h.claim("second", 9999), Err(HandoffError::Used)),
            "used wins over expired"
        );
        h.issue("2", "third", 0, i64::MAX).unwrap();
        assert_eq!(state(&h, "2", 600), HandoffState::Expired);
        assert!(matches!(h.claim("third", 600), Err(HandoffError::Expired)));
        assert_eq!(state(&h, "1", 203), HandoffState::Claimed, "per session");
    }

    #[test]
    fn urls_and_codes() {
        assert_eq!(
            handoff_url("https://kyc.example.com", "ab-_9"),
            "https://kyc.example.com/?handoff=ab-_9"
        );
        assert_eq!(
            HandoffError::NotConfigured.code().id(),
            "LF-20005",
            "the SPA hides the QR option on this code"
        );
        assert_eq!(HandoffError::Used.code().id(), "LF-20003");
        assert_eq!(HandoffError::Expired.code().id(), "LF-20004");
    }
}
