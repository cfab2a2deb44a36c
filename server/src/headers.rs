//! Security headers on every response (CSP with the SPA's inline-script hashes, frame-ancestors
//! and Permissions-Policy for the project in the page URL, HSTS behind https) and the caching of
//! the SPA's static files. `/api` and `/v3` answers are `no-store` (their routers' layer).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use crate::config::ProjectConfig;
use crate::state::{AppState, Shared};

/// The project named by the page URL's `pid`, if any.
fn project_of<'a>(state: &'a AppState, query: Option<&str>) -> Option<&'a ProjectConfig> {
    let q = query?;
    let pid = form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "pid")
        .map(|(_, v)| v.into_owned())?;
    state.config.project(&pid)
}

/// The example host page's files (`/embed/liveform-host.js`, the kit itself, is always served).
fn is_example_page(path: &str) -> bool {
    matches!(
        path,
        "/embed/example.html" | "/embed/example.js" | "/embed/example.css"
    )
}

/// Security headers on every response; CSP, frame-ancestors and Permissions-Policy follow the
/// project in the page URL (`pid` stays in the address bar for exactly this reason).
pub async fn security_headers(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let project = project_of(&state, req.uri().query()).map(|p| p.allowed_origins.clone());
    // API answers carry their routers' Cache-Control (no-store); static files get caching below.
    let is_api = req.uri().path().starts_with("/api/") || req.uri().path().starts_with("/v3/");
    let is_index = req.uri().path() == "/";
    // The host kit's example page frames the form. It exists only under `liveform demo` (and
    // the end-to-end tests' switch), and frames only this server's own origins: a deployment
    // must not serve a page that frames any address with the camera its people granted.
    let is_embed_example = is_example_page(req.uri().path());
    if is_embed_example && state.example_host_page.is_none() {
        return (axum::http::StatusCode::NOT_FOUND, "not found").into_response();
    }
    let own = state.example_host_page.clone().unwrap_or_default();
    let hashed_asset = [".wasm", ".js", ".css"]
        .iter()
        .any(|ext| req.uri().path().ends_with(ext));
    let mut resp: Response<Body> = next.run(req).await;
    let origins = project.unwrap_or_default();
    let ok = resp.status().is_success();
    let h = resp.headers_mut();
    let hashes = state
        .dist
        .as_ref()
        .map(|d| d.script_hashes.join(" "))
        .unwrap_or_default();
    let ancestors = if origins.is_empty() {
        "'self'".to_owned()
    } else {
        format!("'self' {}", origins.join(" "))
    };
    let frames = if is_embed_example {
        std::iter::once("'self'".to_owned())
            .chain(own.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        "'self'".to_owned()
    };
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {hashes}; style-src 'self'; \
         img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; \
         worker-src 'self' blob:; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-src {frames}; frame-ancestors {ancestors}"
    );
    let quoted: Vec<String> = origins.iter().map(|o| format!("\"{o}\"")).collect();
    let allow = if quoted.is_empty() {
        "self".to_owned()
    } else {
        format!("self {}", quoted.join(" "))
    };
    // The example host page delegates the camera to the frame it embeds (its `allow` attribute
    // names the form's origin); a real host page sends `camera=(self "https://form.example")`.
    let allow = if is_embed_example {
        let quoted: Vec<String> = own.iter().map(|o| format!("\"{o}\"")).collect();
        format!("(self {})", quoted.join(" "))
    } else {
        format!("({allow})")
    };
    let pp = format!(
        "camera={allow}, fullscreen={allow}, microphone=(), geolocation=(), payment=(), usb=()"
    );
    let handler_cached = h.contains_key(header::CACHE_CONTROL);
    let mut set = |name: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(name, v);
        }
    };
    set(header::CONTENT_SECURITY_POLICY, &csp);
    set(header::HeaderName::from_static("permissions-policy"), &pp);
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // Served over https (behind its proxy): browsers keep to https for a year.
    if state
        .config
        .server
        .public_base_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    if !is_api && !is_index && ok && !handler_cached {
        // Trunk names its wasm, js and css by content hash: they never change under one name.
        let cache = if hashed_asset {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        set(header::CACHE_CONTROL, cache);
    }
    resp
}
