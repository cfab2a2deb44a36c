//! Issue 19, items 3 and 4: what the document's machine-readable zone unlocks, over loopback
//! HTTP. The server reads the zone of a passport's data page on upload (the code the form runs),
//! keeps the fields sealed, shows them in the results API (`ocr`, `data`,
//! `duplicated_information`) and applies the rules that need them at finish: the project's age
//! limit (`under_ageLimit`, lifted by an encrypted `ageLimit=false`), expired documents
//! (`expired_id`), and duplicate users matched on the holder (name, birth date, sex,
//! nationality), whatever `userid` the link claims. Without a valid read the rules are left to
//! review. The passports are drawn for each test (`liveform_vision::mrz_eval`).

mod common;

use common::{enc, everything_stored, temp_dir, TestServer};
use liveform_core::Algorithm;
use liveform_vision::mrz_eval;
use liveform_vision::DocumentKind;
use serde_json::{json, Value};

const API: &str = "doc-api-key-0123456789";
const KEY: &str = "doc-project-key-1";

fn config() -> String {
    let server = common::server_table("");
    format!(
        r#"{server}
[[project]]
pid = "doc"
key = "{KEY}"
algorithm = "gcm"
api_key = "{API}"
active_liveness = false
age_limit = 18
reject_expired_id = true
reject_duplicate_user = true
"#
    )
}

/// A TD3 zone for a holder.
fn zone(
    surname: &str,
    given: &str,
    dob: (i32, u32, u32),
    sex: mrz::Sex,
    expiry: (i32, u32, u32),
) -> Vec<String> {
    let d = |(y, m, d): (i32, u32, u32)| mrz::MrzDate::Calendar(mrz::Date::new(y, m, d));
    mrz::format_td3(&mrz::Td3Fields {
        document_code: "P".into(),
        issuing_country: "KOR".into(),
        document_number: "M12345678".into(),
        surname: surname.into(),
        given_names: given.into(),
        nationality: "KOR".into(),
        date_of_birth: d(dob),
        sex,
        date_of_expiry: d(expiry),
        personal_number: None,
    })
    .lines()
    .map(str::to_owned)
    .collect()
}

/// The passport's data page photographed (1920×1080, JPEG) with `lines` in its zone.
fn passport(lines: Vec<String>, seed: u64) -> Vec<u8> {
    let font = mrz_eval::load_font(mrz_eval::OCRB_PATH).expect("OCR-B (scripts/ensure-tools.sh)");
    let st = mrz_eval::still_of(&font, seed, DocumentKind::Td3, 1920, 1080, lines);
    let rgb: Vec<u8> = st.luma.iter().flat_map(|&v| [v, v, v]).collect();
    common::support::encode_jpeg(&rgb, st.w as u32, st.h as u32, 90)
}

fn link(json: &str) -> String {
    format!("pid=doc&encrypted={}", enc(Algorithm::Gcm, KEY, json))
}

async fn submit(s: &TestServer, query: &str, front: &[u8]) -> (String, String) {
    common::submit_passport(s, query, front).await
}

async fn item(s: &TestServer, sid: &str) -> Value {
    common::results_item(s, API, sid).await
}

const ADULT: (i32, u32, u32) = (1990, 3, 14);
const VALID_UNTIL: (i32, u32, u32) = (2034, 6, 30);

