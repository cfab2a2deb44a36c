//! The steps of the whole flow through the Return URL project (`e2e-return`), shared by
//! `tests/flow.rs` and `tests/scale.rs`: a link straight to the document steps, the captures
//! from the fake camera (shutter, "Use this photo", stored), what the server holds, Finish →
//! Submit → the Return URL, and the results API.

use std::net::SocketAddr;

use liveform_core::launch::crypto;
use serde_json::Value;

use crate::{
    http_request, BoxError, Ctx, TestResult, RETURN_API_KEY, RETURN_KEY, RETURN_PATH,
    SESSION_STORAGE_KEY,
};

/// A link straight to the document steps (country and type chosen by the link; the driving
/// licence has a back side), with `cf1` = `order-{userid}`.
pub fn flow_link(b: &Ctx, userid: &str) -> String {
    b.return_link(
        &format!(
            r#"{{"userid":"{userid}","cf1":"order-{userid}","selectedIssuingCountry":"KOR","selectedIdType":"drivers_license"}}"#
        ),
        "&lang=en",
    )
}

/// Records, in the page, every upload state shown and the time from the shutter click to
/// "stored" (`window.__lf`), through a MutationObserver (nothing is missed between polls).
const WATCH_JS: &str = r#"
if (!window.__lf) {
  window.__lf = { states: [], t0: 0, stored: [] };
  const seen = () => {
    const e = document.querySelector('[data-testid=upload-status]');
    if (!e) return;
    const s = e.getAttribute('data-state');
    const w = window.__lf;
    if (w.states[w.states.length - 1] !== s) w.states.push(s);
    if (s === 'stored' && w.t0) { w.stored.push(performance.now() - w.t0); w.t0 = 0; }
  };
  new MutationObserver(seen).observe(document.documentElement,
    { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
}
return null;
"#;

/// Starts the page's upload-state recorder (see [`watched`]); idempotent per document.
pub async fn watch(b: &Ctx) -> TestResult {
    b.js(WATCH_JS, vec![]).await?;
    Ok(())
}

/// The page's record: `{states: [...], stored: [ms, ...]}` (`null` before [`watch`]).
pub async fn watched(b: &Ctx) -> Result<Value, BoxError> {
    b.js("return window.__lf || null;", vec![]).await
}

/// On a capture step: the shutter and "Use this photo" (timed from that click to "stored" by
/// the page's recorder); then the next screen.
pub async fn capture(b: &Ctx, screen: &str, next: &str) -> TestResult {
    b.wait_screen(screen).await?;
    watch(b).await?;
    b.capture_with_shutter(screen, next, "window.__lf.t0 = performance.now()")
        .await
}

/// Consent, then every capture up to the finish screen. Returns the confirm→stored times (ms).
pub async fn capture_all(b: &Ctx) -> Result<Vec<f64>, BoxError> {
    b.accept_consent().await?;
    let steps = [
        ("screen-document-front", "screen-document-back"),
        ("screen-document-back", "screen-selfie"),
        ("screen-selfie", "screen-finish"),
    ];
    let mut times = Vec::new();
    for (screen, next) in steps {
        capture(b, screen, next).await?;
        // The step changed: the page's record is still there (same document).
        if let Some(t) = watched(b).await?["stored"]
            .as_array()
            .and_then(|a| a.last())
        {
            times.push(t.as_f64().unwrap_or(0.0));
        }
        b.js(
            "if (window.__lf) window.__lf.stored = []; return null;",
            vec![],
        )
        .await?;
    }
    Ok(times)
}

/// This tab's session token (from `sessionStorage`).
pub async fn session_token(b: &Ctx) -> Result<String, BoxError> {
    let stored = b
        .session_storage(SESSION_STORAGE_KEY)
        .await?
        .ok_or("no session in sessionStorage")?;
    Ok(serde_json::from_str::<Value>(&stored)?["token"]
        .as_str()
        .ok_or("no token")?
        .to_owned())
}

/// What the server holds for this tab's session (`GET /api/session/captures` on `b`'s server).
pub async fn held(b: &Ctx) -> Result<Value, BoxError> {
    held_at(b, b.addr()?).await
}

/// What the server at `addr` holds for this tab's session (`GET /api/session/captures`).
pub async fn held_at(b: &Ctx, addr: SocketAddr) -> Result<Value, BoxError> {
    let token = session_token(b).await?;
    let (status, body) = http_request(
        addr,
        "GET",
        "/api/session/captures",
        &[("x-liveform-session", token.as_str())],
        None,
    )
    .await?;
    if status != 200 {
        return Err(format!("GET /api/session/captures on {addr}: {status} {body}").into());
    }
    Ok(serde_json::from_str(&body)?)
}

/// Finish → Submit → result page → (after the countdown) the Return URL. Returns its decrypted
/// fields.
pub async fn submit_and_return(b: &Ctx) -> Result<Value, BoxError> {
    b.wait_screen("screen-finish").await?;
    let items = b
        .attr_values("[data-testid^=finish-item-]", "data-testid")
        .await?;
    assert_eq!(items.len(), 3, "the summary lists every capture: {items:?}");
    b.testid("finish-submit").await?.click().await?;
    b.wait_screen("screen-result").await?;
    b.wait_value("result status", "pending", || async {
        let v = b
            .js(
                "const e = document.querySelector('[data-testid=result]'); \
                 return e ? e.getAttribute('data-status') : '';",
                vec![],
            )
            .await?;
        Ok(v.as_str().unwrap_or("").to_owned())
    })
    .await?;
    b.testid("result-countdown").await?;
    // The countdown (5 s) leaves for the Return URL by itself.
    b.wait_until("the browser is at the Return URL", || async {
        Ok(b.client.current_url().await?.path() == RETURN_PATH)
    })
    .await?;
    let url = b.client.current_url().await?;
    assert!(url.as_str().starts_with(&b.url(RETURN_PATH)), "{url}");
    let encrypted = url
        .query_pairs()
        .find(|(k, _)| k == "encrypted")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| format!("no encrypted parameter in {url}"))?;
    let plain = crypto::decrypt_ecb(RETURN_KEY, &encrypted)
        .map_err(|e| format!("decrypting the Return URL: {e:?}"))?;
    Ok(serde_json::from_slice(&plain)?)
}

/// `GET /v3/submission?{query}` of the Return URL project on `b`'s server.
pub async fn submission(b: &Ctx, query: &str) -> Result<Value, BoxError> {
    b.results_get(RETURN_API_KEY, &format!("/v3/submission?{query}"))
        .await
}

/// A results-API item holds the document's front and back and the selfie (and, this project
/// having no active-liveness step, no liveness frames).
pub fn assert_complete(item: &Value) {
    for k in ["idImage", "idBackImage", "selfieImage"] {
        assert!(item["image"][k].is_string(), "{k} missing: {item}");
    }
    // This project has no active-liveness step (tests/selfie.rs covers it).
    assert!(item["image"]["livenessImage"].is_null(), "{item}");
}
