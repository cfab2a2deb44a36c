//! The form server over loopback HTTP: links in every mode, refusals with their codes, sessions,
//! rate limiting, panic isolation, security headers.

mod common;

use common::{enc, offers, write_dist, TestServer, CONFIG};
use liveform_core::api::SESSION_HEADER;
use liveform_core::Algorithm;

#[tokio::test]
async fn plain_link_opens_a_session() {
    let s = TestServer::start(CONFIG, None).await;
    let r = s
        .open("?pid=plain&lang=ko&email=a%40b.co&userid=userid-not-for-the-browser")
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    assert_eq!(v["project"]["pid"], "plain");
    assert_eq!(v["project"]["name"], "Plain Project");
    assert_eq!(v["lang"], "ko");
    assert_eq!(v["email_provided"], true);
    assert_eq!(v["theme"]["main"], "#112233");
    assert_eq!(
        v["theme"]["on_main"], "#ffffff",
        "readable text on the project colour"
    );
    assert!(v["token"].as_str().unwrap().len() >= 40);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Only what the screens need: no userid, no key.
    let text = r.text();
    assert!(!text.contains("userid-not-for-the-browser"), "{text}");
    assert!(!text.contains("plain-project-key-123"));
}

#[tokio::test]
async fn ecb_and_gcm_links_open_and_the_link_colour_wins() {
    let s = TestServer::start(CONFIG, None).await;
    let e = enc(
        Algorithm::Ecb,
        "plain-project-key-123",
        r#"{"email":"x@y.io","mainColor":"ABCDEF"}"#,
    );
    let r = s.open(&format!("pid=plain&encrypted={e}")).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["email_provided"], true);
    assert_eq!(
        r.json()["theme"]["main"],
        "#abcdef",
        "the link's colour wins"
    );
    assert_eq!(
        r.json()["theme"]["on_main"],
        "#111827",
        "dark text on a light colour"
    );
    assert_eq!(
        r.json()["theme"]["main_text"],
        "#111827",
        "a light colour is not used as text on white"
    );

    let e = enc(Algorithm::Gcm, "gcm-project-key-456", r#"{"userid":"g"}"#);
    let r = s.open(&format!("pid=gcm&encrypted={e}")).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json()["project"]["name"],
        "gcm",
        "name defaults to the pid"
    );
}

#[tokio::test]
async fn argos_vectors_open_as_links() {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct V {
        ecb_url_encoded: String,
    }
    let v: V =
        serde_json::from_str(include_str!("../../core/tests/data/argos-vectors.json")).unwrap();
    let s = TestServer::start(CONFIG, None).await;
    let r = s
        .open(&format!("?pid=argos5202&encrypted={}", v.ecb_url_encoded))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["email_provided"], true);
}

#[tokio::test]
async fn encryption_only_mode_ignores_plain_parameters() {
    let s = TestServer::start(CONFIG, None).await;
    let r = s.open("pid=enconly&email=plain%40x.io&lang=en").await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["email_provided"], false);
    assert_eq!(r.json()["lang"], "en");
    let e = enc(
        Algorithm::Gcm,
        "enconly-project-key-789",
        r#"{"email":"enc@x.io"}"#,
    );
    let r = s.open(&format!("pid=enconly&encrypted={e}")).await;
    assert_eq!(r.json()["email_provided"], true);
}

