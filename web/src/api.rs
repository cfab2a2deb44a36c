//! The typed client of the form server's API: one function per endpoint, its path from
//! `liveform_core::api` (the server's router uses the same constants), typed request and answer,
//! every failure a catalogue [`ErrorBody`] (`LF-50002` network, the server's own code, or
//! `LF-50001`/`LF-99999` for an answer that is not what the endpoint promises).
//!
//! Plain web-sys `fetch` rather than gloo-net: the calls are a handful of JSON requests, and
//! gloo-net (with wasm-streams) cost the first screen about 2 KiB gzip for nothing we use.

use liveform_core::api::{
    CaptureList, Choice, ClaimHandoff, CreateSession, Finish, Finished, HandoffStatus, HandoffView,
    LivenessAnswer, LivenessAttempt, SessionView, CAPTURES_PATH, CAPTURE_PATH, CHOICE_PATH,
    FINISH_PATH, HANDOFF_CLAIM_PATH, HANDOFF_PATH, LIVENESS_OPEN_PATH, LIVENESS_PATH,
    SESSION_HEADER, SESSION_PATH,
};
use liveform_core::flow::CaptureSlot;
use liveform_core::liveness::OpenedAttempt;
use liveform_core::{ErrorBody, ErrorCode};

use crate::protocol::Opened;
use std::future::Future;

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
    answer(begin(method, path, token, body)).await
}

