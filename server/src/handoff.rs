//! Handing a session to another device: a desktop without a camera shows a QR code carrying a
//! one-time, short-lived handoff token; a phone that opens it claims the token and gets its own
//! session token for the same session; the desktop polls what became of the code.
//!
//! * `POST /api/handoff` (session header) → [`HandoffView`]: a new code, replacing the previous.
//! * `POST /api/handoff/claim` `{"token"}` (no session header) → [`SessionView`] of the same
//!   session under a new token. Once per code; rate-limited per address like session creation.
//! * `GET /api/handoff` (session header) → [`HandoffStatus`].
//!
//! Only the SHA-256 of a handoff token is kept. Time is passed in.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use liveform_core::api::{
    ClaimHandoff, HandoffState, HandoffStatus, HandoffView, SessionView, SESSION_HEADER,
};
use liveform_core::ErrorCode;
use sha2::{Digest, Sha256};

use crate::app::{new_session_token, now, view, ApiError, AppState, Shared};
use crate::config::ServerSettings;
use crate::qr::QrTooLong;
use crate::sessions::SessionId;

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

type Hash = [u8; 32];

fn hash(token: &str) -> Hash {
    Sha256::digest(token.as_bytes()).into()
}

#[derive(Debug, Clone, Copy)]
struct Ticket {
    session: SessionId,
    expires: i64,
    claimed: bool,
}

#[derive(Default)]
struct Tickets {
    by_hash: HashMap<Hash, Ticket>,
    /// Each session's latest code (issuing a new one removes the previous).
    latest: HashMap<SessionId, Hash>,
}

/// The handoff codes: at most one per session, each claimable once before it expires.
pub struct Handoffs {
    lifetime_secs: i64,
    /// A ticket is forgotten this long after it expired (its session cannot outlive that), so
    /// "used" and "expired" stay distinguishable meanwhile.
    retain_secs: i64,
    inner: Mutex<Tickets>,
}

/// Above this many tickets, stale ones are swept when a new one is issued.
const SWEEP_AT: usize = 10_000;

impl Handoffs {
    pub fn new(lifetime_secs: i64, retain_secs: i64) -> Self {
        Handoffs {
            lifetime_secs,
            retain_secs,
            inner: Mutex::new(Tickets::default()),
        }
    }

    /// From `[server] handoff_minutes` and `session_max_minutes`.
    pub fn for_settings(s: &ServerSettings) -> Self {
        Handoffs::new(
            i64::from(s.handoff_minutes) * 60,
            i64::from(s.session_max_minutes) * 60,
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tickets> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a new code for `session`, replacing its previous one; it expires at `now` plus the
    /// lifetime, or at `not_after` if earlier (the session's own end). Returns the expiry.
    pub fn issue(&self, session: SessionId, token: &str, now: i64, not_after: i64) -> i64 {
        let expires = (now + self.lifetime_secs).min(not_after);
        let h = hash(token);
        let mut t = self.lock();
        if t.by_hash.len() >= SWEEP_AT {
            let keep = self.retain_secs;
            t.by_hash.retain(|_, k| k.expires + keep > now);
            let Tickets { by_hash, latest } = &mut *t;
            latest.retain(|_, h| by_hash.contains_key(h));
        }
        if let Some(old) = t.latest.insert(session, h) {
            t.by_hash.remove(&old);
        }
        t.by_hash.insert(
            h,
            Ticket {
                session,
                expires,
                claimed: false,
            },
        );
        expires
    }

    /// Consumes a code: the session it opens, or why not.
    pub fn claim(&self, token: &str, now: i64) -> Result<SessionId, HandoffError> {
        let mut t = self.lock();
        let ticket = t
            .by_hash
            .get_mut(&hash(token))
            .ok_or(HandoffError::Expired)?;
        if ticket.claimed {
            return Err(HandoffError::Used);
        }
        if now >= ticket.expires {
            return Err(HandoffError::Expired);
        }
        ticket.claimed = true;
        Ok(ticket.session)
    }

    /// What became of `session`'s latest code (`finished` is the session's, not known here).
    pub fn status(&self, session: SessionId, now: i64) -> HandoffStatus {
        let t = self.lock();
        let ticket = t.latest.get(&session).and_then(|h| t.by_hash.get(h));
        let (state, expires_in) = match ticket {
            None => (HandoffState::None, 0),
            Some(k) if k.claimed => (HandoffState::Claimed, 0),
            Some(k) if now >= k.expires => (HandoffState::Expired, 0),
            Some(k) => (HandoffState::Waiting, k.expires - now),
        };
        HandoffStatus { state, expires_in }
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
    let expires = state.handoffs.issue(id, &token, now, not_after);
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
    Ok(state.handoffs.status(id, now))
}

/// Consumes `handoff_token` and opens its session for this device under a new session token.
pub fn claim(state: &AppState, handoff_token: &str, now: i64) -> Result<SessionView, HandoffError> {
    let id = state.handoffs.claim(handoff_token, now)?;
    let token = new_session_token().ok_or(HandoffError::NoRandomness)?;
    let session = state
        .sessions
        .add_token(id, token.clone(), now)
        .map_err(HandoffError::Session)?;
    let project = state
        .config
        .project(&session.pid)
        .ok_or(HandoffError::ProjectRemoved)?;
    Ok(view(state, project, token, &session, now))
}

fn session_header(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::new(ErrorCode::SessionExpired, "no session header"))
}

fn no_store<T: serde::Serialize>(body: T) -> Response {
    let mut resp = Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `POST /api/handoff`.
pub async fn post_handoff(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let t = now(&state);
    Ok(no_store(create(&state, session_header(&headers)?, t)?))
}

/// `GET /api/handoff`.
pub async fn get_handoff(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let t = now(&state);
    Ok(no_store(status(&state, session_header(&headers)?, t)?))
}

/// `POST /api/handoff/claim`.
pub async fn post_claim(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<ClaimHandoff>, JsonRejection>,
) -> Result<Response, ApiError> {
    let t = now(&state);
    crate::app::rate_limit(&state, &headers, peer, t, "claims")?;
    let Json(req) = body.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    Ok(no_store(claim(&state, &req.token, t)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_per_code_and_a_new_code_replaces_the_old() {
        let h = Handoffs::new(600, 7200);
        assert_eq!(h.status(1, 0).state, HandoffState::None);
        assert_eq!(h.issue(1, "first", 100, i64::MAX), 700);
        assert_eq!(
            h.status(1, 100),
            HandoffStatus {
                state: HandoffState::Waiting,
                expires_in: 600
            }
        );
        assert_eq!(h.issue(1, "second", 200, 500), 500, "not past the session");
        assert!(matches!(h.claim("first", 201), Err(HandoffError::Expired)));
        assert!(matches!(
            h.claim("nonsense", 201),
            Err(HandoffError::Expired)
        ));
        assert_eq!(h.claim("second", 202).unwrap(), 1);
        assert_eq!(h.status(1, 203).state, HandoffState::Claimed);
        assert!(matches!(h.claim("second", 204), Err(HandoffError::Used)));
        assert!(
            matches!(h.claim("second", 9999), Err(HandoffError::Used)),
            "used wins over expired"
        );
        h.issue(2, "third", 0, i64::MAX);
        assert_eq!(h.status(2, 600).state, HandoffState::Expired);
        assert!(matches!(h.claim("third", 600), Err(HandoffError::Expired)));
        assert_eq!(h.status(1, 203).state, HandoffState::Claimed, "per session");
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
