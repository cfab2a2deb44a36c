//! The person's side of issue 8: capture uploads, the resume list, finishing, and leaving from an
//! error page. All with the session header; see docs/api.md for the shapes.
//!
//! A capture is buffered in memory up to `max_capture_bytes` while it streams (type checked on its
//! first bytes, size on every chunk), validated, then encrypted and written in one go: a refused
//! request never touches the disk, and memory per upload is bounded by the same limit.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::BodyExt as _;
use liveform_core::api::{
    CaptureList, CaptureRecord, Finish, Finished, KycStatus, Leave, Left, MAX_LIVENESS_CAPTURES,
    SESSION_HEADER,
};
use liveform_core::flow::CaptureSlot;
use liveform_core::policy::{check_choice, sides};
use liveform_core::returning::{self, ReturnSettings, ReturnValues};
use liveform_core::{Alpha3, ErrorCode, IdType};
use serde::Deserialize;

use crate::app::{now_ms, ApiError, AppState};
use crate::config::{AutoDecision, ProjectConfig};
use crate::media::{self, Media};
use crate::sessions::Session;
use crate::store::{self, NewSubmission, PutOutcome, Store, StoreError, StoredAttempt, Submission};

type Shared = Arc<AppState>;

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn token(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::new(ErrorCode::SessionExpired, "no session header"))
}

/// The live session of the request (touched).
pub async fn session(state: &Shared, headers: &HeaderMap) -> Result<Session, ApiError> {
    let t = (state.clock)();
    let token = token(headers)?.to_owned();
    crate::app::db(state, move |s| s.sessions.touch(&token, t))
        .await?
        .map_err(|code| ApiError::new(code, "unknown or expired session"))
}

pub fn store(state: &AppState) -> Result<Arc<Store>, ApiError> {
    state.store.clone().ok_or_else(|| {
        ApiError::new(
            ErrorCode::StorageUnavailable,
            "no storage configured (server.storage_key)",
        )
    })
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Internal, format!("storage: {e}"))
}

/// Runs blocking storage work off the async threads.
pub async fn blocking<T: Send + 'static>(
    store: Arc<Store>,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(internal)?
        .map_err(internal)
}

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
fn liveness_gap(s: &Session, attempts: &[StoredAttempt], gaps: &mut Vec<CaptureSlot>) {
    let (passed, _) = crate::liveness::standing(attempts);
    if crate::liveness::has_liveness(s) && !passed && !gaps.contains(&CaptureSlot::Liveness) {
        gaps.push(CaptureSlot::Liveness);
    }
}

fn missing(required: &[CaptureSlot], have: &[CaptureRecord]) -> Vec<CaptureSlot> {
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

#[derive(Debug, Deserialize)]
pub struct SlotQuery {
    slot: String,
    /// The device gate's verdict on a document side: `ok`, or its issues, comma-separated
    /// (recorded beside the server's own verdict; never trusted).
    #[serde(default)]
    device: Option<String>,
}

/// The document geometry the server checks a side against: a passport's data page (TD3) or an
/// ID-1 card, as the form's gate does.
pub fn document_kind(s: &Session) -> liveform_core::vision::DocumentKind {
    use liveform_core::vision::DocumentKind;
    match chosen(s).1 {
        Some(IdType::Passport) => DocumentKind::Td3,
        _ => DocumentKind::Id1,
    }
}

fn verify_error(e: crate::verify::VerifyError) -> ApiError {
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

/// Keeps reading (and discarding) a refused body for a while, so that the client, still
/// sending, receives the refusal instead of a reset connection. Bounded in bytes and time.
fn linger(mut body: Body, max_bytes: u64) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            let mut n: u64 = 0;
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(d) = frame.data_ref() {
                    n += d.len() as u64;
                }
                if n > max_bytes {
                    break;
                }
            }
        })
        .await;
    });
}

