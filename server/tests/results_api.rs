//! Issue 18, item 1: the results API as ARGOS documents it (`argos-liveform.md` §5), over
//! loopback HTTP with the project's API key: paging (`count`, `nextpage_id`/`nextpage_date`,
//! stable under inserts), date filters, `request_type`, the POST / PATCH review rules and
//! `commentCode`, partial delete with ARGOS's names and ours, `PUT /v3/submission/image`,
//! `POST /v3/submission` (migration insert) and its validation errors, and `ipAddress` (sealed at
//! rest, returned, cleared).

mod common;

use std::net::SocketAddr;

use base64::Engine as _;
use common::hooks::receiver;
use common::{http_bytes, jpeg, multipart, selfie_jpeg, temp_dir, webp, Resp, TestServer};
use serde_json::{json, Value};

const API_KEY: &str = "results-api-key-0123456789";
const WEBHOOK_SECRET: &str = "whsec-results-0123456789";

fn config(hook: Option<SocketAddr>) -> String {
    let hook = hook
        .map(|a| common::hooks::config_lines(a, WEBHOOK_SECRET))
        .unwrap_or_default();
    let server = common::server_table("client_ip_header = \"x-forwarded-for\"\n");
    format!(
        r#"{server}
[[project]]
pid = "res"
key = "results-project-key-1"
algorithm = "ecb"
api_key = "{API_KEY}"
active_liveness = false
{hook}
"#
    )
}

async fn api(s: &TestServer, method: &str, path: &str, body: &str) -> Resp {
    common::api(s, API_KEY, method, path, body).await
}

fn argos_code(r: &Resp) -> String {
    r.json()["errorCode"].as_str().unwrap_or("").to_owned()
}

/// A migration insert (`POST /v3/submission`) with `extra` fields: its id.
async fn migrate(s: &TestServer, userid: &str, extra: Value) -> String {
    let mut body = json!({
        "admin": "ops@shop.example", "email": format!("{userid}@mail.example"),
        "fullName": "Hong Gil Dong", "birthDate": "1990-02-03", "kycStatus": "approved",
        "idType": "passport", "issuingCountry": "KOR", "userid": userid,
    });
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    let r = api(s, "POST", "/v3/submission", &body.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["message"], "success");
    r.json()["submissionId"].as_str().unwrap().to_owned()
}

