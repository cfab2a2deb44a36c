//! Active liveness: `POST /api/session/liveness/open` (the next attempt) and
//! `POST /api/session/liveness` (its record, decided by the server). The rules are in
//! `liveness.rs`.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use liveform_core::api::KycStatus;
use liveform_core::capture::is_virtual_label;
use liveform_core::liveness::{LivenessAttempt, OpenedAttempt};
use liveform_core::ErrorCode;

use crate::error::ApiError;
use crate::extract::LiveSession;
use crate::liveness::{answer, check, exhausted, has_liveness, invalid, record, standing};
use crate::sessions::Session;
use crate::state::{blocking, now_ms, Shared};
use crate::store::{Store, StoredAttempt};
use crate::uploads::new_submission;

/// The `retry` webhook's `retryCode` after a failed liveness attempt (inferred: ARGOS publishes
/// no list of retry codes).
pub const RETRY_LIVENESS_FAILED: &str = "liveness_failed";

/// What both liveness requests check first, after the session: storage, a liveness step, fewer
/// than three failures (checked first: after them every further request is refused, whatever it
/// says), an unfinished submission. The store and the attempts stored so far.
async fn ready(state: &Shared, s: &Session) -> Result<(Arc<Store>, Vec<StoredAttempt>), ApiError> {
    let store = state.require_store()?;
    if !has_liveness(s) {
        return Err(ApiError::new(
            ErrorCode::SlotNotInFlow,
            "this session has no liveness step",
        ));
    }
    let sid = s.submission_id.clone();
    let (row, attempts) = blocking(store.clone(), move |st| {
        Ok((st.submission(&sid)?, st.liveness_attempts(&sid)?))
    })
    .await?;
    if let Some(e) = exhausted(&attempts) {
        return Err(e);
    }
    if row.is_some_and(|r| r.status != KycStatus::Incomplete) {
        return Err(ApiError::new(
            ErrorCode::AlreadySubmitted,
            "the submission is finished",
        ));
    }
    Ok((store, attempts))
}

/// `POST /api/session/liveness/open` → [`OpenedAttempt`]: the next attempt's id and number.
/// Opening again before recording replaces the open attempt (a reload, a second tab).
pub async fn open_attempt(
    State(state): State<Shared>,
    LiveSession { session: s, .. }: LiveSession,
) -> Result<Response, ApiError> {
    let (store, attempts) = ready(&state, &s).await?;
    let sub = new_submission(&s);
    if standing(&attempts).0 {
        return Err(invalid("liveness already passed"));
    }
    let number = u8::try_from(attempts.len() + 1).unwrap_or(u8::MAX);
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|_| ApiError::new(ErrorCode::Internal, "no randomness"))?;
    let attempt_id = hex::encode(id);
    let now = now_ms(&state);
    let aid = attempt_id.clone();
    let (created, opened) = blocking(store, move |st| {
        let created = st.ensure_submission(&sub, now)?;
        let opened = st.open_attempt(&sub.id, &aid, number, now)?;
        // A retry after a failed attempt: the row for the `retry` webhook.
        let row = if created || (number > 1 && opened == Some(true)) {
            st.submission(&sub.id)?
        } else {
            None
        };
        Ok((row.map(|r| (created, r)), opened))
    })
    .await?;
    match created {
        Some((true, row)) => crate::webhooks::queue(&state, row, "created", None, None).await,
        Some((false, row)) => {
            // ARGOS's `retry`: the person tries again after a failure. Here: the server opens
            // liveness attempt 2 or 3 after the earlier ones failed, once per attempt number
            // (a reopened attempt sends nothing). `attempts`: the failed attempts so far.
            let mut fields = serde_json::Map::new();
            fields.insert("retryCode".into(), RETRY_LIVENESS_FAILED.into());
            fields.insert("attempts".into(), (attempts.len()).into());
            crate::webhooks::queue_fields(&state, row, "retry", None, Some(fields)).await;
        }
        None => {}
    }
    if opened.is_none() {
        return Err(ApiError::new(
            ErrorCode::AlreadySubmitted,
            "the submission is finished",
        ));
    }
    Ok(Json(OpenedAttempt {
        attempt_id,
        attempt: number,
    })
    .into_response())
}

/// `POST /api/session/liveness` with a [`LivenessAttempt`] → `201` (stored) or `200` (the same
/// attempt again) with `{attempts_left, outcome[, reasons]}`.
pub async fn post_liveness(
    State(state): State<Shared>,
    LiveSession { session: s, .. }: LiveSession,
    body: Result<Json<LivenessAttempt>, JsonRejection>,
) -> Result<Response, ApiError> {
    let (store, _) = ready(&state, &s).await?;
    let Json(mut attempt) =
        body.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    check(&s, &attempt)?;
    attempt.track.virtual_label =
        attempt.track.virtual_label || is_virtual_label(&attempt.track.label);
    let now = now_ms(&state);
    let sub = new_submission(&s);
    let record_json = serde_json::to_string(&attempt)
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("json: {e}")))?;
    let mut recorded = blocking(store, move |st| {
        record(st, &sub, &attempt, record_json, now)
    })
    .await?
    .map_err(invalid)?;
    if let Some(row) = recorded.created.take() {
        crate::webhooks::queue(&state, row, "created", None, None).await;
    }
    let (stored, outcome) = answer(&recorded)?;
    let status = if stored {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(outcome)).into_response())
}
