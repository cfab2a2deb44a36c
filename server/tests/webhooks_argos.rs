//! Issue 18, item 3: webhooks with ARGOS's triggers and fields (`argos-liveform.md` §5), over
//! loopback HTTP to a receiver: `created`, `retry` (after a failed liveness attempt, with
//! `retryCode` and `attempts`), `submit`, `approved`, `rejected` (`comment`, `commentCode`),
//! `updated` (PATCH review, `PUT /v3/submission/image`, `POST /v3/submission`, partial delete),
//! `delete`; the common fields; the per-project `webhook_triggers`; and ARGOS's "Secure Data
//! Transfer" (§2.6): `/v3` bodies AES-256-ECB both ways, webhook bodies AES-256-CBC, zero IV.

mod common;

use std::net::SocketAddr;

use base64::Engine as _;
use common::client::SEQ;
use common::hooks::receiver_decrypting;
use common::{
    api, open_person, post_session, selfie_jpeg, submit_pending, temp_dir, Resp, TestServer,
};
use liveform_core::launch::crypto::{decrypt_cbc_zero_iv, decrypt_ecb, encrypt_ecb};
use serde_json::{json, Value};

const SECRET: &str = "whsec-argos-0123456789";
const LIVE_KEY: &str = "live-api-key-0123456789";
const RES_KEY: &str = "res-api-key-0123456789";
const SEC_KEY: &str = "sec-api-key-0123456789";
/// The `sec` project's `key`: Secure Data Transfer encrypts with it (SHA-256 → AES-256).
const SEC_PROJECT_KEY: &str = "ARGOS-TEST-KEY-0123456789abcdef";

fn config(hook: SocketAddr) -> String {
    let wh = common::hooks::config_lines(hook, SECRET);
    let server = common::server_table("client_ip_header = \"x-forwarded-for\"\n");
    format!(
        r#"{server}
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

/// The receiver of every project's webhooks (the `sec` project's decrypted).
async fn receiver() -> (SocketAddr, common::hooks::Hooks) {
    receiver_decrypting(SEC_PROJECT_KEY).await
}

/// `method /v3/submission/review` (POST decides, PATCH changes) approving `sid`.
async fn approve(s: &TestServer, key: &str, method: &str, sid: &str) -> Resp {
    let body = json!({"submissionId": sid, "status": "approved", "admin": "ops@x"});
    api(s, key, method, "/v3/submission/review", &body.to_string()).await
}

/// ARGOS's common fields, as the session was opened by [`open_person`].
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
    let token = open_person(&s, "live", "lv1", "203.0.113.5").await;

    // Attempt 1 opens the submission (`created`) and fails.
    let id = common::open_attempt(&s, &token).await;
    let body = common::liveness_attempt(&SEQ, 1, false, &[], &id);
    let r = post_session(&s, &token, liveform_core::api::LIVENESS_PATH, &body).await;
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
    let r = post_session(&s, &token, "/api/session/finish", "").await;
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
    let r = approve(&s, LIVE_KEY, "PATCH", &sid).await;
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
    let token = open_person(&s, "res", "rs1", "203.0.113.9").await;
    let sid = submit_pending(&s, &token).await;
    let r = approve(&s, RES_KEY, "POST", &sid).await;
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
