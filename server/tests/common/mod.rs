//! Test support: an in-process server on a free loopback port with a movable clock, and a tiny
//! HTTP/1.1 client (no extra dependencies).
#![allow(dead_code)]

pub mod client;
pub mod hooks;
pub mod support;
pub use support::{encode_jpeg, read_png_rgb};

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

/// The storage key of the tests' stored-data configurations.
pub const STORAGE_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// The `[server]` table of a stored-data test configuration (sessions unthrottled, the
/// [`STORAGE_KEY`], any free disk), then the lines `extra` (more `[server]` settings, or none).
pub fn server_table(extra: &str) -> String {
    format!(
        r#"
[server]
sessions_per_minute = 1000
storage_key = "{STORAGE_KEY}"
min_free_disk_mb = 1
{extra}"#
    )
}

/// A fresh, empty directory for this test binary's data, `tag` naming it within the binary.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "lf-{}-{tag}-{}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

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

/// Which backends the tests run on: SQLite and a directory, or — when `scripts/services.sh` set
/// `LIVEFORM_TEST_DATABASE_URL` and `LIVEFORM_TEST_S3_*` — PostgreSQL (a fresh schema per server)
/// and the S3 server (a fresh key prefix per server).
pub fn backend_name() -> &'static str {
    if std::env::var_os("LIVEFORM_TEST_DATABASE_URL").is_some() {
        "postgres+s3"
    } else {
        "sqlite+dir"
    }
}