async fn get_one(s: &TestServer, sid: &str) -> Value {
    let r = api(s, "GET", &format!("/v3/submission?submission_id={sid}"), "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["Items"][0].clone()
}

/// A person's submission through the form (passport, no liveness step), finished (`pending`),
/// the session opened from `ip` behind the proxy: its id.
async fn form_submission(s: &TestServer, userid: &str, ip: &str) -> String {
    let query = format!("pid=res&userid={userid}&email={userid}%40mail.example");
    let token = common::open_passport_via_proxy(s, &query, ip).await;
    common::submit_pending(s, &token).await
}

fn ids(r: &Resp) -> Vec<String> {
    r.json()["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["submission_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn paging_is_stable_under_inserts_with_date_filters_and_count_limits() {
    let data = temp_dir("paging");
    let s = TestServer::start_stored(&config(None), &data).await;
    // Two on 2027-01-15, five two days later (one second apart; two share their second).
    let mut early = Vec::new();
    for i in 0..2 {
        early.push(migrate(&s, &format!("early-{i}"), json!({})).await);
        s.advance(1);
    }
    s.advance(2 * 86_400);
    let mut late = Vec::new();
    for i in 0..5 {
        late.push(migrate(&s, &format!("late-{i}"), json!({})).await);
        if i != 2 {
            s.advance(1);
        }
    }
    // No lookup: the whole project, newest first, at most `count`.
    let r = api(&s, "GET", "/v3/submission", "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["count"], 7);
    assert!(r.json().get("nextpageKey").is_none(), "one page");
    let first = api(&s, "GET", "/v3/submission?count=3", "").await;
    assert_eq!(ids(&first).len(), 3);
    let key = first.json()["nextpageKey"].clone();
    assert_eq!(key["id"], ids(&first)[2].as_str());
    let date = key["created_at"].as_str().unwrap().to_owned();
    assert_eq!(date.len(), "YYYY-MM-DD-HH-MM-SS-ZZZ".len(), "{date}");
    // Inserts between pages: they are newer, so they never shift what follows the key.
    s.advance(5);
    migrate(&s, "between-1", json!({})).await;
    migrate(&s, "between-2", json!({})).await;
    let mut seen = ids(&first);
    let mut next = Some((key["id"].as_str().unwrap().to_owned(), date));
    while let Some((id, date)) = next.take() {
        let r = api(
            &s,
            "GET",
            &format!("/v3/submission?count=3&nextpage_id={id}&nextpage_date={date}"),
            "",
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        seen.extend(ids(&r));
        next = r.json().get("nextpageKey").map(|k| {
            (
                k["id"].as_str().unwrap().to_owned(),
                k["created_at"].as_str().unwrap().to_owned(),
            )
        });
    }
    let mut expected: Vec<String> = late
        .iter()
        .rev()
        .chain(early.iter().rev())
        .cloned()
        .collect();
    // Within one millisecond the order is by id (descending).
    let mut got = seen.clone();
    got.sort();
    got.dedup();
    assert_eq!(got.len(), seen.len(), "no item twice: {seen:?}");
    assert_eq!(seen.len(), 7, "every item once, none of the later inserts");
    expected.sort();
    got.sort();
    assert_eq!(got, expected);

    // Date filters: whole UTC days, inclusive.
    let r = api(&s, "GET", "/v3/submission?end_date=2027-01-15", "").await;
    let mut got = ids(&r);
    got.sort();
    let mut want = early.clone();
    want.sort();
    assert_eq!(got, want);
    let r = api(
        &s,
        "GET",
        "/v3/submission?start_date=2027-01-17&end_date=2027-01-17",
        "",
    )
    .await;
    assert_eq!(
        r.json()["count"],
        7,
        "five late and the two inserted between pages"
    );
    let r = api(
        &s,
        "GET",
        "/v3/submission?start_date=2027-01-16&end_date=2027-01-16",
        "",
    )
    .await;
    assert_eq!(r.json()["count"], 0);
    // A lookup combines with paging.
    let r = api(&s, "GET", "/v3/submission?userid=late-3&count=1", "").await;
    assert_eq!(ids(&r), [late[3].clone()]);

    // Refusals.
    for (q, code) in [
        ("count=0", "invalid_format"),
        ("count=51", "invalid_format"),
        ("start_date=2027-1-5", "invalid_format"),
        ("end_date=yesterday", "invalid_format"),
        ("nextpage_id=abc", "missing_data"),
        ("nextpage_id=abc&nextpage_date=2027-01-15", "invalid_format"),
        ("request_type=everything", "invalid_format"),
    ] {
        let r = api(&s, "GET", &format!("/v3/submission?{q}"), "").await;
        assert_eq!((r.status, r.code().as_str()), (400, "LF-70005"), "{q}");
        assert_eq!(argos_code(&r), code, "{q}");
    }
    let r = http_bytes(s.addr, "GET", "/v3/submission", &[], b"").await;
    assert_eq!((r.status, r.code().as_str()), (401, "LF-70001"));

    // request_type: parts of each item.
    let r = api(&s, "GET", "/v3/submission?count=1&request_type=kyc", "").await;
    let item = r.json()["Items"][0].clone();
    assert!(item.get("kyc").is_some() && item.get("submission_id").is_some());
    assert!(item.get("data").is_none() && item.get("email").is_none());
    let r = api(&s, "GET", "/v3/submission?count=1&request_type=data", "").await;
    let item = r.json()["Items"][0].clone();
    assert!(item.get("data").is_some() && item.get("email").is_some());
    assert!(item.get("kyc").is_none() && item.get("image").is_none());
    let r = api(&s, "GET", "/v3/submission?count=1&request_type=others", "").await;
    let item = r.json()["Items"][0].clone();
    assert!(item.get("kyc").is_none() && item.get("data").is_none());
    assert!(item.get("created_at").is_some() && item.get("submission_id").is_some());
    let r = api(&s, "GET", "/v3/submission?count=1&request_type=aml", "").await;
    let item = r.json()["Items"][0].clone();
    assert_eq!(item.as_object().unwrap().len(), 1, "{item}");
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn post_decides_pending_patch_changes_decided_with_comment_codes_and_ip_address() {
    let (hook, hooks) = receiver().await;
    let data = temp_dir("review");
    let s = TestServer::start_stored(&config(Some(hook)), &data).await;
    let sid = form_submission(&s, "rev-1", "203.0.113.77").await;
    let review = |method: &'static str, body: Value| {
        let s = &s;
        async move { api(s, method, "/v3/submission/review", &body.to_string()).await }
    };
    // PATCH is for decided submissions.
    let r = review(
        "PATCH",
        json!({"submissionId": sid, "status": "approved", "admin": "ops@x"}),
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "LF-70004"),
        "{}",
        r.text()
    );
    // POST decides the pending one.
    let r = review(
        "POST",
        json!({"submissionId": sid, "status": "approved", "admin": "ops@x"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["finalStatus"], "approved");
    assert_eq!(r.json()["message"], "Success to review submission.");
    // ... only the pending one.
    let r = review(
        "POST",
        json!({"submissionId": sid, "status": "rejected", "admin": "ops@x", "rejectComment": "no"}),
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "LF-70004"),
        "{}",
        r.text()
    );
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("Only submissions in pending status"));
    // PATCH: a rejection needs its comment; its code is from ARGOS's list.
    for (body, code) in [
        (
            json!({"submissionId": sid, "status": "rejected", "admin": "ops@x"}),
            "missing_data",
        ),
        (
            json!({"submissionId": sid, "status": "rejected", "admin": "ops@x",
                   "rejectComment": "blurry", "commentCode": "blurry_photo"}),
            "invalid_parameter",
        ),
        (
            json!({"submissionId": sid, "status": "approved", "admin": "ops@x",
                   "commentCode": "other"}),
            "invalid_parameter",
        ),
        (
            json!({"submissionId": sid, "status": "maybe", "admin": "ops@x"}),
            "invalid_parameter",
        ),
        (
            json!({"submissionId": sid, "status": "approved"}),
            "missing_data",
        ),
    ] {
        let r = review("PATCH", body.clone()).await;
        assert_eq!((r.status, argos_code(&r).as_str()), (400, code), "{body}");
    }
    let r = review(
        "PATCH",
        json!({"submissionId": "nope", "status": "approved", "admin": "ops@x"}),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (404, "LF-70003"));
    let r = review(
        "PATCH",
        json!({"submissionId": sid, "status": "rejected", "admin": "ops@x",
               "rejectComment": "Entered information does not match the ID document.",
               "commentCode": "id_info_dataMismatch"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["finalStatus"], "rejected");
    // Round trip: the API and the webhook carry the code (a PATCH sends `updated`, issue 18
    // item 3: tests/webhooks_argos.rs).
    let item = get_one(&s, &sid).await;
    assert_eq!(item["kyc"]["result"], "rejected");
    assert_eq!(item["kyc"]["commentCode"], json!(["id_info_dataMismatch"]));
    assert_eq!(
        item["kyc"]["comment"],
        json!(["Entered information does not match the ID document."])
    );
    assert_eq!(item["reviewer"], "agent");
    let hook = hooks.first("updated").await;
    assert_eq!(hook["update_type"], "review");
    assert_eq!(hook["kyc_result"]["status"], "rejected");
    assert_eq!(hook["kyc_result"]["commentCode"], "id_info_dataMismatch");
    assert_eq!(hook["submission_id"], sid.as_str());
    // A rejection without a code is `other`; approving clears both.
    let r = review(
        "PATCH",
        json!({"submissionId": sid, "status": "rejected", "admin": "ops@x", "rejectComment": "manual"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        get_one(&s, &sid).await["kyc"]["commentCode"],
        json!(["other"])
    );
    let r = review(
        "PATCH",
        json!({"submissionId": sid, "status": "approved", "admin": "ops@x"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let item = get_one(&s, &sid).await;
    assert_eq!(item["kyc"]["commentCode"], json!([]));

    // ipAddress: the address the proxy saw, returned, sealed at rest, cleared by a partial delete.
    assert_eq!(item["ipAddress"], "203.0.113.77");
    assert_eq!(item["data"]["ip_address"], "203.0.113.77");
    assert_eq!(item["email"], "rev-1@mail.example");
    assert_eq!(item["userid"], "rev-1");
    assert!(item["pending_at"].is_string() && item["kyc_result_at"].is_string());
    if common::backend_name() == "sqlite+dir" {
        let mut bytes = std::fs::read(data.join("liveform.sqlite3")).unwrap();
        bytes.extend(std::fs::read(data.join("liveform.sqlite3-wal")).unwrap_or_default());
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("203.0.113.77"),
            "the address in clear in the database"
        );
    }
    let r = api(
        &s,
        "DELETE",
        &format!("/v3/submission/partial?submission_id={sid}&fields=ipAddress"),
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(get_one(&s, &sid).await["ipAddress"], Value::Null);
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn partial_delete_takes_argos_names_and_ours() {
    let data = temp_dir("partial");
    let s = TestServer::start_stored(&config(None), &data).await;
    let sid = form_submission(&s, "pd-1", "192.0.2.10").await;
    let del = |q: String| {
        let s = &s;
        async move { api(s, "DELETE", &format!("/v3/submission/partial?{q}"), "").await }
    };
    // ARGOS's fields we keep nothing of: accepted, no-ops, named.
    let r = del(format!(
        "submission_id={sid}&fields=OCR_raw,applicant_id,additional_list,custom_duplicated_information,injection_action"
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["message"], "success");
    assert_eq!(r.json()["statusCode"], 200);
    assert_eq!(r.json()["ignored"].as_array().unwrap().len(), 5);
    // The MRZ read (and the hash derived from it) is kept, so it can be deleted: not a no-op.
    let r = del(format!(
        "submission_id={sid}&fields=ocr,duplicated_information"
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.json()
            .get("ignored")
            .is_none_or(|i| i.as_array().is_some_and(|a| a.is_empty())),
        "{}",
        r.text()
    );
    let item = get_one(&s, &sid).await;
    assert!(item["image"].get("idImage").is_some() && item["email"].is_string());
    // id_image (ARGOS) and selfieImage (ours).
    let r = del(format!("submission_id={sid}&fields=id_image")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let item = get_one(&s, &sid).await;
    assert!(item["image"].get("idImage").is_none());
    assert!(item["image"].get("selfieImage").is_some());
    let r = del(format!("submission_id={sid}&fields=selfieImage,email")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let item = get_one(&s, &sid).await;
    assert!(item["image"].get("selfieImage").is_none());
    assert_eq!(item["email"], Value::Null);
    assert_eq!(item["userid"], "pd-1");
    assert_eq!(s.capture_files(), 0);

    // `data` with data_fields on a migrated submission: only those parts.
    let m = migrate(
        &s,
        "pd-2",
        json!({"gender": "male", "ipAddress": "2001:db8::7", "cf1": "c-1", "nationality": "KOR"}),
    )
    .await;
    let r = del(format!(
        "submission_id={m}&fields=data&data_fields=gender,ip_address"
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let item = get_one(&s, &m).await;
    assert!(item["data"].get("gender").is_none(), "{item}");
    assert_eq!(item["ipAddress"], Value::Null);
    assert_eq!(item["data"]["name"], "Hong Gil Dong");
    assert_eq!(item["data"]["cf1"], "c-1");
    // `data` alone: all of it; `review` and `userid`.
    let r = del(format!("submission_id={m}&fields=data,review,userid")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let item = get_one(&s, &m).await;
    assert!(item["data"].get("name").is_none(), "{item}");
    assert_eq!(item["data"]["cf1"], Value::Null);
    assert_eq!(item["data"]["idType"], Value::Null);
    assert_eq!(item["userid"], Value::Null);
    assert_eq!(item["kyc"]["admin"], Value::Null);
    assert_eq!(item["kyc"]["result"], "approved", "the decision stays");

    // Refusals.
    for q in [
        format!("submission_id={m}&fields=password"),
        format!("submission_id={m}&fields="),
        format!("submission_id={m}&fields=email&data_fields=gender"),
        format!("submission_id={m}&fields=data&data_fields=shoe_size"),
    ] {
        let r = del(q.clone()).await;
        assert_eq!((r.status, r.code().as_str()), (400, "LF-70005"), "{q}");
    }
    let r = del("submission_id=nope&fields=email".into()).await;
    assert_eq!((r.status, r.code().as_str()), (404, "LF-70003"));
    let _ = std::fs::remove_dir_all(&data);
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

async fn put_image(s: &TestServer, fields: &[(&str, &str)]) -> Resp {
    let (ct, body) = multipart(fields);
    common::api_as(s, API_KEY, "PUT", "/v3/submission/image", &ct, &body).await
}

#[tokio::test]
async fn put_image_is_checked_like_an_upload_and_marked() {
    let data = temp_dir("image");
    let s = TestServer::start_stored(&config(None), &data).await;
    let m = migrate(&s, "img-1", json!({})).await;
    // A migrated submission is marked unverified.
    let item = get_one(&s, &m).await;
    assert_eq!(item["origin"], "migration");
    assert_eq!(item["verification"]["unverified"], true);
    assert_eq!(item["verification"]["passed"], false);

    // A real selfie: checked by the server (passes), stored, marked as put after the decision.
    let selfie = selfie_jpeg();
    let r = put_image(
        &s,
        &[
            ("submissionId", &m),
            ("admin", "ops@x"),
            ("selfieImage", &b64(&selfie)),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["message"], "complete to update image.");
    assert_eq!(r.json()["images"][0]["check"]["ok"], true, "{}", r.text());
    // A plain surface as the passport page: stored, flagged (no document), never trusted.
    let r = put_image(
        &s,
        &[
            ("submissionId", &m),
            ("admin", "ops@x"),
            ("idType", "passport"),
            ("idImage", &b64(&jpeg(800, 600))),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["images"][0]["check"]["ok"], false, "{}", r.text());
    let item = get_one(&s, &m).await;
    let api_images = item["verification"]["api_images"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(api_images.len(), 2, "{item}");
    let of = |t: &str| api_images.iter().find(|i| i["type"] == t).unwrap().clone();
    assert_eq!(of("selfieImage")["verified"], true);
    assert_eq!(of("selfieImage")["after_decision"], true);
    assert_eq!(of("selfieImage")["check"]["ok"], true);
    assert_eq!(of("idImage")["check"]["ok"], false);
    assert!(of("idImage")["check"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i == "no_document"));
    assert_eq!(item["kyc"]["result"], "approved", "the decision stays");
    assert_eq!(item["verification"]["passed"], false);
    let r = api(
        &s,
        "GET",
        &format!("/v3/image?submission_id={m}&type=selfieImage"),
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, selfie);
    // JSON bodies work too, and a second image replaces the first.
    let body = json!({"submissionId": m, "admin": "ops@x", "selfieImage": b64(&selfie)});
    let r = api(&s, "PUT", "/v3/submission/image", &body.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.capture_files(), 2);

    // ARGOS's validation errors.
    let img = b64(&jpeg(800, 600));
    for (fields, code) in [
        (
            vec![("admin", "ops@x"), ("selfieImage", img.as_str())],
            "missing_data",
        ),
        (
            vec![("submissionId", m.as_str()), ("admin", "ops@x")],
            "invalid_data",
        ),
        (
            vec![
                ("submissionId", m.as_str()),
                ("admin", "ops@x"),
                ("idImage", img.as_str()),
            ],
            "missing_data",
        ),
        (
            vec![
                ("submissionId", m.as_str()),
                ("admin", "ops@x"),
                ("idType", "drvlic"),
                ("idImage", img.as_str()),
            ],
            "invalid_idType",
        ),
        (
            vec![
                ("submissionId", m.as_str()),
                ("admin", "ops@x"),
                ("selfieImage", "%%%not base64"),
            ],
            "invalid_format",
        ),
        (
            vec![
                ("submissionId", m.as_str()),
                ("admin", "ops@x"),
                ("addressImage", img.as_str()),
            ],
            "invalid_parameter",
        ),
        (
            vec![
                ("submissionId", m.as_str()),
                ("admin", "ops@x"),
                ("photo", img.as_str()),
            ],
            "invalid_parameter",
        ),
    ] {
        let r = put_image(&s, &fields).await;
        assert_eq!(
            (r.status, argos_code(&r).as_str()),
            (400, code),
            "{}",
            r.text()
        );
    }
    // Only JPEG and PNG (ARGOS), decoded completely, of the upload's sizes.
    let webp_b64 = b64(&webp(800, 600));
    let small = b64(&jpeg(400, 300));
    let mut cut = jpeg(800, 600);
    cut.truncate(cut.len() / 2);
    let cut = b64(&cut);
    for bad in [&webp_b64, &small, &cut] {
        let r = put_image(
            &s,
            &[
                ("submissionId", &m),
                ("admin", "ops@x"),
                ("selfieImage", bad),
            ],
        )
        .await;
        assert_eq!(
            (r.status, argos_code(&r).as_str()),
            (400, "invalid_format"),
            "{}",
            r.text()
        );
    }
    let r = put_image(
        &s,
        &[
            ("submissionId", "nope"),
            ("admin", "ops@x"),
            ("selfieImage", &img),
        ],
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (404, "LF-70003"));
    let r = http_bytes(s.addr, "PUT", "/v3/submission/image", &[], b"{}").await;
    assert_eq!((r.status, r.code().as_str()), (401, "LF-70001"));
    let r = api(&s, "PUT", "/v3/submission/image", "{not json").await;
    assert_eq!(argos_code(&r), "invalid_payload");
    assert_eq!(s.capture_files(), 2, "nothing refused was stored");
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn post_submission_validates_as_argos_and_seals_what_it_stores() {
    let data = temp_dir("migration");
    let s = TestServer::start_stored(&config(None), &data).await;
    let good = json!({
        "admin": "ops@x", "email": "mig@mail.example", "fullName": "Kim Min Su",
        "birthDate": "1985-12-01", "kycStatus": "rejected", "idType": "drivers_license",
        "issuingCountry": "KOR", "nationality": "KOR", "gender": "female",
        "issueDate": "2020-01-02", "expireDate": "2030-01-01", "ipAddress": "198.51.100.23",
        "identityNumber": "851201-2000000", "documentNumber": "11-22-333333-44",
        "address_city": "Seoul", "address_full": "1 Sejong-daero, Seoul", "cf1": "crm-9",
        "userid": "mig-1"
    });
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b.to_string()
    };
    let without = |k: &str| {
        let mut b = good.clone();
        b.as_object_mut().unwrap().remove(k);
        b.to_string()
    };
    for (body, code) in [
        ("{not json".to_owned(), "invalid_payload"),
        ("[1,2]".to_owned(), "invalid_payload"),
        (without("fullName"), "missing_data"),
        (without("admin"), "missing_data"),
        (with("birthDate", json!("")), "missing_data"),
        (with("shoeSize", json!("44")), "invalid_parameter"),
        (with("kycStatus", json!("pending")), "invalid_format"),
        (with("email", json!("not-an-address")), "invalid_format"),
        (with("birthDate", json!("01/12/1985")), "invalid_format"),
        (with("expireDate", json!("2030-02-30")), "invalid_format"),
        (with("idType", json!("drvlic")), "invalid_format"),
        (with("issuingCountry", json!("KR")), "invalid_format"),
        (with("gender", json!("x")), "invalid_format"),
        (with("ipAddress", json!("300.1.1.1")), "invalid_format"),
        (with("cf2", json!(7)), "invalid_format"),
    ] {
        let r = api(&s, "POST", "/v3/submission", &body).await;
        assert_eq!(
            (r.status, argos_code(&r).as_str()),
            (400, code),
            "{body}: {}",
            r.text()
        );
        assert_eq!(r.code(), "LF-70005");
        assert!(r.json()["message"].is_string());
    }
    let r = api(&s, "GET", "/v3/submission", "").await;
    assert_eq!(r.json()["count"], 0, "nothing refused was stored");
    // ARGOS's own path for it too.
    let r = api(&s, "POST", "/v3/submission/migration", &good.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let sid = r.json()["submissionId"].as_str().unwrap().to_owned();
    let item = get_one(&s, &sid).await;
    assert_eq!(item["kyc"]["result"], "rejected");
    assert_eq!(item["origin"], "migration");
    assert_eq!(item["email"], "mig@mail.example");
    assert_eq!(item["ipAddress"], "198.51.100.23");
    assert_eq!(item["data"]["name"], "Kim Min Su");
    assert_eq!(item["data"]["date_of_birth"], "1985-12-01");
    assert_eq!(item["data"]["idcard_expireDate"], "2030-01-01");
    assert_eq!(item["data"]["address_formatted"], "1 Sejong-daero, Seoul");
    assert_eq!(item["data"]["idType"], "drivers_license");
    assert_eq!(item["data"]["idcard_issuingCountry"], "KOR");
    assert_eq!(item["reviewer"], "agent");
    let created = item["created_at"].as_str().unwrap();
    assert_eq!(
        created, "2027-01-15-08-00-00-000",
        "YYYY-MM-DD-HH-MM-SS-ZZZ"
    );
    if common::backend_name() == "sqlite+dir" {
        let mut bytes = std::fs::read(data.join("liveform.sqlite3")).unwrap();
        bytes.extend(std::fs::read(data.join("liveform.sqlite3-wal")).unwrap_or_default());
        let text = String::from_utf8_lossy(&bytes);
        for clear in [
            "198.51.100.23",
            "Kim Min Su",
            "851201-2000000",
            "Sejong-daero",
        ] {
            assert!(!text.contains(clear), "{clear} in clear in the database");
        }
    }
    // Purged with the submission.
    let r = api(
        &s,
        "DELETE",
        &format!("/v3/submission?submission_id={sid}"),
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = api(
        &s,
        "GET",
        &format!("/v3/submission?submission_id={sid}"),
        "",
    )
    .await;
    assert_eq!(r.json()["Items"], json!([]));
    let _ = std::fs::remove_dir_all(&data);
}