/// Checks the slot against the session's policy.
fn check_slot(s: &Session, slot: CaptureSlot) -> Result<(), ApiError> {
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

fn refuse(body: Body, linger_bytes: u64, e: ApiError) -> Result<Response, ApiError> {
    linger(body, linger_bytes);
    let mut r = e.into_response();
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    Ok(r)
}

/// `PUT /api/capture/{capture_id}?slot=<slot>`, body = the raw bytes, `content-type` set.
pub async fn put_capture(
    State(state): State<Shared>,
    Path(capture_id): Path<String>,
    query: Result<Query<SlotQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    mut body: Body,
) -> Result<Response, ApiError> {
    #[cfg(feature = "fault-injection")]
    if let Some(r) = crate::fault::before_upload(&state, &mut body).await {
        return Ok(r);
    }
    let s = session(&state, &headers).await?;
    let store = store(&state)?;
    let cfg = &state.config.server;
    let linger_bytes = cfg.max_capture_bytes;
    let Query(q) = query.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    let slot = store::parse_slot(&q.slot).ok_or_else(|| {
        ApiError::new(
            ErrorCode::SlotNotInFlow,
            "slot must be document_front, document_back, selfie or liveness",
        )
    })?;
    if !valid_capture_id(&capture_id) {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "capture id: 1-128 of A-Z a-z 0-9 - _ . ~",
        ));
    }
    // A retry of a stored capture answers with the record, whatever happened since.
    let (sid, cid) = (s.submission_id.clone(), capture_id.clone());
    let (existing, status) = blocking(store.clone(), move |st| {
        Ok((
            st.capture(&sid, &cid)?,
            st.submission(&sid)?.map(|r| r.status),
        ))
    })
    .await?;
    if let Some(existing) = existing {
        if existing.record.slot != slot {
            return refuse(
                body,
                linger_bytes,
                ApiError::new(
                    ErrorCode::CaptureIdConflict,
                    "this capture id is stored for another slot",
                ),
            );
        }
        linger(body, linger_bytes);
        return Ok(no_store(Json(existing.record).into_response()));
    }
    if status.is_some_and(|st| st != KycStatus::Incomplete) {
        return refuse(
            body,
            linger_bytes,
            ApiError::new(ErrorCode::AlreadySubmitted, "the submission is finished"),
        );
    }
    if let Err(e) = check_slot(&s, slot) {
        return refuse(body, linger_bytes, e);
    }
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > cfg.max_capture_bytes {
            return refuse(
                body,
                linger_bytes,
                ApiError::new(
                    ErrorCode::CaptureTooLarge,
                    format!("{len} bytes; the limit is {}", cfg.max_capture_bytes),
                ),
            );
        }
    }
    // The low-water mark guards a local capture directory (an object store has its own quotas).
    let min_free = cfg.min_free_disk_mb.saturating_mul(1024 * 1024);
    let free = store.capture_dir().map(store::free_bytes);
    match free {
        None => {}
        Some(Ok(free)) if free.saturating_sub(cfg.max_capture_bytes) >= min_free => {}
        Some(Ok(_)) => {
            return refuse(
                body,
                linger_bytes,
                ApiError::new(
                    ErrorCode::StorageFull,
                    "the data disk is below its low-water mark",
                ),
            )
        }
        Some(Err(e)) => return Err(internal(format!("statvfs: {e}"))),
    }
    let sid = s.submission_id.clone();
    let stored = blocking(store.clone(), move |st| st.stored_bytes(&sid)).await?;
    let session_room = cfg.max_session_bytes.saturating_sub(stored);
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();

    // Stream: type on the first bytes, size on every chunk.
    let mut data: Vec<u8> = Vec::new();
    let mut kind: Option<Media> = None;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("body: {e}")))?;
        let Some(chunk) = frame.data_ref() else {
            continue;
        };
        let len = data.len() as u64 + chunk.len() as u64;
        if len > cfg.max_capture_bytes {
            return refuse(
                body,
                linger_bytes,
                ApiError::new(
                    ErrorCode::CaptureTooLarge,
                    format!("more than {} bytes", cfg.max_capture_bytes),
                ),
            );
        }
        if len > session_room {
            return refuse(
                body,
                linger_bytes,
                ApiError::new(
                    ErrorCode::SessionBytesExceeded,
                    format!("the session may store {} bytes", cfg.max_session_bytes),
                ),
            );
        }
        data.extend_from_slice(chunk);
        if kind.is_none() && data.len() >= media::SNIFF_LEN {
            match check_type(&data, &declared) {
                Ok(m) => kind = Some(m),
                Err(e) => return refuse(body, linger_bytes, e),
            }
        }
    }
    // When the upload arrived: before it waits for the verification pool, so that a busy server
    // does not bunch a person's liveness frames (their arrival times are evidence).
    let received = now_ms(&state);
    let kind = match kind {
        Some(k) => k,
        None => check_type(&data, &declared)?,
    };
    let (w, h) = media::dimensions(kind, &data)
        .ok_or_else(|| ApiError::new(ErrorCode::CaptureType, "the image header is unreadable"))?;
    media::check_dimensions(slot, w, h)
        .map_err(|m| ApiError::new(ErrorCode::CaptureDimensions, m))?;
    // Decoded completely and checked on the bounded pool before anything is stored.
    let job = crate::verify::Job {
        slot,
        media: kind,
        document: slot.is_document().then(|| document_kind(&s)),
        device_issues: q
            .device
            .as_deref()
            .filter(|_| slot.is_document())
            .and_then(crate::verify::parse_device_issues),
    };
    let (data, analysis) = state.verifier.check(job, data).await;
    let analysis = analysis.map_err(verify_error)?;
    let record = CaptureRecord {
        capture_id,
        slot,
        content_type: kind.content_type().to_owned(),
        bytes: data.len() as u64,
        width: Some(w),
        height: Some(h),
        check: analysis.capture_check(),
    };
    let analysis_json = analysis.to_json();
    let now = received;
    let new = new_submission(&s);
    let max_session = cfg.max_session_bytes;
    let rec = record.clone();
    let (created, outcome) = blocking(store.clone(), move |st| {
        let created = st.ensure_submission(&new, now)?;
        let outcome = st.put_capture(
            &new.id,
            &rec,
            &data,
            Some(&analysis_json),
            max_session,
            MAX_LIVENESS_CAPTURES,
            now,
        )?;
        let row = if created {
            st.submission(&new.id)?
        } else {
            None
        };
        Ok((row, outcome))
    })
    .await?;
    if let Some(row) = created {
        crate::webhooks::enqueue(&state, &row, "created", None);
    }
    match outcome {
        PutOutcome::Stored(r) => Ok(no_store((StatusCode::CREATED, Json(r)).into_response())),
        PutOutcome::Existing(r) => Ok(no_store(Json(r).into_response())),
        PutOutcome::IdConflict => Err(ApiError::new(
            ErrorCode::CaptureIdConflict,
            "this capture id is stored for another slot",
        )),
        PutOutcome::SessionBytes => Err(ApiError::new(
            ErrorCode::SessionBytesExceeded,
            format!("the session may store {max_session} bytes"),
        )),
        PutOutcome::TooMany => Err(ApiError::new(
            ErrorCode::TooManyCaptures,
            format!("at most {MAX_LIVENESS_CAPTURES} liveness captures"),
        )),
        PutOutcome::Finished => Err(ApiError::new(
            ErrorCode::AlreadySubmitted,
            "the submission is finished",
        )),
    }
}