fn unique(tag: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    format!(
        "{tag}_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

/// Points `cfg` at the test services, if any: a new PostgreSQL schema and a new S3 prefix.
pub fn use_test_backends(cfg: &mut config::ValidConfig) {
    if let Ok(url) = std::env::var("LIVEFORM_TEST_DATABASE_URL") {
        let schema = unique("t");
        liveform_server::pg::create_schema(&url, &schema).expect("test schema");
        let sep = if url.contains('?') { '&' } else { '?' };
        cfg.database_url = Some(format!("{url}{sep}options=-c%20search_path%3D{schema}"));
    }
    if let Ok(endpoint) = std::env::var("LIVEFORM_TEST_S3_ENDPOINT") {
        cfg.server.object_store = Some(liveform_server::blobs::S3Settings {
            endpoint,
            bucket: std::env::var("LIVEFORM_TEST_S3_BUCKET").expect("LIVEFORM_TEST_S3_BUCKET"),
            region: "us-east-1".into(),
            prefix: unique("p"),
        });
    }
}

/// A state on the test backends (an in-memory SQLite database without the services).
pub fn new_state(
    mut cfg: config::ValidConfig,
    dist: Option<Dist>,
    clock: liveform_server::app::Clock,
) -> AppState {
    use_test_backends(&mut cfg);
    match cfg.database_url.clone() {
        Some(url) => {
            let db = liveform_server::db::Db::open_postgres(&url, 8).expect("postgres");
            AppState::with_db(cfg, dist, clock, Arc::new(db))
        }
        None => AppState::new(cfg, dist, clock),
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub clock: Arc<AtomicI64>,
    pub state: Arc<AppState>,
}

impl TestServer {
    /// The stored capture files (encrypted), whichever backend holds them.
    pub fn capture_blobs(&self) -> Vec<Vec<u8>> {
        let Some(store) = &self.state.store else {
            return Vec::new();
        };
        let blobs = store.blobs();
        blobs
            .list()
            .unwrap()
            .into_iter()
            .filter(|(n, _)| n.ends_with(".lfc"))
            .map(|(n, _)| blobs.get(&n).unwrap())
            .collect()
    }

    /// How many capture files are stored.
    pub fn capture_files(&self) -> usize {
        let Some(store) = &self.state.store else {
            return 0;
        };
        store
            .blobs()
            .list()
            .unwrap()
            .into_iter()
            .filter(|(n, _)| n.ends_with(".lfc"))
            .count()
    }

    pub async fn start(config_text: &str, dist: Option<&Path>) -> TestServer {
        let cfg = config::parse(config_text, |_| None).expect("test config");
        let clock = Arc::new(AtomicI64::new(START));
        let c = clock.clone();
        let dist = dist.map(|d| Dist::load(d).expect("dist"));
        let state = new_state(cfg, dist, Arc::new(move || c.load(Ordering::SeqCst)));
        let state = Arc::new(state);
        let extra = Router::new().route(
            "/__panic",
            get(|| async {
                if true {
                    panic!("deliberate test panic");
                }
                "unreachable"
            }),
        );
        let app = router(state.clone(), extra);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The production accept loop (connection cap, header timeout), not a plain axum::serve.
        let max = state.config.server.max_connections as usize;
        tokio::spawn(liveform_server::listen::serve_forever(listener, app, max));
        TestServer { addr, clock, state }
    }

    /// A server with storage in `data_dir` (the config needs `server.storage_key`) and its
    /// background tasks (webhooks, retention) running.
    pub async fn start_stored(config_text: &str, data_dir: &Path) -> TestServer {
        let mut cfg = config::parse(config_text, |_| None).expect("test config");
        use_test_backends(&mut cfg);
        Self::start_stored_cfg(cfg, data_dir).await
    }

    /// A server on `cfg` as it is (several servers on one backend: a restart, many instances).
    pub async fn start_stored_cfg(cfg: config::ValidConfig, data_dir: &Path) -> TestServer {
        Self::start_stored_cfg_at(cfg, data_dir, START).await
    }

    /// [`TestServer::start_stored_cfg`] with its clock at `now` (Unix seconds) from the start:
    /// what runs once at start-up (retention) already sees that time.
    pub async fn start_stored_cfg_at(
        cfg: config::ValidConfig,
        data_dir: &Path,
        now: i64,
    ) -> TestServer {
        let clock = Arc::new(AtomicI64::new(now));
        let c = clock.clone();
        let mut state = AppState::new(cfg, None, Arc::new(move || c.load(Ordering::SeqCst)));
        state.open_store(data_dir).expect("store");
        let state = Arc::new(state);
        liveform_server::app::spawn_background(&state);
        let app = router(state.clone(), Router::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The production accept loop (connection cap, header timeout), not a plain axum::serve.
        let max = state.config.server.max_connections as usize;
        tokio::spawn(liveform_server::listen::serve_forever(listener, app, max));
        TestServer { addr, clock, state }
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

/// A built SPA's files in `dir` (an index page with its inline script, the app's JS and WASM
/// with precompressed variants).
pub fn write_dist(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><html><head><script>if(!window.WebAssembly){}</script>\
         <script type=\"module\">import init from '/app-1.js';init();</script></head><body></body></html>",
    )
    .unwrap();
    std::fs::write(dir.join("app-1.js"), "export default function init(){}").unwrap();
    std::fs::write(dir.join("app-1_bg.wasm"), b"\0asm-uncompressed").unwrap();
    std::fs::write(dir.join("app-1_bg.wasm.br"), b"brotli-bytes").unwrap();
    std::fs::write(dir.join("app-1_bg.wasm.gz"), b"gzip-bytes").unwrap();
}

/// Whether the session (`POST /api/session`'s answer) offers `country`.
pub fn offers(session: &serde_json::Value, country: &str) -> bool {
    session["flow"]["offer"]["countries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == country)
}

pub fn enc(alg: liveform_core::Algorithm, key: &str, json: &str) -> String {
    let ct = liveform_core::launch::crypto::encrypt(alg, key, [5; 12], json.as_bytes());
    form_urlencoded::byte_serialize(ct.as_bytes()).collect()
}

/// A liveness attempt's JSON for `challenges`: every step passed (`passed`), or the first step
/// timed out; `frames` (capture ids) on the first step; `attempt_id` from the opening.
pub fn liveness_attempt(
    challenges: &[liveform_core::liveness::Challenge],
    attempt: u8,
    passed: bool,
    frames: &[&str],
    attempt_id: &str,
) -> String {
    let mut per_step = vec![frames.iter().map(|f| f.to_string()).collect::<Vec<_>>()];
    per_step.resize(challenges.len(), Vec::new());
    liveness_record(challenges, attempt, passed, per_step, attempt_id)
}

/// A liveness attempt's JSON with `per_step` frames for each step.
pub fn liveness_record(
    challenges: &[liveform_core::liveness::Challenge],
    attempt: u8,
    passed: bool,
    per_step: Vec<Vec<String>>,
    attempt_id: &str,
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
            frames: per_step.get(i).cloned().unwrap_or_default(),
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
        attempt_id: attempt_id.into(),
    })
    .unwrap()
}

/// The liveness challenges of a resume list (`GET /api/session/captures`).
pub fn challenges_of(view: &serde_json::Value) -> Vec<liveform_core::liveness::Challenge> {
    serde_json::from_value(view["liveness"].clone()).unwrap()
}

// ------------------------------------------------------------------------------------------------
// Real images (issue 14: the server decodes and checks every upload, so header-only fixtures no
// longer pass). Generated here, no files: a plain surface, a portrait framed at any face size.
// ------------------------------------------------------------------------------------------------

/// A valid JPEG of a plain, slightly shaded grey surface (no document, no face).
pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    encode_jpeg(&surface_rgb(w, h), w, h, 85)
}

/// The repo's portrait (face/tests/media/selfie_640x480.png; BlazeFace finds its face at
/// x 223-343, y 49-169), decoded once: (width, height, RGB).
pub fn portrait() -> &'static (u32, u32, Vec<u8>) {
    static P: std::sync::OnceLock<(u32, u32, Vec<u8>)> = std::sync::OnceLock::new();
    P.get_or_init(|| read_png_rgb("../face/tests/media/selfie_640x480.png"))
}

/// The portrait reframed as a `w` × `h` JPEG whose face box is `face` of the frame height,
/// centred at (`cx`, `cy`) of the frame (bilinear; the backdrop's colour beyond the photo).
pub fn face_jpeg(w: u32, h: u32, face: f32, cx: f32, cy: f32) -> Vec<u8> {
    let (pw, ph, src) = portrait();
    let (fcx, fcy, fh) = (283.0f32, 109.0f32, 120.0f32);
    // Source pixels per output pixel.
    let s = fh / (face * h as f32);
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let sx = fcx + (x as f32 + 0.5 - cx * w as f32) * s - 0.5;
            let sy = fcy + (y as f32 + 0.5 - cy * h as f32) * s - 0.5;
            let px = if sx < 0.0 || sy < 0.0 || sx >= (*pw - 1) as f32 || sy >= (*ph - 1) as f32 {
                [0xC8, 0xC3, 0xBE]
            } else {
                let (x0, y0) = (sx as usize, sy as usize);
                let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
                let at = |xx: usize, yy: usize, c: usize| {
                    f32::from(src[(yy * *pw as usize + xx) * 3 + c])
                };
                let mut o = [0u8; 3];
                for (c, v) in o.iter_mut().enumerate() {
                    let top = at(x0, y0, c) * (1.0 - fx) + at(x0 + 1, y0, c) * fx;
                    let bot = at(x0, y0 + 1, c) * (1.0 - fx) + at(x0 + 1, y0 + 1, c) * fx;
                    *v = (top * (1.0 - fy) + bot * fy).round() as u8;
                }
                o
            };
            rgb.extend_from_slice(&px);
        }
    }
    encode_jpeg(&rgb, w, h, 85)
}

