//! Handing the session to a phone: `POST /api/handoff` (a new code), `GET /api/handoff` (what
//! became of it), `POST /api/handoff/claim` (the phone's session). The codes are in `handoff.rs`.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use liveform_core::api::ClaimHandoff;
use liveform_core::ErrorCode;

use crate::error::ApiError;
use crate::extract::SessionToken;
use crate::handoff::{claim, create, status};
use crate::state::{db, now, Shared};

/// `POST /api/handoff`.
pub async fn post_handoff(
    State(state): State<Shared>,
    SessionToken(token): SessionToken,
) -> Result<Response, ApiError> {
    let t = now(&state);
    let view = db(&state, move |s| create(s, &token, t)).await??;
    Ok(Json(view).into_response())
}

/// `GET /api/handoff`.
pub async fn get_handoff(
    State(state): State<Shared>,
    SessionToken(token): SessionToken,
) -> Result<Response, ApiError> {
    let t = now(&state);
    let st = db(&state, move |s| status(s, &token, t)).await??;
    Ok(Json(st).into_response())
}

/// `POST /api/handoff/claim`.
pub async fn post_claim(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<ClaimHandoff>, JsonRejection>,
) -> Result<Response, ApiError> {
    let t = now(&state);
    super::rate_limit(&state, &headers, peer, t, "claims").await?;
    let Json(req) = body.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    let view = db(&state, move |s| claim(s, &req.token, t)).await??;
    Ok(Json(view).into_response())
}
