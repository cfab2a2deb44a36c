//! Issue 18, item 3: webhooks with ARGOS's triggers and fields (`argos-liveform.md` §5), over
//! loopback HTTP to a receiver: `created`, `retry` (after a failed liveness attempt, with
//! `retryCode` and `attempts`), `submit`, `approved`, `rejected` (`comment`, `commentCode`),
//! `updated` (PATCH review, `PUT /v3/submission/image`, `POST /v3/submission`, partial delete),
//! `delete`; the common fields; the per-project `webhook_triggers`; and ARGOS's "Secure Data
//! Transfer" (§2.6): `/v3` bodies AES-256-ECB both ways, webhook bodies AES-256-CBC, zero IV.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use base64::Engine as _;
use common::client::SEQ;
use common::{http_bytes, jpeg, selfie_jpeg, Resp, TestServer};
use liveform_core::api::SESSION_HEADER;
use liveform_core::launch::crypto::{decrypt_cbc_zero_iv, decrypt_ecb, encrypt_ecb};
use serde_json::{json, Value};

const STORAGE_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SECRET: &str = "whsec-argos-0123456789";
const LIVE_KEY: &str = "live-api-key-0123456789";
const RES_KEY: &str = "res-api-key-0123456789";
const SEC_KEY: &str = "sec-api-key-0123456789";
/// The `sec` project's `key`: Secure Data Transfer encrypts with it (SHA-256 → AES-256).
const SEC_PROJECT_KEY: &str = "ARGOS-TEST-KEY-0123456789abcdef";