#[tokio::test]
async fn tampered_gcm_and_wrong_key_are_refused() {
    let s = TestServer::start(CONFIG, None).await;
    let e = enc(Algorithm::Gcm, "gcm-project-key-456", r#"{"userid":"g"}"#);
    let mut t = e.into_bytes();
    let i = t.len() - 3;
    t[i] = if t[i] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(t).unwrap();
    let r = s.open(&format!("pid=gcm&encrypted={tampered}")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "LF-40003");
    assert_eq!(r.json()["message_key"], "error-bad-link");
    assert!(r.json()["reference"]
        .as_str()
        .is_some_and(|x| x.len() == 12));

    let wrong = enc(Algorithm::Gcm, "some-other-key", r#"{"userid":"g"}"#);
    let r = s.open(&format!("pid=gcm&encrypted={wrong}")).await;
    assert_eq!(r.code(), "LF-40003");
}

#[tokio::test]
async fn expired_start_valid_until() {
    let s = TestServer::start(CONFIG, None).await;
    let e = enc(
        Algorithm::Ecb,
        "plain-project-key-123",
        r#"{"startValidUntil":"2026-04-30T15:00:00Z"}"#,
    );
    let r = s.open(&format!("pid=plain&encrypted={e}")).await;
    assert_eq!(r.status, 410);
    assert_eq!(r.code(), "PV-40018");
    assert_eq!(r.json()["message_key"], "error-link-expired");
    // A link valid now expires when its time comes.
    let e = enc(
        Algorithm::Ecb,
        "plain-project-key-123",
        r#"{"startValidUntil":"2027-01-15T08:05:00Z"}"#,
    );
    assert_eq!(
        s.open(&format!("pid=plain&encrypted={e}")).await.status,
        201
    );
    s.advance(3600);
    assert_eq!(
        s.open(&format!("pid=plain&encrypted={e}")).await.code(),
        "PV-40018"
    );
}

#[tokio::test]
async fn private_mode_token_is_refused_after_three_minutes() {
    let s = TestServer::start(CONFIG, None).await;
    let q = "pid=plain&token=order-1234-abc";
    assert_eq!(s.open(q).await.status, 201);
    s.advance(170);
    assert_eq!(
        s.open(q).await.status,
        201,
        "still within 3 minutes of first use"
    );
    s.advance(11);
    let r = s.open(q).await;
    assert_eq!(r.status, 410);
    assert_eq!(r.code(), "TK-10001");
    // Another token is unaffected; a badly formed one is refused with its own code.
    assert_eq!(s.open("pid=plain&token=order-9999-xyz").await.status, 201);
    assert_eq!(s.open("pid=plain&token=bad!").await.code(), "LF-40007");
}

#[tokio::test]
async fn unsupported_parameters_unknown_and_missing_projects() {
    let s = TestServer::start(CONFIG, None).await;
    let e = enc(
        Algorithm::Ecb,
        "plain-project-key-123",
        r#"{"knowledgeField":"name,gender"}"#,
    );
    let r = s.open(&format!("pid=plain&encrypted={e}")).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "LF-40101");
    assert_eq!(
        s.open("pid=plain&action=addveri&sid=abc").await.code(),
        "LF-40102"
    );
    assert_eq!(
        s.open("pid=plain&auxidField=phoneNumber").await.code(),
        "LF-40103"
    );
    let r = s.open("pid=nope").await;
    assert_eq!((r.status, r.code().as_str()), (404, "LF-40002"));
    assert_eq!(s.open("lang=en").await.code(), "LF-40001");
    let e = enc(
        Algorithm::Ecb,
        "plain-project-key-123",
        r#"{"selectedIssuingCountry":"PRK"}"#,
    );
    assert_eq!(
        s.open(&format!("pid=plain&encrypted={e}")).await.code(),
        "LF-40009"
    );
}

#[tokio::test]
async fn sessions_resume_and_expire() {
    let s = TestServer::start(CONFIG, None).await;
    let token = s.open("pid=plain").await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    s.advance(14 * 60);
    let r = s
        .request("GET", "/api/session", &[(SESSION_HEADER, &token)], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["project"]["pid"], "plain");
    assert_eq!(r.json()["token"], token.as_str());
    s.advance(15 * 60);
    let r = s
        .request("GET", "/api/session", &[(SESSION_HEADER, &token)], None)
        .await;
    assert_eq!((r.status, r.code().as_str()), (401, "LF-20001"));
    let r = s
        .request("GET", "/api/session", &[(SESSION_HEADER, "made-up")], None)
        .await;
    assert_eq!(r.code(), "LF-20001");
    let r = s.request("GET", "/api/session", &[], None).await;
    assert_eq!(r.code(), "LF-20001");
}

#[tokio::test]
async fn session_creation_is_rate_limited_per_address() {
    let cfg = CONFIG.replace("sessions_per_minute = 1000", "sessions_per_minute = 3");
    let s = TestServer::start(&cfg, None).await;
    for _ in 0..3 {
        assert_eq!(s.open("pid=plain").await.status, 201);
    }
    let r = s.open("pid=plain").await;
    assert_eq!((r.status, r.code().as_str()), (429, "LF-20002"));
    let wait: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    s.advance(wait);
    assert_eq!(s.open("pid=plain").await.status, 201);
}

#[tokio::test]
async fn malformed_requests_get_coded_errors() {
    let s = TestServer::start(CONFIG, None).await;
    let r = s
        .request(
            "POST",
            "/api/session",
            &[("content-type", "application/json")],
            Some("{not json"),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "LF-50003"));
    let r = s
        .request(
            "POST",
            "/api/session",
            &[],
            Some(r#"{"query":"pid=plain"}"#),
        )
        .await;
    assert_eq!(r.code(), "LF-50003", "missing content type");
    let big = format!(r#"{{"query":"pid=plain&cf1={}"}}"#, "a".repeat(20_000));
    let r = s
        .request(
            "POST",
            "/api/session",
            &[("content-type", "application/json")],
            Some(&big),
        )
        .await;
    assert_eq!(r.code(), "LF-40008");
    let huge = "a".repeat(100_000);
    let r = s
        .request(
            "POST",
            "/api/session",
            &[("content-type", "application/json")],
            Some(&huge),
        )
        .await;
    assert!(
        r.status == 413 || r.code() == "LF-50003",
        "{} {}",
        r.status,
        r.text()
    );
}

#[tokio::test]
async fn a_handler_panic_leaves_the_server_serving() {
    let s = TestServer::start(CONFIG, None).await;
    let r = s.request("GET", "/__panic", &[], None).await;
    assert_eq!((r.status, r.code().as_str()), (500, "LF-50001"));
    for _ in 0..3 {
        assert_eq!(s.request("GET", "/__panic", &[], None).await.status, 500);
    }
    assert_eq!(s.request("GET", "/api/health", &[], None).await.status, 200);
    assert_eq!(s.open("pid=plain").await.status, 201);
}

#[tokio::test]
async fn the_spa_is_served_with_security_headers() {
    let dir = std::env::temp_dir().join(format!("liveform-dist-{}", std::process::id()));
    write_dist(&dir);
    let s = TestServer::start(CONFIG, Some(&dir)).await;
    let r = s.request("GET", "/?pid=plain&lang=en", &[], None).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("app-1.js"));
    let csp = r.header("content-security-policy").unwrap().to_owned();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
        "{csp}"
    );
    assert_eq!(
        csp.matches("'sha256-").count(),
        2,
        "both inline scripts hashed: {csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(
        csp.contains("frame-ancestors 'self' https://shop.example http://127.0.0.1:9999"),
        "{csp}"
    );
    assert!(csp.contains("object-src 'none'"));
    let pp = r.header("permissions-policy").unwrap();
    assert!(
        pp.contains(r#"camera=(self "https://shop.example" "http://127.0.0.1:9999")"#),
        "{pp}"
    );
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));

    // Another project (no allowed origins) may be framed by nobody else.
    let r = s.request("GET", "/?pid=gcm", &[], None).await;
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .ends_with("frame-ancestors 'self'"));
    assert!(r
        .header("permissions-policy")
        .unwrap()
        .contains("camera=(self)"));

    // Pre-compressed assets by Accept-Encoding, cached for good.
    let r = s
        .request(
            "GET",
            "/app-1_bg.wasm",
            &[("accept-encoding", "gzip, br")],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("br"));
    assert_eq!(r.body, b"brotli-bytes");
    assert!(r.header("cache-control").unwrap().contains("immutable"));
    let r = s
        .request(
            "GET",
            "/app-1_bg.wasm",
            &[("accept-encoding", "gzip")],
            None,
        )
        .await;
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    let r = s.request("GET", "/app-1_bg.wasm", &[], None).await;
    assert_eq!(r.body, b"\0asm-uncompressed");
    assert_eq!(s.request("GET", "/missing.js", &[], None).await.status, 404);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn without_a_built_spa_pages_say_so() {
    let s = TestServer::start(CONFIG, None).await;
    let r = s.request("GET", "/?pid=plain", &[], None).await;
    assert_eq!(r.status, 503);
    assert!(r.text().contains("scripts/build-spa.sh"));
}