#[tokio::test]
async fn the_zone_is_read_sealed_and_shown_and_the_age_limit_rejects_a_minor() {
    eprintln!("backend: {}", common::backend_name());
    let data = temp_dir("doc-age");
    let s = TestServer::start_stored(&config(), &data).await;

    // An adult: the finish leaves it to review (no auto decision); the results API shows the
    // zone's fields, ARGOS's data fields from them, and the documented identity hash.
    let adult = passport(
        zone("HONG", "GILDONG", ADULT, mrz::Sex::Male, VALID_UNTIL),
        1,
    );
    let (st, adult_sid) = submit(&s, &link(r#"{"userid":"a1"}"#), &adult).await;
    let sid = adult_sid.clone();
    assert_eq!(st, "pending");
    let it = item(&s, &sid).await;
    let ocr = &it["ocr"];
    assert_eq!(ocr["mrz_valid"], true, "{it}");
    assert_eq!(ocr["surname"], "HONG", "{it}");
    assert_eq!(ocr["given_names"], "GILDONG");
    assert_eq!(ocr["date_of_birth"], "1990-03-14");
    assert_eq!(ocr["sex"], "M");
    assert_eq!(ocr["expiry_date"], "2034-06-30");
    assert_eq!(ocr["document_number"], "M12345678");
    assert_eq!(ocr["nationality"], "KOR");
    assert_eq!(it["data"]["full_name"], "HONG GILDONG");
    assert_eq!(it["data"]["date_of_birth"], "1990-03-14");
    assert_eq!(it["data"]["gender"], "male");
    assert_eq!(it["data"]["documentNumber"], "M12345678");
    let hash = it["duplicated_information"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert_eq!(hash.len(), 64, "{it}");
    // Keyed: not the plain SHA-256 of the identity, which anyone could compute from a name and
    // a birth date.
    let plain = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(b"HONG<<GILDONG|1990-03-14|M|KOR"))
    };
    assert_ne!(hash, plain);
    // The server's verdict on the zone is in the verification, its fields are not.
    let mrz = &it["verification"]["documents"]["front"]["mrz"];
    assert_eq!(mrz["valid"], true, "{it}");
    assert!(mrz.get("sealed").is_none(), "{mrz}");

    // A minor: rejected at finish with ARGOS's code.
    let minor = passport(
        zone("KIM", "MINJI", (2015, 1, 2), mrz::Sex::Female, VALID_UNTIL),
        2,
    );
    let (st, sid) = submit(&s, &link(r#"{"userid":"m1"}"#), &minor).await;
    assert_eq!(st, "rejected");
    let it = item(&s, &sid).await;
    assert_eq!(it["kyc"]["commentCode"], json!(["under_ageLimit"]), "{it}");
    assert_eq!(it["reviewer"], "system");
    assert_eq!(it["ocr"]["date_of_birth"], "2015-01-02");
    // The link's encrypted `ageLimit=false` lifts the limit; a plain one does not.
    let (st, _) = submit(&s, &link(r#"{"userid":"m2","ageLimit":false}"#), &minor).await;
    assert_eq!(st, "pending");
    let (st, _) = submit(&s, "pid=doc&userid=m3&ageLimit=false", &minor).await;
    assert_eq!(st, "rejected");

    // An expired passport: `expired_id`.
    let old = passport(
        zone("LEE", "SUNHEE", ADULT, mrz::Sex::Female, (2020, 1, 31)),
        3,
    );
    let (st, sid) = submit(&s, &link(r#"{"userid":"e1"}"#), &old).await;
    assert_eq!(st, "rejected");
    assert_eq!(
        item(&s, &sid).await["kyc"]["commentCode"],
        json!(["expired_id"])
    );

    // No readable zone (a plain surface): the rules cannot be checked, a reviewer decides.
    let (st, sid) = submit(&s, &link(r#"{"userid":"n1"}"#), &common::jpeg(800, 600)).await;
    assert_eq!(st, "pending");
    let it = item(&s, &sid).await;
    assert_eq!(it["ocr"], Value::Null, "{it}");
    assert_eq!(
        it["verification"]["rules_unchecked"],
        json!(["ageLimit", "expired_id", "rejectDuplicateUser"]),
        "{it}"
    );

    // A partial delete of `ocr` takes the read, what was derived from it, and the sealed copy
    // kept with the capture.
    let r = common::api(
        &s,
        API,
        "DELETE",
        &format!("/v3/submission/partial?submission_id={adult_sid}&fields=ocr"),
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let it = item(&s, &adult_sid).await;
    assert_eq!(it["ocr"], Value::Null, "{it}");
    assert_eq!(it["duplicated_information"], Value::Null, "{it}");
    assert!(it["data"].get("full_name").is_none(), "{it}");
    assert_eq!(
        it["verification"]["documents"]["front"]["mrz"]["valid"],
        true
    );

    // Nothing of the holders is stored in clear: not the names, not the document number.
    for (place, bytes) in everything_stored(&s, &data).await {
        for v in ["GILDONG", "MINJI", "SUNHEE", "M12345678", "1990-03-14"] {
            assert!(
                !bytes.windows(v.len()).any(|w| w == v.as_bytes()),
                "{v} in {place}"
            );
        }
    }
}

#[tokio::test]
async fn a_holder_is_a_duplicate_whatever_userid_the_link_claims() {
    eprintln!("backend: {}", common::backend_name());
    let data = temp_dir("doc-dup");
    let s = TestServer::start_stored(&config(), &data).await;
    let page = passport(
        zone("PARK", "JIWOO", ADULT, mrz::Sex::Female, VALID_UNTIL),
        4,
    );
    let (st, first) = submit(&s, &link(r#"{"userid":"p1"}"#), &page).await;
    assert_eq!(st, "pending");
    let r = common::api(
        &s,
        API,
        "POST",
        "/v3/submission/review",
        &json!({"submissionId": first, "status": "approved", "admin": "ops@x"}).to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // The same holder under another userid (and another photo of the page): a duplicate.
    let again = passport(
        zone("PARK", "JIWOO", ADULT, mrz::Sex::Female, VALID_UNTIL),
        5,
    );
    let (st, sid) = submit(&s, &link(r#"{"userid":"someone-else"}"#), &again).await;
    assert_eq!(st, "rejected");
    let it = item(&s, &sid).await;
    assert_eq!(it["kyc"]["commentCode"], json!(["duplicate_user"]), "{it}");
    // ARGOS's `duplicated_information` is the same for the same holder.
    let hash = |v: &Value| {
        v["duplicated_information"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(hash(&it), hash(&item(&s, &first).await));
    assert_eq!(hash(&it).len(), 64);
    // Another holder under another userid is not.
    let other = passport(zone("PARK", "JIHO", ADULT, mrz::Sex::Male, VALID_UNTIL), 6);
    let (st, sid) = submit(&s, &link(r#"{"userid":"p2"}"#), &other).await;
    assert_eq!(st, "pending");
    assert_ne!(hash(&item(&s, &sid).await), hash(&it));
    // The approved holder's userid is still the same person, whatever document comes with it.
    let (st, _) = submit(&s, &link(r#"{"userid":"p1"}"#), &other).await;
    assert_eq!(st, "rejected");
    // A page whose zone does not read cannot be matched on the holder: a reviewer decides.
    let (st, sid) = submit(&s, &link(r#"{"userid":"p3"}"#), &common::jpeg(800, 600)).await;
    assert_eq!(st, "pending");
    let it = item(&s, &sid).await;
    let unchecked = it["verification"]["rules_unchecked"].to_string();
    assert!(unchecked.contains("rejectDuplicateUser"), "{it}");
}

#[tokio::test]
async fn the_finish_screen_gets_the_fields_the_link_names() {
    let data = temp_dir("doc-review");
    let s = TestServer::start_stored(&config(), &data).await;
    let page = passport(
        zone("CHOI", "YUNA", ADULT, mrz::Sex::Female, VALID_UNTIL),
        7,
    );
    let token = common::open_passport(
        &s,
        &link(r#"{"userid":"r1","allowedDocumentFields":"name,issue_date,date_of_birth,number"}"#),
    )
    .await;
    let r = common::put_capture(&s, &token, "f", "document_front", "image/jpeg", &page).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = common::get_session(&s, &token, "/api/session/captures").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = &r.json()["document"];
    assert_eq!(doc["side"], "document_front", "{doc}");
    assert_eq!(doc["valid"], true);
    // In the link's order; `issue_date` is not in a zone.
    assert_eq!(
        doc["fields"],
        json!([
            {"field":"name","value":"CHOI YUNA"},
            {"field":"date_of_birth","value":"1990-03-14"},
            {"field":"number","value":"M12345678"}
        ])
    );
    // Before the finish, the results API shows the zone as read so far (as `verification`).
    let sid = r.json()["submission_id"].as_str().unwrap_or("").to_owned();
    let it = item(&s, &sid).await;
    assert_eq!(it["kyc"]["result"], "incomplete", "{it}");
    assert_eq!(it["ocr"]["surname"], "CHOI", "{it}");
    assert_eq!(it["ocr"]["mrz_valid"], true);
    // A retake with an unreadable photo: the review says so, with no fields.
    let r = common::put_capture(
        &s,
        &token,
        "f2",
        "document_front",
        "image/jpeg",
        &common::jpeg(800, 600),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = common::get_session(&s, &token, "/api/session/captures").await;
    let doc = &r.json()["document"];
    assert_eq!(doc["valid"], false, "{doc}");
    assert_eq!(doc["capture_id"], "f2");
    assert!(doc.get("fields").is_none(), "{doc}");
}
