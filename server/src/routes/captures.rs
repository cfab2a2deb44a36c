//! The captures and the end of the flow: `PUT`/`DELETE /api/capture/{capture_id}`,
//! `GET /api/session/captures`, `POST /api/session/finish` and `POST /api/session/leave`. The
//! rules they apply are in `uploads.rs`; shapes in docs/api.md.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::BodyExt as _;
use liveform_core::api::{
    CaptureList, CaptureRecord, Finish, KycStatus, Leave, Left, MAX_LIVENESS_CAPTURES,
};
use liveform_core::document::DocumentVerdict;
use liveform_core::flow::CaptureSlot;
use liveform_core::returning::ReturnValues;
use liveform_core::ErrorCode;
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::LiveSession;
use crate::media::{self, Media};
use crate::state::{blocking, db, now, now_ms, storage_failed, Shared};
use crate::store::{self, PutOutcome};
use crate::uploads::{
    check_slot, check_type, chosen, decide, document_kind, finished, liveness_gap, missing,
    new_submission, required_slots, return_url, valid_capture_id, verify_error,
};

#[derive(Debug, Deserialize)]
pub struct SlotQuery {
    slot: String,
    /// The device gate's verdict on a document side: `ok`, or its issues, comma-separated
    /// (recorded beside the server's own verdict; never trusted).
    #[serde(default)]
    device: Option<String>,
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

/// Answers `e` and closes the connection, reading what the client still sends for a while.
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
    query: Result<Query<SlotQuery>, QueryRejection>,
    // Refused only after the fault-injection hook (which answers first when armed).
    live: Result<LiveSession, ApiError>,
    headers: HeaderMap,
    mut body: Body,
) -> Result<Response, ApiError> {
    #[cfg(feature = "fault-injection")]
    if let Some(r) = crate::fault::before_upload(&state, &mut body).await {
        return Ok(r);
    }
    let s = live?.session;
    let store = state.require_store()?;
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
        return Ok(Json(existing.record).into_response());
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
        Some(Err(e)) => return Err(storage_failed(format!("statvfs: {e}"))),
    }
    // At most two uploads of a session stream at once (a third waits a little for a place);
    // every upload's buffer counts against the budget.
    let Some(mut ticket) = state
        .uploads
        .enter(&s.submission_id, crate::uploads::SLOT_WAIT)
        .await
    else {
        return refuse(
            body,
            0,
            ApiError {
                retry_after: Some(1),
                ..ApiError::new(
                    ErrorCode::RateLimited,
                    "this session is already sending two uploads",
                )
            },
        );
    };
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
    let deadline = tokio::time::Instant::now() + crate::uploads::UPLOAD_DEADLINE;
    loop {
        let wait = crate::uploads::BODY_READ_TIMEOUT
            .min(deadline.saturating_duration_since(tokio::time::Instant::now()));
        let frame = match tokio::time::timeout(wait, body.frame()).await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                // Stalled (or trickling past the deadline): answered and closed, the bytes freed.
                let mut r = ApiError::new(ErrorCode::Network, "the upload stalled; send it again")
                    .into_response();
                r.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                return Ok(r);
            }
        };
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
        // The buffer grows with what arrived (doubling), each growth held against the budget.
        let need = data.len() + chunk.len();
        if need > data.capacity() {
            let want = need.max(data.capacity().saturating_mul(2)).max(64 * 1024);
            let want = want
                .min(usize::try_from(cfg.max_capture_bytes).unwrap_or(usize::MAX))
                .max(need);
            if !ticket.hold(want as u64) {
                return refuse(
                    body,
                    0,
                    ApiError {
                        retry_after: Some(5),
                        ..ApiError::new(
                            ErrorCode::RateLimited,
                            "the server holds as many uploads as it may; try again shortly",
                        )
                    },
                );
            }
            data.reserve_exact(want - data.len());
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
        mrz: crate::uploads::mrz_layout(&s, slot),
    };
    let (data, analysis) = state.verifier.check(job, data).await;
    let mut analysis = analysis.map_err(verify_error)?;
    // The zone's fields are sealed before anything is stored; only the verdict stays clear.
    if let crate::verify::Analysis::Document(d) = &mut analysis {
        if let Some(m) = d.mrz.as_mut() {
            if let Some(data) = m.data.take() {
                let place = crate::verify::mrz_place(&s.submission_id, &capture_id);
                let json = serde_json::to_string(&data)
                    .map_err(|e| storage_failed(format!("mrz: {e}")))?;
                m.sealed = Some(
                    store
                        .sealer()
                        .seal(&place, &json)
                        .map_err(|e| storage_failed(format!("mrz: {e}")))?,
                );
            }
        }
    }
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
        crate::webhooks::queue(&state, row, "created", None, None).await;
    }
    match outcome {
        PutOutcome::Stored(r) => Ok((StatusCode::CREATED, Json(r)).into_response()),
        PutOutcome::Existing(r) => Ok(Json(r).into_response()),
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

/// `DELETE /api/capture/{capture_id}`: drops a capture (a retake) before finishing.
pub async fn delete_capture(
    State(state): State<Shared>,
    Path(capture_id): Path<String>,
    LiveSession { session: s, .. }: LiveSession,
) -> Result<Response, ApiError> {
    let store = state.require_store()?;
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

/// The ID review of the finish screen: the server's read of the zone on the stored side that
/// carries it, with the fields the link's `allowedDocumentFields` names (from a valid read only).
fn document_review(
    s: &crate::sessions::Session,
    caps: &[store::StoredCapture],
    sealer: &crate::pii::Sealer,
) -> Option<liveform_core::api::DocumentReview> {
    let side = crate::uploads::mrz_placement(s)?.side;
    let (capture_id, check) = crate::verify::latest_mrz(caps, side)?;
    let fields = match (&s.params.allowed_document_fields, check.valid) {
        (Some(allowed), true) => crate::verify::document_of(caps, side, &s.submission_id, sealer)
            .map(|(_, d)| liveform_core::document::review_fields(&d, allowed))
            .unwrap_or_default()
            .into_iter()
            .map(|(field, value)| liveform_core::api::ReviewField { field, value })
            .collect(),
        _ => Vec::new(),
    };
    Some(liveform_core::api::DocumentReview {
        side,
        capture_id,
        valid: check.valid,
        fields,
    })
}

/// `GET /api/session/captures`.
pub async fn list_captures(
    State(state): State<Shared>,
    LiveSession { session: s, .. }: LiveSession,
) -> Result<Response, ApiError> {
    let store = state.require_store()?;
    let sid = s.submission_id.clone();
    let (row, caps, attempts) = blocking(store, move |st| {
        Ok((
            st.submission(&sid)?,
            st.captures(&sid)?,
            st.liveness_attempts(&sid)?,
        ))
    })
    .await?;
    // Only before the finish: afterwards the fields are the integrator's (and may have been
    // deleted there); a session token left on a shared device must not show them.
    let open = row
        .as_ref()
        .is_none_or(|r| r.status == KycStatus::Incomplete);
    let document = open
        .then(|| document_review(&s, &caps, state.require_store().ok()?.sealer()))
        .flatten();
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
        document,
    };
    Ok(Json(list).into_response())
}

/// `POST /api/session/finish` (optional body `{"email"}`): completeness check, then the
/// submission becomes `pending` (or the project's `auto_decision`). A repeat answers the same.
pub async fn finish(
    State(state): State<Shared>,
    LiveSession { token, session: s }: LiveSession,
    body: Bytes,
) -> Result<Response, ApiError> {
    let store = state.require_store()?;
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
        return Ok(Json(finished(project, row, now(&state))).into_response());
    }
    // Three failed liveness attempts: the person leaves through the coded page.
    if let Some(e) = crate::liveness::exhausted(&attempts) {
        return Err(e);
    }
    // What the document's MRZ said, as the server read it on the side that carries it.
    let mrz_side = crate::uploads::mrz_placement(&s).map(|p| p.side);
    // The capture of that side the decision rests on (checked again inside the finish's
    // transaction: a retake in between must not be decided on this read).
    let read_from = mrz_side.map(|side| crate::verify::latest_capture_id(&caps, side));
    let document = mrz_side
        .and_then(|side| crate::verify::document_of(&caps, side, &s.submission_id, store.sealer()))
        .map(|(_, d)| d);
    let captures: Vec<CaptureRecord> = caps.into_iter().map(|c| c.record).collect();
    let (country, id_type) = chosen(&s);
    let mut gaps = missing(&required_slots(&s), &captures);
    liveness_gap(&s, &attempts, &mut gaps);
    if id_type.is_none() && !gaps.contains(&CaptureSlot::DocumentFront) {
        gaps.insert(0, CaptureSlot::DocumentFront);
    }
    if !gaps.is_empty() || row.is_none() {
        let names: Vec<&str> = gaps.iter().map(|g| g.name()).collect();
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
    let at_ms = now_ms(&state);
    let sid = s.submission_id.clone();
    let required = required_slots(&s);
    let needs_liveness = crate::liveness::has_liveness(&s);
    let auto = project.auto_decision;
    let rules = project.rules;
    let toggles = crate::rules::Toggles::of(&s.params);
    let identities = crate::rules::identities(&s.params, document.as_ref());
    // The zone should name the holder but did not read: the rules that compare identities
    // cannot be checked as ARGOS checks them (the link's own identity still counts).
    let holder_unread = mrz_side.is_some()
        && !document.as_ref().is_some_and(|d| d.mrz_valid)
        && crate::rules::compares_identities(&rules, toggles);
    // The link's `ageLimit=false` (from `encrypted`, or plain with `plain_loosening`: core's
    // launch parsing decided) lifts the project's age limit.
    let age_limit = rules.age_limit.filter(|_| s.params.age_limit);
    let today = time::OffsetDateTime::from_unix_timestamp(at_ms.div_euclid(1000))
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN);
    // A registered token used by the decided submission: `token_expired` (`count`), queued by
    // the finish's own transaction.
    let used_token = s
        .params
        .token
        .as_ref()
        .and_then(|_| crate::webhooks::used_token_body(&state, &s.pid, at_ms));
    let announces = used_token.is_some();
    // Decided inside the transaction that finishes: no upload, retake or delete lands between
    // the server's checks and the status (a racing request finds the submission finished). A
    // rule the link toggles (duplicate user, prevention periods) rejects with ARGOS's code; the
    // person sees the result page as for any rejection.
    let (outcome, row) = blocking(store, move |st| {
        let mut summary = None;
        let lookups: Vec<store::Lookup<'_>> = identities
            .iter()
            .map(|i| match i {
                crate::rules::Identity::Holder(v) => store::Lookup::Holder(v),
                crate::rules::Identity::Userid(v) => store::Lookup::Userid(v),
                crate::rules::Identity::Email(v) => store::Lookup::Email(v),
            })
            .collect();
        let used = used_token.as_ref().map(|b| store::UsedToken {
            event: "token_expired",
            body: b,
        });
        let outcome = st.finish_with(
            &sid,
            email.as_deref(),
            id_type.map(|t| t.to_string()).as_deref(),
            country.map(|c| c.to_string()).as_deref(),
            at_ms,
            &lookups,
            used,
            |caps, attempts, priors| {
                // The zone read before the transaction must still be the latest capture of its
                // side (a retake in between: the finish is answered "captures changed").
                if let (Some(side), Some(id)) = (mrz_side, read_from.as_ref()) {
                    if crate::verify::latest_capture_id(caps, side) != *id {
                        return None;
                    }
                }
                let (mut status, mut v) = decide(caps, attempts, &required, needs_liveness, auto)?;
                let mut verdict = liveform_core::document::document_verdict(
                    document.as_ref(),
                    age_limit,
                    rules.reject_expired_id,
                    today,
                );
                if holder_unread && verdict == DocumentVerdict::Pass {
                    verdict = DocumentVerdict::Review(Vec::new());
                }
                let rejected = match verdict {
                    DocumentVerdict::Pass => None,
                    DocumentVerdict::Reject(r) => Some((r.comment(), r.comment_code())),
                    DocumentVerdict::Review(mut unchecked) => {
                        if holder_unread {
                            unchecked.push("rejectDuplicateUser");
                        }
                        // A rule that needs the document's data could not be checked: a
                        // reviewer decides, never the automatic approval.
                        if status == KycStatus::Approved {
                            status = KycStatus::Pending;
                        }
                        v["rules_unchecked"] = serde_json::json!(unchecked);
                        None
                    }
                };
                let rejected = rejected.or_else(|| {
                    crate::rules::check(&rules, toggles, priors, at_ms)
                        .map(|h| (h.comment(), h.comment_code()))
                });
                let json = v.to_string();
                summary = Some(v);
                let ocr = document
                    .as_ref()
                    .and_then(|d| serde_json::to_string(d).ok());
                let holder = document.as_ref().and_then(|d| d.identity_key());
                Some(match rejected {
                    None => store::Decision {
                        ocr,
                        holder,
                        ..store::Decision::plain(status, json)
                    },
                    Some((comment, code)) => store::Decision {
                        status: KycStatus::Rejected,
                        verification: json,
                        comment: Some(comment.to_owned()),
                        comment_code: Some(code.to_owned()),
                        ocr,
                        holder,
                    },
                })
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
    let row = row.ok_or_else(|| storage_failed("the submission vanished"))?;
    // A computer that handed this session to a phone shows that it is done.
    let now_s = now(&state);
    let _ = db(&state, move |s| s.sessions.mark_finished(&token, now_s)).await;
    if changed {
        let event = match row.status {
            KycStatus::Pending => "submit",
            KycStatus::Approved => "approved",
            KycStatus::Rejected => "rejected",
            KycStatus::Incomplete => "created",
        };
        crate::webhooks::queue(&state, row.clone(), event, None, verification).await;
        if announces {
            state.webhook_wake.notify_one();
        }
        if let Some(tok) = s
            .params
            .token
            .clone()
            .filter(|_| row.status != KycStatus::Incomplete)
        {
            let (pid, status) = (s.pid.clone(), row.status.as_str());
            let auto_delete = project.private.auto_delete;
            let _ = db(&state, move |st| {
                st.tokens
                    .mark_decided(&pid, &tok, now_s, status, auto_delete)
            })
            .await;
        }
    }
    Ok(Json(finished(project, &row, now_s)).into_response())
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
    // Optional: an error page may come before any session (a link that did not open).
    live: Result<LiveSession, ApiError>,
    body: Result<Json<LeaveBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    if ErrorCode::from_id(&req.leave.error_code).is_none() {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "error_code is not a code of the catalogue",
        ));
    }
    let code = req.leave.error_code.as_str();
    let url = match live.ok().map(|l| l.session) {
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
            return_url(project, &v, now(&state))
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
                now(&state),
            )
        }
    };
    Ok(Json(Left { return_url: url }).into_response())
}
