//! Test support: an in-process server on a free loopback port with a movable clock, and a tiny
//! HTTP/1.1 client (no extra dependencies).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use liveform_server::app::{router, AppState, Dist};
use liveform_server::config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const START: i64 = 1_800_000_000;

pub const CONFIG: &str = r##"
[server]
sessions_per_minute = 1000

[[project]]
pid = "plain"
name = "Plain Project"
key = "plain-project-key-123"
algorithm = "ecb"
allowed_origins = ["https://shop.example", "http://127.0.0.1:9999"]
blacklist_countries = ["PRK", "RUS"]
main_color = "#112233"

[[project]]
pid = "gcm"
key = "gcm-project-key-456"
algorithm = "gcm"

[[project]]
pid = "enconly"
key = "enconly-project-key-789"
algorithm = "gcm"
encrypted_only = true

[[project]]
pid = "argos5202"
key = "ARGOS-TEST-KEY-0123456789abcdef"
algorithm = "ecb"
"##;

pub struct TestServer {
    pub addr: SocketAddr,
    pub clock: Arc<AtomicI64>,
}

impl TestServer {
    pub async fn start(config_text: &str, dist: Option<&Path>) -> TestServer {
        let cfg = config::parse(config_text, |_| None).expect("test config");
        let clock = Arc::new(AtomicI64::new(START));
        let c = clock.clone();
        let dist = dist.map(|d| Dist::load(d).expect("dist"));
        let state = AppState::new(cfg, dist, Arc::new(move || c.load(Ordering::SeqCst)));
        let extra = Router::new().route(
            "/__panic",
            get(|| async {
                if true {
                    panic!("deliberate test panic");
                }
                "unreachable"
            }),
        );
        let app = router(Arc::new(state), extra);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        TestServer { addr, clock }
    }

    /// A server with storage in `data_dir` (the config needs `server.storage_key`) and its
    /// background tasks (webhooks, retention) running.
    pub async fn start_stored(config_text: &str, data_dir: &Path) -> TestServer {
        let cfg = config::parse(config_text, |_| None).expect("test config");
        let clock = Arc::new(AtomicI64::new(START));
        let c = clock.clone();
        let mut state = AppState::new(cfg, None, Arc::new(move || c.load(Ordering::SeqCst)));
        state.open_store(data_dir).expect("store");
        let state = Arc::new(state);
        liveform_server::app::spawn_background(&state);
        let app = router(state, Router::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        TestServer { addr, clock }
    }

    pub fn advance(&self, secs: i64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Resp {
        http(self.addr, method, path, headers, body).await
    }

    pub async fn open(&self, query: &str) -> Resp {
        let body = serde_json::json!({ "query": query }).to_string();
        self.request(
            "POST",
            "/api/session",
            &[("content-type", "application/json")],
            Some(&body),
        )
        .await
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_owned()
    }
}

pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    http_bytes(addr, method, path, headers, body.unwrap_or("").as_bytes()).await
}

/// [`http`] with a byte body.
pub async fn http_bytes(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    s.write_all(&bytes).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    parse_response(&raw)
}

/// Parses a whole HTTP/1.1 response.
pub fn parse_response(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..nl]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + size]);
        b = &b[nl + 2 + size + 2..];
    }
    out
}

pub fn enc(alg: liveform_core::Algorithm, key: &str, json: &str) -> String {
    let ct = liveform_core::launch::crypto::encrypt(alg, key, [5; 12], json.as_bytes());
    form_urlencoded::byte_serialize(ct.as_bytes()).collect()
}

/// A liveness attempt's JSON for `challenges`: every step passed (`passed`), or the first step
/// timed out; `frames` (capture ids) on the first step.
pub fn liveness_attempt(
    challenges: &[liveform_core::liveness::Challenge],
    attempt: u8,
    passed: bool,
    frames: &[&str],
) -> String {
    use liveform_core::liveness::{LivenessAttempt, StepOutcome, StepRecord, TrackInfo};
    let steps: Vec<StepRecord> = challenges
        .iter()
        .enumerate()
        .take(if passed { challenges.len() } else { 1 })
        .map(|(i, c)| StepRecord {
            challenge: *c,
            started_ms: 1_000 * i as u64,
            ended_ms: 1_000 * i as u64 + 900,
            outcome: if passed {
                StepOutcome::Passed
            } else {
                StepOutcome::TimedOut
            },
            extended: 0,
            frames: if i == 0 {
                frames.iter().map(|f| f.to_string()).collect()
            } else {
                Vec::new()
            },
        })
        .collect();
    serde_json::to_string(&LivenessAttempt {
        attempt,
        challenges: challenges.to_vec(),
        steps,
        passed,
        hidden_during: false,
        track: TrackInfo {
            label: "FaceTime HD Camera".into(),
            width: 1280,
            height: 720,
            frame_rate: 30.0,
            facing_mode: Some("user".into()),
            virtual_label: false,
        },
    })
    .unwrap()
}

/// The liveness challenges of a resume list (`GET /api/session/captures`).
pub fn challenges_of(view: &serde_json::Value) -> Vec<liveform_core::liveness::Challenge> {
    serde_json::from_value(view["liveness"].clone()).unwrap()
}