#[tokio::test]
async fn the_session_carries_the_offer_and_the_server_rechecks_every_choice() {
    let s = TestServer::start(CONFIG, None).await;
    let e = enc(
        Algorithm::Gcm,
        "gcm-project-key-456",
        r#"{"allowedCountries":"KOR,JPN"}"#,
    );
    let r = s.open(&format!("pid=gcm&encrypted={e}")).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    assert_eq!(
        v["flow"]["offer"]["countries"],
        serde_json::json!(["JPN", "KOR"])
    );
    let token = v["token"].as_str().unwrap().to_owned();
    let choose = |body: &'static str| {
        let token = token.clone();
        let s = &s;
        async move {
            s.request(
                "POST",
                "/api/session/choice",
                &[
                    (SESSION_HEADER, &token),
                    ("content-type", "application/json"),
                ],
                Some(body),
            )
            .await
        }
    };
    assert_eq!(
        choose(r#"{"country":"KOR","id_type":"passport"}"#)
            .await
            .status,
        204
    );
    let r = choose(r#"{"country":"USA","id_type":"passport"}"#).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "LF-40010"),
        "a country outside allowedCountries"
    );
    let r = choose(r#"{"country":"KOR","id_type":"visa"}"#).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "LF-40011"),
        "a type Korea does not issue"
    );
    let r = choose(r#"{"country":"XXX"}"#).await;
    assert_eq!(r.code(), "LF-50003", "not a country code at all");
    let r = s
        .request(
            "POST",
            "/api/session/choice",
            &[("content-type", "application/json")],
            Some(r#"{"country":"KOR"}"#),
        )
        .await;
    assert_eq!(r.code(), "LF-20001", "no session");
}

#[tokio::test]
async fn a_blacklisted_country_is_refused_unless_the_link_lifts_the_blacklist() {
    let s = TestServer::start(CONFIG, None).await;
    let r = s.open("pid=plain").await;
    let v = r.json();
    let countries = v["flow"]["offer"]["countries"].as_array().unwrap();
    assert!(
        !countries.iter().any(|c| c == "RUS"),
        "blacklisted country not offered"
    );
    assert!(countries.len() > 200);
    let token = v["token"].as_str().unwrap().to_owned();
    let hdr = [
        (SESSION_HEADER, token.as_str()),
        ("content-type", "application/json"),
    ];
    let r = s
        .request(
            "POST",
            "/api/session/choice",
            &hdr,
            Some(r#"{"country":"RUS","id_type":"passport"}"#),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (403, "LF-40010"));

    // Lifted by the link: from `encrypted` (GCM or ECB) always.
    let e = enc(
        Algorithm::Ecb,
        "plain-project-key-123",
        r#"{"blacklistCountries":false}"#,
    );
    let r = s.open(&format!("pid=plain&encrypted={e}")).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    assert!(offers(&v, "RUS"));
    let token = v["token"].as_str().unwrap().to_owned();
    let hdr = [
        (SESSION_HEADER, token.as_str()),
        ("content-type", "application/json"),
    ];
    let r = s
        .request(
            "POST",
            "/api/session/choice",
            &hdr,
            Some(r#"{"country":"RUS","id_type":"passport"}"#),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
}

#[tokio::test]
async fn selected_country_and_type_skip_their_steps_or_refuse_with_a_code() {
    let s = TestServer::start(CONFIG, None).await;
    let e = enc(
        Algorithm::Gcm,
        "gcm-project-key-456",
        r#"{"selectedIssuingCountry":"KOR","selectedIdType":"drivers_license"}"#,
    );
    let v = s.open(&format!("pid=gcm&encrypted={e}")).await.json();
    let steps: Vec<&str> = v["flow"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "consent",
            "document_front",
            "document_back",
            "selfie",
            "liveness",
            "finish",
            "result"
        ]
    );
    let e = enc(
        Algorithm::Gcm,
        "gcm-project-key-456",
        r#"{"selectedIssuingCountry":"KOR","selectedIdType":"visa"}"#,
    );
    assert_eq!(
        s.open(&format!("pid=gcm&encrypted={e}")).await.code(),
        "LF-40011"
    );
    let e = enc(
        Algorithm::Gcm,
        "gcm-project-key-456",
        r#"{"allowedCountries":"RUS"}"#,
    );
    let r = s.open(&format!("pid=plain&encrypted={e}")).await;
    assert_eq!(r.code(), "LF-40003", "wrong project key for this pid");
    let e = enc(
        Algorithm::Ecb,
        "plain-project-key-123",
        r#"{"allowedCountries":"RUS"}"#,
    );
    assert_eq!(
        s.open(&format!("pid=plain&encrypted={e}")).await.code(),
        "LF-40012",
        "nothing left to offer"
    );
}
