//! The session: opening one from a link (`POST /api/session`), resuming it (`GET`), and the
//! country / ID type choice (`POST /api/session/choice`).

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use liveform_core::api::{Choice, CreateSession, KycStatus};
use liveform_core::flow::CaptureSlot;
use liveform_core::policy::check_choice;
use liveform_core::ErrorCode;

use crate::config::ProjectConfig;
use crate::error::ApiError;
use crate::extract::{LiveSession, SessionToken};
use crate::sessions::Session;
use crate::state::{blocking, db, new_session_token, new_submission_id, now, Shared};

/// `POST /api/session {"query": "<raw query>"}`: decrypt, validate, open a session.
pub async fn create_session(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<CreateSession>, JsonRejection>,
) -> Result<Response, ApiError> {
    let t = now(&state);
    super::rate_limit(&state, &headers, peer, t, "sessions").await?;
    let Json(req) = body.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    let opened = crate::opening::open_link(&state.config, &req.query, t)?;
    let (project, params, flow) = (opened.project, opened.params, opened.flow);
    if !params.ignored.is_empty() {
        let names: Vec<String> = params
            .ignored
            .iter()
            .map(|i| format!("{}({:?})", i.name, i.reason))
            .collect();
        tracing::info!(
            pid = %project.pid,
            ignored = %names.join(" "),
            "link parameters ignored"
        );
    }
    // Private mode (ARGOS §1.5), after the link's own checks (`startValidUntil` first).
    match &params.token {
        None if project.private.required => {
            return Err(ApiError::new(
                ErrorCode::TokenMissing,
                "private mode: the link carries no token",
            ))
        }
        None => {}
        Some(tok) => {
            let (pid, tok, mode) = (project.pid.clone(), tok.clone(), project.private);
            db(&state, move |s| s.tokens.check_token(&pid, &tok, t, &mode))
                .await?
                .map_err(|code| ApiError::new(code, "private-mode token refused"))?;
        }
    }
    let token = new_session_token()
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "no system randomness"))?;
    let submission_id = new_submission_id()
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "no system randomness"))?;
    let liveness = liveness_sequence(project)
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "no system randomness"))?;
    let session = Session {
        pid: project.pid.clone(),
        params,
        flow,
        choice: None,
        submission_id,
        created: t,
        last_seen: t,
        finished: false,
        liveness,
        ip: Some(
            super::client_ip(&state, &headers, peer)
                .to_canonical()
                .to_string(),
        ),
    };
    let v = state.session_view(project, token.clone(), &session, t);
    db(&state, move |s| s.sessions.insert(token, session, t))
        .await?
        .map_err(|code| ApiError::new(code, "cannot store the session"))?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// `GET /api/session` with the session header: resume (a reload in the same tab).
pub async fn get_session(
    State(state): State<Shared>,
    live: LiveSession,
) -> Result<Response, ApiError> {
    let t = now(&state);
    let project = state
        .config
        .project(&live.session.pid)
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownProject, "project removed"))?;
    let v = state.session_view(project, live.token, &live.session, t);
    Ok(Json(v).into_response())
}

/// `POST /api/session/choice`: re-checks a country / ID type against the session's offer.
pub async fn post_choice(
    State(state): State<Shared>,
    token: SessionToken,
    body: Result<Json<Choice>, JsonRejection>,
) -> Result<Response, ApiError> {
    let t = now(&state);
    let Json(choice) = body.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    // Touched only once the body is read (a malformed choice is refused as such).
    let LiveSession { token, session: s } = LiveSession::resolve(&state, token).await?;
    check_choice(s.flow.offer(), choice.country, choice.id_type)
        .map_err(|e| ApiError::new(e.code(), e.detail))?;
    // A different country or type makes the document captures stale (the flow clears them too);
    // once finished, the choice is part of the submission and cannot change.
    let changed = s.choice.as_ref().is_some_and(|c| *c != choice);
    if let Some(store) = &state.store {
        let sid = s.submission_id.clone();
        let finished = blocking(store.clone(), move |st| {
            let row = st.submission(&sid)?;
            let finished = row
                .as_ref()
                .is_some_and(|r| r.status != KycStatus::Incomplete);
            if changed && !finished {
                st.delete_partial(
                    &sid,
                    &[],
                    &[CaptureSlot::DocumentFront, CaptureSlot::DocumentBack],
                    0,
                )?;
            }
            Ok(finished)
        })
        .await?;
        if finished && s.choice.as_ref() != Some(&choice) {
            return Err(ApiError::new(
                ErrorCode::AlreadySubmitted,
                "the submission is finished",
            ));
        }
    }
    db(&state, move |s| {
        s.sessions.update(&token, t, |s| s.choice = Some(choice))
    })
    .await?
    .map_err(|code| ApiError::new(code, "unknown or expired session"))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The session's liveness challenges: the project's fixed ones, else drawn from 16 random bytes.
fn liveness_sequence(project: &ProjectConfig) -> Option<Vec<liveform_core::liveness::Challenge>> {
    if let Some(fixed) = &project.liveness_challenges {
        return Some(fixed.clone());
    }
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).ok()?;
    Some(liveform_core::liveness::draw(&b))
}
