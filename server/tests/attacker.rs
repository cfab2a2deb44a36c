//! Issue 15, uploads and connections: slow and greedy clients are cut off and bounded. The
//! server here runs the production accept loop (`listen.rs`).

mod common;

use std::time::{Duration, Instant};

use common::{jpeg, TestServer};
use liveform_core::api::SESSION_HEADER;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn config(budget_mb: u64) -> String {
    format!(
        r#"
[server]
sessions_per_minute = 100000
sessions_per_minute_total = 100000
storage_key = "0202020202020202020202020202020202020202020202020202020202020202"
max_capture_bytes = 400000
upload_budget_mb = {budget_mb}
min_free_disk_mb = 1

[[project]]
pid = "up"
key = "hostile-project-key-1"
algorithm = "ecb"
"#
    )
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("lf-hostile-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn session(s: &TestServer) -> String {
    let r = s.open("pid=up").await;
    assert_eq!(r.status, 201, "{}", r.text());
    let token = r.json()["token"].as_str().unwrap().to_owned();
    let r = common::http(
        s.addr,
        "POST",
        "/api/session/choice",
        &[
            (SESSION_HEADER, &token),
            ("content-type", "application/json"),
        ],
        Some(r#"{"country":"KOR","id_type":"passport"}"#),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    token
}

/// Sends an upload's head and all but the last byte of `body`, then stalls.
async fn stalled_upload(
    s: &TestServer,
    token: &str,
    id: &str,
    body: &[u8],
) -> tokio::net::TcpStream {
    let mut c = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "PUT /api/capture/{id}?slot=selfie HTTP/1.1\r\nhost: x\r\n{SESSION_HEADER}: {token}\r\n\
         content-type: image/jpeg\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes()).await.unwrap();
    c.write_all(&body[..body.len() - 1]).await.unwrap();
    c
}

/// Reads the status line (or nothing: the connection closed).
async fn status_of(c: &mut tokio::net::TcpStream, within: Duration) -> Option<(u16, String)> {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(within, c.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "still open after {within:?}");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text))
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_is_cut_within_10_s() {
    let s = TestServer::start(common::CONFIG, None).await;
    let t0 = Instant::now();
    let mut c = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET /api/health HTTP/1.1\r\nhost: x\r\nx-slow: ")
        .await
        .unwrap();
    // Slowloris: one more header byte every few seconds does not keep it open either.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(3)).await;
        if c.write_all(b"a").await.is_err() {
            break;
        }
    }
    let mut buf = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(15), c.read_to_end(&mut buf)).await;
    let elapsed = t0.elapsed();
    assert!(r.is_ok(), "the connection is still open after {elapsed:?}");
    assert!(elapsed <= Duration::from_secs(11), "cut after {elapsed:?}");
    eprintln!("headers never finished: cut after {elapsed:.1?}");
}

