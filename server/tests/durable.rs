//! Issue 16: nothing lives only in one process. Two servers on one backend (the same SQLite file
//! and capture directory, or — under `scripts/services.sh` — one PostgreSQL schema and one S3
//! prefix) stand for two instances behind a load balancer, or for one instance before and after
//! a restart: a new `AppState` carries nothing over in memory.

mod common;

use common::{http_bytes, jpeg, TestServer};
use liveform_core::api::SESSION_HEADER;

const CONFIG: &str = r#"
[server]
sessions_per_minute = 3
storage_key = "0101010101010101010101010101010101010101010101010101010101010101"
max_capture_bytes = 400000
max_session_bytes = 4000000
min_free_disk_mb = 1
public_base_url = "https://kyc.example.com"

[[project]]
pid = "up"
key = "durable-project-key-1"
algorithm = "ecb"
api_key = "durable-results-api-key-0123456789"
liveness_challenges = ["closer", "back"]
"#;

const API_KEY: &str = "durable-results-api-key-0123456789";

/// Two servers on one backend.
async fn pair(tag: &str) -> (TestServer, TestServer) {
    pair_with(tag, CONFIG).await
}

async fn pair_with(tag: &str, config: &str) -> (TestServer, TestServer) {
    let data = common::temp_dir(tag);
    let mut cfg = liveform_server::config::parse(config, |_| None).unwrap();
    common::use_test_backends(&mut cfg);
    let a = TestServer::start_stored_cfg(cfg.clone(), &data).await;
    let b = TestServer::start_stored_cfg(cfg, &data).await;
    (a, b)
}

async fn send(s: &TestServer, token: &str, method: &str, path: &str, body: &[u8]) -> common::Resp {
    http_bytes(
        s.addr,
        method,
        path,
        &[
            (SESSION_HEADER, token),
            ("content-type", "application/json"),
        ],
        body,
    )
    .await
}

async fn put(s: &TestServer, token: &str, id: &str, slot: &str, img: &[u8]) -> common::Resp {
    http_bytes(
        s.addr,
        "PUT",
        &format!("/api/capture/{id}?slot={slot}"),
        &[(SESSION_HEADER, token), ("content-type", "image/jpeg")],
        img,
    )
    .await
}

