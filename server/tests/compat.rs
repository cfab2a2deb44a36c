//! Issue 18, item 5: the compatibility suite. Every `/v3` endpoint is called with the request
//! shapes that `argos-liveform.md` §5 documents, and the answers' shapes — field names, JSON
//! types, timestamp formats, status codes — are compared with the documented ones, written below
//! as data. Likewise the webhook bodies of every trigger (received over loopback HTTP). Shapes the
//! reference leaves open are asserted as docs/api.md documents them and marked "inferred".
//! Behaviour (paging, review rules, validation, token expiry, …) is tested in results_api.rs,
//! tokens.rs and webhooks_argos.rs; this file is about shapes.

mod common;

use std::net::SocketAddr;

use base64::Engine as _;
use common::client::SEQ;
use common::hooks::{receiver, Hooks};
use common::{api_as, http_bytes, multipart, open_person, selfie_jpeg, temp_dir, Resp, TestServer};
use serde_json::{json, Value};

const API_KEY: &str = "compat-api-key-0123456789";
const LIVE_KEY: &str = "compat-live-key-0123456789";
const TOKEN_KEY: &str = "compat-token-key-0123456789";
const SECRET: &str = "whsec-compat-0123456789";

fn config(hook: SocketAddr) -> String {
    let wh = common::hooks::config_lines(hook, SECRET);
    let server = common::server_table("client_ip_header = \"x-forwarded-for\"\n");
    format!(
        r#"{server}
[[project]]
pid = "cmp"
key = "compat-project-key-1"
algorithm = "ecb"
api_key = "{API_KEY}"
active_liveness = false
{wh}
[[project]]
pid = "cmplive"
key = "compat-live-project-key"
algorithm = "ecb"
api_key = "{LIVE_KEY}"
liveness_challenges = ["closer", "back"]
{wh}
[[project]]
pid = "cmptok"
key = "compat-token-project-k"
algorithm = "ecb"
api_key = "{TOKEN_KEY}"
active_liveness = false
private_mode = true
token_registration = true
token_expiry_hours = 1
"#
    )
}

// ---------------------------------------------------------------------------------------------
// Shapes as data.