fn check_type(data: &[u8], declared: &str) -> Result<Media, ApiError> {
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

/// `DELETE /api/capture/{capture_id}`: drops a capture (a retake) before finishing.
pub async fn delete_capture(
    State(state): State<Shared>,
    Path(capture_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let s = session(&state, &headers).await?;
    let store = store(&state)?;
    let sid = s.submission_id.clone();
    let status = blocking(store.clone(), move |st| {
        Ok(st.submission(&sid)?.map(|r| r.status))
    })
    .await?;
    if status.is_some_and(|st| st != KycStatus::Incomplete) {
        return Err(ApiError::new(
            ErrorCode::AlreadySubmitted,
            "the submission is finished",
        ));
    }
    // Liveness frames are the evidence of the server's verdict: they stay (a reviewer sees
    // them; deleting one would also free room in the slot).
    let (sid, cid) = (s.submission_id.clone(), capture_id.clone());
    let existing = blocking(store.clone(), move |st| st.capture(&sid, &cid)).await?;
    if existing.is_some_and(|c| c.record.slot == CaptureSlot::Liveness) {
        return Err(ApiError::new(
            ErrorCode::SlotNotInFlow,
            "liveness frames cannot be deleted",
        ));
    }
    let sid = s.submission_id.clone();
    if blocking(store, move |st| st.delete_capture(&sid, &capture_id)).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::new(
            ErrorCode::CaptureNotFound,
            "no such capture in this session",
        ))
    }
}