/// A selfie that meets ARGOS's rules: 640×480, the face 38 % of the height, in the oval.
pub fn selfie_jpeg() -> Vec<u8> {
    face_jpeg(640, 480, 0.38, 0.5, 0.45)
}

/// A liveness frame (320×240, the form's analysed size) with the face at `face` of the height.
pub fn frame_jpeg(face: f32) -> Vec<u8> {
    face_jpeg(320, 240, face, 0.5, 0.45)
}

/// `PUT /api/capture/{id}?slot=` with the session header.
pub async fn put_capture(
    s: &TestServer,
    token: &str,
    id: &str,
    slot: &str,
    ct: &str,
    body: &[u8],
) -> Resp {
    http_bytes(
        s.addr,
        "PUT",
        &format!("/api/capture/{id}?slot={slot}"),
        &[
            (liveform_core::api::SESSION_HEADER, token),
            ("content-type", ct),
        ],
        body,
    )
    .await
}

/// `GET path` with the session header.
pub async fn get_session(s: &TestServer, token: &str, path: &str) -> Resp {
    http_bytes(
        s.addr,
        "GET",
        path,
        &[(liveform_core::api::SESSION_HEADER, token)],
        b"",
    )
    .await
}

/// `POST path` with a JSON body and the session header.
pub async fn post_session(s: &TestServer, token: &str, path: &str, body: &str) -> Resp {
    http_bytes(
        s.addr,
        "POST",
        path,
        &[
            (liveform_core::api::SESSION_HEADER, token),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    )
    .await
}

/// A `/v3` call with the results API key `key`, the body of type `ct`.
pub async fn api_as(
    s: &TestServer,
    key: &str,
    method: &str,
    path: &str,
    ct: &str,
    body: &[u8],
) -> Resp {
    http_bytes(
        s.addr,
        method,
        path,
        &[("x-api-key", key), ("content-type", ct)],
        body,
    )
    .await
}

/// A `/v3` call with the results API key `key` and a JSON body.
pub async fn api(s: &TestServer, key: &str, method: &str, path: &str, body: &str) -> Resp {
    api_as(s, key, method, path, "application/json", body.as_bytes()).await
}

/// A `multipart/form-data` body of text fields (as `PUT /v3/submission/image` takes): the
/// content type and the body.
pub fn multipart(fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "----liveformTestBoundary7MA4YWxk";
    let mut out = Vec::new();
    for (k, v) in fields {
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
}

/// `POST /api/session/leave` without a session (an error page's link before one opened).
pub async fn leave_without_session(s: &TestServer, body: &str) -> Resp {
    http_bytes(
        s.addr,
        "POST",
        "/api/session/leave",
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
    .await
}

/// Chooses KOR / passport for the session `token`.
pub async fn choose_passport(s: &TestServer, token: &str) {
    let r = post_session(
        s,
        token,
        "/api/session/choice",
        r#"{"country":"KOR","id_type":"passport"}"#,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
}

/// Opens the link `query` and chooses KOR / passport: the session token.
pub async fn open_passport(s: &TestServer, query: &str) -> String {
    let r = s.open(query).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let token = r.json()["token"].as_str().unwrap().to_owned();
    choose_passport(s, &token).await;
    token
}

/// Opens the link `query` from `ip` behind the proxy (`x-forwarded-for: 198.51.100.1, {ip}`)
/// and chooses KOR / passport: the session token.
pub async fn open_passport_via_proxy(s: &TestServer, query: &str, ip: &str) -> String {
    let body = serde_json::json!({ "query": query }).to_string();
    let xff = format!("198.51.100.1, {ip}");
    let r = s
        .request(
            "POST",
            "/api/session",
            &[
                ("content-type", "application/json"),
                ("x-forwarded-for", &xff),
            ],
            Some(&body),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let token = r.json()["token"].as_str().unwrap().to_owned();
    choose_passport(s, &token).await;
    token
}

/// Opens a session of `pid` from `ip` behind the proxy with `userid`, the e-mail
/// `{userid}@mail.example` and `cf1` `order-{userid}`, and chooses KOR / passport: the token.
pub async fn open_person(s: &TestServer, pid: &str, userid: &str, ip: &str) -> String {
    let query =
        format!("pid={pid}&userid={userid}&email={userid}%40mail.example&cf1=order-{userid}");
    open_passport_via_proxy(s, &query, ip).await
}

/// Stores `front` and `selfie` (JPEGs) and finishes: the finish answer.
pub async fn capture_and_finish_with(
    s: &TestServer,
    token: &str,
    front: &[u8],
    selfie: &[u8],
) -> Resp {
    for (id, slot, img) in [("f", "document_front", front), ("s", "selfie", selfie)] {
        let r = put_capture(s, token, id, slot, "image/jpeg", img).await;
        assert_eq!(r.status, 201, "{slot}: {}", r.text());
    }
    post_session(s, token, "/api/session/finish", "").await
}

/// Stores a front (a plain 800 × 600 surface) and a selfie (a face) and finishes: the finish
/// answer.
pub async fn capture_and_finish(s: &TestServer, token: &str) -> Resp {
    capture_and_finish_with(s, token, &jpeg(800, 600), &selfie_jpeg()).await
}

/// Stores a front and a selfie as [`capture_and_finish`] and finishes, which leaves the
/// submission `pending`: its id.
pub async fn submit_pending(s: &TestServer, token: &str) -> String {
    let r = capture_and_finish(s, token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "pending", "{}", r.text());
    r.json()["submission_id"].as_str().unwrap().to_owned()
}

/// Opens the next liveness attempt: its id.
pub async fn open_attempt(s: &TestServer, token: &str) -> String {
    let r = post_session(s, token, liveform_core::api::LIVENESS_OPEN_PATH, "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["attempt_id"].as_str().unwrap().to_owned()
}

/// The face size a genuine person shows for a closer / back step: (baseline, hold).
pub fn zoom_of(c: liveform_core::liveness::Challenge) -> (f32, f32) {
    use liveform_core::liveness::Challenge;
    match c {
        Challenge::Closer => (0.31, 0.43),
        Challenge::Back => (0.43, 0.31),
        other => panic!("{other} cannot be made from one photo"),
    }
}

/// Uploads a step's evidence as a genuine person's form does: the baseline (2 frames at the
/// baseline size), one second later the hold (3 frames at the hold size); ids `{tag}b0`… .
pub async fn upload_step(
    s: &TestServer,
    token: &str,
    tag: &str,
    base: f32,
    hold: f32,
) -> Vec<String> {
    let mut ids = Vec::new();
    let b = frame_jpeg(base);
    for i in 0..2 {
        let id = format!("{tag}b{i}");
        let r = put_capture(s, token, &id, "liveness", "image/jpeg", &b).await;
        assert_eq!(r.status, 201, "{}", r.text());
        ids.push(id);
    }
    s.advance(1);
    let h = frame_jpeg(hold);
    for i in 0..3 {
        let id = format!("{tag}h{i}");
        let r = put_capture(s, token, &id, "liveness", "image/jpeg", &h).await;
        assert_eq!(r.status, 201, "{}", r.text());
        ids.push(id);
    }
    ids
}

/// A genuine attempt `n` at `challenges` (closer / back only: made from one photo by zooming):
/// opened, its frames uploaded step by step with time passing, recorded. The answer.
pub async fn genuine_liveness(
    s: &TestServer,
    token: &str,
    challenges: &[liveform_core::liveness::Challenge],
    n: u8,
) -> Resp {
    let id = open_attempt(s, token).await;
    let mut per_step = Vec::new();
    for (i, c) in challenges.iter().enumerate() {
        let (base, hold) = zoom_of(*c);
        per_step.push(upload_step(s, token, &format!("a{n}s{i}"), base, hold).await);
    }
    let body = liveness_record(challenges, n, true, per_step, &id);
    post_session(s, token, liveform_core::api::LIVENESS_PATH, &body).await
}

/// The plain, slightly shaded grey surface of [`jpeg`] as RGB (`w` × `h` × 3).
pub fn surface_rgb(w: u32, h: u32) -> Vec<u8> {
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let v = (150 + (x * 20 / w.max(1)) + (y * 10 / h.max(1))) as u8;
            rgb.extend_from_slice(&[v, v.saturating_sub(4), v.saturating_sub(8)]);
        }
    }
    rgb
}

/// A valid PNG (8-bit RGB) of the plain surface of [`jpeg`]: decodes completely; the server
/// flags it `no_document` as a document and `no_face` as a selfie, but stores it.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().expect("png header");
        wr.write_image_data(&surface_rgb(w, h)).expect("png data");
    }
    out
}

/// A valid (lossless) WebP of the plain surface of [`jpeg`].
pub fn webp(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image_webp::WebPEncoder::new(&mut out)
        .encode(&surface_rgb(w, h), w, h, image_webp::ColorType::Rgb8)
        .expect("webp");
    out
}

/// The repo's passport scene (core/tests/media/passport_scene_640x480.png, 510 KB: a passport
/// front that passes the server's document check) as a JPEG (quality 90, a fraction of the PNG's
/// size: fits projects with a small `max_capture_bytes`), encoded once.
pub fn passport_scene_jpeg() -> Vec<u8> {
    static J: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    J.get_or_init(|| {
        let (w, h, rgb) = read_png_rgb("../core/tests/media/passport_scene_640x480.png");
        encode_jpeg(&rgb, w, h, 90)
    })
    .clone()
}

/// Every file under `dir`, with its bytes.
pub fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            let bytes = std::fs::read(&p).unwrap();
            out.push((p, bytes));
        }
    }
    out
}

