//! The person's side of issue 8, the logic under `routes/captures.rs`: which slots a session must
//! capture, whether a slot may be uploaded now, an upload's type against its bytes, what finishing
//! decides, and the Return URL. See docs/api.md for the shapes.
//!
//! A capture is buffered in memory up to `max_capture_bytes` while it streams (type checked on its
//! first bytes, size on every chunk), validated, then encrypted and written in one go: a refused
//! request never touches the disk, and memory per upload is bounded by the same limit.

use liveform_core::api::{CaptureRecord, Finished, KycStatus};
use liveform_core::flow::CaptureSlot;
use liveform_core::policy::{check_choice, sides};
use liveform_core::returning::{self, Authenticated, ReturnSettings, ReturnValues};
use liveform_core::{Alpha3, ErrorCode, IdType};

use crate::config::{AutoDecision, ProjectConfig};
use crate::error::ApiError;
use crate::media::{self, Media};
use crate::sessions::Session;
use crate::store::{NewSubmission, StoredAttempt, StoredCapture, Submission};

/// The country and type the session is bound to (chosen, or selected by the link).
pub fn chosen(s: &Session) -> (Option<Alpha3>, Option<IdType>) {
    match &s.choice {
        Some(c) => (Some(c.country), c.id_type),
        None => (
            s.flow.offer().selected_country,
            s.flow.offer().selected_id_type,
        ),
    }
}

/// The slots this session must capture, in flow order. Until a type is chosen the back side is
/// listed when any type still possible has one.
pub fn required_slots(s: &Session) -> Vec<CaptureSlot> {
    let (country, id_type) = chosen(s);
    let offer = s.flow.offer();
    let back = match (id_type, country) {
        (Some(t), _) => sides(t).needs_back(),
        (None, Some(c)) => offer.types_for(c).iter().any(|t| sides(*t).needs_back()),
        (None, None) => offer
            .id_types
            .values()
            .flatten()
            .any(|t| sides(*t).needs_back()),
    };
    let liveness = crate::liveness::has_liveness(s);
    CaptureSlot::ALL
        .into_iter()
        .filter(|slot| *slot != CaptureSlot::DocumentBack || back)
        .filter(|slot| *slot != CaptureSlot::Liveness || liveness)
        .collect()
}

/// The liveness step is not done until an attempt passed: lists `liveness` in `gaps` (in flow
/// order, i.e. last) when the flow has the step and no stored attempt passed.
pub(crate) fn liveness_gap(s: &Session, attempts: &[StoredAttempt], gaps: &mut Vec<CaptureSlot>) {
    let (passed, _) = crate::liveness::standing(attempts);
    if crate::liveness::has_liveness(s) && !passed && !gaps.contains(&CaptureSlot::Liveness) {
        gaps.push(CaptureSlot::Liveness);
    }
}

pub(crate) fn missing(required: &[CaptureSlot], have: &[CaptureRecord]) -> Vec<CaptureSlot> {
    required
        .iter()
        .copied()
        .filter(|slot| !have.iter().any(|c| c.slot == *slot))
        .collect()
}

pub(crate) fn new_submission(s: &Session) -> NewSubmission {
    NewSubmission {
        id: s.submission_id.clone(),
        pid: s.pid.clone(),
        userid: s.params.userid.clone(),
        email: s.params.email.clone(),
        cf1: s.params.cf1.clone(),
        cf2: s.params.cf2.clone(),
        cf3: s.params.cf3.clone(),
        token: s.params.token.clone(),
        ip_address: s.ip.clone(),
        projection: match &s.params.projection {
            Some(liveform_core::launch::Projection::Id(id)) => Some(id.clone()),
            // Opening resolves a name to its id; a name here (a session from before) is kept
            // as given and, unknown as an id, leaves out every projectable field.
            Some(liveform_core::launch::Projection::Name(n)) => Some(n.clone()),
            None => None,
        },
    }
}

/// A client-generated capture id: 1-128 of `A-Z a-z 0-9 - _ . ~` (URL-safe as a path segment).
pub fn valid_capture_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

