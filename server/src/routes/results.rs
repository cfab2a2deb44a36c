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
use crate::results::{self, API_KEY_HEADER, IMAGE_TYPES};
use crate::state::{blocking, db, now, now_ms, AppState, Shared};
use crate::store::{Lookup, Page};

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

/// The largest `PUT /v3/submission/image` body: three images in Base64 and the small fields.
fn image_body_limit(max_capture_bytes: u64) -> usize {
    usize::try_from(max_capture_bytes.saturating_mul(3).saturating_mul(4) / 3 + 64 * 1024)
        .unwrap_or(usize::MAX)
}

/// The media type of a `content-type` value, lower-case.
fn mime_of(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// ARGOS's "Secure Data Transfer" (§2.6) for a project that turned it on
/// (`secure_data_transfer`): a JSON request body (`application/json` or `text/plain`) must be
/// `{"body": "<AES-256-ECB Base64 of the JSON>"}` under the project's `key` and reaches the
/// handler decrypted; a successful JSON answer
/// is sent as `{"data": "<AES-256-ECB Base64>", "isEncrypted": true}`. Refusals (our error
/// bodies, no personal data) and images stay plain (inferred); a `multipart/form-data` body is
/// passed as it is. Projects without the setting, and requests whose key matches no project, go
/// through untouched (the handler answers them).
pub async fn secure_transfer(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let key = req
        .headers()
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
        .and_then(|k| state.config.project_by_api_key(k))
        .filter(|p| p.secure_data_transfer)
        .map(|p| p.key.clone());
    let Some(key) = key else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let limit = if parts.uri.path() == "/v3/submission/image" {
        image_body_limit(state.config.server.max_capture_bytes)
    } else {
        // The handlers' 64 KiB, in Base64 inside a small JSON object.
        64 * 1024 * 4 / 3 + 1024
    };
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return ApiError::new(
            ErrorCode::CaptureTooLarge,
            format!("the body is over {limit} bytes"),
        )
        .into_response();
    };
    // JSON, or JSON sent as `text/plain` (ARGOS recommends that for its Token API).
    let json_body = matches!(
        mime_of(&parts.headers).as_str(),
        "application/json" | "text/plain"
    );
    let bytes = if !bytes.is_empty() && json_body {
        match open_secure_body(&key, &bytes) {
            Ok(plain) => {
                parts.headers.remove(header::CONTENT_LENGTH);
                axum::body::Bytes::from(plain)
            }
            Err(m) => return bad_query(m).argos("invalid_payload").into_response(),
        }
    } else {
        bytes
    };
    let resp = next
        .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await;
    if !resp.status().is_success() || mime_of(resp.headers()) != "application/json" {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(plain) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::new(ErrorCode::Internal, "the answer could not be read").into_response();
    };
    let sealed = liveform_core::launch::crypto::encrypt_ecb(&key, &plain);
    parts.headers.remove(header::CONTENT_LENGTH);
    let out = json!({"data": sealed, "isEncrypted": true}).to_string();
    Response::from_parts(parts, axum::body::Body::from(out))
}

/// The JSON inside an encrypted request body `{"body": "<ECB Base64>"}`.
fn open_secure_body(key: &str, bytes: &[u8]) -> Result<Vec<u8>, String> {
    const SHAPE: &str = "secure data transfer: the body must be {\"body\": \"<AES-256-ECB Base64 \
                         of the JSON>\"}";
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("{SHAPE}: {e}"))?;
    let text = v
        .get("body")
        .and_then(|b| b.as_str())
        .ok_or_else(|| SHAPE.to_owned())?;
    let plain = liveform_core::launch::crypto::decrypt_ecb(key, text)
        .map_err(|e| format!("secure data transfer: {e}"))?;
    serde_json::from_slice::<serde_json::Value>(&plain)
        .map_err(|_| "secure data transfer: the decrypted body is not JSON".to_owned())?;
    Ok(plain)
}

/// The project of the request's API key.
pub(crate) fn project<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
) -> Result<&'a ProjectConfig, ApiError> {
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
    nextpage_id: Option<String>,
    nextpage_date: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    request_type: Option<String>,
}

