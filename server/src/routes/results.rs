//! The integrators' results API (`/v3`), with the project's `api_key` in `x-api-key`, and its
//! guard against key guessing. What it answers with is built in `results.rs`.

use std::net::SocketAddr;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use liveform_core::api::KycStatus;
use liveform_core::{ErrorBody, ErrorCode};
use serde::Deserialize;
use serde_json::json;

use crate::config::ProjectConfig;
use crate::error::ApiError;
use crate::results::{self, API_KEY_HEADER, IMAGE_TYPES, PARTIAL_FIELDS};
use crate::state::{blocking, db, now, now_ms, AppState, Shared};
use crate::store::Lookup;

/// The results API's guard against key guessing: an address over its wrong keys for the minute
/// gets `429 LF-20002` (with `Retry-After`) before its key is compared; every `403 LF-70002`
/// counts.
pub async fn key_guard(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let ip = super::rate_key(super::client_ip(&state, req.headers(), peer));
    let now = now(&state);
    let blocked = match db(&state, move |s| s.key_failures.blocked(ip, now)).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    if let Err(wait) = blocked {
        return ApiError {
            retry_after: Some(wait),
            ..ApiError::new(
                ErrorCode::RateLimited,
                format!("too many wrong API keys from {ip}"),
            )
        }
        .into_response();
    }
    let resp = next.run(req).await;
    if resp.status() == StatusCode::FORBIDDEN
        && resp
            .extensions()
            .get::<ErrorBody>()
            .is_some_and(|b| b.code == ErrorCode::ApiKeyWrong.id())
    {
        let _ = db(&state, move |s| s.key_failures.failed(ip, now)).await;
    }
    resp
}

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

fn bad_query(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::InvalidApiRequest, e.to_string())
}

#[derive(Debug, Deserialize)]
pub struct SubmissionQuery {
    submission_id: Option<String>,
    userid: Option<String>,
    email: Option<String>,
    count: Option<u32>,
}

/// `GET /v3/submission?submission_id=|userid=|email=[&count=]`: newest first, at most `count`
/// (1-50, default 50).
pub async fn get_submission(
    State(state): State<Shared>,
    headers: HeaderMap,
    q: Result<Query<SubmissionQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = project(&state, &headers)?;
    let Query(q) = q.map_err(|e| bad_query(e.body_text()))?;
    let count = q.count.unwrap_or(50);
    if !(1..=50).contains(&count) {
        return Err(bad_query("count must be 1-50"));
    }
    let pid = p.pid.clone();
    let store = state.require_store()?;
    if q.submission_id.is_none() && q.userid.is_none() && q.email.is_none() {
        return Err(bad_query("one of submission_id, userid, email is required"));
    }
    let items = blocking(store, move |st| {
        let by = match (&q.submission_id, &q.userid, &q.email) {
            (Some(id), _, _) => Lookup::Id(id),
            (None, Some(u), _) => Lookup::Userid(u),
            (None, None, Some(e)) => Lookup::Email(e),
            (None, None, None) => return Ok(Vec::new()),
        };
        results::find_json(st, &pid, by, count)
    })
    .await?;
    Ok(Json(json!({"Items": items, "count": items.len()})).into_response())
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
    q: Result<Query<ImageQuery>, QueryRejection>,
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
    let store = state.require_store()?;
    let found = blocking(store, move |st| {
        results::image(st, &pid, &q.submission_id, slot, q.index)
    })
    .await?;
    let (ct, bytes) = found.map_err(|code| ApiError::new(code, "not found"))?;
    let mut r = bytes.into_response();
    if let Ok(v) = HeaderValue::from_str(&ct) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    Ok(r)
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
    body: Result<Json<Review>, JsonRejection>,
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
    let store = state.require_store()?;
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
    let answer = json!({"submissionId": row.id, "status": row.status.as_str()});
    let event = row.status.as_str();
    crate::webhooks::queue(&state, row, event, None, None).await;
    Ok(Json(answer).into_response())
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
    q: Result<Query<DeleteQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = project(&state, &headers)?;
    let Query(q) = q.map_err(|e| bad_query(e.body_text()))?;
    let pid = p.pid.clone();
    let id = q.submission_id.clone();
    let store = state.require_store()?;
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
    let answer = json!({"message": "deleted", "submission_id": row.id});
    crate::webhooks::queue(&state, row, "delete", Some((who, comment)), None).await;
    Ok(Json(answer).into_response())
}

/// `DELETE /v3/submission/partial?submission_id=&fields=email,idImage,...`: only those.
pub async fn delete_partial(
    State(state): State<Shared>,
    headers: HeaderMap,
    q: Result<Query<DeleteQuery>, QueryRejection>,
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
    let store = state.require_store()?;
    let ok = blocking(store, move |st| {
        results::delete_partial(st, &pid, &id, &list, now)
    })
    .await?;
    if !ok {
        return Err(ApiError::new(
            ErrorCode::SubmissionNotFound,
            "no such submission",
        ));
    }
    Ok(Json(json!({"submission_id": q.submission_id, "deleted": deleted})).into_response())
}