/// Where the session's chosen document carries its machine-readable zone, when it has one
/// (`core::document::mrz_placement`): the one answer for the upload, the review and the finish.
pub fn mrz_placement(s: &Session) -> Option<liveform_core::document::MrzPlacement> {
    match chosen(s) {
        (Some(c), Some(t)) => liveform_core::document::mrz_placement(c, t),
        _ => None,
    }
}

/// The MRZ `slot` carries for the session's chosen document, when it carries one.
pub fn mrz_layout(s: &Session, slot: CaptureSlot) -> Option<liveform_core::document::MrzLayout> {
    match chosen(s) {
        (Some(c), Some(t)) => liveform_core::document::mrz_layout_on(c, t, slot),
        _ => None,
    }
}

/// ID-1 card, as the form's gate does.
pub fn document_kind(s: &Session) -> liveform_core::vision::DocumentKind {
    use liveform_core::vision::DocumentKind;
    match chosen(s).1 {
        Some(IdType::Passport) => DocumentKind::Td3,
        _ => DocumentKind::Id1,
    }
}

pub(crate) fn verify_error(e: crate::verify::VerifyError) -> ApiError {
    use crate::decode::DecodeError;
    use crate::verify::VerifyError;
    match e {
        VerifyError::Decode(d @ DecodeError::TooLarge { .. }) => {
            ApiError::new(ErrorCode::CaptureDimensions, d.to_string())
        }
        VerifyError::Decode(d @ DecodeError::OverDecodeCap { .. }) => {
            ApiError::new(ErrorCode::CaptureDecodeLimit, d.to_string())
        }
        VerifyError::Decode(d) => ApiError::new(ErrorCode::CaptureUndecodable, d.to_string()),
        VerifyError::Detector(m) | VerifyError::Interrupted(m) => {
            ApiError::new(ErrorCode::Internal, m)
        }
    }
}

/// Checks the slot against the session's policy.
pub(crate) fn check_slot(s: &Session, slot: CaptureSlot) -> Result<(), ApiError> {
    if slot == CaptureSlot::Liveness && !crate::liveness::has_liveness(s) {
        return Err(ApiError::new(
            ErrorCode::SlotNotInFlow,
            "this project has no active-liveness step",
        ));
    }
    if !slot.is_document() {
        return Ok(());
    }
    let (country, id_type) = chosen(s);
    let (Some(country), Some(id_type)) = (country, id_type) else {
        return Err(ApiError::new(
            ErrorCode::ChoiceMissing,
            "choose the country and ID type first",
        ));
    };
    check_choice(s.flow.offer(), country, Some(id_type))
        .map_err(|e| ApiError::new(e.code(), e.detail))?;
    if slot == CaptureSlot::DocumentBack && !sides(id_type).needs_back() {
        return Err(ApiError::new(
            ErrorCode::SlotNotInFlow,
            format!("{id_type} has no back side"),
        ));
    }
    Ok(())
}

pub(crate) fn check_type(data: &[u8], declared: &str) -> Result<Media, ApiError> {
    let m = media::sniff(data).ok_or_else(|| {
        ApiError::new(
            ErrorCode::CaptureType,
            "not a JPEG, PNG or WebP image (by its bytes)",
        )
    })?;
    if !media::declared_matches(declared, m) {
        return Err(ApiError::new(
            ErrorCode::CaptureType,
            format!(
                "content-type {declared:?} does not match the bytes ({})",
                m.content_type()
            ),
        ));
    }
    Ok(m)
}

