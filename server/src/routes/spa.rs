//! The form itself: `GET /` (index.html, whatever the query) and the SPA's static files (Trunk's
//! `dist/`, pre-compressed variants by `Accept-Encoding`). Their caching and security headers are
//! set by `headers.rs`.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeDir;

use crate::state::{Dist, Shared};

/// `GET /` (any query): the SPA's index.html.
pub async fn index(State(state): State<Shared>) -> Response {
    match &state.dist {
        Some(d) => {
            let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], d.index_html.clone())
                .into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            r
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The form is not built. Run scripts/build-spa.sh, then start the server with --dist dist.\n",
        )
            .into_response(),
    }
}

/// The static files of `dist` (the router's fallback).
pub fn files(dist: &Dist) -> ServeDir {
    ServeDir::new(&dist.dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
}
