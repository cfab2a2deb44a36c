//! The integrators' results API, an ARGOS-compatible subset (`argos-liveform.md` §5), with the
//! project's `api_key` in `x-api-key`. Shapes in docs/api.md.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use liveform_core::api::KycStatus;
use liveform_core::flow::CaptureSlot;
use liveform_core::ErrorCode;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::{now_ms, ApiError, AppState};
use crate::config::ProjectConfig;
use crate::store::{Lookup, StoredAttempt, StoredCapture, Submission};
use crate::uploads::{blocking, store};

type Shared = Arc<AppState>;

/// The API key header.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The project of the request's API key.
fn project<'a>(state: &'a AppState, headers: &HeaderMap) -> Result<&'a ProjectConfig, ApiError> {
    let key = headers
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::new(ErrorCode::ApiKeyMissing, "x-api-key header missing"))?;
    state
        .config
        .project_by_api_key(key)
        .ok_or_else(|| ApiError::new(ErrorCode::ApiKeyWrong, "x-api-key matches no project"))
}

/// ARGOS's `YYYY-MM-DD-HH-MM-SS-ZZZ` (UTC, ZZZ = milliseconds).
pub fn argos_time(ms: i64) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]-[hour]-[minute]-[second]-[subsecond digits:3]"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&f).ok())
        .unwrap_or_default()
}

/// ARGOS image type names ↔ slots.
pub const IMAGE_TYPES: [(&str, CaptureSlot); 4] = [
    ("idImage", CaptureSlot::DocumentFront),
    ("idBackImage", CaptureSlot::DocumentBack),
    ("selfieImage", CaptureSlot::Selfie),
    ("livenessImage", CaptureSlot::Liveness),
];

fn item(s: &Submission, caps: &[StoredCapture], attempts: &[StoredAttempt]) -> Value {
    let mut image = serde_json::Map::new();
    for (name, slot) in IMAGE_TYPES {
        let n = caps.iter().filter(|c| c.record.slot == slot).count();
        if n == 0 {
            continue;
        }
        let url = format!("/v3/image?submission_id={}&type={name}", s.id);
        image.insert(name.to_owned(), json!(url));
        if slot == CaptureSlot::Liveness {
            image.insert("livenessCount".into(), json!(n));
        }
    }
    let t = |ms: Option<i64>| ms.map(argos_time);
    json!({
        "submission_id": s.id,
        "data": {
            "userid": s.userid,
            "email": s.email,
            "cf1": s.cf1,
            "cf2": s.cf2,
            "cf3": s.cf3,
            "idType": s.id_type,
            "issuingCountry": s.issuing_country,
            "idcard_issuingCountry": s.issuing_country,
            "tokenId": s.token,
        },
        "kyc": {
            "result": s.status.as_str(),
            "comment": s.comment,
            "reviewer": s.reviewer,
            "admin": s.admin,
        },
        "image": image,
        "liveness": crate::liveness::results_json(attempts),
        // As decided at finish (what the decision rests on); live for unfinished submissions.
        "verification": s
            .verification
            .as_deref()
            .and_then(|v| serde_json::from_str::<Value>(v).ok())
            .unwrap_or_else(|| crate::verify::summary(caps, attempts, false).json),
        "created_at": argos_time(s.created_ms),
        "updated_at": argos_time(s.updated_ms),
        "submitted_at": t(s.submitted_ms),
        "kyc_result_at": t(s.decided_ms),
    })
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[derive(Debug, Deserialize)]
pub struct SubmissionQuery {
    submission_id: Option<String>,
    userid: Option<String>,
    email: Option<String>,
    count: Option<u32>,
}

fn bad_query(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::InvalidApiRequest, e.to_string())
}

