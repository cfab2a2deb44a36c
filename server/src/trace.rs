//! Logging: every request runs in a span with its method, its path (never the query: a link's
//! query carries the encrypted personal data) and a random reference. An error response quotes
//! the same reference (`error.rs`), so support finds the request's log lines from what the person
//! reads on the error page. The binary writes events to stderr (`init`; `RUST_LOG`, default
//! `info`).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

tokio::task_local! {
    /// The reference of the request being handled (set by [`with_reference`]).
    static REFERENCE: String;
}

/// The reference of the request whose task this is, if any.
pub fn current_reference() -> Option<String> {
    REFERENCE.try_with(Clone::clone).ok()
}

/// A request's reference, in its extensions (for [`request_span`]).
#[derive(Clone, Debug)]
pub struct RequestReference(pub String);

/// The outermost middleware: gives the request a reference, for its span and its error body.
pub async fn with_reference(mut req: Request, next: Next) -> Response {
    let r = crate::error::reference();
    req.extensions_mut().insert(RequestReference(r.clone()));
    REFERENCE.scope(r, next.run(req)).await
}

/// The request's span (`TraceLayer::make_span_with`): method, path without the query, reference.
pub fn request_span(req: &Request) -> tracing::Span {
    let reference = req
        .extensions()
        .get::<RequestReference>()
        .map_or("", |r| r.0.as_str());
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        reference = %reference,
    )
}

/// The binary's subscriber: plain text on stderr, filtered by `RUST_LOG` (default `info`).
pub fn init() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
