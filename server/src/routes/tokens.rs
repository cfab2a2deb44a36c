//! ARGOS's Token API (`/v3/submission/tokens`): a project's pool of registered private-mode
//! tokens, with the project's `api_key` in `x-api-key` behind the results API's guard against key
//! guessing. The pool itself is `sessions::TokenLedger` (keyed blind indexes, values sealed).
//!
//! ARGOS documents the bodies (`{"tokenId": [...]}`, any content type: it recommends
//! `text/plain`), the limits (500 per request, 100,000 per project), the token format and the
//! answers' `success` / `message` / `summary`; the shapes it leaves open are marked "inferred" in
//! docs/api.md.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use liveform_core::launch::is_valid_token;
use liveform_core::ErrorCode;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::sessions::{PoolEntry, POOL_PER_REQUEST};
use crate::state::{db, now, now_ms, Shared};
// ARGOS's `updateTime` (`2024-01-15T10:30:45.123Z`): the webhooks' ISO-8601 with milliseconds.
use crate::webhooks::iso8601 as iso;

use super::results::project;

/// ARGOS's list page: at most 10,000 tokens per request.
const LIST_MAX: u32 = 10_000;

fn invalid(detail: impl Into<String>, argos: &'static str) -> ApiError {
    ApiError::new(ErrorCode::InvalidApiRequest, detail).argos(argos)
}