/// Everything the backend keeps, as (where, bytes): every file of the data directory (SQLite and
/// a directory), or every row of every table and every capture object (PostgreSQL + S3).
pub async fn everything_stored(s: &TestServer, data: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    if s.state.config.database_url.is_none() {
        return files_under(data)
            .into_iter()
            .map(|(p, b)| (p.display().to_string(), b))
            .collect();
    }
    let db = s.state.db.clone();
    let mut all = tokio::task::spawn_blocking(move || {
        db.tx(|c| {
            let tables = c.query(
                "SELECT CAST(table_name AS TEXT) AS n FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                &[],
            )?;
            let mut out = Vec::new();
            for t in tables {
                let t = t.text("n")?;
                let rows = c.query(
                    &format!("SELECT CAST(row_to_json(t) AS TEXT) AS j FROM {t} t"),
                    &[],
                )?;
                for r in rows {
                    out.push((format!("table {t}"), r.text("j")?.into_bytes()));
                }
            }
            Ok::<_, liveform_server::db::DbError>(out)
        })
        .unwrap()
    })
    .await
    .unwrap();
    all.extend(
        s.capture_blobs()
            .into_iter()
            .map(|b| ("a capture object".to_owned(), b)),
    );
    all
}

/// Opens `query` (a whole link query), chooses KOR / passport, stores `front` and a selfie and
/// finishes: the finish answer's status and submission id (never an error page).
pub async fn submit_passport(s: &TestServer, query: &str, front: &[u8]) -> (String, String) {
    let token = open_passport(s, query).await;
    let r = capture_and_finish_with(s, &token, front, &selfie_jpeg()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    (
        v["status"].as_str().unwrap_or("").to_owned(),
        v["submission_id"].as_str().unwrap_or("").to_owned(),
    )
}

/// The results API's item for submission `sid`, with the results API key `key`.
pub async fn results_item(s: &TestServer, key: &str, sid: &str) -> serde_json::Value {
    let r = api(
        s,
        key,
        "GET",
        &format!("/v3/submission?submission_id={sid}"),
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["Items"][0].clone()
}
