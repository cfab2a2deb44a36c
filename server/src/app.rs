//! The HTTP application: the router with its layers, and `serve`. Everything it routes to is
//! elsewhere: the state in `state.rs`, the error type in `error.rs`, the session extractors in
//! `extract.rs`, the handlers in `routes/`, security headers in `headers.rs`, request spans in
//! `trace.rs`, background tasks in `background.rs`. The names below stay importable from here.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::middleware;
use axum::routing::{delete, get, post, put};
use axum::Router;
use liveform_core::ErrorCode;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use crate::background::spawn_background;
pub use crate::error::{error_response, redact_detail, reference, ApiError, ErrorBody};
pub use crate::routes::rate_key;
pub use crate::state::{
    database_clocks, now_ms, system_clock, system_ms_clock, AppState, Clock, Dist, Shared,
    KEY_FAILURES_PER_MINUTE,
};

use liveform_core::api;

use crate::routes::{captures, handoff, health, liveness, results, session, spa, tokens};

/// The router with every layer; `extra` routes (tests) get the same outer layers.
pub fn router(state: Shared, extra: Router<Shared>) -> Router {
    // The form's JSON routes: small bodies, details redacted (`redact_detail`).
    let api = Router::new()
        .route(
            api::SESSION_PATH,
            get(session::get_session).post(session::create_session),
        )
        .route(api::CHOICE_PATH, post(session::post_choice))
        .route(api::CAPTURES_PATH, get(captures::list_captures))
        .route(api::FINISH_PATH, post(captures::finish))
        .route(api::LEAVE_PATH, post(captures::leave))
        .route(api::LIVENESS_PATH, post(liveness::post_liveness))
        .route(api::LIVENESS_OPEN_PATH, post(liveness::open_attempt))
        .route(
            api::HANDOFF_PATH,
            get(handoff::get_handoff).post(handoff::post_handoff),
        )
        .route(api::HANDOFF_CLAIM_PATH, post(handoff::post_claim))
        .route(api::HEALTH_PATH, get(health::healthz))
        .layer(RequestBodyLimitLayer::new(64 * 1024))
        .layer(middleware::map_response(redact_detail));
    #[cfg(feature = "fault-injection")]
    let api = api.route(crate::fault::PATH, post(crate::fault::arm));
    // Captures stream their own bodies with their own limits (routes/captures.rs); no buffering
    // layer.
    let captures = Router::new()
        .route(
            api::CAPTURE_ROUTE,
            put(captures::put_capture).delete(captures::delete_capture),
        )
        .layer(middleware::map_response(redact_detail));
    // The integrators' results API, behind its guard against key guessing.
    let results = Router::new()
        .route(
            "/v3/submission",
            get(results::get_submission)
                .post(results::post_submission)
                .delete(results::delete_submission),
        )
        .route(
            "/v3/submission/review",
            post(results::post_review).patch(results::patch_review),
        )
        .route("/v3/submission/partial", delete(results::delete_partial))
        .route(
            "/v3/submission/tokens",
            get(tokens::get_tokens)
                .post(tokens::post_tokens)
                .delete(tokens::delete_tokens),
        )
        .route("/v3/submission/migration", post(results::post_submission))
        .route("/v3/image", get(results::get_image))
        .layer(RequestBodyLimitLayer::new(64 * 1024))
        // Base64 images: the handler reads its body itself, after the key, with its own limit.
        .route("/v3/submission/image", put(results::put_image))
        // ARGOS's Secure Data Transfer for the projects that turned it on (decrypts the request
        // before the limits above, encrypts the answer).
        .layer(middleware::from_fn_with_state(
            state.clone(),
            results::secure_transfer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            results::key_guard,
        ));
    let probes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    // Nothing these answer may be cached: personal data, session state, probes.
    let dynamic = Router::new()
        .merge(api)
        .merge(captures)
        .merge(results)
        .merge(probes)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let mut app = Router::new()
        .route("/", get(spa::index))
        .merge(dynamic)
        .merge(extra);
    if let Some(d) = &state.dist {
        app = app.fallback_service(spa::files(d));
    }
    app.layer(middleware::from_fn_with_state(
        state.clone(),
        crate::headers::security_headers,
    ))
    .layer(CatchPanicLayer::custom(
        |_panic: Box<dyn std::any::Any + Send>| {
            error_response(
                ErrorCode::Internal,
                "a request handler panicked; the server keeps serving".into(),
                None,
            )
        },
    ))
    .layer(TraceLayer::new_for_http().make_span_with(crate::trace::request_span))
    .layer(middleware::from_fn(crate::trace::with_reference))
    .with_state(state)
}

/// This server's origins on loopback: `http://127.0.0.1:PORT` (or the bound address) and
/// `http://localhost:PORT`.
pub fn own_origins(local: SocketAddr) -> Vec<String> {
    let mut v = vec![format!("http://{local}")];
    if local.ip().is_loopback() {
        v.push(format!("http://localhost:{}", local.port()));
    }
    v
}

/// Binds and serves until Ctrl-C; `ready` receives the bound address (port 0 picks a free one).
pub async fn serve(
    mut state: AppState,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    if let Some(origins) = &mut state.example_host_page {
        // The example page frames only this server, under both its loopback names.
        *origins = own_origins(local);
    }
    let max_connections = state.config.server.max_connections as usize;
    let state = Arc::new(state);
    spawn_background(&state);
    let app = router(state, Router::new());
    ready(local);
    crate::listen::serve_until_signal(listener, app, max_connections).await
}
