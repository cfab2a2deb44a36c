//! Handing a session to a phone over loopback HTTP: the QR code, one claim per code, expiry, the
//! shared session state, the desktop's status polling, and the server without a public address.

mod common;

use common::{enc, Resp, TestServer, CONFIG};
use liveform_core::api::SESSION_HEADER;
use liveform_core::Algorithm;

const BASE: &str = "https://kyc.example.com";

fn config() -> String {
    CONFIG.replace(
        "[server]\n",
        &format!("[server]\npublic_base_url = \"{BASE}/\"\nhandoff_minutes = 5\n"),
    )
}

async fn open_gcm(s: &TestServer) -> String {
    let e = enc(
        Algorithm::Gcm,
        "gcm-project-key-456",
        r#"{"allowedCountries":"KOR,JPN"}"#,
    );
    let r = s.open(&format!("pid=gcm&lang=ko&encrypted={e}")).await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["token"].as_str().unwrap().to_owned()
}

async fn handoff(s: &TestServer, token: &str) -> Resp {
    s.request("POST", "/api/handoff", &[(SESSION_HEADER, token)], None)
        .await
}

async fn status(s: &TestServer, token: &str) -> serde_json::Value {
    let r = s
        .request("GET", "/api/handoff", &[(SESSION_HEADER, token)], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.json()
}

async fn claim(s: &TestServer, handoff_token: &str) -> Resp {
    let body = serde_json::json!({ "token": handoff_token }).to_string();
    s.request(
        "POST",
        "/api/handoff/claim",
        &[("content-type", "application/json")],
        Some(&body),
    )
    .await
}

/// The `handoff` parameter of a handoff URL.
fn token_of(url: &str) -> String {
    url.strip_prefix(&format!("{BASE}/?handoff="))
        .unwrap_or_else(|| panic!("{url}"))
        .to_owned()
}

#[tokio::test]
async fn a_phone_claims_the_desktop_session_once_and_the_desktop_follows() {
    let s = TestServer::start(&config(), None).await;
    let desk = open_gcm(&s).await;
    assert_eq!(
        status(&s, &desk).await,
        serde_json::json!({"state": "none", "expires_in": 0})
    );
    let r = s
        .request(
            "POST",
            "/api/session/choice",
            &[
                (SESSION_HEADER, &desk),
                ("content-type", "application/json"),
            ],
            Some(r#"{"country":"KOR","id_type":"passport"}"#),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());

    let r = handoff(&s, &desk).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = r.json();
    let url = v["url"].as_str().unwrap();
    let token = token_of(url);
    assert_eq!(token.len(), 43, "32 random bytes, Base64url");
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(v["expires_in"], 300);
    let svg = v["qr_svg"].as_str().unwrap();
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 45 45\""),
        "{svg}"
    );
    assert!(svg.ends_with("</svg>"));
    assert_eq!(svg.matches("<path ").count(), 1);
    assert_eq!(svg.matches('<').count(), svg.matches('>').count());
    assert!(
        !svg.contains(&token),
        "the SVG draws the URL, never spells it"
    );

    s.advance(30);
    assert_eq!(
        status(&s, &desk).await,
        serde_json::json!({"state": "waiting", "expires_in": 270})
    );

    let r = claim(&s, &token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let phone_view = r.json();
    let phone = phone_view["token"].as_str().unwrap().to_owned();
    assert_ne!(phone, desk, "the phone gets its own session token");
    assert_eq!(phone_view["project"]["pid"], "gcm");
    assert_eq!(phone_view["lang"], "ko");
    assert_eq!(
        phone_view["choice"],
        serde_json::json!({"country": "KOR", "id_type": "passport"}),
        "the choice made on the desktop"
    );
    assert_eq!(
        phone_view["flow"]["offer"]["countries"],
        serde_json::json!(["JPN", "KOR"])
    );

    let r = claim(&s, &token).await;
    assert_eq!((r.status, r.code().as_str()), (409, "LF-20003"), "once");
    assert_eq!(r.json()["message_key"], "error-handoff-used");

    assert_eq!(
        status(&s, &desk).await,
        serde_json::json!({"state": "claimed", "expires_in": 0})
    );
    assert_eq!(status(&s, &phone).await["state"], "claimed");

    // One session behind two tokens: a choice on the phone is the desktop's too.
    let r = s
        .request(
            "POST",
            "/api/session/choice",
            &[
                (SESSION_HEADER, &phone),
                ("content-type", "application/json"),
            ],
            Some(r#"{"country":"JPN","id_type":"passport"}"#),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = s
        .request("GET", "/api/session", &[(SESSION_HEADER, &desk)], None)
        .await;
    assert_eq!(r.json()["choice"]["country"], "JPN");
    assert_eq!(r.json()["token"], desk.as_str());

    // Left idle, the session ends for both tokens at once.
    s.advance(15 * 60);
    let r = s
        .request("GET", "/api/session", &[(SESSION_HEADER, &phone)], None)
        .await;
    assert_eq!(r.code(), "LF-20001");
    let r = s
        .request("GET", "/api/handoff", &[(SESSION_HEADER, &desk)], None)
        .await;
    assert_eq!((r.status, r.code().as_str()), (401, "LF-20001"));
}

#[tokio::test]
async fn codes_expire_are_replaced_and_garbage_is_refused() {
    let s = TestServer::start(&config(), None).await;
    let desk = open_gcm(&s).await;
    let first = token_of(handoff(&s, &desk).await.json()["url"].as_str().unwrap());
    s.advance(5 * 60);
    assert_eq!(
        status(&s, &desk).await,
        serde_json::json!({"state": "expired", "expires_in": 0})
    );
    let r = claim(&s, &first).await;
    assert_eq!((r.status, r.code().as_str()), (410, "LF-20004"));
    assert_eq!(r.json()["message_key"], "error-handoff-expired");

    let second = token_of(handoff(&s, &desk).await.json()["url"].as_str().unwrap());
    let third = token_of(handoff(&s, &desk).await.json()["url"].as_str().unwrap());
    assert_ne!(second, third);
    assert_eq!(
        claim(&s, &second).await.code(),
        "LF-20004",
        "a new code replaces the old one"
    );
    assert_eq!(status(&s, &desk).await["state"], "waiting");
    assert_eq!(claim(&s, "made-up").await.code(), "LF-20004");
    assert_eq!(claim(&s, "").await.code(), "LF-20004");
    let r = s
        .request(
            "POST",
            "/api/handoff/claim",
            &[("content-type", "application/json")],
            Some(r#"{"tok":"x"}"#),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "LF-50003"));
    assert_eq!(claim(&s, &third).await.status, 200);

    // The desktop session is needed to make or follow a code.
    for method in ["GET", "POST"] {
        let r = s.request(method, "/api/handoff", &[], None).await;
        assert_eq!((r.status, r.code().as_str()), (401, "LF-20001"), "{method}");
        let r = s
            .request(method, "/api/handoff", &[(SESSION_HEADER, "made-up")], None)
            .await;
        assert_eq!(r.code(), "LF-20001", "{method}");
    }
}

#[tokio::test]
async fn a_code_never_outlives_its_session() {
    let cfg = config().replace(
        "handoff_minutes = 5\n",
        "handoff_minutes = 5\nsession_idle_minutes = 15\nsession_max_minutes = 20\n",
    );
    let s = TestServer::start(&cfg, None).await;
    let desk = open_gcm(&s).await;
    s.advance(10 * 60);
    let r = s
        .request("GET", "/api/session", &[(SESSION_HEADER, &desk)], None)
        .await;
    assert_eq!(r.status, 200);
    s.advance(7 * 60);
    let v = handoff(&s, &desk).await.json();
    assert_eq!(v["expires_in"], 180, "3 minutes of session left");
    let token = token_of(v["url"].as_str().unwrap());
    s.advance(3 * 60);
    assert_eq!(claim(&s, &token).await.code(), "LF-20004");
}

#[tokio::test]
async fn claims_are_rate_limited_per_address() {
    let cfg = config().replace("sessions_per_minute = 1000", "sessions_per_minute = 2");
    let s = TestServer::start(&cfg, None).await;
    s.advance(60 - common::START.rem_euclid(60));
    let desk = open_gcm(&s).await;
    let token = token_of(handoff(&s, &desk).await.json()["url"].as_str().unwrap());
    assert_eq!(claim(&s, "guess-1").await.code(), "LF-20004");
    let r = claim(&s, &token).await;
    assert_eq!((r.status, r.code().as_str()), (429, "LF-20002"));
    assert!(r.header("retry-after").is_some());
    s.advance(60);
    assert_eq!(
        claim(&s, &token).await.status,
        200,
        "a refused-by-limit claim does not use the code"
    );
}

#[tokio::test]
async fn without_a_public_base_url_the_handoff_is_off() {
    let s = TestServer::start(CONFIG, None).await;
    let desk = open_gcm(&s).await;
    let r = handoff(&s, &desk).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (404, "LF-20005"),
        "{}",
        r.text()
    );
    assert_eq!(r.json()["message_key"], "error-handoff-unavailable");
    assert_eq!(status(&s, &desk).await["state"], "none");
}

#[tokio::test]
async fn a_finished_session_reads_finished_on_every_device() {
    use std::sync::Arc;

    let cfg = liveform_server::config::parse(&config(), |_| None).unwrap();
    let state = Arc::new(common::new_state(cfg, None, Arc::new(|| common::START)));
    let opened =
        liveform_server::opening::open_link(&state.config, "pid=plain", common::START).unwrap();
    let session = liveform_server::sessions::Session {
        pid: "plain".into(),
        params: opened.params,
        flow: opened.flow,
        choice: None,
        created: common::START,
        last_seen: common::START,
        finished: false,
        submission_id: "sub-desk".into(),
        liveness: liveform_core::liveness::draw(&[1, 2, 3]),
        ip: None,
    };
    state
        .sessions
        .insert("desk".into(), session, common::START)
        .unwrap();
    let v = liveform_server::handoff::create(&state, "desk", common::START).unwrap();
    let phone = liveform_server::handoff::claim(&state, &token_of(&v.url), common::START)
        .unwrap()
        .token;
    state
        .sessions
        .mark_finished(&phone, common::START + 1)
        .unwrap();
    for token in ["desk", phone.as_str()] {
        let st = liveform_server::handoff::status(&state, token, common::START + 2).unwrap();
        assert_eq!(st.state, liveform_core::api::HandoffState::Finished);
    }
}