/// `GET /api/session/captures`.
pub async fn list_captures(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let s = session(&state, &headers).await?;
    let store = store(&state)?;
    let sid = s.submission_id.clone();
    let (row, caps, attempts) = blocking(store, move |st| {
        Ok((
            st.submission(&sid)?,
            st.captures(&sid)?,
            st.liveness_attempts(&sid)?,
        ))
    })
    .await?;
    let captures: Vec<CaptureRecord> = caps.into_iter().map(|c| c.record).collect();
    let mut gaps = missing(&required_slots(&s), &captures);
    liveness_gap(&s, &attempts, &mut gaps);
    let (passed, failed) = crate::liveness::standing(&attempts);
    let list = CaptureList {
        submission_id: s.submission_id.clone(),
        missing: gaps,
        captures,
        status: row.map_or(KycStatus::Incomplete, |r| r.status),
        liveness: s.liveness.clone(),
        liveness_attempts: u8::try_from(attempts.len()).unwrap_or(u8::MAX),
        liveness_status: Some(liveform_core::liveness::outcome_after(failed, passed)),
    };
    Ok(no_store(Json(list).into_response()))
}

/// The Return URL for `project` with `values`, checked to be under the configured URL.
pub fn return_url(project: &ProjectConfig, values: &ReturnValues<'_>) -> Option<String> {
    let base = project.return_url.as_deref()?;
    let settings = ReturnSettings {
        url: base,
        fields: &project.return_fields,
        encrypted: project.return_encrypted,
        key: &project.key,
    };
    match returning::build(&settings, values) {
        Ok(u) if returning::is_under(base, &u) => Some(u),
        Ok(_) | Err(_) => {
            eprintln!("liveform: pid={} return_url cannot be built", project.pid);
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

fn finished(project: &ProjectConfig, row: &Submission) -> Finished {
    Finished {
        submission_id: row.id.clone(),
        status: row.status,
        return_url: return_url(project, &values_of(row)),
        skip_result_page: project.skip_result_page,
    }
}

/// `POST /api/session/finish` (optional body `{"email"}`): completeness check, then the
/// submission becomes `pending` (or the project's `auto_decision`). A repeat answers the same.
pub async fn finish(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let s = session(&state, &headers).await?;
    let store = store(&state)?;
    let project = state
        .config
        .project(&s.pid)
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownProject, "project removed"))?;
    let req: Finish = if body.iter().all(u8::is_ascii_whitespace) {
        Finish::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("body: {e}")))?
    };
    let sid = s.submission_id.clone();
    let (row, caps, attempts) = blocking(store.clone(), move |st| {
        Ok((
            st.submission(&sid)?,
            st.captures(&sid)?,
            st.liveness_attempts(&sid)?,
        ))
    })
    .await?;
    if let Some(row) = row.as_ref().filter(|r| r.status != KycStatus::Incomplete) {
        return Ok(no_store(Json(finished(project, row)).into_response()));
    }
    // Three failed liveness attempts: the person leaves through the coded page.
    if let Some(e) = crate::liveness::exhausted(&attempts) {
        return Err(e);
    }
    let captures: Vec<CaptureRecord> = caps.into_iter().map(|c| c.record).collect();
    let (country, id_type) = chosen(&s);
    let mut gaps = missing(&required_slots(&s), &captures);
    liveness_gap(&s, &attempts, &mut gaps);
    if id_type.is_none() && !gaps.contains(&CaptureSlot::DocumentFront) {
        gaps.insert(0, CaptureSlot::DocumentFront);
    }
    if !gaps.is_empty() || row.is_none() {
        let names: Vec<&str> = gaps.iter().map(|g| store::slot_name(*g)).collect();
        let mut e = ApiError::new(
            ErrorCode::CapturesMissing,
            format!("missing captures: {}", names.join(", ")),
        );
        e.missing = if gaps.is_empty() {
            required_slots(&s)
        } else {
            gaps
        };
        return Err(e);
    }
    let email = match (&s.params.email, req.email) {
        (Some(_), _) => None,
        (None, Some(e)) => {
            let e = e.trim().to_owned();
            if !liveform_core::launch::is_valid_email(&e) {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    "email: not an e-mail address",
                ));
            }
            Some(e)
        }
        (None, None) if project.ask_email => {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "email: required by this project",
            ))
        }
        (None, None) => None,
    };
    let now = now_ms(&state);
    let sid = s.submission_id.clone();
    let required = required_slots(&s);
    let needs_liveness = crate::liveness::has_liveness(&s);
    let auto = project.auto_decision;
    // Decided inside the transaction that finishes: no upload, retake or delete lands between
    // the server's checks and the status (a racing request finds the submission finished).
    let (outcome, row) = blocking(store, move |st| {
        let mut summary = None;
        let outcome = st.finish_with(
            &sid,
            email.as_deref(),
            id_type.map(|t| t.to_string()).as_deref(),
            country.map(|c| c.to_string()).as_deref(),
            now,
            |caps, attempts| {
                let have: Vec<CaptureRecord> = caps.iter().map(|c| c.record.clone()).collect();
                let (passed, _) = crate::liveness::standing(attempts);
                if !missing(&required, &have).is_empty() || (needs_liveness && !passed) {
                    return None;
                }
                let v = crate::verify::summary(caps, attempts, needs_liveness);
                // Only what the server established approves: anything short of every check
                // passing waits for a person (pending), with its reasons in `verification`.
                let status = match auto {
                    None => KycStatus::Pending,
                    Some(AutoDecision::Approved) if v.passed => KycStatus::Approved,
                    Some(AutoDecision::Approved) => KycStatus::Pending,
                    Some(AutoDecision::Rejected) => KycStatus::Rejected,
                };
                let json = v.json.to_string();
                summary = Some(v.json);
                Some((status, json))
            },
        )?;
        Ok((
            outcome.map(|changed| (changed, summary)),
            st.submission(&sid)?,
        ))
    })
    .await?;
    let Some((changed, verification)) = outcome else {
        // A capture went away between the check above and the finish: say what is missing now.
        let mut e = ApiError::new(
            ErrorCode::CapturesMissing,
            "captures changed while finishing",
        );
        e.missing = required_slots(&s);
        return Err(e);
    };
    let row = row.ok_or_else(|| internal("the submission vanished"))?;
    // A computer that handed this session to a phone shows that it is done.
    if let Ok(t) = token(&headers) {
        let (t, now) = (t.to_owned(), (state.clock)());
        let _ = crate::app::db(&state, move |s| s.sessions.mark_finished(&t, now)).await;
    }
    if changed {
        let event = match row.status {
            KycStatus::Pending => "submit",
            KycStatus::Approved => "approved",
            KycStatus::Rejected => "rejected",
            KycStatus::Incomplete => "created",
        };
        crate::webhooks::enqueue_with(&state, &row, event, None, verification.as_ref());
        if let Some(tok) = s.params.token.clone() {
            let (pid, now) = (s.pid.clone(), (state.clock)());
            let _ = crate::app::db(&state, move |st| st.tokens.mark_decided(&pid, &tok, now)).await;
        }
    }
    Ok(no_store(Json(finished(project, &row)).into_response()))
}