#[tokio::test]
async fn stalled_uploads_are_bounded_in_memory_and_answered_within_30_s() {
    const BUDGET_MB: u64 = 16;
    let data = temp_dir("stall");
    let s = TestServer::start_stored(&config(BUDGET_MB), &data).await;
    // 100 sessions, each with two uploads stalled one byte short (~180 KB each): 36 MB sent,
    // more than twice the 16 MiB budget.
    let mut tokens = Vec::new();
    for _ in 0..100 {
        tokens.push(session(&s).await);
    }
    let mut body = jpeg(1600, 1200);
    body.resize(180_000, 0);
    let baseline = rss_kib();
    let t0 = Instant::now();
    // The first session's two uploads start streaming; a third of that session waits 5 s for a
    // place, then is refused with a one-second Retry-After (not left to stall until the body
    // timeout).
    let mut conns = Vec::new();
    for k in 0..2 {
        conns.push(stalled_upload(&s, &tokens[0], &format!("c0-{k}"), &body).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut third = stalled_upload(&s, &tokens[0], "c0-2", &body).await;
    let (status, text) = status_of(&mut third, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(status, 429, "{text}");
    assert!(
        text.contains("retry-after: 1") || text.contains("Retry-After: 1"),
        "{text}"
    );
    // Then 99 sessions more, two uploads each.
    for (i, t) in tokens.iter().enumerate().skip(1) {
        for k in 0..2 {
            conns.push(stalled_upload(&s, t, &format!("c{i}-{k}"), &body).await);
        }
    }
    // Let the server read what it will, then measure.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let held = s.state.uploads.held();
    let grown = rss_kib().saturating_sub(baseline);
    eprintln!(
        "200 stalled uploads: {} KiB held of the {BUDGET_MB} MiB budget; RSS +{grown} KiB",
        held / 1024
    );
    assert!(held <= BUDGET_MB * 1024 * 1024);
    assert!(
        grown <= (BUDGET_MB + 32) * 1024,
        "RSS grew {grown} KiB, more than the budget + 32 MiB"
    );
    // Every one is answered (429 over the budget, 503 once stalled) and closed within 30 s.
    let (mut over, mut stalled) = (0, 0);
    for c in &mut conns {
        let left = Duration::from_secs(30).saturating_sub(t0.elapsed());
        match status_of(c, left).await {
            Some((429, _)) => over += 1,
            Some((503, t)) => {
                assert!(t.contains("LF-50002"), "{t}");
                stalled += 1
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    eprintln!(
        "answered within {:.1?}: {over} over the budget (429), {stalled} stalled (503)",
        t0.elapsed()
    );
    assert!(over > 0 && stalled > 0);
    assert_eq!(s.state.uploads.held(), 0, "every buffer freed");
    assert_eq!(s.capture_files(), 0, "nothing stored");
}

#[tokio::test]
async fn a_deployment_wide_cap_and_a_trusted_hop_count() {
    let cfg = r#"
[server]
sessions_per_minute = 2
sessions_per_minute_total = 5
client_ip_header = "x-forwarded-for"
client_ip_hops = 2

[[project]]
pid = "up"
key = "hostile-project-key-1"
algorithm = "ecb"
"#;
    let s = TestServer::start(cfg, None).await;
    let open = |xff: String| {
        let s = &s;
        async move {
            let body = serde_json::json!({ "query": "pid=up" }).to_string();
            s.request(
                "POST",
                "/api/session",
                &[
                    ("content-type", "application/json"),
                    ("x-forwarded-for", xff.as_str()),
                ],
                Some(&body),
            )
            .await
        }
    };
    // Behind a CDN and our proxy: "<whatever the client wrote>, <client>, <CDN edge>". What the
    // client writes on the left changes nothing: the client is counted.
    assert_eq!(
        open("1.1.1.1, 203.0.113.7, 198.51.100.1".into())
            .await
            .status,
        201
    );
    assert_eq!(
        open("2.2.2.2, 203.0.113.7, 198.51.100.1".into())
            .await
            .status,
        201
    );
    let r = open("3.3.3.3, 203.0.113.7, 198.51.100.1".into()).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (429, "LF-20002"),
        "{}",
        r.text()
    );
    // Other clients: three more fit in the minute's five, then every address is refused.
    for i in 1..=3 {
        let r = open(format!("203.0.113.{}, 198.51.100.1", 20 + i)).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let r = open("203.0.113.99, 198.51.100.1".into()).await;
    assert_eq!((r.status, r.code().as_str()), (429, "LF-20002"));
    assert!(r.header("retry-after").is_some());
    s.advance(60);
    assert_eq!(
        open("203.0.113.99, 198.51.100.1".into()).await.status,
        201,
        "a new minute"
    );
}

/// A webhook receiver on loopback answering after `delay`; the arrival times of its deliveries.
async fn receiver(
    delay: Duration,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<Instant>>>,
) {
    let got: std::sync::Arc<std::sync::Mutex<Vec<Instant>>> = Default::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let g = g.clone();
            async move {
                g.lock().unwrap().push(Instant::now());
                tokio::time::sleep(delay).await;
                axum::http::StatusCode::OK
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (addr, got)
}

#[tokio::test]
async fn a_slow_webhook_endpoint_does_not_delay_other_projects() {
    let (slow, slow_got) = receiver(Duration::from_secs(8)).await;
    let (fast, fast_got) = receiver(Duration::ZERO).await;
    let cfg = format!(
        r#"
[server]
storage_key = "0303030303030303030303030303030303030303030303030303030303030303"
min_free_disk_mb = 1

[[project]]
pid = "slow"
key = "hostile-slow-key-1"
algorithm = "gcm"
webhook_url = "http://{slow}/hook"
webhook_secret = "whsec-slow-0123456789"

[[project]]
pid = "fast"
key = "hostile-fast-key-1"
algorithm = "gcm"
webhook_url = "http://{fast}/hook"
webhook_secret = "whsec-fast-0123456789"
"#
    );
    let data = temp_dir("hooks");
    let s = TestServer::start_stored(&cfg, &data).await;
    let store = s.state.store.clone().unwrap();
    let now_ms = common::START * 1000;
    // 40 events of the slow project first, then one of the fast project.
    tokio::task::spawn_blocking(move || {
        for i in 0..40 {
            store
                .enqueue("slow", &format!("s{i}"), "submit", "{}", now_ms)
                .unwrap();
        }
        store.enqueue("fast", "f", "submit", "{}", now_ms).unwrap();
    })
    .await
    .unwrap();
    let t0 = Instant::now();
    s.state.webhook_wake.notify_one();
    for _ in 0..100 {
        if !fast_got.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let waited = t0.elapsed();
    eprintln!(
        "fast project's event after {waited:.1?} ({} of the slow project's in flight)",
        slow_got.lock().unwrap().len()
    );
    assert!(
        !fast_got.lock().unwrap().is_empty(),
        "still waiting after {waited:?}"
    );
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert!(
        slow_got.lock().unwrap().len() <= 4,
        "a slow endpoint holds at most 4 deliveries at once"
    );
}