/// `GET /v3/submission[?submission_id=|userid=|email=][&count=][&nextpage_id=&nextpage_date=]
/// [&start_date=][&end_date=][&request_type=]`: newest first, at most `count` (1-50, default
/// 50); `nextpageKey` names the last item when there is a next page.
pub async fn get_submission(
    State(state): State<Shared>,
    headers: HeaderMap,
    q: Result<Query<SubmissionQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = project(&state, &headers)?;
    let Query(q) = q.map_err(|e| bad_query(e.body_text()).argos("invalid_format"))?;
    let count = q.count.unwrap_or(50);
    if !(1..=50).contains(&count) {
        return Err(bad_query("count must be 1-50").argos("invalid_format"));
    }
    let kind = match q.request_type.as_deref() {
        None => results::RequestType::All,
        Some(t) => results::RequestType::parse(t).ok_or_else(|| {
            bad_query("request_type must be kyc, aml, data or others").argos("invalid_format")
        })?,
    };
    let day = |name: &str, v: &Option<String>| -> Result<Option<i64>, ApiError> {
        v.as_deref()
            .map(|d| {
                results::parse_day(d).ok_or_else(|| {
                    bad_query(format!("{name} must be YYYY-MM-DD")).argos("invalid_format")
                })
            })
            .transpose()
    };
    let page = Page {
        after: match (&q.nextpage_id, &q.nextpage_date) {
            (None, None) => None,
            (Some(id), Some(date)) => Some((
                results::parse_argos_time(date).ok_or_else(|| {
                    bad_query(
                        "nextpage_date must be YYYY-MM-DD-HH-MM-SS-ZZZ (nextpageKey.created_at)",
                    )
                    .argos("invalid_format")
                })?,
                id.clone(),
            )),
            _ => {
                return Err(
                    bad_query("nextpage_id and nextpage_date go together").argos("missing_data")
                )
            }
        },
        start_ms: day("start_date", &q.start_date)?,
        // The whole end day.
        end_ms: day("end_date", &q.end_date)?.map(|ms| ms + results::DAY_MS - 1),
    };
    let pid = p.pid.clone();
    let projections = p.projections.clone();
    let store = state.require_store()?;
    let (items, next) = blocking(store, move |st| {
        let by = match (&q.submission_id, &q.userid, &q.email) {
            (Some(id), _, _) => Some(Lookup::Id(id)),
            (None, Some(u), _) => Some(Lookup::Userid(u)),
            (None, None, Some(e)) => Some(Lookup::Email(e)),
            (None, None, None) => None,
        };
        results::find_page_json(st, &pid, by, &page, count, kind, &projections)
    })
    .await?;
    let mut answer = json!({"Items": items, "count": items.len()});
    if let Some((ms, id)) = next {
        answer["nextpageKey"] = json!({"id": id, "created_at": results::argos_time(ms)});
    }
    Ok(Json(answer).into_response())
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
    /// ARGOS's reject code (`results::REJECT_CODES`); `other` when a rejection names none.
    #[serde(default)]
    comment_code: Option<String>,
    /// ARGOS's `updateFields` (not supported yet: refused rather than ignored).
    #[serde(default)]
    update_fields: Option<serde_json::Value>,
}

fn invalid_review(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidReview, detail)
}

/// `POST /v3/submission/review`: decides a **pending** submission (ARGOS: "Only submissions in
/// pending status can be reviewed").
pub async fn post_review(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<Review>, JsonRejection>,
) -> Result<Response, ApiError> {
    review(state, headers, body, &[KycStatus::Pending]).await
}

/// `PATCH /v3/submission/review`: changes the status of an **already decided** submission
/// (approved ↔ rejected, or a new comment); a pending one is decided with the POST.
pub async fn patch_review(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<Review>, JsonRejection>,
) -> Result<Response, ApiError> {
    review(
        state,
        headers,
        body,
        &[KycStatus::Approved, KycStatus::Rejected],
    )
    .await
}