/// `GET /v3/submission?submission_id=|userid=|email=[&count=]`: newest first, at most `count`
/// (1-50, default 50).
pub async fn get_submission(
    State(state): State<Shared>,
    headers: HeaderMap,
    q: Result<Query<SubmissionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let p = project(&state, &headers)?;
    let Query(q) = q.map_err(|e| bad_query(e.body_text()))?;
    let count = q.count.unwrap_or(50);
    if !(1..=50).contains(&count) {
        return Err(bad_query("count must be 1-50"));
    }
    let pid = p.pid.clone();
    let store = store(&state)?;
    let items = blocking(store, move |st| {
        let by = match (&q.submission_id, &q.userid, &q.email) {
            (Some(id), _, _) => Lookup::Id(id),
            (None, Some(u), _) => Lookup::Userid(u),
            (None, None, Some(e)) => Lookup::Email(e),
            (None, None, None) => return Ok(None),
        };
        let mut out = Vec::new();
        for s in st.find(&pid, by, count)? {
            let caps = st.captures(&s.id)?;
            let attempts = st.liveness_attempts(&s.id)?;
            out.push(item(&s, &caps, &attempts));
        }
        Ok(Some(out))
    })
    .await?
    .ok_or_else(|| bad_query("one of submission_id, userid, email is required"))?;
    Ok(no_store(
        Json(json!({"Items": items, "count": items.len()})).into_response(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct ImageQuery {
    submission_id: String,
    #[serde(rename = "type")]
    kind: String,
    /// For `livenessImage`: which frame (0-based, default 0).
    #[serde(default)]
    index: usize,
}

/// `GET /v3/image?submission_id=&type=idImage|idBackImage|selfieImage|livenessImage[&index=]`:
/// the decrypted bytes with their content type.
pub async fn get_image(
    State(state): State<Shared>,
    headers: HeaderMap,
    q: Result<Query<ImageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let p = project(&state, &headers)?;
    let Query(q) = q.map_err(|e| bad_query(e.body_text()))?;
    let slot = IMAGE_TYPES
        .iter()
        .find(|(n, _)| *n == q.kind)
        .map(|(_, s)| *s)
        .ok_or_else(|| {
            bad_query("type must be idImage, idBackImage, selfieImage or livenessImage")
        })?;
    let pid = p.pid.clone();
    let store = store(&state)?;
    let found = blocking(store, move |st| {
        let Some(s) = st.submission(&q.submission_id)?.filter(|s| s.pid == pid) else {
            return Ok(Err(ErrorCode::SubmissionNotFound));
        };
        let caps = st.captures(&s.id)?;
        let Some(c) = caps
            .into_iter()
            .filter(|c| c.record.slot == slot)
            .nth(q.index)
        else {
            return Ok(Err(ErrorCode::ImageNotFound));
        };
        let bytes = st.read_file(&c.file)?;
        Ok(Ok((c.record.content_type, bytes)))
    })
    .await?;
    let (ct, bytes) = found.map_err(|code| ApiError::new(code, "not found"))?;
    let mut r = bytes.into_response();
    if let Ok(v) = HeaderValue::from_str(&ct) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    Ok(no_store(r))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    #[serde(alias = "submission_id")]
    submission_id: String,
    status: String,
    #[serde(default)]
    admin: Option<String>,
    #[serde(default)]
    reject_comment: Option<String>,
}

/// `POST /v3/submission/review {"submissionId","status","admin","rejectComment"}`.
pub async fn post_review(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<Review>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let p = project(&state, &headers)?;
    let Json(r) = body.map_err(|e| ApiError::new(ErrorCode::InvalidReview, e.body_text()))?;
    let status = match r.status.as_str() {
        "approved" => KycStatus::Approved,
        "rejected" => KycStatus::Rejected,
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidReview,
                "status must be approved or rejected",
            ))
        }
    };
    let admin = r
        .admin
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidReview, "admin is required"))?;
    let comment = r.reject_comment.filter(|c| !c.trim().is_empty());
    if status == KycStatus::Rejected && comment.is_none() {
        return Err(ApiError::new(
            ErrorCode::InvalidReview,
            "rejectComment is required when rejecting",
        ));
    }
    let comment = if status == KycStatus::Rejected {
        comment
    } else {
        None
    };
    let pid = p.pid.clone();
    let now = now_ms(&state);
    let id = r.submission_id.clone();
    let store = store(&state)?;
    let row = blocking(store, move |st| {
        let Some(s) = st.submission(&id)?.filter(|s| s.pid == pid) else {
            return Ok(Err(ErrorCode::SubmissionNotFound));
        };
        if s.status == KycStatus::Incomplete {
            return Ok(Err(ErrorCode::InvalidReview));
        }
        st.review(&id, status, &admin, comment.as_deref(), now)?;
        Ok(st.submission(&id)?.ok_or(ErrorCode::SubmissionNotFound))
    })
    .await?
    .map_err(|code| {
        ApiError::new(
            code,
            if code == ErrorCode::InvalidReview {
                "the submission is not finished yet"
            } else {
                "no such submission"
            },
        )
    })?;
    crate::webhooks::enqueue(&state, &row, row.status.as_str(), None);
    Ok(no_store(
        Json(json!({"submissionId": row.id, "status": row.status.as_str()})).into_response(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct DeleteQuery {
    submission_id: String,
    #[serde(default)]
    admin: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    /// Partial delete: a comma list of fields.
    #[serde(default)]
    fields: Option<String>,
}

/// `DELETE /v3/submission?submission_id=[&admin=&comment=]`: the record and its files; fires the
/// `delete` webhook.
pub async fn delete_submission(
    State(state): State<Shared>,
    headers: HeaderMap,
    q: Result<Query<DeleteQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let p = project(&state, &headers)?;
    let Query(q) = q.map_err(|e| bad_query(e.body_text()))?;
    let pid = p.pid.clone();
    let id = q.submission_id.clone();
    let store = store(&state)?;
    let row = blocking(store, move |st| {
        let Some(s) = st.submission(&id)?.filter(|s| s.pid == pid) else {
            return Ok(None);
        };
        st.delete_submission(&id)?;
        Ok(Some(s))
    })
    .await?
    .ok_or_else(|| ApiError::new(ErrorCode::SubmissionNotFound, "no such submission"))?;
    let who = q.admin.as_deref().unwrap_or("api");
    let comment = q.comment.as_deref().unwrap_or("");
    crate::webhooks::enqueue(&state, &row, "delete", Some((who, comment)));
    Ok(no_store(
        Json(json!({"message": "deleted", "submission_id": row.id})).into_response(),
    ))
}

/// Fields a partial delete may name.
pub const PARTIAL_FIELDS: [&str; 9] = [
    "userid",
    "email",
    "cf1",
    "cf2",
    "cf3",
    "idImage",
    "idBackImage",
    "selfieImage",
    "livenessImage",
];

/// `DELETE /v3/submission/partial?submission_id=&fields=email,idImage,...`: only those.
pub async fn delete_partial(
    State(state): State<Shared>,
    headers: HeaderMap,
    q: Result<Query<DeleteQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let p = project(&state, &headers)?;
    let Query(q) = q.map_err(|e| bad_query(e.body_text()))?;
    let list: Vec<String> = q
        .fields
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    if list.is_empty() {
        return Err(bad_query(format!(
            "fields: a comma list of {}",
            PARTIAL_FIELDS.join(", ")
        )));
    }
    if let Some(bad) = list.iter().find(|f| !PARTIAL_FIELDS.contains(&f.as_str())) {
        return Err(bad_query(format!("unknown field {bad:?}")));
    }
    let pid = p.pid.clone();
    let id = q.submission_id.clone();
    let now = now_ms(&state);
    let deleted = list.clone();
    let store = store(&state)?;
    let ok = blocking(store, move |st| {
        if st.submission(&id)?.filter(|s| s.pid == pid).is_none() {
            return Ok(false);
        }
        let fields: Vec<&str> = list
            .iter()
            .map(String::as_str)
            .filter(|f| !f.ends_with("Image"))
            .collect();
        let slots: Vec<CaptureSlot> = IMAGE_TYPES
            .iter()
            .filter(|(n, _)| list.iter().any(|f| f == n))
            .map(|(_, s)| *s)
            .collect();
        st.delete_partial(&id, &fields, &slots, now)
    })
    .await?;
    if !ok {
        return Err(ApiError::new(
            ErrorCode::SubmissionNotFound,
            "no such submission",
        ));
    }
    Ok(no_store(
        Json(json!({"submission_id": q.submission_id, "deleted": deleted})).into_response(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argos_timestamps() {
        assert_eq!(argos_time(1_800_000_000_007), "2027-01-15-08-00-00-007");
    }
}
