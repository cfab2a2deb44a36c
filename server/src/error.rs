//! A refused request: [`ApiError`] (a catalogue code, an English detail, maybe a Retry-After) and
//! the JSON error body it answers with, which carries the request's reference (`trace.rs`) for
//! the person to quote to support; the detail is logged under the same reference.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
pub use liveform_core::ErrorBody;
use liveform_core::ErrorCode;

/// A refused request: a catalogue code, an English detail, maybe a Retry-After.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    pub retry_after: Option<i64>,
    /// With `LF-30009`: the missing capture slots.
    pub missing: Vec<liveform_core::flow::CaptureSlot>,
    /// The results API's ARGOS validation code (`invalid_payload`, `missing_data`, …), answered
    /// as `errorCode` beside ours, with the detail as ARGOS's `message`.
    pub argos: Option<&'static str>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError {
            code,
            detail: detail.into(),
            retry_after: None,
            missing: Vec::new(),
            argos: None,
        }
    }

    /// `self` answered with ARGOS's `errorCode` too.
    pub fn argos(mut self, code: &'static str) -> Self {
        self.argos = Some(code);
        self
    }
}

impl From<liveform_core::LaunchError> for ApiError {
    fn from(e: liveform_core::LaunchError) -> Self {
        ApiError::new(e.code, e.detail)
    }
}

/// A short random reference to quote to support; logged with the detail.
pub fn reference() -> String {
    let mut b = [0u8; 6];
    // No entropy means no reference, never a failure.
    let _ = getrandom::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The error response for `code` (outside a handler: the panic catcher).
pub fn error_response(code: ErrorCode, detail: String, retry_after: Option<i64>) -> Response {
    error_body_response(ErrorBody::new(code, detail), code, retry_after, None)
}

fn error_body_response(
    mut body: ErrorBody,
    code: ErrorCode,
    retry_after: Option<i64>,
    argos: Option<&'static str>,
) -> Response {
    // The request's reference (its span carries it too); a fresh one outside a request.
    let r = crate::trace::current_reference().unwrap_or_else(reference);
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    if status.is_server_error() {
        tracing::error!(reference = %r, code = code.id(), detail = %body.detail, "request failed");
    } else {
        tracing::info!(reference = %r, code = code.id(), detail = %body.detail, "request refused");
    }
    body.reference = Some(r);
    let kept = body.clone();
    let mut resp = match argos.map(|a| (a, serde_json::to_value(&body))) {
        Some((a, Ok(serde_json::Value::Object(mut o)))) => {
            o.insert("errorCode".into(), a.into());
            o.insert("message".into(), kept.detail.clone().into());
            (status, Json(serde_json::Value::Object(o))).into_response()
        }
        _ => (status, Json(body)).into_response(),
    };
    // The form's routes answer without the detail (`redact_detail`); it stays in the log.
    resp.extensions_mut().insert(kept);
    let h = resp.headers_mut();
    // Also outside `/api` and `/v3` (whose routers set it on every answer): a caught panic.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(secs) = retry_after {
        if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
            h.insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = ErrorBody::new(self.code, self.detail);
        body.missing = self.missing;
        error_body_response(body, self.code, self.retry_after, self.argos)
    }
}

/// What the browser's routes (`/api/…`) answer for a refusal: the code, the message key, the
/// reference and a generic detail. The specific detail (a decryption or parse error, which check
/// refused) went to the log under the reference: in the browser it would be an oracle on the
/// link's plaintext and a guide for scripted clients. The integrators' `/v3` API keeps it.
pub async fn redact_detail(mut resp: Response) -> Response {
    let Some(mut body) = resp.extensions_mut().remove::<ErrorBody>() else {
        return resp;
    };
    body.detail = format!(
        "{}: see the error catalogue (docs/errors.md); quote the reference to support",
        body.code
    );
    let Ok(json) = serde_json::to_vec(&body) else {
        return resp;
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json))
}