async fn review(
    state: Shared,
    headers: HeaderMap,
    body: Result<Json<Review>, JsonRejection>,
    from: &'static [KycStatus],
) -> Result<Response, ApiError> {
    let p = project(&state, &headers)?;
    let Json(r) = body.map_err(|e| invalid_review(e.body_text()).argos("invalid_payload"))?;
    if r.update_fields.is_some() {
        return Err(invalid_review("updateFields is not supported").argos("invalid_parameter"));
    }
    let status = match r.status.as_str() {
        "approved" => KycStatus::Approved,
        "rejected" => KycStatus::Rejected,
        _ => return Err(invalid_review("Invalid status").argos("invalid_parameter")),
    };
    let admin = r
        .admin
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| invalid_review("admin is required.").argos("missing_data"))?;
    if admin.len() > 320 {
        return Err(invalid_review("admin: at most 320 characters").argos("invalid_format"));
    }
    let comment = r.reject_comment.filter(|c| !c.trim().is_empty());
    let code = r.comment_code.filter(|c| !c.is_empty());
    let (comment, code) = match status {
        KycStatus::Rejected => {
            let comment = comment.ok_or_else(|| {
                invalid_review("Reject comment is required").argos("missing_data")
            })?;
            if comment.len() > 2000 {
                return Err(invalid_review("rejectComment: at most 2000 characters")
                    .argos("invalid_format"));
            }
            let code = code.unwrap_or_else(|| "other".into());
            if !results::REJECT_CODES.contains(&code.as_str()) {
                return Err(invalid_review(format!(
                    "commentCode must be one of ARGOS's reject codes: {}",
                    results::REJECT_CODES.join(", ")
                ))
                .argos("invalid_parameter"));
            }
            (Some(comment), Some(code))
        }
        _ => {
            if code.is_some() {
                return Err(invalid_review("commentCode goes with status rejected")
                    .argos("invalid_parameter"));
            }
            (None, None)
        }
    };
    let pid = p.pid.clone();
    let now = now_ms(&state);
    let id = r.submission_id.clone();
    let store = state.require_store()?;
    let row = blocking(store, move |st| {
        if st.submission(&id)?.filter(|s| s.pid == pid).is_none() {
            return Ok(Err(None));
        }
        match st.review_from(
            &id,
            from,
            status,
            &admin,
            comment.as_deref(),
            code.as_deref(),
            now,
        )? {
            Ok(()) => Ok(st.submission(&id)?.ok_or(None)),
            Err(e) => Ok(Err(e)),
        }
    })
    .await?
    .map_err(|was| match was {
        None => ApiError::new(ErrorCode::SubmissionNotFound, "Invalid Submission Id.")
            .argos("invalid_submission"),
        Some(KycStatus::Pending) => invalid_review(
            "the submission is pending: decide it with POST /v3/submission/review",
        )
        .argos("invalid_submission"),
        Some(KycStatus::Incomplete) => {
            invalid_review("the submission is not finished yet").argos("invalid_submission")
        }
        Some(_) => invalid_review(
            "Only submissions in pending status can be reviewed; change a decided one with PATCH /v3/submission/review",
        )
        .argos("invalid_submission"),
    })?;
    let answer = json!({
        "submissionId": row.id,
        "message": "Success to review submission.",
        "finalStatus": row.status.as_str(),
        "status": row.status.as_str(),
    });
    if from.contains(&KycStatus::Pending) {
        let event = row.status.as_str();
        crate::webhooks::queue(&state, row, event, None, None).await;
    } else {
        // A decided submission changed through the API: ARGOS's `updated` (inferred for the
        // PATCH), its `kyc_result` with the new status, comment and commentCode.
        updated(&state, row, "review").await;
    }
    Ok(Json(answer).into_response())
}

/// ARGOS's `updated` webhook (data or images changed through the API), with our `update_type`
/// (`review`, `image`, `insert`, `partial_delete`).
async fn updated(state: &Shared, row: crate::store::Submission, update_type: &str) {
    let mut fields = serde_json::Map::new();
    fields.insert("update_type".into(), update_type.into());
    crate::webhooks::queue_fields(state, row, "updated", None, Some(fields)).await;
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
    /// Partial delete with `fields=data`: which parts of `data` (ARGOS's names).
    #[serde(default)]
    data_fields: Option<String>,
    /// ARGOS's `admin_name` (accepted; the delete is not attributed).
    #[serde(default)]
    #[allow(dead_code)]
    admin_name: Option<String>,
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

fn comma_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect()
}

/// `DELETE /v3/submission/partial?submission_id=&fields=id_image,email,…[&data_fields=…]`:
/// only those (ARGOS's names and ours, `results::partial_plan`).
pub async fn delete_partial(
    State(state): State<Shared>,
    headers: HeaderMap,
    q: Result<Query<DeleteQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = project(&state, &headers)?;
    let Query(q) = q.map_err(|e| bad_query(e.body_text()).argos("invalid_format"))?;
    let list = comma_list(q.fields.as_deref().unwrap_or(""));
    if list.is_empty() {
        return Err(bad_query(format!(
            "fields parameter is required and cannot be empty: a comma list of {}",
            results::partial_field_names().join(", ")
        ))
        .argos("missing_data"));
    }
    let data_fields = q.data_fields.as_deref().map(comma_list);
    let (plan, ignored) = results::partial_plan(&list, data_fields.as_deref())
        .map_err(|m| bad_query(m).argos("invalid_parameter"))?;
    let pid = p.pid.clone();
    let id = q.submission_id.clone();
    let now = now_ms(&state);
    let store = state.require_store()?;
    let row = blocking(store, move |st| {
        if !results::delete_partial(st, &pid, &id, &plan, now)? {
            return Ok(None);
        }
        st.submission(&id)
    })
    .await?;
    let Some(row) = row else {
        return Err(
            ApiError::new(ErrorCode::SubmissionNotFound, "not Exist Submission Data")
                .argos("invalid_submission"),
        );
    };
    updated(&state, row, "partial_delete").await;
    Ok(Json(json!({
        "message": "success",
        "content": format!("Submission {} partially deleted successfully.", q.submission_id),
        "statusCode": 200,
        "submission_id": q.submission_id,
        "deleted": list,
        "ignored": ignored,
    }))
    .into_response())
}