fn config(hook: SocketAddr) -> String {
    let wh = format!("webhook_url = \"http://{hook}/hook\"\nwebhook_secret = \"{SECRET}\"\n");
    format!(
        r#"
[server]
sessions_per_minute = 1000
storage_key = "{STORAGE_KEY}"
min_free_disk_mb = 1
client_ip_header = "x-forwarded-for"

[[project]]
pid = "live"
key = "live-project-key-1"
algorithm = "ecb"
api_key = "{LIVE_KEY}"
liveness_challenges = ["closer", "back"]
{wh}
[[project]]
pid = "res"
key = "res-project-key-1"
algorithm = "ecb"
api_key = "{RES_KEY}"
active_liveness = false
webhook_triggers = ["approved", "updated", "delete"]
{wh}
[[project]]
pid = "sec"
key = "{SEC_PROJECT_KEY}"
algorithm = "gcm"
api_key = "{SEC_KEY}"
active_liveness = false
secure_data_transfer = true
{wh}"#
    )
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lf-whargos-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One delivery as the receiver saw it.
#[derive(Clone, Debug)]
struct Hook {
    raw: String,
    signature: String,
    /// The JSON (decrypted for the `sec` project).
    body: Value,
}

#[derive(Clone, Default)]
struct Hooks(Arc<Mutex<Vec<Hook>>>);

async fn receiver() -> (SocketAddr, Hooks) {
    let hooks = Hooks::default();
    let h = hooks.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, raw: String| {
            let h = h.clone();
            async move {
                let v: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
                // Secure Data Transfer: ARGOS's sample decrypts `response.body`.
                let body = match v["response"]["body"].as_str() {
                    Some(ct) => decrypt_cbc_zero_iv(SEC_PROJECT_KEY, ct)
                        .ok()
                        .and_then(|p| serde_json::from_slice(&p).ok())
                        .unwrap_or(Value::Null),
                    None => v,
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
    fn of(&self, sid: &str) -> Vec<Hook> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.body["submission_id"] == sid)
            .cloned()
            .collect()
    }

    fn triggers(&self, sid: &str) -> Vec<String> {
        self.of(sid)
            .iter()
            .map(|h| h.body["webhook_trigger"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    /// The `n`th (0-based) `event` of submission `sid`, waited for.
    async fn nth(&self, sid: &str, event: &str, n: usize) -> Hook {
        for _ in 0..300 {
            if let Some(h) = self
                .of(sid)
                .into_iter()
                .filter(|h| h.body["webhook_trigger"] == event)
                .nth(n)
            {
                return h;
            }
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
        panic!(
            "no {event} #{n} webhook for {sid}; got {:?}",
            self.triggers(sid)
        );
    }

    async fn wait(&self, sid: &str, event: &str) -> Value {
        self.nth(sid, event, 0).await.body
    }
}

async fn api(s: &TestServer, key: &str, method: &str, path: &str, body: &str) -> Resp {
    http_bytes(
        s.addr,
        method,
        path,
        &[("x-api-key", key), ("content-type", "application/json")],
        body.as_bytes(),
    )
    .await
}

/// Opens a session of `pid` from `ip` behind the proxy with `userid`, `email` and `cf1`; chooses
/// KOR / passport. The token.
async fn open(s: &TestServer, pid: &str, userid: &str, ip: &str) -> String {
    let body = json!({ "query": format!(
        "pid={pid}&userid={userid}&email={userid}%40mail.example&cf1=order-{userid}"
    )})
    .to_string();
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
    let r = session_post(
        s,
        &token,
        "/api/session/choice",
        r#"{"country":"KOR","id_type":"passport"}"#,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    token
}

async fn session_post(s: &TestServer, token: &str, path: &str, body: &str) -> Resp {
    http_bytes(
        s.addr,
        "POST",
        path,
        &[
            (SESSION_HEADER, token),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    )
    .await
}

/// Front and selfie stored, finished: the submission id (`pending`).
async fn capture_and_finish(s: &TestServer, token: &str) -> String {
    for (id, slot, img) in [
        ("f", "document_front", jpeg(800, 600)),
        ("s", "selfie", selfie_jpeg()),
    ] {
        let r = common::put_capture(s, token, id, slot, "image/jpeg", &img).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let r = session_post(s, token, "/api/session/finish", "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "pending", "{}", r.text());
    r.json()["submission_id"].as_str().unwrap().to_owned()
}

/// ARGOS's common fields, as the session was opened by [`open`].
fn assert_common(h: &Value, sid: &str, userid: &str, ip: &str) {
    assert_eq!(h["submission_id"], sid, "{h}");
    assert_eq!(h["userid"], userid, "{h}");
    assert_eq!(h["email"], format!("{userid}@mail.example"), "{h}");
    assert_eq!(
        h["cf"],
        json!({"cf1": format!("order-{userid}"), "cf2": null, "cf3": null}),
        "{h}"
    );
    assert!(h.as_object().unwrap().contains_key("tokenId"), "{h}");
    assert_eq!(h["ipAddress"], ip, "{h}");
    assert!(h["kyc_result"]["created_at"].is_string(), "{h}");
}

#[tokio::test]
async fn created_retry_after_failed_liveness_submit_rejected_and_patch_updated() {
    let (hook, hooks) = receiver().await;
    let data = temp_dir("live");
    let s = TestServer::start_stored(&config(hook), &data).await;
    let token = open(&s, "live", "lv1", "203.0.113.5").await;

    // Attempt 1 opens the submission (`created`) and fails.
    let id = common::open_attempt(&s, &token).await;
    let body = common::liveness_attempt(&SEQ, 1, false, &[], &id);
    let r = session_post(&s, &token, liveform_core::api::LIVENESS_PATH, &body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["outcome"], "retry", "{}", r.text());
    let sid = {
        let r = api(&s, LIVE_KEY, "GET", "/v3/submission?userid=lv1", "").await;
        r.json()["Items"][0]["submission_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let created = hooks.wait(&sid, "created").await;
    assert_common(&created, &sid, "lv1", "203.0.113.5");
    assert_eq!(created["kyc_result"]["status"], "incomplete");
    assert_eq!(created["attempts"], 0);
    assert!(created["retryCode"].is_null());

    // The person tries again: `retry` with the failed attempts so far; reopening the same
    // attempt (a reload; `genuine_liveness` opens it again) sends no second one.
    let _ = common::open_attempt(&s, &token).await;
    let retry = hooks.wait(&sid, "retry").await;
    assert_common(&retry, &sid, "lv1", "203.0.113.5");
    assert_eq!(retry["webhook_trigger"], "retry");
    assert_eq!(retry["kyc_result"]["status"], "incomplete");
    assert_eq!(retry["retryCode"], "liveness_failed");
    assert_eq!(retry["attempts"], 1);
    let r = common::genuine_liveness(&s, &token, &SEQ, 2).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["outcome"], "passed", "{}", r.text());

    // `submit` (pending, with the verification).
    let scene = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/media/passport_scene_640x480.png"
    ))
    .unwrap();
    let r = common::put_capture(&s, &token, "f", "document_front", "image/png", &scene).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = common::put_capture(&s, &token, "s", "selfie", "image/jpeg", &selfie_jpeg()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = session_post(&s, &token, "/api/session/finish", "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let submit = hooks.wait(&sid, "submit").await;
    assert_common(&submit, &sid, "lv1", "203.0.113.5");
    assert_eq!(submit["kyc_result"]["status"], "pending");
    assert!(submit["verification"].is_object(), "{submit}");

    // `rejected` with ARGOS's comment and commentCode.
    let r = api(
        &s,
        LIVE_KEY,
        "POST",
        "/v3/submission/review",
        &json!({"submissionId": sid, "status": "rejected", "admin": "ops@x",
                "rejectComment": "The ID has expired.", "commentCode": "expired_id"})
        .to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let rejected = hooks.wait(&sid, "rejected").await;
    assert_common(&rejected, &sid, "lv1", "203.0.113.5");
    assert_eq!(rejected["kyc_result"]["status"], "rejected");
    assert_eq!(rejected["kyc_result"]["comment"], "The ID has expired.");
    assert_eq!(rejected["kyc_result"]["commentCode"], "expired_id");
    assert_eq!(rejected["kyc_result"]["reviewer"], "agent");
    assert!(rejected["kyc_result"]["updated_at"].is_string());

    // PATCH changes the decided submission: `updated`, with the new status.
    let r = api(
        &s,
        LIVE_KEY,
        "PATCH",
        "/v3/submission/review",
        &json!({"submissionId": sid, "status": "approved", "admin": "ops@x"}).to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let updated = hooks.wait(&sid, "updated").await;
    assert_common(&updated, &sid, "lv1", "203.0.113.5");
    assert_eq!(updated["update_type"], "review");
    assert_eq!(updated["kyc_result"]["status"], "approved");

    // Every delivery is signed (our addition); exactly one `retry`.
    for h in hooks.of(&sid) {
        // The server's clock is the test's (START and on): check the HMAC at the header's t.
        let t: i64 = h
            .signature
            .split(',')
            .find_map(|p| p.strip_prefix("t="))
            .and_then(|t| t.parse().ok())
            .unwrap();
        assert!(
            liveform_server::webhooks::verify(SECRET, &h.signature, &h.raw, t, 0),
            "{h:?}"
        );
    }
    assert_eq!(
        hooks.triggers(&sid),
        ["created", "retry", "submit", "rejected", "updated"]
    );
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn approved_updated_by_image_insert_and_partial_delete_then_delete_as_selected() {
    let (hook, hooks) = receiver().await;
    let data = temp_dir("res");
    let s = TestServer::start_stored(&config(hook), &data).await;
    let token = open(&s, "res", "rs1", "203.0.113.9").await;
    let sid = capture_and_finish(&s, &token).await;
    let r = api(
        &s,
        RES_KEY,
        "POST",
        "/v3/submission/review",
        &json!({"submissionId": sid, "status": "approved", "admin": "ops@x"}).to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let approved = hooks.wait(&sid, "approved").await;
    assert_common(&approved, &sid, "rs1", "203.0.113.9");
    let k = &approved["kyc_result"];
    assert_eq!(k["status"], "approved");
    for f in ["created_at", "updated_at", "kyc_result_at", "pending_at"] {
        assert!(k[f].is_string(), "{f}: {approved}");
    }
    assert_eq!(k["reviewer"], "agent");
    assert_eq!(approved["idType"], "passport");
    assert_eq!(approved["issuingCountry"], "KOR");

    // `PUT /v3/submission/image` → `updated` (image).
    let b64 = base64::engine::general_purpose::STANDARD.encode(selfie_jpeg());
    let r = api(
        &s,
        RES_KEY,
        "PUT",
        "/v3/submission/image",
        &json!({"submissionId": sid, "admin": "ops@x", "selfieImage": b64}).to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let up = hooks.wait(&sid, "updated").await;
    assert_common(&up, &sid, "rs1", "203.0.113.9");
    assert_eq!(up["update_type"], "image");
    assert_eq!(up["kyc_result"]["status"], "approved");

    // A partial delete → `updated` (partial_delete), without what it removed.
    let r = api(
        &s,
        RES_KEY,
        "DELETE",
        &format!("/v3/submission/partial?submission_id={sid}&fields=data&data_fields=ip_address"),
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let up = hooks.nth(&sid, "updated", 1).await.body;
    assert_eq!(up["update_type"], "partial_delete");
    assert!(up["ipAddress"].is_null(), "{up}");

    // `DELETE /v3/submission` → `delete` with ARGOS's account_email, delete_time, comment.
    let r = api(
        &s,
        RES_KEY,
        "DELETE",
        &format!("/v3/submission?submission_id={sid}&admin=ops%40x&comment=gdpr"),
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let del = hooks.wait(&sid, "delete").await;
    assert_eq!(del["submission_id"], sid.as_str());
    assert_eq!(del["account_email"], "ops@x");
    assert_eq!(del["comment"], "gdpr");
    assert!(del["delete_time"].is_string());

    // A migration insert → `updated` (insert) with the inserted fields.
    let r = api(
        &s,
        RES_KEY,
        "POST",
        "/v3/submission",
        &json!({"admin": "ops@x", "email": "mig@mail.example", "fullName": "Hong Gil Dong",
                "birthDate": "1990-02-03", "kycStatus": "rejected", "idType": "passport",
                "issuingCountry": "KOR", "userid": "mig", "cf2": "batch-7",
                "ipAddress": "192.0.2.44"})
        .to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mid = r.json()["submissionId"].as_str().unwrap().to_owned();
    let ins = hooks.wait(&mid, "updated").await;
    assert_eq!(ins["update_type"], "insert");
    assert_eq!(ins["userid"], "mig");
    assert_eq!(ins["cf"]["cf2"], "batch-7");
    assert_eq!(ins["ipAddress"], "192.0.2.44");
    assert_eq!(ins["kyc_result"]["status"], "rejected");

    // `webhook_triggers = ["approved", "updated", "delete"]`: no `created`, no `submit`.
    assert_eq!(
        hooks.triggers(&sid),
        ["approved", "updated", "updated", "delete"]
    );
    let _ = std::fs::remove_dir_all(&data);
}

/// A Secure Data Transfer request body: `{"body": "<ECB Base64 of json>"}`.
fn sealed(json: &Value) -> String {
    json!({"body": encrypt_ecb(SEC_PROJECT_KEY, json.to_string().as_bytes())}).to_string()
}

/// The JSON inside an encrypted answer `{"data": "…", "isEncrypted": true}`.
fn opened(r: &Resp) -> Value {
    let v = r.json();
    assert_eq!(v["isEncrypted"], true, "{}", r.text());
    assert_eq!(v.as_object().unwrap().len(), 2, "{}", r.text());
    let plain = decrypt_ecb(SEC_PROJECT_KEY, v["data"].as_str().unwrap()).unwrap();
    serde_json::from_slice(&plain).unwrap()
}

#[tokio::test]
async fn secure_data_transfer_encrypts_api_bodies_and_webhooks() {
    let (hook, hooks) = receiver().await;
    let data = temp_dir("sec");
    let s = TestServer::start_stored(&config(hook), &data).await;
    let insert = json!({"admin": "ops@x", "email": "sec@mail.example", "fullName": "Kim Min",
                        "birthDate": "1991-04-05", "kycStatus": "approved", "idType": "passport",
                        "issuingCountry": "KOR", "userid": "sec1"});
    // A plain JSON body is refused: the project expects encrypted ones.
    let r = api(&s, SEC_KEY, "POST", "/v3/submission", &insert.to_string()).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["errorCode"], "invalid_payload", "{}", r.text());
    // So is one under another key, or not Base64.
    for bad in [
        json!({"body": encrypt_ecb("another-key-000000", insert.to_string().as_bytes())}),
        json!({"body": "%%%"}),
        json!({"data": "x"}),
    ] {
        let r = api(&s, SEC_KEY, "POST", "/v3/submission", &bad.to_string()).await;
        assert_eq!(
            (r.status, r.json()["errorCode"].as_str()),
            (400, Some("invalid_payload")),
            "{bad}: {}",
            r.text()
        );
    }
    // The encrypted request is accepted; the answer is encrypted.
    let r = api(&s, SEC_KEY, "POST", "/v3/submission", &sealed(&insert)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let answer = opened(&r);
    assert_eq!(answer["message"], "success");
    let sid = answer["submissionId"].as_str().unwrap().to_owned();
    // GET answers are encrypted too.
    let r = api(
        &s,
        SEC_KEY,
        "GET",
        &format!("/v3/submission?submission_id={sid}"),
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("sec@mail.example"));
    let got = opened(&r);
    assert_eq!(got["Items"][0]["email"], "sec@mail.example");
    // Refusals stay plain (our error body).
    let r = api(
        &s,
        SEC_KEY,
        "PATCH",
        "/v3/submission/review",
        &sealed(&json!({"submissionId": "nope", "status": "approved", "admin": "ops@x"})),
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (404, "LF-70003"),
        "{}",
        r.text()
    );
    // An encrypted PATCH works like a plain one.
    let r = api(
        &s,
        SEC_KEY,
        "PATCH",
        "/v3/submission/review",
        &sealed(
            &json!({"submissionId": sid, "status": "rejected", "admin": "ops@x",
                        "rejectComment": "manual"}),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(opened(&r)["finalStatus"], "rejected");

    // Webhooks: `{"response":{"body":"<AES-256-CBC zero IV>"}}`, signed as sent.
    let h = hooks.nth(&sid, "updated", 0).await;
    let wire: Value = serde_json::from_str(&h.raw).unwrap();
    assert_eq!(wire.as_object().unwrap().len(), 1, "{}", h.raw);
    assert!(!h.raw.contains("sec@mail.example"));
    let ct = wire["response"]["body"].as_str().unwrap();
    let plain: Value =
        serde_json::from_slice(&decrypt_cbc_zero_iv(SEC_PROJECT_KEY, ct).unwrap()).unwrap();
    assert_eq!(plain["webhook_trigger"], "updated");
    assert_eq!(plain["update_type"], "insert");
    assert_eq!(plain["email"], "sec@mail.example");
    let t: i64 = h
        .signature
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .and_then(|t| t.parse().ok())
        .unwrap();
    assert!(liveform_server::webhooks::verify(
        SECRET,
        &h.signature,
        &h.raw,
        t,
        0
    ));
    let review = hooks.nth(&sid, "updated", 1).await.body;
    assert_eq!(review["update_type"], "review");
    assert_eq!(review["kyc_result"]["commentCode"], "other");
    let _ = std::fs::remove_dir_all(&data);
}