/// The Return URL for `project` with `values`, checked to be under the configured URL. `now`
/// (unix seconds) is the authenticated value's `iat` (`return_authenticated`), sealed with a fresh
/// random nonce; ARGOS's plain and ECB forms do not use it.
pub fn return_url(project: &ProjectConfig, values: &ReturnValues<'_>, now: i64) -> Option<String> {
    let base = project.return_url.as_deref()?;
    let settings = ReturnSettings {
        url: base,
        fields: &project.return_fields,
        encrypted: project.return_encrypted,
        key: &project.key,
    };
    let built = if project.return_authenticated {
        let mut nonce = [0u8; 12];
        if getrandom::fill(&mut nonce).is_err() {
            tracing::warn!(pid = %project.pid, "return_url: no randomness for its nonce");
            return None;
        }
        let auth = Authenticated {
            pid: &project.pid,
            issued_at: now,
            nonce,
        };
        returning::build_authenticated(&settings, &auth, values)
    } else {
        returning::build(&settings, values)
    };
    match built {
        Ok(u) if returning::is_under(base, &u) => Some(u),
        Ok(_) | Err(_) => {
            tracing::warn!(pid = %project.pid, "return_url cannot be built");
            None
        }
    }
}

fn values_of(row: &Submission) -> ReturnValues<'_> {
    ReturnValues {
        kyc_status: (row.status != KycStatus::Incomplete).then(|| row.status.as_str()),
        userid: row.userid.as_deref(),
        email: row.email.as_deref(),
        submission_id: Some(&row.id),
        cf1: row.cf1.as_deref(),
        cf2: row.cf2.as_deref(),
        cf3: row.cf3.as_deref(),
        error_code: None,
    }
}

/// The answer to a finish (`now`: unix seconds, for the Return URL's `iat`).
pub(crate) fn finished(project: &ProjectConfig, row: &Submission, now: i64) -> Finished {
    Finished {
        submission_id: row.id.clone(),
        status: row.status,
        return_url: return_url(project, &values_of(row), now),
        skip_result_page: project.skip_result_page,
    }
}