/// The fields of a form body: `multipart/form-data` (ARGOS's) or a JSON object of strings.
fn form_fields(
    content_type: &str,
    body: &[u8],
) -> Result<std::collections::BTreeMap<String, String>, ApiError> {
    let payload = |m: &str| bad_query(m.to_owned()).argos("invalid_payload");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "multipart/form-data" {
        return results::multipart_fields(content_type, body).map_err(|m| payload(&m));
    }
    if mime != "application/json" {
        return Err(payload(
            "Fail to parse the input data: multipart/form-data or application/json",
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| payload(&format!("Fail to parse the input data: {e}")))?;
    let serde_json::Value::Object(o) = v else {
        return Err(payload("Fail to parse the input data: not a JSON object"));
    };
    o.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k, s)),
            _ => {
                Err(bad_query(format!("invalid format: {k} (strings only)"))
                    .argos("invalid_format"))
            }
        })
        .collect()
}

/// `PUT /v3/submission/image` (multipart/form-data as ARGOS, or JSON): `submissionId`, `admin`,
/// `idType` (with ID images), Base64 `idImage`, `idBackImage`, `selfieImage`. Each image is
/// decoded completely and checked by the server like an upload, then replaces its slot's image
/// (marked `origin: api`).
pub async fn put_image(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let p = project(&state, &headers)?;
    let max = state.config.server.max_capture_bytes;
    let limit = image_body_limit(max);
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            ErrorCode::CaptureTooLarge,
            format!("the body is over {limit} bytes"),
        )
    })?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut fields = form_fields(ct, &bytes)?;
    drop(bytes);
    let plan =
        results::image_plan(&mut fields, max).map_err(|(code, m)| bad_query(m).argos(code))?;
    let mut images = Vec::new();
    for img in plan.images {
        let (data, analysis) = state.verifier.check(img.job, img.data).await;
        let analysis = analysis.map_err(|e| {
            let mut a = crate::uploads::verify_error(e);
            if a.code != ErrorCode::Internal {
                a.detail = format!("invalid format: {}: {}", img.name, a.detail);
                a.code = ErrorCode::InvalidApiRequest;
                a = a.argos("invalid_format");
            }
            a
        })?;
        images.push(crate::store::ApiImage {
            record: liveform_core::api::CaptureRecord {
                check: analysis.capture_check(),
                ..img.record
            },
            data,
            analysis: analysis.to_json(),
        });
    }
    let pid = p.pid.clone();
    let id = plan.submission_id.clone();
    let id_type = plan.id_type;
    let now = now_ms(&state);
    let store = state.require_store()?;
    let checks: Vec<serde_json::Value> = images
        .iter()
        .map(|i| {
            let name = IMAGE_TYPES
                .iter()
                .find(|(_, s)| *s == i.record.slot)
                .map_or("", |(n, _)| *n);
            json!({"type": name, "check": i.record.check})
        })
        .collect();
    let row = blocking(store, move |st| {
        if st.submission(&id)?.filter(|s| s.pid == pid).is_none() {
            return Ok(None);
        }
        if !st.put_api_images(&id, &images, id_type.as_deref(), now)? {
            return Ok(None);
        }
        st.submission(&id)
    })
    .await?;
    let Some(row) = row else {
        return Err(
            ApiError::new(ErrorCode::SubmissionNotFound, "Invalid submission.")
                .argos("invalid_submission"),
        );
    };
    updated(&state, row, "image").await;
    Ok(Json(json!({
        "message": "complete to update image.",
        "submissionId": plan.submission_id,
        "images": checks,
    }))
    .into_response())
}

/// `POST /v3/submission` (and ARGOS's `/v3/submission/migration`): inserts a decided
/// submission (ARGOS's migration insert). Nothing of it is verified by this server: it is kept
/// as `origin: migration` with a verification summary that says so.
pub async fn post_submission(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let p = project(&state, &headers)?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let fields = form_fields(ct, &body)?;
    let id = crate::state::new_submission_id()
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "no system randomness"))?;
    let m = results::migration(&p.pid, id, fields).map_err(|(code, m)| bad_query(m).argos(code))?;
    let now = now_ms(&state);
    let store = state.require_store()?;
    let sid = m.base.id.clone();
    let id = sid.clone();
    let row = blocking(store, move |st| {
        if !st.insert_migrated(&m, now)? {
            return Ok(None);
        }
        st.submission(&id)
    })
    .await?;
    let Some(row) = row else {
        return Err(
            ApiError::new(ErrorCode::Internal, "Failed to complete migration")
                .argos("processing_error"),
        );
    };
    updated(&state, row, "insert").await;
    Ok(Json(json!({"message": "success", "submissionId": sid})).into_response())
}
