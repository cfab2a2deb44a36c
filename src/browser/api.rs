//! The form server's API over `fetch`. Every failure becomes a catalogue [`ErrorBody`].
//!
//! Plain web-sys `fetch` rather than gloo-net: the calls are a handful of JSON requests, and
//! gloo-net (with wasm-streams) cost the first screen about 2 KiB gzip for nothing we use.

use liveform_core::api::{ClaimHandoff, CreateSession, SessionView, SESSION_HEADER};
use liveform_core::{ErrorBody, ErrorCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

fn runtime(what: &str) -> ErrorBody {
    ErrorBody::new(ErrorCode::Runtime, what)
}

/// One request: `body` is JSON text; `token` goes into the session header.
async fn send(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<Response, ErrorBody> {
    let window = web_sys::window().ok_or_else(|| runtime("no window"))?;
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(|_| runtime("no Headers"))?;
    if let Some(t) = token {
        let _ = headers.set(SESSION_HEADER, t);
    }
    if let Some(b) = body {
        let _ = headers.set("content-type", "application/json");
        init.set_body(&JsValue::from_str(&b));
    }
    init.set_headers(&headers);
    let req = Request::new_with_str_and_init(path, &init).map_err(|_| runtime("bad request"))?;
    let resp = JsFuture::from(window.fetch_with_request(&req))
        .await
        .map_err(|e| {
            let msg = js_sys::Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_else(|| "fetch failed".into());
            ErrorBody::new(ErrorCode::Network, msg)
        })?;
    resp.dyn_into::<Response>()
        .map_err(|_| runtime("fetch gave no Response"))
}

async fn text(resp: &Response) -> Option<String> {
    JsFuture::from(resp.text().ok()?).await.ok()?.as_string()
}

/// The JSON answer, or the server's [`ErrorBody`].
async fn read<T: DeserializeOwned>(resp: Response) -> Result<T, ErrorBody> {
    let status = resp.status();
    let body = text(&resp).await.unwrap_or_default();
    if resp.ok() {
        return serde_json::from_str(&body)
            .map_err(|_| ErrorBody::new(ErrorCode::Internal, "bad JSON from the server"));
    }
    Err(
        serde_json::from_str::<ErrorBody>(&body).unwrap_or_else(|_| {
            ErrorBody::new(
                ErrorCode::Internal,
                format!("HTTP {status} without an error body"),
            )
        }),
    )
}

fn json<B: Serialize>(body: &B) -> Result<String, ErrorBody> {
    serde_json::to_string(body).map_err(|_| runtime("unserializable body"))
}

/// `POST /api/session` with the raw query.
pub async fn create_session(query: &str) -> Result<SessionView, ErrorBody> {
    let body = json(&CreateSession {
        query: query.to_owned(),
    })?;
    read(send("POST", "/api/session", None, Some(body)).await?).await
}

/// `GET /api/session` with the tab's token.
pub async fn resume_session(token: &str) -> Result<SessionView, ErrorBody> {
    get_with_session("/api/session", token).await
}

/// A text file from the server, or `None`.
pub async fn fetch_text(path: &str) -> Option<String> {
    let resp = send("GET", path, None, None).await.ok()?;
    if !resp.ok() {
        return None;
    }
    text(&resp).await
}

/// `/locales/<lang>.json`, or `None` (the page stays in English).
pub async fn fetch_locale(lang: &str) -> Option<String> {
    fetch_text(&format!("/locales/{lang}.json")).await
}

/// `POST /api/session/choice`: the server re-checks the country / type against the offer.
pub async fn post_choice(
    token: &str,
    choice: &liveform_core::api::Choice,
) -> Result<(), ErrorBody> {
    let resp = send(
        "POST",
        "/api/session/choice",
        Some(token),
        Some(json(choice)?),
    )
    .await?;
    if resp.ok() {
        return Ok(());
    }
    read::<()>(resp).await
}

/// `/locales/countries/<lang>.json`: country names in the UI language (CLDR).
pub async fn fetch_countries(
    lang: &str,
) -> Option<std::collections::HashMap<String, crate::countries::CountryName>> {
    let body = fetch_text(&format!("/locales/countries/{lang}.json")).await?;
    serde_json::from_str(&body).ok()
}

/// `POST path` with the session token and an optional JSON body; the JSON answer.
pub async fn post_with_session<T: DeserializeOwned, B: Serialize>(
    path: &str,
    token: &str,
    body: Option<&B>,
) -> Result<T, ErrorBody> {
    let body = body.map(json).transpose()?;
    read(send("POST", path, Some(token), body).await?).await
}

/// `GET path` with the session token; the JSON answer.
pub async fn get_with_session<T: DeserializeOwned>(
    path: &str,
    token: &str,
) -> Result<T, ErrorBody> {
    read(send("GET", path, Some(token), None).await?).await
}

/// `POST /api/handoff/claim`: this device takes over a session started elsewhere (one time).
pub async fn claim_handoff(token: &str) -> Result<SessionView, ErrorBody> {
    let body = json(&ClaimHandoff {
        token: token.to_owned(),
    })?;
    read(send("POST", "/api/handoff/claim", None, Some(body)).await?).await
}