#[tokio::test]
async fn any_instance_serves_any_request_of_a_flow() {
    let (a, b) = pair("any").await;
    eprintln!("backend: {}", common::backend_name());
    let r = a.open("pid=up&userid=u-1").await;
    assert_eq!(r.status, 201, "{}", r.text());
    let token = r.json()["token"].as_str().unwrap().to_owned();
    // The choice made through B is the session's everywhere.
    let r = send(
        &b,
        &token,
        "POST",
        "/api/session/choice",
        br#"{"country":"KOR","id_type":"government_id"}"#,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = send(&a, &token, "GET", "/api/session", b"").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["choice"]["country"], "KOR");
    // Uploads alternate; each instance lists them all.
    let img = jpeg(1280, 720);
    assert_eq!(
        put(&a, &token, "f", "document_front", &img).await.status,
        201
    );
    assert_eq!(
        put(&b, &token, "k", "document_back", &img).await.status,
        201
    );
    assert_eq!(
        put(&a, &token, "s", "selfie", &common::selfie_jpeg())
            .await
            .status,
        201
    );
    for s in [&a, &b] {
        let list = send(s, &token, "GET", "/api/session/captures", b"").await;
        assert_eq!(list.status, 200);
        assert_eq!(list.json()["captures"].as_array().unwrap().len(), 3);
    }
    // A liveness attempt opened on B is recorded through B's frames, then finished through A.
    let challenges = common::challenges_of(
        &send(&a, &token, "GET", "/api/session/captures", b"")
            .await
            .json(),
    );
    let r = common::genuine_liveness(&b, &token, &challenges, 1).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["outcome"], "passed", "{}", r.text());
    let r = send(&a, &token, "POST", "/api/session/finish", b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Finishing again through B changes nothing: one submission.
    let again = send(&b, &token, "POST", "/api/session/finish", b"").await;
    assert_eq!(again.status, 200, "{}", again.text());
    let r = http_bytes(
        b.addr,
        "GET",
        "/v3/submission?userid=u-1",
        &[("x-api-key", API_KEY)],
        b"",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let list = r.json();
    let subs = list
        .as_array()
        .cloned()
        .unwrap_or_else(|| vec![list.clone()]);
    assert_eq!(subs.len(), 1, "{list}");
}

#[tokio::test]
async fn a_restart_resumes_the_flow() {
    let data = common::temp_dir("restart");
    let mut cfg = liveform_server::config::parse(CONFIG, |_| None).unwrap();
    common::use_test_backends(&mut cfg);
    let before = TestServer::start_stored_cfg(cfg.clone(), &data).await;
    let r = before.open("pid=up&userid=u-2").await;
    let token = r.json()["token"].as_str().unwrap().to_owned();
    let r = send(
        &before,
        &token,
        "POST",
        "/api/session/choice",
        br#"{"country":"KOR","id_type":"government_id"}"#,
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        put(&before, &token, "f", "document_front", &jpeg(1280, 720))
            .await
            .status,
        201
    );
    drop(before);
    // A new process: nothing in memory; the reload finds the session, its choice and the front.
    let after = TestServer::start_stored_cfg(cfg, &data).await;
    after.advance(60);
    let r = send(&after, &token, "GET", "/api/session", b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["choice"]["id_type"], "government_id");
    let list = send(&after, &token, "GET", "/api/session/captures", b"").await;
    let slots: Vec<String> = list.json()["captures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slot"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slots, ["document_front"]);
}

#[tokio::test]
async fn private_tokens_and_rate_limits_are_shared_and_survive_a_restart() {
    let (a, b) = pair("ledger").await;
    let q = "pid=up&token=order-1234-abc";
    assert_eq!(a.open(q).await.status, 201);
    // The token expires 3 minutes after its first use — on every instance, after any restart.
    b.advance(181);
    let r = b.open(q).await;
    assert_eq!((r.status, r.code().as_str()), (410, "TK-10001"));
    // Three sessions a minute per address, counted across instances (a: 1 so far, b: 0 counted).
    assert_eq!(
        b.open("pid=up").await.status,
        201,
        "b's clock is a minute on"
    );
    let (c, d) = pair("limits").await;
    assert_eq!(c.open("pid=up").await.status, 201);
    assert_eq!(d.open("pid=up").await.status, 201);
    assert_eq!(c.open("pid=up").await.status, 201);
    let r = d.open("pid=up").await;
    assert_eq!((r.status, r.code().as_str()), (429, "LF-20002"));
}

#[tokio::test]
async fn a_handoff_code_issued_by_one_instance_is_claimed_on_another() {
    let (a, b) = pair("handoff").await;
    let r = a.open("pid=up").await;
    let desk = r.json()["token"].as_str().unwrap().to_owned();
    let r = send(&a, &desk, "POST", "/api/handoff", b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let url = r.json()["url"].as_str().unwrap().to_owned();
    let code = url.split("handoff=").nth(1).unwrap().to_owned();
    let body = serde_json::json!({ "token": code }).to_string();
    let r = http_bytes(
        b.addr,
        "POST",
        "/api/handoff/claim",
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let phone = r.json()["token"].as_str().unwrap().to_owned();
    assert_ne!(phone, desk);
    let r = send(&a, &desk, "GET", "/api/handoff", b"").await;
    assert_eq!(r.json()["state"], "claimed");
    // Used is used everywhere.
    let r = http_bytes(
        a.addr,
        "POST",
        "/api/handoff/claim",
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.code(), "LF-20003");
}

#[tokio::test]
async fn health_and_readiness() {
    let (a, _) = pair("health").await;
    let r = common::http(a.addr, "GET", "/healthz", &[], None).await;
    assert_eq!(r.status, 200);
    let r = common::http(a.addr, "GET", "/readyz", &[], None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["database"].as_str(), v["storage"].as_str()),
        (Some("ok"), Some("ok"))
    );
    assert_eq!(
        v["database_backend"],
        if common::backend_name() == "sqlite+dir" {
            "sqlite"
        } else {
            "postgres"
        }
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn each_webhook_is_delivered_once_across_instances() {
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let g = g.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                g.lock().unwrap().push(format!(
                    "{} {}",
                    h("x-liveform-delivery"),
                    h("x-liveform-event")
                ));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = CONFIG.replace("sessions_per_minute = 3", "sessions_per_minute = 100").replace(
        "liveness_challenges = [\"closer\", \"back\"]",
        &format!(
            "liveness_challenges = [\"closer\", \"back\"]\nwebhook_url = \"http://{hook}/hook\"\nwebhook_secret = \"whsec-durable-0123456789\""
        ),
    );
    // Both instances run their webhook senders on the one outbox.
    let (a, b) = pair_with("hooks", &config).await;
    for i in 0..4 {
        let s = if i % 2 == 0 { &a } else { &b };
        let r = s.open(&format!("pid=up&userid=hook-{i}")).await;
        let token = r.json()["token"].as_str().unwrap().to_owned();
        // A finished flow (its requests spread over both instances) queues one `submit` event.
        let r = send(
            s,
            &token,
            "POST",
            "/api/session/choice",
            br#"{"country":"KOR","id_type":"government_id"}"#,
        )
        .await;
        assert_eq!(r.status, 204);
        let img = jpeg(1280, 720);
        assert_eq!(
            put(&a, &token, "f", "document_front", &img).await.status,
            201
        );
        assert_eq!(
            put(&b, &token, "k", "document_back", &img).await.status,
            201
        );
        assert_eq!(
            put(s, &token, "s", "selfie", &common::selfie_jpeg())
                .await
                .status,
            201
        );
        let list = send(s, &token, "GET", "/api/session/captures", b"").await;
        let challenges = common::challenges_of(&list.json());
        let r = common::genuine_liveness(s, &token, &challenges, 1).await;
        assert_eq!(r.json()["outcome"], "passed", "{}", r.text());
        let r = send(s, &token, "POST", "/api/session/finish", b"").await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // Each sender polls every second; give both several rounds.
    for _ in 0..100 {
        if got.lock().unwrap().len() >= 8 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let mut ids = got.lock().unwrap().clone();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    // Per flow: `created` (its first capture) and `submit`; each delivered once, by one sender.
    assert_eq!((n, ids.len()), (8, 8), "each event once: {ids:?}");
    assert_eq!(
        ids.iter().filter(|e| e.ends_with(" submit")).count(),
        4,
        "{ids:?}"
    );
}