/// The decision when finishing, on what is stored inside the finishing transaction: `None` while
/// a required capture or (with the liveness step) a server-verified pass is missing; else the
/// status and the `verification` summary it rests on. Only what the server established approves:
/// anything short of every check passing waits for a person (pending), with its reasons in
/// `verification`.
pub(crate) fn decide(
    caps: &[StoredCapture],
    attempts: &[StoredAttempt],
    required: &[CaptureSlot],
    needs_liveness: bool,
    auto: Option<AutoDecision>,
) -> Option<(KycStatus, serde_json::Value)> {
    let have: Vec<CaptureRecord> = caps.iter().map(|c| c.record.clone()).collect();
    let (passed, _) = crate::liveness::standing(attempts);
    if !missing(required, &have).is_empty() || (needs_liveness && !passed) {
        return None;
    }
    let v = crate::verify::summary(caps, attempts, needs_liveness);
    let status = match auto {
        None => KycStatus::Pending,
        Some(AutoDecision::Approved) if v.passed => KycStatus::Approved,
        Some(AutoDecision::Approved) => KycStatus::Pending,
        Some(AutoDecision::Rejected) => KycStatus::Rejected,
    };
    Some((status, v.json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_ids() {
        assert!(valid_capture_id("c-1_a.b~Z"));
        assert!(!valid_capture_id(""));
        assert!(!valid_capture_id("a/b"));
        assert!(!valid_capture_id(&"x".repeat(129)));
    }
}

/// Uploads one session may stream at once. A further one waits up to [`SLOT_WAIT`] for a place
/// (its body unread: the kernel holds it, not us), then is answered `429` with `Retry-After`. The
/// form sends liveness frames three at a time on a slow network: the third waits a moment rather
/// than a whole second. Per instance.
pub const UPLOADS_PER_SESSION: usize = 2;

/// How long an upload waits for one of its session's places.
pub const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A stalled upload body (no bytes for this long) is answered and closed.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// No upload streams longer than this, however slowly its bytes trickle in (10 MB at 40 KB/s).
pub const UPLOAD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(300);

type Places = std::sync::Arc<tokio::sync::Semaphore>;

/// Uploads in flight on this instance: each session's places, and the bytes all of them hold
/// (their buffers' capacity), against `server.upload_budget_mb`.
pub struct InFlight {
    per_session: std::sync::Mutex<std::collections::HashMap<String, Places>>,
    held: std::sync::atomic::AtomicU64,
    budget: u64,
}

/// One upload's place: counts against its session and holds bytes of the budget until dropped.
pub struct Ticket {
    owner: std::sync::Arc<InFlight>,
    session: String,
    places: Places,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    held: u64,
}

impl InFlight {
    pub fn new(budget_bytes: u64) -> std::sync::Arc<InFlight> {
        std::sync::Arc::new(InFlight {
            per_session: Default::default(),
            held: std::sync::atomic::AtomicU64::new(0),
            budget: budget_bytes,
        })
    }

    /// A place for an upload of `session`, waiting up to `wait` while it already streams
    /// [`UPLOADS_PER_SESSION`]; `None` when none freed in time.
    pub async fn enter(
        self: &std::sync::Arc<Self>,
        session: &str,
        wait: std::time::Duration,
    ) -> Option<Ticket> {
        let places = self
            .per_session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(session.to_owned())
            .or_insert_with(|| {
                std::sync::Arc::new(tokio::sync::Semaphore::new(UPLOADS_PER_SESSION))
            })
            .clone();
        let permit = match tokio::time::timeout(wait, places.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            _ => {
                self.forget_idle(session, &places);
                return None;
            }
        };
        Some(Ticket {
            owner: self.clone(),
            session: session.to_owned(),
            places,
            permit: Some(permit),
            held: 0,
        })
    }

    /// Drops the session's entry once nobody holds or waits for its places.
    fn forget_idle(&self, session: &str, places: &Places) {
        let mut m = self.per_session.lock().unwrap_or_else(|e| e.into_inner());
        // Ours and the map's: nobody else holds a clone (each permit holds one too).
        if std::sync::Arc::strong_count(places) <= 2 {
            m.remove(session);
        }
    }

    /// Bytes held by all uploads in flight.
    pub fn held(&self) -> u64 {
        self.held.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sessions with uploads in flight or waiting (tests).
    pub fn sessions(&self) -> usize {
        self.per_session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

impl Ticket {
    /// Grows this upload's share to `bytes`; `false` (nothing changed) when the budget would be
    /// exceeded.
    pub fn hold(&mut self, bytes: u64) -> bool {
        use std::sync::atomic::Ordering;
        if bytes <= self.held {
            return true;
        }
        let more = bytes - self.held;
        let budget = self.owner.budget;
        let ok = self
            .owner
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |h| {
                (h + more <= budget).then_some(h + more)
            })
            .is_ok();
        if ok {
            self.held = bytes;
        }
        ok
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.owner
            .held
            .fetch_sub(self.held, std::sync::atomic::Ordering::AcqRel);
        drop(self.permit.take());
        self.owner.forget_idle(&self.session, &self.places);
    }
}

#[cfg(test)]
mod in_flight_tests {
    use super::*;

    #[tokio::test]
    async fn two_per_session_a_short_wait_and_a_shared_byte_budget() {
        let short = std::time::Duration::from_millis(50);
        let f = InFlight::new(100);
        let mut a = f.enter("s", short).await.unwrap();
        let b = f.enter("s", short).await.unwrap();
        assert!(
            f.enter("s", short).await.is_none(),
            "a third upload of one session waits, then is refused"
        );
        // A third that waits long enough gets the place the first frees.
        let f2 = f.clone();
        let waiting = tokio::spawn(async move { f2.enter("s", SLOT_WAIT).await.is_some() });
        let mut c = f.enter("t", short).await.unwrap();
        assert!(a.hold(60));
        assert!(!c.hold(50), "over the budget");
        assert!(c.hold(40));
        assert_eq!(f.held(), 100);
        drop(a);
        assert_eq!(f.held(), 40);
        assert!(
            waiting.await.unwrap(),
            "the waiting upload got the freed place"
        );
        drop((b, c));
        assert_eq!(f.held(), 0);
        assert_eq!(f.sessions(), 0, "idle sessions are forgotten");
    }
}