/// A refusal of the pool itself (no storage key, a database failure, a full pool).
fn pool_error(code: ErrorCode) -> ApiError {
    match code {
        ErrorCode::TokenPoolFull => ApiError::new(
            code,
            "the project's token pool would exceed 100,000 tokens; nothing was registered",
        )
        .argos("token_limit_exceeded"),
        ErrorCode::StorageUnavailable => ApiError::new(
            code,
            "no storage configured (server.storage_key): registered tokens are kept sealed",
        ),
        _ => ApiError::new(code, "the token pool failed"),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenBody {
    token_id: Option<Vec<Value>>,
}

/// The body's `tokenId` array, whatever the content type (ARGOS recommends `text/plain`).
fn token_list(body: &[u8]) -> Result<Vec<Value>, ApiError> {
    let b: TokenBody = serde_json::from_slice(body).map_err(|e| {
        invalid(
            format!("the body must be JSON {{\"tokenId\": [...]}}: {e}"),
            "invalid_payload",
        )
    })?;
    let list = b
        .token_id
        .ok_or_else(|| invalid("tokenId is required", "missing_data"))?;
    if list.is_empty() {
        return Err(invalid("tokenId is empty", "missing_data"));
    }
    if list.len() > POOL_PER_REQUEST {
        return Err(invalid(
            format!("at most {POOL_PER_REQUEST} tokens per request"),
            "invalid_payload",
        ));
    }
    Ok(list)
}

/// Splits the submitted values into valid tokens and the failures (`details`).
fn split(list: Vec<Value>) -> (Vec<String>, Vec<Value>) {
    let mut ok = Vec::with_capacity(list.len());
    let mut failed = Vec::new();
    for v in list {
        match v {
            Value::String(s) if is_valid_token(&s) => ok.push(s),
            other => failed.push(json!({
                "tokenId": other,
                "reason": "invalid_format",
                "message": "a token is 8-64 characters of A-Z a-z 0-9 . _ - and starts and ends with a letter or digit",
            })),
        }
    }
    (ok, failed)
}

/// A POST or DELETE batch: the project, how many values were submitted, the valid tokens and
/// the failures.
struct Batch {
    pid: String,
    submitted: usize,
    ok: Vec<String>,
    failed: Vec<Value>,
}

fn batch(state: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Batch, ApiError> {
    let pid = project(state, headers)?.pid.clone();
    let list = token_list(body)?;
    let submitted = list.len();
    let (ok, failed) = split(list);
    Ok(Batch {
        pid,
        submitted,
        ok,
        failed,
    })
}

/// ARGOS's answer to a batch: `success` (nothing failed), `message`, `summary` (`extra` with
/// `totalSubmitted` and `failed`) and the failures as `details` (when there are any).
fn batch_answer(b: Batch, message: &str, extra: Value) -> Response {
    let mut summary = extra;
    summary["totalSubmitted"] = json!(b.submitted);
    summary["failed"] = json!(b.failed.len());
    let mut answer = json!({
        "success": b.failed.is_empty(),
        "message": message,
        "summary": summary,
    });
    if !b.failed.is_empty() {
        answer["details"] = Value::Array(b.failed);
    }
    Json(answer).into_response()
}

/// `POST /v3/submission/tokens {"tokenId": [...]}`: registers up to 500 tokens; partial: invalid
/// ones are reported in `details` and the rest registered; one already in the pool is
/// overwritten (its registration time renewed).
pub async fn post_tokens(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut b = batch(&state, &headers, &body)?;
    let (pid, at_ms) = (b.pid.clone(), now_ms(&state));
    let tokens = std::mem::take(&mut b.ok);
    let processed = tokens.len();
    let count = if tokens.is_empty() {
        db(&state, move |s| s.tokens.pool_size(&pid)).await?
    } else {
        db(&state, move |s| s.tokens.register(&pid, &tokens, at_ms)).await?
    }
    .map_err(pool_error)?;
    let message = if b.failed.is_empty() {
        "All tokens are now in the pool"
    } else {
        "Some tokens were not added to the pool"
    };
    let extra = json!({"currentCount": count, "processed": processed});
    Ok(batch_answer(b, message, extra))
}

/// `DELETE /v3/submission/tokens {"tokenId": [...]}`: removes up to 500 tokens (partial:
/// unknown ones are counted as `notFound`, invalid ones as `failed`).
pub async fn delete_tokens(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut b = batch(&state, &headers, &body)?;
    let (pid, tokens) = (b.pid.clone(), std::mem::take(&mut b.ok));
    let (deleted, not_found) = db(&state, move |s| s.tokens.unregister(&pid, &tokens))
        .await?
        .map_err(pool_error)?;
    let message = format!("Successfully deleted {deleted} tokens");
    let extra = json!({"deleted": deleted, "notFound": not_found});
    Ok(batch_answer(b, &message, extra))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenQuery {
    token_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    next_page_key_id: Option<String>,
    next_page_key_time: Option<String>,
    /// Ours: a smaller page than ARGOS's 10,000.
    count: Option<u32>,
}

fn parse_iso(s: &str) -> Option<i64> {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    let t = time::PrimitiveDateTime::parse(s, &f).ok()?.assume_utc();
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

fn entry_json(e: &PoolEntry, expiry: Option<i64>, now: i64) -> Value {
    json!({
        "tokenId": e.token,
        "updateTime": iso(e.updated_ms),
        "expired": e.expired(expiry, now),
    })
}

/// `GET /v3/submission/tokens[?tokenId=|type=count|nextPageKeyId=&nextPageKeyTime=][&count=]`:
/// one token, the pool's size, or the pool in registration order, 10,000 a page.
pub async fn get_tokens(
    State(state): State<Shared>,
    headers: HeaderMap,
    q: Result<Query<TokenQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = project(&state, &headers)?;
    let Query(q) = q.map_err(|e| invalid(e.body_text(), "invalid_format"))?;
    let (pid, t, expiry) = (p.pid.clone(), now(&state), p.private.expiry_secs);
    if let Some(tok) = q.token_id {
        if !is_valid_token(&tok) {
            return Err(invalid(
                "tokenId must be 8-64 characters of A-Z a-z 0-9 . _ - starting and ending with a letter or digit",
                "invalid_format",
            ));
        }
        let found = db(&state, move |s| s.tokens.registered(&pid, &tok))
            .await?
            .map_err(pool_error)?
            .ok_or_else(|| {
                ApiError::new(ErrorCode::TokenNotFound, "Token not found.").argos("token_not_found")
            })?;
        return Ok(Json(json!({
            "success": true,
            "tokenId": found.token,
            "data": entry_json(&found, expiry, t),
        }))
        .into_response());
    }
    match q.kind.as_deref() {
        None => {}
        Some("count") => {
            let n = db(&state, move |s| s.tokens.pool_size(&pid))
                .await?
                .map_err(pool_error)?;
            return Ok(Json(json!({"success": true, "count": n})).into_response());
        }
        Some(_) => return Err(invalid("type must be count", "invalid_parameter")),
    }
    let limit = q.count.unwrap_or(LIST_MAX);
    if !(1..=LIST_MAX).contains(&limit) {
        return Err(invalid("count must be 1-10000", "invalid_format"));
    }
    let after = match (q.next_page_key_id, q.next_page_key_time) {
        (None, None) => None,
        (Some(id), Some(time)) => Some((
            parse_iso(&time).ok_or_else(|| {
                invalid(
                    "nextPageKeyTime must be YYYY-MM-DDTHH:MM:SS.sssZ (the previous answer's)",
                    "invalid_format",
                )
            })?,
            id,
        )),
        _ => {
            return Err(invalid(
                "nextPageKeyId and nextPageKeyTime go together",
                "missing_data",
            ))
        }
    };
    let (page, total) = db(&state, move |s| {
        let page = s.tokens.pool_page(
            &pid,
            after.as_ref().map(|(ms, id)| (*ms, id.as_str())),
            // One more: is there a next page?
            limit + 1,
        )?;
        Ok::<_, ErrorCode>((page, s.tokens.pool_size(&pid)?))
    })
    .await?
    .map_err(pool_error)?;
    let more = page.len() > limit as usize;
    let items: Vec<&PoolEntry> = page.iter().take(limit as usize).collect();
    let mut answer = json!({
        "success": true,
        "count": total,
        "data": items.iter().map(|e| entry_json(e, expiry, t)).collect::<Vec<_>>(),
    });
    if let (true, Some(last)) = (more, items.last()) {
        answer["nextPageKeyId"] = json!(last.token);
        answer["nextPageKeyTime"] = json!(iso(last.updated_ms));
    }
    Ok(Json(answer).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trip() {
        assert_eq!(iso(1_705_314_645_123), "2024-01-15T10:30:45.123Z");
        assert_eq!(
            parse_iso("2024-01-15T10:30:45.123Z"),
            Some(1_705_314_645_123)
        );
        assert_eq!(parse_iso("2024-01-15 10:30:45"), None);
    }

    #[test]
    fn bodies() {
        assert_eq!(token_list(br#"{"tokenId":["user001a"]}"#).unwrap().len(), 1);
        for (body, code) in [
            (&b"not json"[..], "invalid_payload"),
            (br#"{"tokenId":"user001a"}"#, "invalid_payload"),
            (br#"{}"#, "missing_data"),
            (br#"{"tokenId":[]}"#, "missing_data"),
        ] {
            assert_eq!(token_list(body).unwrap_err().argos, Some(code));
        }
        let (ok, failed) = split(vec![json!("user001a"), json!("short"), json!(7)]);
        assert_eq!((ok.len(), failed.len()), (1, 2));
    }
}