#[derive(Debug, Deserialize)]
pub struct LeaveBody {
    #[serde(flatten)]
    leave: Leave,
    /// Without a session (the link never opened one): the project from the page URL.
    #[serde(default)]
    pid: Option<String>,
}

/// `POST /api/session/leave {"error_code", "pid"?}`: the Return URL with `errorCode`, for the
/// error page's Return button.
pub async fn leave(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<LeaveBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    if ErrorCode::from_id(&req.leave.error_code).is_none() {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "error_code is not a code of the catalogue",
        ));
    }
    let code = req.leave.error_code.as_str();
    let live = session(&state, &headers).await.ok();
    let url = match &live {
        Some(s) => {
            let project = state
                .config
                .project(&s.pid)
                .ok_or_else(|| ApiError::new(ErrorCode::UnknownProject, "project removed"))?;
            let row = match &state.store {
                Some(st) => {
                    let sid = s.submission_id.clone();
                    blocking(st.clone(), move |st| st.submission(&sid)).await?
                }
                None => None,
            };
            let p = &s.params;
            let mut v = ReturnValues {
                userid: p.userid.as_deref(),
                email: p.email.as_deref(),
                cf1: p.cf1.as_deref(),
                cf2: p.cf2.as_deref(),
                cf3: p.cf3.as_deref(),
                error_code: Some(code),
                ..Default::default()
            };
            if let Some(r) = &row {
                v.submission_id = Some(&r.id);
                v.kyc_status = (r.status != KycStatus::Incomplete).then(|| r.status.as_str());
            }
            return_url(project, &v)
        }
        None => {
            let project = req
                .pid
                .as_deref()
                .and_then(|pid| state.config.project(pid))
                .ok_or_else(|| {
                    ApiError::new(ErrorCode::SessionExpired, "no session and no known pid")
                })?;
            return_url(
                project,
                &ReturnValues {
                    error_code: Some(code),
                    ..Default::default()
                },
            )
        }
    };
    Ok(no_store(Json(Left { return_url: url }).into_response()))
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
