//! The form server's API. Every failure becomes a catalogue [`ErrorBody`].

use gloo_net::http::{Request, Response};
use liveform_core::api::{CreateSession, SessionView, SESSION_HEADER};
use liveform_core::{ErrorBody, ErrorCode};

async fn read<T: serde::de::DeserializeOwned>(resp: Response) -> Result<T, ErrorBody> {
    if resp.ok() {
        return resp
            .json::<T>()
            .await
            .map_err(|e| ErrorBody::new(ErrorCode::Internal, format!("bad JSON: {e}")));
    }
    let status = resp.status();
    match resp.json::<ErrorBody>().await {
        Ok(body) => Err(body),
        Err(_) => Err(ErrorBody::new(
            ErrorCode::Internal,
            format!("HTTP {status} without an error body"),
        )),
    }
}

fn network(e: gloo_net::Error) -> ErrorBody {
    ErrorBody::new(ErrorCode::Network, e.to_string())
}

/// `POST /api/session` with the raw query.
pub async fn create_session(query: &str) -> Result<SessionView, ErrorBody> {
    let req = Request::post("/api/session")
        .json(&CreateSession {
            query: query.to_owned(),
        })
        .map_err(|e| ErrorBody::new(ErrorCode::Runtime, e.to_string()))?;
    read(req.send().await.map_err(network)?).await
}

/// `GET /api/session` with the tab's token.
pub async fn resume_session(token: &str) -> Result<SessionView, ErrorBody> {
    let resp = Request::get("/api/session")
        .header(SESSION_HEADER, token)
        .send()
        .await
        .map_err(network)?;
    read(resp).await
}

/// `/locales/<lang>.json`, or `None` (the page stays in English).
pub async fn fetch_locale(lang: &str) -> Option<String> {
    let resp = Request::get(&format!("/locales/{lang}.json"))
        .send()
        .await
        .ok()?;
    if !resp.ok() {
        return None;
    }
    resp.text().await.ok()
}

/// `POST /api/session/choice`: the server re-checks the country / type against the offer.
pub async fn post_choice(
    token: &str,
    choice: &liveform_core::api::Choice,
) -> Result<(), ErrorBody> {
    let req = Request::post("/api/session/choice")
        .header(SESSION_HEADER, token)
        .json(choice)
        .map_err(|e| ErrorBody::new(ErrorCode::Runtime, e.to_string()))?;
    let resp = req.send().await.map_err(network)?;
    if resp.ok() {
        return Ok(());
    }
    let status = resp.status();
    Err(resp.json::<ErrorBody>().await.unwrap_or_else(|_| {
        ErrorBody::new(
            ErrorCode::Internal,
            format!("HTTP {status} without an error body"),
        )
    }))
}

/// `/locales/countries/<lang>.json`: country names in the UI language (CLDR).
pub async fn fetch_countries(
    lang: &str,
) -> Option<std::collections::HashMap<String, crate::countries::CountryName>> {
    let resp = Request::get(&format!("/locales/countries/{lang}.json"))
        .send()
        .await
        .ok()?;
    if !resp.ok() {
        return None;
    }
    resp.json().await.ok()
}

/// `POST path` with the session token and an optional JSON body; the JSON answer.
pub async fn post_with_session<T: serde::de::DeserializeOwned, B: serde::Serialize>(
    path: &str,
    token: &str,
    body: Option<&B>,
) -> Result<T, ErrorBody> {
    let req = Request::post(path).header(SESSION_HEADER, token);
    let req = match body {
        Some(b) => req.json(b),
        None => req.build(),
    }
    .map_err(|e| ErrorBody::new(ErrorCode::Runtime, e.to_string()))?;
    read(req.send().await.map_err(network)?).await
}

/// `GET path` with the session token; the JSON answer.
pub async fn get_with_session<T: serde::de::DeserializeOwned>(
    path: &str,
    token: &str,
) -> Result<T, ErrorBody> {
    let resp = Request::get(path)
        .header(SESSION_HEADER, token)
        .send()
        .await
        .map_err(network)?;
    read(resp).await
}

/// `POST path` with a JSON body and no session (e.g. claiming a handoff token).
pub async fn post_json<T: serde::de::DeserializeOwned, B: serde::Serialize>(
    path: &str,
    body: &B,
) -> Result<T, ErrorBody> {
    let req = Request::post(path)
        .json(body)
        .map_err(|e| ErrorBody::new(ErrorCode::Runtime, e.to_string()))?;
    read(req.send().await.map_err(network)?).await
}

/// `POST /api/handoff/claim`: this device takes over a session started elsewhere (one time).
pub async fn claim_handoff(token: &str) -> Result<SessionView, ErrorBody> {
    #[derive(serde::Serialize)]
    struct Claim<'a> {
        token: &'a str,
    }
    post_json("/api/handoff/claim", &Claim { token }).await
}