/// A JSON type, or a documented format of a string.
#[derive(Clone, Copy, Debug)]
enum Ty {
    Str,
    /// A string or `null` (a field that is present but may be empty).
    StrOrNull,
    Num,
    Bool,
    Obj,
    Arr,
    /// Exactly this string.
    Lit(&'static str),
    /// Exactly this integer.
    Int(i64),
    /// The results API's timestamp, `YYYY-MM-DD-HH-MM-SS-ZZZ` (§5 `GET /submission`).
    ApiTs,
    /// UTC ISO-8601 with milliseconds, `YYYY-MM-DDTHH:MM:SS.sssZ` (§5 webhooks: "UTC ISO-8601").
    Iso,
}

use Ty::*;

/// `s` matches `pattern`, where `d` is a digit and every other character itself.
fn digits_like(s: &str, pattern: &str) -> bool {
    s.len() == pattern.len()
        && s.bytes().zip(pattern.bytes()).all(|(c, p)| match p {
            b'd' => c.is_ascii_digit(),
            p => c == p,
        })
}

fn is_api_ts(s: &str) -> bool {
    digits_like(s, "dddd-dd-dd-dd-dd-dd-ddd")
}

fn is_iso(s: &str) -> bool {
    digits_like(s, "dddd-dd-ddTdd:dd:dd.dddZ")
}

fn matches(v: &Value, t: Ty) -> bool {
    match t {
        Str => v.is_string(),
        StrOrNull => v.is_string() || v.is_null(),
        Num => v.is_number(),
        Bool => v.is_boolean(),
        Obj => v.is_object(),
        Arr => v.is_array(),
        Lit(s) => v == s,
        Int(n) => v.as_i64() == Some(n),
        ApiTs => v.as_str().is_some_and(is_api_ts),
        Iso => v.as_str().is_some_and(is_iso),
    }
}

/// Every `(JSON pointer, type)` of `shape` is present in `v` with that type.
#[track_caller]
fn assert_shape(what: &str, v: &Value, shape: &[(&str, Ty)]) {
    let bad: Vec<String> = shape
        .iter()
        .filter_map(|(path, t)| match v.pointer(path) {
            None => Some(format!("{path}: missing (want {t:?})")),
            Some(x) if !matches(x, *t) => Some(format!("{path}: {x} is not {t:?}")),
            Some(_) => None,
        })
        .collect();
    assert!(bad.is_empty(), "{what}: {bad:#?}\nin {v:#}");
}

/// The answer's status is `status` and its JSON has `shape`: the JSON.
#[track_caller]
fn answer(what: &str, r: &Resp, status: u16, shape: &[(&str, Ty)]) -> Value {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    let v = r.json();
    assert_shape(what, &v, shape);
    v
}

/// Our refusal body with ARGOS's validation code beside it (docs/api.md "Results API":
/// `code`, `message_key`, `detail`, `reference` + ARGOS's `errorCode` and `message`).
const ARGOS_ERROR: &[(&str, Ty)] = &[
    ("/code", Str),
    ("/message_key", Str),
    ("/detail", Str),
    ("/reference", Str),
    ("/errorCode", Str),
    ("/message", Str),
];

/// Our refusal body (no ARGOS code: authentication, unknown ids).
const ERROR: &[(&str, Ty)] = &[
    ("/code", Str),
    ("/message_key", Str),
    ("/detail", Str),
    ("/reference", Str),
];

/// §5 `GET /submission`: `Items[]` with `data{…, idcard_issuingCountry alpha-3, idType…}`,
/// `image{…}`, `verification`, timestamps `YYYY-MM-DD-HH-MM-SS-ZZZ`; the top-level and `kyc`
/// fields as docs/api.md's item example (ARGOS's get-submission page, not all in the reference).
/// Arrays for `kyc.comment`/`commentCode`: inferred (ARGOS's examples; its field table: String).
const ITEM: &[(&str, Ty)] = &[
    ("/submission_id", Str),
    ("/email", StrOrNull),
    ("/userid", StrOrNull),
    ("/tokenId", StrOrNull),
    ("/ipAddress", StrOrNull),
    ("/data", Obj),
    ("/data/cf1", StrOrNull),
    ("/data/cf2", StrOrNull),
    ("/data/cf3", StrOrNull),
    ("/data/idType", StrOrNull),
    ("/data/idcard_issuingCountry", StrOrNull),
    ("/data/ip_address", StrOrNull),
    ("/kyc", Obj),
    ("/kyc/result", Str),
    ("/kyc/comment", Arr),
    ("/kyc/commentCode", Arr),
    ("/image", Obj),
    ("/verification", Obj),
    ("/created_at", ApiTs),
    ("/updated_at", ApiTs),
];

/// A finished form submission adds `pending_at` (ARGOS's name) in the API's format.
const FINISHED: &[(&str, Ty)] = &[("/pending_at", ApiTs)];
/// A decided one adds `kyc_result_at` and `reviewer` (`system` | `agent`).
const DECIDED: &[(&str, Ty)] = &[("/kyc_result_at", ApiTs), ("/reviewer", Str)];

/// §5 `POST /submission`: "→ `submissionId`"; `message: "success"` as ARGOS's page.
const INSERTED: &[(&str, Ty)] = &[("/message", Lit("success")), ("/submissionId", Str)];

/// `POST /v3/submission/review` as docs/api.md (ARGOS's review page: `submissionId`, `message`,
/// `finalStatus`, `status`; the reference's §5 does not list the review endpoint).
const REVIEWED: &[(&str, Ty)] = &[
    ("/submissionId", Str),
    ("/message", Lit("Success to review submission.")),
    ("/finalStatus", Str),
    ("/status", Str),
];

/// §5 `PUT /submission/image`: `{"message":"complete to update image."}`; `submissionId` and
/// `images[]` are ours.
const IMAGE_PUT: &[(&str, Ty)] = &[
    ("/message", Lit("complete to update image.")),
    ("/submissionId", Str),
    ("/images", Arr),
    ("/images/0/type", Lit("selfieImage")),
    // `check` as the form's captures: `ok`, and `issues` when there are any.
    ("/images/0/check/ok", Bool),
];

/// `DELETE /v3/submission/partial` as ARGOS's page (docs/api.md): `message`, `content`,
/// `statusCode`; `submission_id`, `deleted`, `ignored` are ours.
const PARTIAL: &[(&str, Ty)] = &[
    ("/message", Lit("success")),
    ("/content", Str),
    ("/statusCode", Int(200)),
    ("/submission_id", Str),
    ("/deleted", Arr),
    ("/ignored", Arr),
];

/// `DELETE /v3/submission` (docs/api.md).
const DELETED: &[(&str, Ty)] = &[("/message", Lit("deleted")), ("/submission_id", Str)];

/// §5 webhooks, common fields: `submission_id`, `email`, `cf{cf1,cf2,cf3}`, `userid`, `tokenId`,
/// `ipAddress` (`duplicated_information` is not sent: documented difference).
const HOOK_COMMON: &[(&str, Ty)] = &[
    ("/webhook_trigger", Str),
    ("/submission_id", Str),
    ("/email", StrOrNull),
    ("/cf", Obj),
    ("/cf/cf1", StrOrNull),
    ("/cf/cf2", StrOrNull),
    ("/cf/cf3", StrOrNull),
    ("/userid", StrOrNull),
    ("/tokenId", StrOrNull),
    ("/ipAddress", StrOrNull),
    ("/kyc_result", Obj),
    ("/kyc_result/status", Str),
    ("/kyc_result/created_at", Iso),
    ("/kyc_result/updated_at", Iso),
];

/// §5: `created`/`retry`: `kyc_result.status: "incomplete"`, `retryCode`, `attempts`.
/// `created`'s values (`null`, `0`) and `retry`'s (`liveness_failed`, a count): inferred.
const HOOK_CREATED: &[(&str, Ty)] = &[
    ("/webhook_trigger", Lit("created")),
    ("/kyc_result/status", Lit("incomplete")),
    ("/retryCode", StrOrNull),
    ("/attempts", Int(0)),
];
const HOOK_RETRY: &[(&str, Ty)] = &[
    ("/webhook_trigger", Lit("retry")),
    ("/kyc_result/status", Lit("incomplete")),
    ("/retryCode", Lit("liveness_failed")),
    ("/attempts", Int(1)),
];

/// §5: `submit` (pending only).
const HOOK_SUBMIT: &[(&str, Ty)] = &[
    ("/webhook_trigger", Lit("submit")),
    ("/kyc_result/status", Lit("pending")),
    ("/kyc_result/pending_at", Iso),
];

/// §5: `approved`: `kyc_result{status, created_at, updated_at, kyc_result_at, pending_at,
/// reviewer: system|agent}`, `idType`, `issuingCountry` (no OCR fields: documented difference).
const HOOK_APPROVED: &[(&str, Ty)] = &[
    ("/webhook_trigger", Lit("approved")),
    ("/kyc_result/status", Lit("approved")),
    ("/kyc_result/kyc_result_at", Iso),
    ("/kyc_result/pending_at", Iso),
    ("/kyc_result/reviewer", Lit("agent")),
    ("/idType", StrOrNull),
    ("/issuingCountry", StrOrNull),
];

/// §5: `rejected`: `kyc_result{status, comment, commentCode, updated_at}`.
const HOOK_REJECTED: &[(&str, Ty)] = &[
    ("/webhook_trigger", Lit("rejected")),
    ("/kyc_result/status", Lit("rejected")),
    ("/kyc_result/comment", Str),
    ("/kyc_result/commentCode", Str),
];

/// §5 lists `updated`; its fields beyond the common ones are not in the reference: the current
/// `kyc_result` and our `update_type` (inferred / ours).
const HOOK_UPDATED: &[(&str, Ty)] = &[("/webhook_trigger", Lit("updated")), ("/update_type", Str)];

/// §5: `delete`: `account_email`, `delete_time`, `comment` (timestamps UTC ISO-8601).
const HOOK_DELETE: &[(&str, Ty)] = &[
    ("/webhook_trigger", Lit("delete")),
    ("/account_email", Str),
    ("/delete_time", Iso),
    ("/comment", Str),
];

// ---------------------------------------------------------------------------------------------
// Driving the server.

/// The `n`th (0-based) `event` webhook of submission `sid`, waited for: it has the common fields
/// and `shape`.
async fn check_hook(
    hooks: &Hooks,
    sid: &str,
    event: &str,
    n: usize,
    shape: &[(&str, Ty)],
) -> Value {
    let h = hooks.nth(sid, event, n).await.body;
    assert_shape(&format!("{event} webhook"), &h, HOOK_COMMON);
    assert_shape(&format!("{event} webhook"), &h, shape);
    h
}

async fn json_api(s: &TestServer, method: &str, path: &str, body: &Value) -> Resp {
    let b = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    api_as(s, API_KEY, method, path, "application/json", b.as_bytes()).await
}

/// A finished form submission of project `cmp` (`pending`): its id.
async fn form_submission(s: &TestServer, userid: &str) -> String {
    let token = open_person(s, "cmp", userid, "203.0.113.7").await;
    let r = common::capture_and_finish(s, &token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["submission_id"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------------

/// The results API (§5 `GET/POST /submission`, `PUT /submission/image`, review, partial and
/// full delete, `GET /image`) and the webhooks they send (`submit`, `approved`, `rejected`,
/// `updated`, `delete`).
#[tokio::test]
async fn results_api_and_webhook_shapes_match_the_reference() {
    let (hook, hooks) = receiver().await;
    let data = temp_dir("results");
    let s = TestServer::start_stored(&config(hook), &data).await;

    // Authentication (§5: `x-api-key` on every call; 403 for a bad key). Missing key: 401 (ours).
    let r = http_bytes(s.addr, "GET", "/v3/submission", &[], b"").await;
    answer("no key", &r, 401, ERROR);
    let r = api_as(&s, "not-a-key-0123456789", "GET", "/v3/submission", "", b"").await;
    answer("bad key", &r, 403, ERROR);

    // Two form submissions (`submit` webhooks), one to approve, one to reject.
    let a = form_submission(&s, "ua").await;
    let b = form_submission(&s, "ub").await;
    check_hook(&hooks, &a, "submit", 0, HOOK_SUBMIT).await;

    // §5 `POST /submission` (migration insert): every documented field, strings only.
    let insert = json!({
        "admin": "ops@shop.example", "email": "mig@mail.example", "fullName": "Hong Gil Dong",
        "birthDate": "1990-02-03", "kycStatus": "approved", "idType": "passport",
        "issuingCountry": "KOR", "nationality": "KOR", "gender": "male",
        "issueDate": "2020-01-01", "expireDate": "2030-01-01", "ipAddress": "192.0.2.44",
        "identityNumber": "900203-1234567", "documentNumber": "M12345678",
        "address_city": "Seoul", "address_country": "KOR", "address_state": "Seoul",
        "address_street": "1 Sejong-daero", "address_full": "1 Sejong-daero, Seoul",
        "cf1": "c1", "cf2": "c2", "cf3": "c3", "userid": "mig-1",
    });
    let r = json_api(&s, "POST", "/v3/submission", &insert).await;
    let m = answer("POST /v3/submission", &r, 200, INSERTED)["submissionId"]
        .as_str()
        .unwrap()
        .to_owned();
    check_hook(&hooks, &m, "updated", 0, HOOK_UPDATED).await;
    // ARGOS's page path for the same call.
    let mut second = insert.clone();
    second["userid"] = json!("mig-2");
    let r = json_api(&s, "POST", "/v3/submission/migration", &second).await;
    answer("POST /v3/submission/migration", &r, 200, INSERTED);
    // §5's 400 codes: `missing_data` (a required field), `invalid_payload` (not JSON),
    // `invalid_parameter` (an unlisted field), `invalid_format` (not a string).
    for (body, code) in [
        (
            json!({"admin": "ops@shop.example"}).to_string(),
            "missing_data",
        ),
        ("not json".to_owned(), "invalid_payload"),
        (
            {
                let mut x = insert.clone();
                x["extra"] = json!("1");
                x.to_string()
            },
            "invalid_parameter",
        ),
        (
            {
                let mut x = insert.clone();
                x["cf1"] = json!(7);
                x.to_string()
            },
            "invalid_format",
        ),
    ] {
        let r = api_as(
            &s,
            API_KEY,
            "POST",
            "/v3/submission",
            "application/json",
            body.as_bytes(),
        )
        .await;
        let v = answer("POST /v3/submission refusal", &r, 400, ARGOS_ERROR);
        assert_eq!(v["errorCode"], code, "{body}");
    }

    // §5 `GET /submission` by `submission_id`, `userid`, `email`: `Items[]`.
    let r = json_api(
        &s,
        "GET",
        &format!("/v3/submission?submission_id={a}"),
        &Value::Null,
    )
    .await;
    let v = answer("GET by submission_id", &r, 200, &[("/Items", Arr)]);
    assert_eq!(v["Items"].as_array().unwrap().len(), 1);
    let item = &v["Items"][0];
    assert_shape("pending item", item, ITEM);
    assert_shape("pending item", item, FINISHED);
    assert_eq!(item["kyc"]["result"], "pending");
    for q in ["userid=ua", "email=ua%40mail.example"] {
        let r = json_api(&s, "GET", &format!("/v3/submission?{q}"), &Value::Null).await;
        let v = answer(q, &r, 200, &[("/Items", Arr), ("/Items/0", Obj)]);
        assert_shape(q, &v["Items"][0], ITEM);
    }
    // The migrated one: ARGOS's `data` identity names (§5 / docs/api.md).
    let r = json_api(
        &s,
        "GET",
        &format!("/v3/submission?submission_id={m}"),
        &Value::Null,
    )
    .await;
    let v = answer("GET migrated", &r, 200, &[("/Items/0", Obj)]);
    let mig = &v["Items"][0];
    assert_shape("migrated item", mig, ITEM);
    assert_shape("migrated item", mig, DECIDED);
    assert_shape(
        "migrated item data",
        mig,
        &[
            ("/data/name", Lit("Hong Gil Dong")),
            ("/data/gender", Lit("male")),
            ("/data/nationality", Lit("KOR")),
            ("/data/date_of_birth", Lit("1990-02-03")),
            ("/data/idcard_issuingCountry", Lit("KOR")),
            ("/data/idType", Lit("passport")),
            ("/data/idcard_issueDate", Str),
            ("/data/idcard_expireDate", Str),
            ("/data/identityNumber", Str),
            ("/data/documentNumber", Str),
            ("/data/address_city", Str),
            ("/data/address_country", Str),
            ("/data/address_state", Str),
            ("/data/address_street", Str),
            ("/data/address_formatted", Str),
            ("/data/ip_address", Lit("192.0.2.44")),
            ("/ipAddress", Lit("192.0.2.44")),
            ("/kyc/result", Lit("approved")),
        ],
    );

    // §5 paging: `count`, `nextpage_id`/`nextpage_date`, `start_date`/`end_date` (YYYY-MM-DD),
    // `request_type`. `nextpageKey {id, created_at}` as ARGOS; the list: `count` + `Items`.
    let r = json_api(
        &s,
        "GET",
        "/v3/submission?count=1&start_date=2027-01-15&end_date=2027-01-15",
        &Value::Null,
    )
    .await;
    let v = answer(
        "GET list page",
        &r,
        200,
        &[
            ("/count", Int(1)),
            ("/Items", Arr),
            ("/nextpageKey/id", Str),
            ("/nextpageKey/created_at", ApiTs),
        ],
    );
    let (id, date) = (
        v["nextpageKey"]["id"].as_str().unwrap().to_owned(),
        v["nextpageKey"]["created_at"].as_str().unwrap().to_owned(),
    );
    let r = json_api(
        &s,
        "GET",
        &format!("/v3/submission?count=50&nextpage_id={id}&nextpage_date={date}"),
        &Value::Null,
    )
    .await;
    let v = answer(
        "GET next page",
        &r,
        200,
        &[("/count", Num), ("/Items", Arr)],
    );
    assert_eq!(v["Items"].as_array().unwrap().len(), 3, "{v}");
    assert!(v.get("nextpageKey").is_none(), "{v}");
    // `request_type` (inferred: which fields each keeps).
    for (rt, shape) in [
        (
            "kyc",
            &[
                ("/Items/0/submission_id", Str),
                ("/Items/0/kyc/result", Str),
            ][..],
        ),
        (
            "data",
            &[("/Items/0/submission_id", Str), ("/Items/0/data", Obj)][..],
        ),
        ("aml", &[("/Items/0/submission_id", Str)][..]),
        ("others", &[("/Items/0/submission_id", Str)][..]),
    ] {
        let r = json_api(
            &s,
            "GET",
            &format!("/v3/submission?submission_id={a}&request_type={rt}"),
            &Value::Null,
        )
        .await;
        answer(rt, &r, 200, shape);
    }
    // A bad `count` / date: 400 with ARGOS's `invalid_format` (inferred: refused, not clamped).
    for q in ["count=51", "start_date=15-01-2027", "request_type=ocr"] {
        let r = json_api(&s, "GET", &format!("/v3/submission?{q}"), &Value::Null).await;
        let v = answer(q, &r, 400, ARGOS_ERROR);
        assert_eq!(v["errorCode"], "invalid_format", "{q}");
    }

    // Review: approve `a` (POST decides a pending one), reject `b` with a reject code.
    let r = json_api(
        &s,
        "POST",
        "/v3/submission/review",
        &json!({"submissionId": a, "status": "approved", "admin": "ops@shop.example"}),
    )
    .await;
    answer("POST review approve", &r, 200, REVIEWED);
    check_hook(&hooks, &a, "approved", 0, HOOK_APPROVED).await;
    let r = json_api(
        &s,
        "POST",
        "/v3/submission/review",
        &json!({"submissionId": b, "status": "rejected", "admin": "ops@shop.example",
                "rejectComment": "Entered information does not match the ID document.",
                "commentCode": "id_info_dataMismatch"}),
    )
    .await;
    answer("POST review reject", &r, 200, REVIEWED);
    check_hook(&hooks, &b, "rejected", 0, HOOK_REJECTED).await;
    let r = json_api(
        &s,
        "GET",
        &format!("/v3/submission?submission_id={b}"),
        &Value::Null,
    )
    .await;
    let v = answer("GET rejected", &r, 200, &[("/Items/0", Obj)]);
    assert_shape("rejected item", &v["Items"][0], ITEM);
    assert_shape("rejected item", &v["Items"][0], DECIDED);
    assert_shape(
        "rejected item",
        &v["Items"][0],
        &[
            ("/kyc/comment/0", Str),
            ("/kyc/commentCode/0", Lit("id_info_dataMismatch")),
        ],
    );
    // POST on a decided one: 400 `invalid_submission` (ARGOS: "Only submissions in pending
    // status can be reviewed").
    let r = json_api(
        &s,
        "POST",
        "/v3/submission/review",
        &json!({"submissionId": a, "status": "rejected", "admin": "ops@shop.example",
                "rejectComment": "late"}),
    )
    .await;
    let v = answer("POST review decided", &r, 400, ARGOS_ERROR);
    assert_eq!(v["errorCode"], "invalid_submission");
    // PATCH (inferred shape: the POST's body and answer) changes a decided one → `updated`.
    let r = json_api(
        &s,
        "PATCH",
        "/v3/submission/review",
        &json!({"submissionId": b, "status": "approved", "admin": "ops@shop.example"}),
    )
    .await;
    answer("PATCH review", &r, 200, REVIEWED);
    let h = check_hook(&hooks, &b, "updated", 0, HOOK_UPDATED).await;
    assert_eq!(h["update_type"], "review");

    // §5 `PUT /submission/image`: multipart/form-data, Base64 strings, `submissionId`, `admin`.
    let selfie = base64::engine::general_purpose::STANDARD.encode(selfie_jpeg());
    let (ct, body) = multipart(&[
        ("submissionId", &a),
        ("admin", "ops@shop.example"),
        ("selfieImage", &selfie),
    ]);
    let r = api_as(&s, API_KEY, "PUT", "/v3/submission/image", &ct, &body).await;
    answer("PUT /v3/submission/image", &r, 200, IMAGE_PUT);
    let h = check_hook(&hooks, &a, "updated", 0, HOOK_UPDATED).await;
    assert_eq!(h["update_type"], "image");
    // §5: ≥ 1 image; ARGOS's codes (no image: `invalid_data`).
    let (ct, body) = multipart(&[("submissionId", &a), ("admin", "ops@shop.example")]);
    let r = api_as(&s, API_KEY, "PUT", "/v3/submission/image", &ct, &body).await;
    let v = answer("PUT image without image", &r, 400, ARGOS_ERROR);
    assert_eq!(v["errorCode"], "invalid_data");

    // §5 `GET /image?submission_id=&type=`: the file.
    for t in ["idImage", "selfieImage"] {
        let r = json_api(
            &s,
            "GET",
            &format!("/v3/image?submission_id={a}&type={t}"),
            &Value::Null,
        )
        .await;
        assert_eq!(r.status, 200, "{t}: {}", r.text());
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("image/")),
            "{t}: {:?}",
            r.header("content-type")
        );
    }
    let r = json_api(
        &s,
        "GET",
        &format!("/v3/image?submission_id={a}&type=idBackImage"),
        &Value::Null,
    )
    .await;
    answer("no such image", &r, 404, ERROR);

    // Partial delete with ARGOS's `fields` / `data_fields` names.
    let r = json_api(
        &s,
        "DELETE",
        &format!(
            "/v3/submission/partial?submission_id={a}&fields=data,OCR_raw&data_fields=ip_address"
        ),
        &Value::Null,
    )
    .await;
    let v = answer("DELETE partial", &r, 200, PARTIAL);
    assert!(
        v["ignored"].as_array().unwrap().contains(&json!("OCR_raw")),
        "{v}"
    );
    let h = check_hook(&hooks, &a, "updated", 1, HOOK_UPDATED).await;
    assert_eq!(h["update_type"], "partial_delete");
    let r = json_api(
        &s,
        "DELETE",
        &format!("/v3/submission/partial?submission_id={a}"),
        &Value::Null,
    )
    .await;
    let v = answer("DELETE partial without fields", &r, 400, ARGOS_ERROR);
    assert_eq!(v["errorCode"], "missing_data");

    // `DELETE /v3/submission` → `delete` webhook.
    let r = json_api(
        &s,
        "DELETE",
        &format!("/v3/submission?submission_id={a}&admin=ops%40shop.example&comment=gdpr"),
        &Value::Null,
    )
    .await;
    answer("DELETE /v3/submission", &r, 200, DELETED);
    check_hook(&hooks, &a, "delete", 0, HOOK_DELETE).await;
    // Unknown submission: 404 (ours; ARGOS answers 400 — documented difference).
    let r = json_api(
        &s,
        "GET",
        &format!("/v3/submission?submission_id={a}"),
        &Value::Null,
    )
    .await;
    if r.status == 200 {
        assert_eq!(r.json()["Items"], json!([]), "{}", r.text());
    } else {
        answer("GET deleted", &r, 404, ERROR);
    }
    let r = json_api(
        &s,
        "DELETE",
        &format!("/v3/submission?submission_id={a}"),
        &Value::Null,
    )
    .await;
    answer("DELETE unknown", &r, 404, ERROR);

    let _ = std::fs::remove_dir_all(&data);
}

/// The `created` and `retry` webhooks (§5: `kyc_result.status: "incomplete"`, `retryCode`,
/// `attempts`) from a person whose first liveness attempt failed.
#[tokio::test]
async fn created_and_retry_webhook_shapes_match_the_reference() {
    let (hook, hooks) = receiver().await;
    let data = temp_dir("retry");
    let s = TestServer::start_stored(&config(hook), &data).await;
    let token = open_person(&s, "cmplive", "lv1", "203.0.113.5").await;
    let id = common::open_attempt(&s, &token).await;
    let body = common::liveness_attempt(&SEQ, 1, false, &[], &id);
    let r = common::post_session(&s, &token, liveform_core::api::LIVENESS_PATH, &body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let _ = common::open_attempt(&s, &token).await;
    let r = api_as(
        &s,
        LIVE_KEY,
        "GET",
        "/v3/submission?userid=lv1",
        "application/json",
        b"",
    )
    .await;
    let v = answer("incomplete", &r, 200, &[("/Items/0", Obj)]);
    let item = &v["Items"][0];
    assert_shape("incomplete item", item, ITEM);
    assert_eq!(item["kyc"]["result"], "incomplete");
    let sid = item["submission_id"].as_str().unwrap().to_owned();
    let h = check_hook(&hooks, &sid, "created", 0, HOOK_CREATED).await;
    assert_eq!(h["ipAddress"], "203.0.113.5");
    assert!(h["retryCode"].is_null(), "{h}");
    check_hook(&hooks, &sid, "retry", 0, HOOK_RETRY).await;
    let _ = std::fs::remove_dir_all(&data);
}

/// §5 `POST/GET/DELETE /submission/tokens` (`Content-Type: text/plain` as ARGOS recommends).
/// `success` / `message` / `summary` as ARGOS; `details[]`, the list's shape and the paging
/// fields' use are inferred (docs/api.md).
#[tokio::test]
async fn token_api_shapes_match_the_reference() {
    let (hook, _hooks) = receiver().await;
    let data = temp_dir("tokens");
    let s = TestServer::start_stored(&config(hook), &data).await;
    let call = |method: &'static str, path: String, body: String| {
        let s = &s;
        async move { api_as(s, TOKEN_KEY, method, &path, "text/plain", body.as_bytes()).await }
    };
    let r = call(
        "POST",
        "/v3/submission/tokens".into(),
        json!({"tokenId": ["user001a", "api.key.01", "short"]}).to_string(),
    )
    .await;
    answer(
        "POST tokens",
        &r,
        200,
        &[
            ("/success", Bool),
            ("/message", Str),
            ("/summary/totalSubmitted", Int(3)),
            ("/summary/currentCount", Int(2)),
            ("/summary/processed", Int(2)),
            ("/summary/failed", Int(1)),
            // Inferred.
            ("/details/0/tokenId", Lit("short")),
            ("/details/0/reason", Lit("invalid_format")),
            ("/details/0/message", Str),
        ],
    );
    let r = call(
        "GET",
        "/v3/submission/tokens?tokenId=user001a".into(),
        String::new(),
    )
    .await;
    answer(
        "GET token",
        &r,
        200,
        &[
            ("/success", Bool),
            ("/tokenId", Lit("user001a")),
            ("/data/tokenId", Lit("user001a")),
            ("/data/updateTime", Iso),
            ("/data/expired", Bool),
        ],
    );
    let r = call(
        "GET",
        "/v3/submission/tokens?type=count".into(),
        String::new(),
    )
    .await;
    answer(
        "GET count",
        &r,
        200,
        &[("/success", Bool), ("/count", Int(2))],
    );
    let r = call("GET", "/v3/submission/tokens?count=1".into(), String::new()).await;
    answer(
        "GET list",
        &r,
        200,
        &[
            ("/success", Bool),
            ("/count", Int(2)),
            ("/data/0/tokenId", Str),
            ("/data/0/updateTime", Iso),
            ("/data/0/expired", Bool),
            ("/nextPageKeyId", Str),
            ("/nextPageKeyTime", Iso),
        ],
    );
    let r = call(
        "GET",
        "/v3/submission/tokens?tokenId=unknown-0001".into(),
        String::new(),
    )
    .await;
    let v = answer("GET unknown token", &r, 404, ARGOS_ERROR);
    assert_eq!(v["errorCode"], "token_not_found");
    let r = call(
        "DELETE",
        "/v3/submission/tokens".into(),
        json!({"tokenId": ["user001a", "gone-0001"]}).to_string(),
    )
    .await;
    answer(
        "DELETE tokens",
        &r,
        200,
        &[
            ("/success", Bool),
            ("/message", Str),
            ("/summary/totalSubmitted", Int(2)),
            ("/summary/deleted", Int(1)),
            ("/summary/notFound", Int(1)),
            ("/summary/failed", Int(0)),
        ],
    );
    let r = call("POST", "/v3/submission/tokens".into(), "not json".into()).await;
    let v = answer("POST tokens not JSON", &r, 400, ARGOS_ERROR);
    assert_eq!(v["errorCode"], "invalid_payload");
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn timestamp_formats() {
    assert!(is_api_ts("2027-01-15-08-00-00-000"));
    assert!(!is_api_ts("2027-01-15T08:00:00.000Z"));
    assert!(is_iso("2027-01-15T08:00:00.000Z"));
    assert!(!is_iso("2027-01-15T08:00:00Z"));
}
