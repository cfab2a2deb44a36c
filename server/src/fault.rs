//! Fault injection for tests (cargo feature `fault-injection`, off by default; the e2e scripts
//! build the server with it). Not compiled into a normal build: the route and these checks do
//! not exist there (tests/fault_absent.rs and scripts/check-release.sh prove it).
//!
//! `POST /api/__fault {"fail_uploads": N, "drop_uploads": M}` arms the next N capture uploads to
//! answer `503 LF-50006`, and the M after those to drop the connection mid-body (half of the
//! body read, then the connection is closed with no response).

use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::BodyExt as _;
use liveform_core::ErrorCode;
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

/// The route.
pub const PATH: &str = "/api/__fault";

/// Armed faults.
#[derive(Debug, Default)]
pub struct Faults {
    fail_uploads: AtomicU32,
    drop_uploads: AtomicU32,
}

#[derive(Debug, Deserialize)]
pub struct Arm {
    #[serde(default)]
    fail_uploads: u32,
    #[serde(default)]
    drop_uploads: u32,
}

/// `POST /api/__fault`.
pub async fn arm(State(state): State<Arc<AppState>>, Json(a): Json<Arm>) -> Response {
    state
        .faults
        .fail_uploads
        .store(a.fail_uploads, Ordering::SeqCst);
    state
        .faults
        .drop_uploads
        .store(a.drop_uploads, Ordering::SeqCst);
    tracing::warn!(
        fail_uploads = a.fail_uploads,
        drop_uploads = a.drop_uploads,
        "fault injection armed"
    );
    StatusCode::NO_CONTENT.into_response()
}

fn take(c: &AtomicU32) -> bool {
    c.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// A response body that fails at once: hyper then closes the connection without a response.
struct Broken;

impl http_body::Body for Broken {
    type Data = bytes::Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::other(
            "fault injection: connection dropped",
        ))))
    }
}

/// Called first by the upload handler: a fault to answer with, if one is armed.
pub async fn before_upload(state: &AppState, body: &mut Body) -> Option<Response> {
    if take(&state.faults.fail_uploads) {
        return Some(
            ApiError::new(ErrorCode::FaultInjected, "fault injection: upload failed")
                .into_response(),
        );
    }
    if take(&state.faults.drop_uploads) {
        // Read about half of what is coming, then break the connection.
        let mut n = 0usize;
        while n < 32 * 1024 {
            match body.frame().await {
                Some(Ok(f)) => n += f.data_ref().map_or(0, |d| d.len()),
                _ => break,
            }
        }
        return Some(Response::new(Body::new(Broken)));
    }
    None
}
