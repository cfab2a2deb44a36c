//! A webhook receiver on 127.0.0.1:0 (path `/hook`) that records every delivery, and waits for
//! the deliveries of a submission by `webhook_trigger`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use serde_json::Value;

/// How long a wait for a webhook lasts at the most: 500 polls 20 ms apart (10 s).
const POLLS: usize = 500;
const POLL: Duration = Duration::from_millis(20);

/// One delivery as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Hook {
    /// The request body as sent.
    pub raw: String,
    /// The `x-liveform-signature` header (`""` without one).
    pub signature: String,
    /// The JSON (decrypted when the receiver decrypts Secure Data Transfer; `null` when it is
    /// not JSON).
    pub body: Value,
}

#[derive(Clone, Default)]
pub struct Hooks(Arc<Mutex<Vec<Hook>>>);

/// A receiver of plain JSON webhooks: its address and what it received.
pub async fn receiver() -> (SocketAddr, Hooks) {
    start(None).await
}

/// A receiver that opens ARGOS's Secure Data Transfer (§2.6): a body whose `response.body` is a
/// string is AES-256-CBC (zero IV) under `project_key`, decrypted into [`Hook::body`].
pub async fn receiver_decrypting(project_key: &'static str) -> (SocketAddr, Hooks) {
    start(Some(project_key)).await
}

async fn start(sdt_key: Option<&'static str>) -> (SocketAddr, Hooks) {
    let hooks = Hooks::default();
    let h = hooks.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, raw: String| {
            let h = h.clone();
            async move {
                let v: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
                let body = match (sdt_key, v["response"]["body"].as_str()) {
                    // Secure Data Transfer: ARGOS's sample decrypts `response.body`.
                    (Some(key), Some(ct)) => {
                        liveform_core::launch::crypto::decrypt_cbc_zero_iv(key, ct)
                            .ok()
                            .and_then(|p| serde_json::from_slice(&p).ok())
                            .unwrap_or(Value::Null)
                    }
                    _ => v,
                };
                let signature = headers
                    .get("x-liveform-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                h.0.lock().unwrap().push(Hook {
                    raw,
                    signature,
                    body,
                });
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, hooks)
}

impl Hooks {
    /// The deliveries of submission `sid` so far, in order.
    pub fn of(&self, sid: &str) -> Vec<Hook> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.body["submission_id"] == sid)
            .cloned()
            .collect()
    }

    /// The `webhook_trigger`s of submission `sid` so far, in order.
    pub fn triggers(&self, sid: &str) -> Vec<String> {
        self.of(sid)
            .iter()
            .map(|h| h.body["webhook_trigger"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    /// The `n`th (0-based) `event` of submission `sid`, waited for.
    pub async fn nth(&self, sid: &str, event: &str, n: usize) -> Hook {
        for _ in 0..POLLS {
            if let Some(h) = self
                .of(sid)
                .into_iter()
                .filter(|h| h.body["webhook_trigger"] == event)
                .nth(n)
            {
                return h;
            }
            tokio::time::sleep(POLL).await;
        }
        panic!(
            "no {event} #{n} webhook for {sid}; got {:?}",
            self.triggers(sid)
        );
    }

    /// The first `event` of submission `sid`, waited for: its JSON.
    pub async fn wait(&self, sid: &str, event: &str) -> Value {
        self.nth(sid, event, 0).await.body
    }

    /// The first `event` of any submission, waited for: its JSON.
    pub async fn first(&self, event: &str) -> Value {
        for _ in 0..POLLS {
            let found = self
                .0
                .lock()
                .unwrap()
                .iter()
                .find(|h| h.body["webhook_trigger"] == event)
                .map(|h| h.body.clone());
            if let Some(v) = found {
                return v;
            }
            tokio::time::sleep(POLL).await;
        }
        panic!("no {event} webhook");
    }
}

/// A project's `webhook_url` (this receiver at `addr`) and `webhook_secret` lines.
pub fn config_lines(addr: SocketAddr, secret: &str) -> String {
    format!("webhook_url = \"http://{addr}/hook\"\nwebhook_secret = \"{secret}\"\n")
}
