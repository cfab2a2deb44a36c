//! The person's session as handlers receive it: [`SessionToken`] (the session header) and
//! [`LiveSession`] (the session it reaches, resolved and touched on the blocking pool). Both
//! refuse with an [`ApiError`] carrying the catalogue's session codes, never with axum's
//! plain-text rejections.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use liveform_core::api::SESSION_HEADER;
use liveform_core::ErrorCode;

use crate::error::ApiError;
use crate::sessions::Session;
use crate::state::{db, now, Shared};

/// The `x-liveform-session` header's token; without one, `SessionExpired` "no session header".
#[derive(Clone, Debug)]
pub struct SessionToken(pub String);

impl FromRequestParts<Shared> for SessionToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &Shared) -> Result<Self, ApiError> {
        parts
            .headers
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|t| SessionToken(t.to_owned()))
            .ok_or_else(|| ApiError::new(ErrorCode::SessionExpired, "no session header"))
    }
}

/// The live session of the request: its token and the session, touched (its idle time starts
/// again). An unknown or expired session is refused with the session store's code.
#[derive(Clone, Debug)]
pub struct LiveSession {
    pub token: String,
    pub session: Session,
}

impl LiveSession {
    /// Resolves and touches the session `token` reaches (for handlers that check something
    /// else first).
    pub async fn resolve(state: &Shared, token: SessionToken) -> Result<Self, ApiError> {
        let t = now(state);
        let SessionToken(token) = token;
        let owned = token.clone();
        let session = db(state, move |s| s.sessions.touch(&owned, t))
            .await?
            .map_err(|code| ApiError::new(code, "unknown or expired session"))?;
        Ok(LiveSession { token, session })
    }
}

impl FromRequestParts<Shared> for LiveSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        let token = SessionToken::from_request_parts(parts, state).await?;
        LiveSession::resolve(state, token).await
    }
}