/// Sends the request now (not when a future is first polled): the first screen starts its
/// session request before anything else it does.
fn begin(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<JsFuture, ErrorBody> {
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
    Ok(JsFuture::from(window.fetch_with_request(&req)))
}

/// The response of a request [`begin`] sent.
async fn answer(sent: Result<JsFuture, ErrorBody>) -> Result<Response, ErrorBody> {
    let resp = sent?.await.map_err(|e| {
        let msg = js_sys::Reflect::get(&e, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "fetch failed".into());
        ErrorBody::new(ErrorCode::Network, msg)
    })?;
    let resp = resp
        .dyn_into::<Response>()
        .map_err(|_| runtime("fetch gave no Response"))?;
    if resp.ok() {
        crate::storage::mark_contact();
    }
    Ok(resp)
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
    read(send("POST", SESSION_PATH, None, Some(body)).await?).await
}

/// `GET /api/session` with the tab's token.
pub async fn resume_session(token: &str) -> Result<SessionView, ErrorBody> {
    get_with_session(SESSION_PATH, token).await
}

/// The first screen's session requests ([`create_session_text`], [`resume_session_text`],
/// [`claim_handoff_text`]): the same endpoints, the answer kept as JSON text
/// ([`Opened`]) for the app module to parse, so no JSON library ships in the first screen.
async fn read_text(sent: Result<JsFuture, ErrorBody>) -> Opened {
    let resp = match answer(sent).await {
        Ok(r) => r,
        Err(e) => {
            return Opened::Failed {
                code: e.code,
                detail: e.detail,
            }
        }
    };
    let status = resp.status();
    match (resp.ok(), text(&resp).await) {
        (true, Some(t)) => Opened::View(t),
        (false, Some(t)) if t.starts_with('{') => Opened::Refused(t),
        (ok, _) => Opened::Failed {
            code: if ok {
                ErrorCode::Network
            } else {
                ErrorCode::Internal
            }
            .id()
            .to_owned(),
            detail: ["HTTP ", &status.to_string(), " without a readable body"].concat(),
        },
    }
}

/// `POST /api/session` with the raw query, for the first screen (see [`read_text`]); sent at
/// once, the answer awaited.
pub fn create_session_text(query: &str) -> impl Future<Output = Opened> {
    let body = crate::json::object_text(&[("query", query)]);
    read_text(begin("POST", SESSION_PATH, None, Some(body)))
}

/// `GET /api/session` with the tab's token, for the first screen; sent at once.
pub fn resume_session_text(token: &str) -> impl Future<Output = Opened> {
    read_text(begin("GET", SESSION_PATH, Some(token), None))
}

/// `POST /api/handoff/claim`, for the first screen; sent at once.
pub fn claim_handoff_text(token: &str) -> impl Future<Output = Opened> {
    let body = crate::json::object_text(&[("token", token)]);
    read_text(begin("POST", HANDOFF_CLAIM_PATH, None, Some(body)))
}

/// `POST /api/session/choice`: the server re-checks the country / type against the offer.
pub async fn post_choice(token: &str, choice: &Choice) -> Result<(), ErrorBody> {
    let resp = send("POST", CHOICE_PATH, Some(token), Some(json(choice)?)).await?;
    if resp.ok() {
        return Ok(());
    }
    read::<()>(resp).await
}

/// `GET /api/session/captures`: what the server holds for this session, and its status.
pub async fn captures(token: &str) -> Result<CaptureList, ErrorBody> {
    get_with_session(CAPTURES_PATH, token).await
}

/// `POST /api/session/finish`: the server decides.
pub async fn finish(token: &str, finish: &Finish) -> Result<Finished, ErrorBody> {
    post_with_session(FINISH_PATH, token, Some(finish)).await
}

/// `POST /api/session/liveness/open`: the next liveness attempt, opened by the server.
pub async fn open_liveness(token: &str) -> Result<OpenedAttempt, ErrorBody> {
    post_with_session(LIVENESS_OPEN_PATH, token, None::<&()>).await
}

/// `POST /api/session/liveness`: one attempt's record; the server's verdict.
pub async fn post_liveness(
    token: &str,
    record: &LivenessAttempt,
) -> Result<LivenessAnswer, ErrorBody> {
    post_with_session(LIVENESS_PATH, token, Some(record)).await
}

/// `POST /api/handoff`: a one-time code for continuing on a phone.
pub async fn open_handoff(token: &str) -> Result<HandoffView, ErrorBody> {
    post_with_session(HANDOFF_PATH, token, None::<&()>).await
}

/// `GET /api/handoff`: whether the phone has taken over or finished.
pub async fn handoff_status(token: &str) -> Result<HandoffStatus, ErrorBody> {
    get_with_session(HANDOFF_PATH, token).await
}

/// `POST /api/handoff/claim`: this device takes over a session started elsewhere (one time).
pub async fn claim_handoff(token: &str) -> Result<SessionView, ErrorBody> {
    let body = json(&ClaimHandoff {
        token: token.to_owned(),
    })?;
    read(send("POST", HANDOFF_CLAIM_PATH, None, Some(body)).await?).await
}

/// The address of `PUT /api/capture/{capture_id}?slot=…` (sent by [`crate::xhr::put_blob`] for
/// its progress); `extra` is more query (`&device=…`), already encoded.
pub fn capture_url(capture_id: &str, slot: CaptureSlot, extra: &str) -> String {
    format!("{CAPTURE_PATH}/{capture_id}?slot={}{extra}", slot.name())
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
/// Starts fetching a language's strings now and returns the wait for them, so the first screen
/// fetches them while its session request is in flight (a Rust future would not start until
/// awaited).
pub fn start_locale_fetch(lang: &str) -> impl std::future::Future<Output = Option<String>> {
    let started = web_sys::window()
        .map(|w| JsFuture::from(w.fetch_with_str(&["/locales/", lang, ".json"].concat())));
    async move {
        let resp: Response = started?.await.ok()?.dyn_into().ok()?;
        if !resp.ok() {
            return None;
        }
        text(&resp).await
    }
}

pub async fn fetch_locale(lang: &str) -> Option<String> {
    fetch_text(&format!("/locales/{lang}.json")).await
}

/// `/locales/capture/<lang>.json`: the capture module's strings.
pub async fn fetch_capture_locale(lang: &str) -> Option<String> {
    fetch_text(&format!("/locales/capture/{lang}.json")).await
}

/// `/locales/countries/<lang>.json`: country names in the UI language (CLDR), as the caller's
/// type.
pub async fn fetch_countries<T: DeserializeOwned>(lang: &str) -> Option<T> {
    let body = fetch_text(&format!("/locales/countries/{lang}.json")).await?;
    serde_json::from_str(&body).ok()
}

/// `POST path` with the session token and an optional JSON body; the JSON answer.
async fn post_with_session<T: DeserializeOwned, B: Serialize>(
    path: &str,
    token: &str,
    body: Option<&B>,
) -> Result<T, ErrorBody> {
    let body = body.map(json).transpose()?;
    read(send("POST", path, Some(token), body).await?).await
}

/// `GET path` with the session token; the JSON answer.
async fn get_with_session<T: DeserializeOwned>(path: &str, token: &str) -> Result<T, ErrorBody> {
    read(send("GET", path, Some(token), None).await?).await
}
