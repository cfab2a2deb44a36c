//! `POST /api/session/liveness` (issue 7): one attempt at the session's liveness challenges, as
//! the form ran it on the device (`core::liveness`). The server does not see the movements; it
//! checks that the record fits the session (its challenges, attempt numbers in order, frames that
//! are this session's liveness captures, bounded sizes), stores it, counts failures, and after
//! [`MAX_ATTEMPTS`] failed attempts refuses further attempts and finishing with `SE-50021`.
//! `finish` requires a passed attempt whenever the flow has the liveness step.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use liveform_core::capture::is_virtual_label;
use liveform_core::flow::{CaptureSlot, Step};
use liveform_core::liveness::{outcome_after, LivenessAttempt, MAX_ATTEMPTS};
use liveform_core::ErrorCode;

use crate::app::{now_ms, ApiError, AppState};
use crate::sessions::Session;
use crate::store::{AttemptAdd, NewAttempt, StoredAttempt};
use crate::uploads::{blocking, session, store, valid_capture_id};

type Shared = Arc<AppState>;

/// Longest camera label kept (labels are short: "FaceTime HD Camera (1C1C:B782)").
pub const MAX_LABEL_CHARS: usize = 256;
/// Longest `facingMode` value kept.
pub const MAX_FACING_CHARS: usize = 32;
/// Largest track side accepted (pixels).
pub const MAX_TRACK_SIDE: u32 = 16_384;
/// Highest frame rate accepted.
pub const MAX_FRAME_RATE: f32 = 1_000.0;

/// Whether the session's flow has the liveness step.
pub fn has_liveness(s: &Session) -> bool {
    s.flow.steps().contains(&Step::Liveness)
}

/// Where a submission stands: (any attempt passed, failed attempts).
pub fn standing(attempts: &[StoredAttempt]) -> (bool, u8) {
    let passed = attempts.iter().any(|a| a.passed);
    let failed = attempts.iter().filter(|a| !a.passed).count();
    (passed, u8::try_from(failed).unwrap_or(u8::MAX))
}

/// `SE-50021` when `attempts` failed [`MAX_ATTEMPTS`] times without a pass.
pub fn exhausted(attempts: &[StoredAttempt]) -> Option<ApiError> {
    let (passed, failed) = standing(attempts);
    (!passed && failed >= MAX_ATTEMPTS).then(|| {
        ApiError::new(
            ErrorCode::LivenessFailed,
            format!("the liveness check failed {MAX_ATTEMPTS} times"),
        )
    })
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::LivenessInvalid, detail)
}

