//! Active liveness on the server (issues 7 and 14): the rules and the decision; the handlers are
//! in `routes/liveness.rs`.
//!
//! * `POST /api/session/liveness/open` opens the next attempt: an id and the server's opening
//!   time, before the first challenge. Frames count for it only if they arrive between the
//!   opening and the record.
//! * `POST /api/session/liveness` records it. The record must fit the session (its challenges,
//!   the open attempt's id and number, frames that are this session's liveness captures, bounded
//!   sizes). Then the server decides: `core::liveness::verify` judges the frames it analysed
//!   when they were uploaded (`verify.rs`: the face detector on each), in the record's order,
//!   with the device's step checks, and with what only the server sees (arrival times, one
//!   continuous face, different pictures). The server's outcome is the attempt's outcome; the
//!   device's is kept beside it. After [`MAX_ATTEMPTS`] failed attempts further attempts and
//!   finishing are refused with `SE-50021`.
//! * `finish` requires a server-verified pass whenever the flow has the liveness step.

use std::collections::HashSet;

use liveform_core::flow::{CaptureSlot, Step};
use liveform_core::liveness::verify::{verify, AttemptCheck, FrameFact};
use liveform_core::liveness::{outcome_after, LivenessAnswer, LivenessAttempt, MAX_ATTEMPTS};
use liveform_core::ErrorCode;

use crate::error::ApiError;
use crate::sessions::Session;
use crate::store::{
    AttemptAdd, NewAttempt, NewSubmission, Store, StoreError, StoredAttempt, Submission,
};
use crate::uploads::valid_capture_id;

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

/// Where a submission stands: (any attempt passed, failed attempts). Only the server's outcome
/// counts (`passed` is the server's since schema v3; unverified attempts of unfinished
/// submissions were dropped by the migration).
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

pub(crate) fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::LivenessInvalid, detail)
}

/// The attempt's own shape, against the session (not the database).
pub(crate) fn check(s: &Session, a: &LivenessAttempt) -> Result<(), ApiError> {
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

/// What recording an attempt did ([`record`]): the submission's row if this request created it
/// (for the `created` webhook), how the attempt was added, every attempt now stored, and the
/// server's check of this attempt (for a retry of a stored record, its stored check).
pub(crate) struct Recorded {
    pub created: Option<Submission>,
    pub added: AttemptAdd,
    pub attempts: Vec<StoredAttempt>,
    pub check: Option<AttemptCheck>,
}

/// Records `attempt` (whose JSON is `record_json`) for submission `sub` at `now_ms`, deciding it
/// from the frames the server analysed when they arrived. Blocking (run it on the blocking pool).
/// `Ok(Err(detail))`: the record does not fit what is stored (refused as `LivenessInvalid`).
pub(crate) fn record(
    st: &Store,
    sub: &NewSubmission,
    attempt: &LivenessAttempt,
    record_json: String,
    now_ms: i64,
) -> Result<Result<Recorded, String>, StoreError> {
    // A retry of a record already stored answers as before, with that attempt's reasons
    // (even when the next attempt has been opened since).
    if let Some(prev) = st
        .liveness_attempts(&sub.id)?
        .into_iter()
        .find(|a| a.attempt == attempt.attempt && a.record == record_json)
    {
        let check = prev
            .verification
            .as_deref()
            .and_then(|v| serde_json::from_str::<AttemptCheck>(v).ok());
        return Ok(Ok(Recorded {
            created: None,
            added: AttemptAdd::Same,
            attempts: st.liveness_attempts(&sub.id)?,
            check,
        }));
    }
    // The attempt the server opened: its id and number.
    let Some((open_id, open_number, opened_ms)) = st.open_attempt_of(&sub.id)? else {
        return Ok(Err(
            "no liveness attempt is open: POST /api/session/liveness/open first".to_owned(),
        ));
    };
    if attempt.attempt_id != open_id || attempt.attempt != open_number {
        return Ok(Err(format!(
            "the open attempt is number {open_number} with another id"
        )));
    }
    // Frames must be stored, analysed liveness captures of this session.
    let caps = st.captures(&sub.id)?;
    let analyses: Vec<(String, crate::verify::FrameCheck, i64)> = caps
        .iter()
        .filter(|c| c.record.slot == CaptureSlot::Liveness)
        .filter_map(|c| {
            match c
                .analysis
                .as_deref()
                .and_then(crate::verify::Analysis::from_json)
            {
                Some(crate::verify::Analysis::LivenessFrame(f)) => {
                    Some((c.record.capture_id.clone(), f, c.created_ms))
                }
                _ => None,
            }
        })
        .collect();
    let unknown = attempt.frame_ids().find(|id| {
        !caps
            .iter()
            .any(|c| c.record.capture_id == *id && c.record.slot == CaptureSlot::Liveness)
    });
    if let Some(id) = unknown {
        return Ok(Err(format!(
            "frames: {id:?} is not a stored liveness capture of this session"
        )));
    }
    let check = verify(
        attempt,
        |id| {
            analyses
                .iter()
                .find(|(cid, _, _)| cid == id)
                .map(|(cid, f, at)| FrameFact {
                    capture_id: cid,
                    faces: &f.faces,
                    signature: f.signature(),
                    received_ms: *at,
                })
        },
        opened_ms,
        now_ms,
    );
    let new = NewAttempt {
        attempt: attempt.attempt,
        passed: check.passed,
        device_passed: attempt.passed,
        verification: serde_json::to_string(&check).unwrap_or_else(|_| "null".into()),
        hidden_during: attempt.hidden_during,
        virtual_camera: attempt.track.virtual_label,
        record: record_json,
    };
    let created = st.ensure_submission(sub, now_ms)?;
    let added = st.add_liveness_attempt(&sub.id, &new, MAX_ATTEMPTS, now_ms)?;
    let created = if created {
        st.submission(&sub.id)?
    } else {
        None
    };
    Ok(Ok(Recorded {
        created,
        added,
        attempts: st.liveness_attempts(&sub.id)?,
        check: Some(check),
    }))
}

/// The answer to a recorded attempt: `201` (stored) or `200` (the same attempt again) with
/// `{attempts_left, outcome[, reasons]}`, or the refusal.
pub(crate) fn answer(r: &Recorded) -> Result<(bool, LivenessAnswer), ApiError> {
    let stored = match r.added {
        AttemptAdd::Stored => true,
        AttemptAdd::Same => false,
        AttemptAdd::OutOfOrder { expected } => {
            return Err(invalid(format!("the next attempt is number {expected}")))
        }
        AttemptAdd::AlreadyPassed => return Err(invalid("liveness already passed")),
        AttemptAdd::Exhausted => {
            return Err(exhausted(&r.attempts)
                .unwrap_or_else(|| ApiError::new(ErrorCode::LivenessFailed, "no attempts left")))
        }
        AttemptAdd::Finished => {
            return Err(ApiError::new(
                ErrorCode::AlreadySubmitted,
                "the submission is finished",
            ))
        }
    };
    let (passed, failed) = standing(&r.attempts);
    let mut outcome = outcome_after(failed, passed);
    // The server's reasons for this attempt (for a retry of a stored one, its stored ones).
    if !passed {
        outcome.reasons = r
            .check
            .as_ref()
            .map(|c| c.reasons.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|x| x.as_str().to_owned())
            .collect();
    }
    Ok((stored, outcome))
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