/// The attempt's own shape, against the session (not the database).
fn check(s: &Session, a: &LivenessAttempt) -> Result<(), ApiError> {
    a.check_consistent().map_err(invalid)?;
    if a.challenges != s.liveness {
        return Err(invalid("the challenges are not this session's"));
    }
    let t = &a.track;
    if t.label.chars().count() > MAX_LABEL_CHARS {
        return Err(invalid(format!(
            "track.label: at most {MAX_LABEL_CHARS} characters"
        )));
    }
    if t.facing_mode
        .as_ref()
        .is_some_and(|f| f.chars().count() > MAX_FACING_CHARS)
    {
        return Err(invalid(format!(
            "track.facing_mode: at most {MAX_FACING_CHARS} characters"
        )));
    }
    if t.width > MAX_TRACK_SIDE || t.height > MAX_TRACK_SIDE {
        return Err(invalid(format!(
            "track: at most {MAX_TRACK_SIDE} px a side"
        )));
    }
    if !(t.frame_rate.is_finite() && (0.0..=MAX_FRAME_RATE).contains(&t.frame_rate)) {
        return Err(invalid("track.frame_rate: 0 to 1000"));
    }
    let mut seen = HashSet::new();
    for id in a.frame_ids() {
        if !valid_capture_id(id) {
            return Err(invalid(
                "frames: capture ids are 1-128 of A-Z a-z 0-9 - _ . ~",
            ));
        }
        if !seen.insert(id) {
            return Err(invalid("frames: a capture id listed twice"));
        }
    }
    Ok(())
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `POST /api/session/liveness` with a [`LivenessAttempt`] → `201` (stored) or `200` (the same
/// attempt again) with `{attempts_left, outcome[, error_code]}`.
pub async fn post_liveness(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<LivenessAttempt>, JsonRejection>,
) -> Result<Response, ApiError> {
    let s = session(&state, &headers)?;
    let store = store(&state)?;
    if !has_liveness(&s) {
        return Err(ApiError::new(
            ErrorCode::SlotNotInFlow,
            "this session has no liveness step",
        ));
    }
    // After three failures every further attempt is refused, whatever it says.
    let sid = s.submission_id.clone();
    let (row, attempts) = blocking(store.clone(), move |st| {
        Ok((st.submission(&sid)?, st.liveness_attempts(&sid)?))
    })
    .await?;
    if let Some(e) = exhausted(&attempts) {
        return Err(e);
    }
    if row
        .as_ref()
        .is_some_and(|r| r.status != liveform_core::api::KycStatus::Incomplete)
    {
        return Err(ApiError::new(
            ErrorCode::AlreadySubmitted,
            "the submission is finished",
        ));
    }
    let Json(mut attempt) =
        body.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    check(&s, &attempt)?;
    attempt.track.virtual_label =
        attempt.track.virtual_label || is_virtual_label(&attempt.track.label);
    let new = NewAttempt {
        attempt: attempt.attempt,
        passed: attempt.passed,
        hidden_during: attempt.hidden_during,
        virtual_camera: attempt.track.virtual_label,
        record: serde_json::to_string(&attempt)
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("json: {e}")))?,
    };
    let frames: Vec<String> = attempt.frame_ids().map(str::to_owned).collect();
    let now = now_ms(&state);
    let sub = crate::uploads::new_submission(&s);
    let (created, added, attempts) = blocking(store, move |st| {
        // Frames must be stored liveness captures of this session (upload them first).
        let caps = st.captures(&sub.id)?;
        let unknown = frames.iter().find(|id| {
            !caps
                .iter()
                .any(|c| c.record.capture_id == **id && c.record.slot == CaptureSlot::Liveness)
        });
        if let Some(id) = unknown {
            return Ok(Err(format!(
                "frames: {id:?} is not a stored liveness capture of this session"
            )));
        }
        let created = st.ensure_submission(&sub, now)?;
        let added = st.add_liveness_attempt(&sub.id, &new, MAX_ATTEMPTS, now)?;
        let row = if created {
            st.submission(&sub.id)?
        } else {
            None
        };
        Ok(Ok((row, added, st.liveness_attempts(&sub.id)?)))
    })
    .await?
    .map_err(invalid)?;
    if let Some(row) = created {
        crate::webhooks::enqueue(&state, &row, "created", None);
    }
    let status = match added {
        AttemptAdd::Stored => StatusCode::CREATED,
        AttemptAdd::Same => StatusCode::OK,
        AttemptAdd::OutOfOrder { expected } => {
            return Err(invalid(format!("the next attempt is number {expected}")))
        }
        AttemptAdd::AlreadyPassed => return Err(invalid("liveness already passed")),
        AttemptAdd::Exhausted => {
            return Err(exhausted(&attempts)
                .unwrap_or_else(|| ApiError::new(ErrorCode::LivenessFailed, "no attempts left")))
        }
        AttemptAdd::Finished => {
            return Err(ApiError::new(
                ErrorCode::AlreadySubmitted,
                "the submission is finished",
            ))
        }
    };
    let (passed, failed) = standing(&attempts);
    let answer = outcome_after(failed, passed);
    Ok(no_store((status, Json(answer)).into_response()))
}

/// The results API's `liveness` field: whether an attempt passed, and every attempt's record
/// with the server's flags and time.
pub fn results_json(attempts: &[StoredAttempt]) -> serde_json::Value {
    let (passed, _) = standing(attempts);
    let items: Vec<serde_json::Value> = attempts
        .iter()
        .map(|a| {
            let mut v: serde_json::Value =
                serde_json::from_str(&a.record).unwrap_or(serde_json::Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert("virtual_camera".into(), a.virtual_camera.into());
                o.insert(
                    "created_at".into(),
                    crate::results::argos_time(a.created_ms).into(),
                );
            }
            v
        })
        .collect();
    serde_json::json!({ "passed": passed, "attempts": items })
}
