//! Issue 18, item 4: the rules a link toggles (`argos-liveform.md` §1.3), over loopback HTTP:
//! duplicate-user prevention (`rejectDuplicateUser`) and the approved / rejected prevention
//! periods (`approvePeriod=false`, `rejectPeriod=false`). A rule that fires rejects the new
//! submission at finish with `commentCode: duplicate_user` and a `rejected` webhook; the person
//! gets the normal finish answer. The identity is the link's `userid` (our extension).

mod common;

use std::net::SocketAddr;

use common::hooks::{receiver, Hooks};
use common::{enc, temp_dir, Resp, TestServer};
use liveform_core::Algorithm;
use serde_json::{json, Value};

const SECRET: &str = "whsec-rules-0123456789";
const DUP_API: &str = "dup-api-key-0123456789";
const PER_API: &str = "per-api-key-0123456789";
const PRJ_API: &str = "prj-api-key-0123456789";
const PRJ_KEY: &str = "prj-project-key-1";
const DUP_KEY: &str = "dup-project-key-1";
const PER_KEY: &str = "per-project-key-1";
const DAY: i64 = 86_400;

fn config(hook: SocketAddr) -> String {
    let wh = common::hooks::config_lines(hook, SECRET);
    let server = common::server_table("");
    format!(
        r#"{server}
[[project]]
pid = "dup"
key = "{DUP_KEY}"
algorithm = "ecb"
api_key = "{DUP_API}"
active_liveness = false
reject_duplicate_user = true
{wh}
[[project]]
pid = "per"
key = "{PER_KEY}"
algorithm = "ecb"
api_key = "{PER_API}"
active_liveness = false
approved_period_days = 2
rejected_period_days = 1
{wh}
[[project]]
pid = "prj"
key = "{PRJ_KEY}"
algorithm = "ecb"
api_key = "{PRJ_API}"
active_liveness = false
{wh}
[[project.projection]]
id = "p-min"
name = "minimal"
omit = ["email", "cf1", "ipAddress"]

[[project.projection]]
id = "p-anon"
name = "anonymous"
omit = ["userid", "tokenId"]
"#
    )
}

async fn api(s: &TestServer, pid: &str, method: &str, path: &str, body: &str) -> Resp {
    let key = match pid {
        "dup" => DUP_API,
        "per" => PER_API,
        _ => PRJ_API,
    };
    common::api(s, key, method, path, body).await
}

/// Opens `query` (a whole link query), chooses KOR / passport, stores a front and a selfie and
/// finishes: the finish answer's status and submission id.
async fn submit(s: &TestServer, query: &str) -> (String, String) {
    common::submit_passport(s, query, &common::jpeg(800, 600)).await
}

/// An ECB link of project `pid` whose `encrypted` JSON is `json`.
fn link(pid: &str, json: &str) -> String {
    let key = match pid {
        "dup" => DUP_KEY,
        "per" => PER_KEY,
        _ => PRJ_KEY,
    };
    format!("pid={pid}&encrypted={}", enc(Algorithm::Ecb, key, json))
}

async fn review(s: &TestServer, pid: &str, sid: &str, status: &str) {
    let mut body = json!({"submissionId": sid, "status": status, "admin": "ops@x"});
    if status == "rejected" {
        body["rejectComment"] = json!("The ID has expired.");
        body["commentCode"] = json!("expired_id");
    }
    let r = api(s, pid, "POST", "/v3/submission/review", &body.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// The results API's item for `sid`.
async fn item(s: &TestServer, pid: &str, sid: &str) -> Value {
    let key = match pid {
        "dup" => DUP_API,
        "per" => PER_API,
        _ => PRJ_API,
    };
    common::results_item(s, key, sid).await
}

/// The rejection a rule made: the results API and the `rejected` webhook carry `duplicate_user`.
async fn assert_rule_rejected(s: &TestServer, pid: &str, hooks: &Hooks, sid: &str) {
    let it = item(s, pid, sid).await;
    assert_eq!(it["kyc"]["result"], "rejected", "{it}");
    assert_eq!(it["kyc"]["commentCode"], json!(["duplicate_user"]), "{it}");
    assert_eq!(it["reviewer"], "system", "{it}");
    let h = hooks.wait(sid, "rejected").await;
    assert_eq!(h["kyc_result"]["status"], "rejected", "{h}");
    assert_eq!(h["kyc_result"]["commentCode"], "duplicate_user", "{h}");
    assert!(h["kyc_result"]["comment"].is_string(), "{h}");
}

#[tokio::test]
async fn duplicate_user_is_rejected_at_finish_unless_the_link_turns_it_off() {
    const PID: &str = "dup";
    eprintln!("backend: {}", common::backend_name());
    let (hook, hooks) = receiver().await;
    let data = temp_dir("dup");
    let s = TestServer::start_stored(&config(hook), &data).await;

    // The first submission of u1 is approved.
    let (st, first) = submit(&s, &link("dup", r#"{"userid":"u1"}"#)).await;
    assert_eq!(st, "pending");
    // While u1 has none approved, a second one is no duplicate.
    let (st, _) = submit(&s, &link("dup", r#"{"userid":"u1"}"#)).await;
    assert_eq!(st, "pending");
    review(&s, PID, &first, "approved").await;

    // Now the same userid is rejected at finish with ARGOS's code and a `rejected` webhook.
    let (st, sid) = submit(&s, &link("dup", r#"{"userid":"u1"}"#)).await;
    assert_eq!(st, "rejected");
    assert_rule_rejected(&s, PID, &hooks, &sid).await;
    // The same identity as a plain userid too (the blind index finds it).
    let (st, _) = submit(&s, "pid=dup&userid=u1").await;
    assert_eq!(st, "rejected");
    // Another user is not a duplicate.
    let (st, _) = submit(&s, &link("dup", r#"{"userid":"u2"}"#)).await;
    assert_eq!(st, "pending");

    // An encrypted `rejectDuplicateUser=false` turns the rule off for this submission…
    let (st, sid) = submit(
        &s,
        &link("dup", r#"{"userid":"u1","rejectDuplicateUser":false}"#),
    )
    .await;
    assert_eq!(st, "pending");
    let h = hooks.wait(&sid, "submit").await;
    assert_eq!(h["kyc_result"]["status"], "pending", "{h}");
    // …a plain one is ignored (the project has no `plain_loosening`).
    let (st, _) = submit(&s, "pid=dup&userid=u1&rejectDuplicateUser=false").await;
    assert_eq!(st, "rejected");

    // Without userid the link's e-mail is the identity.
    let (st, first) = submit(&s, &link("dup", r#"{"email":"m@x.example"}"#)).await;
    assert_eq!(st, "pending");
    review(&s, PID, &first, "approved").await;
    let (st, _) = submit(&s, &link("dup", r#"{"email":"m@x.example"}"#)).await;
    assert_eq!(st, "rejected");
}

#[tokio::test]
async fn prevention_periods_block_and_unblock_as_configured() {
    const PID: &str = "per";
    eprintln!("backend: {}", common::backend_name());
    let (hook, hooks) = receiver().await;
    let data = temp_dir("per");
    let s = TestServer::start_stored(&config(hook), &data).await;

    // Approved period: 2 days after p1's approval.
    let (_, first) = submit(&s, &link("per", r#"{"userid":"p1"}"#)).await;
    review(&s, PID, &first, "approved").await;
    let (st, sid) = submit(&s, &link("per", r#"{"userid":"p1"}"#)).await;
    assert_eq!(st, "rejected");
    assert_rule_rejected(&s, PID, &hooks, &sid).await;
    // `approvePeriod=false` (encrypted) lifts it.
    let (st, _) = submit(&s, &link("per", r#"{"userid":"p1","approvePeriod":false}"#)).await;
    assert_eq!(st, "pending");
    s.advance(DAY);
    let (st, _) = submit(&s, &link("per", r#"{"userid":"p1"}"#)).await;
    assert_eq!(st, "rejected", "still inside the period");
    s.advance(DAY + 60);
    let (st, _) = submit(&s, &link("per", r#"{"userid":"p1"}"#)).await;
    assert_eq!(
        st, "pending",
        "the period is over (rule rejections do not extend it)"
    );

    // Rejected period: 1 day after r1's rejection.
    let (_, first) = submit(&s, &link("per", r#"{"userid":"r1"}"#)).await;
    review(&s, PID, &first, "rejected").await;
    let (st, sid) = submit(&s, &link("per", r#"{"userid":"r1"}"#)).await;
    assert_eq!(st, "rejected");
    assert_rule_rejected(&s, PID, &hooks, &sid).await;
    let (st, _) = submit(&s, &link("per", r#"{"userid":"r1","rejectPeriod":false}"#)).await;
    assert_eq!(st, "pending");
    // The approved-period switch does not lift the rejected period.
    let (st, _) = submit(&s, &link("per", r#"{"userid":"r1","approvePeriod":false}"#)).await;
    assert_eq!(st, "rejected");
    s.advance(DAY + 60);
    let (st, _) = submit(&s, &link("per", r#"{"userid":"r1"}"#)).await;
    assert_eq!(st, "pending", "the rejected period is over");
}

#[tokio::test]
async fn a_projection_leaves_its_fields_out_of_the_results_api_and_webhooks() {
    eprintln!("backend: {}", common::backend_name());
    let (hook, hooks) = receiver().await;
    let data = temp_dir("prj");
    let s = TestServer::start_stored(&config(hook), &data).await;
    let person = r#""userid":"q1","email":"q1@x.example","cf1":"one","cf2":"two""#;

    // By name: e-mail, cf1 and the address are left out; the rest stays.
    let (st, sid) = submit(
        &s,
        &link(
            "prj",
            &format!(r#"{{{person},"projectionName":"minimal"}}"#),
        ),
    )
    .await;
    assert_eq!(st, "pending");
    let it = item(&s, "prj", &sid).await;
    let text = it.to_string();
    assert!(!text.contains("q1@x.example"), "{it}");
    assert!(!text.contains("\"one\""), "{it}");
    for k in ["email", "ipAddress"] {
        assert!(it.get(k).is_none(), "{k}: {it}");
    }
    assert!(it["data"].get("cf1").is_none(), "{it}");
    assert_eq!(it["userid"], "q1", "{it}");
    assert_eq!(it["data"]["cf2"], "two", "{it}");
    let h = hooks.wait(&sid, "submit").await;
    assert!(
        h.get("email").is_none() && h.get("ipAddress").is_none(),
        "{h}"
    );
    assert!(h["cf"].get("cf1").is_none(), "{h}");
    assert_eq!(h["cf"]["cf2"], "two", "{h}");
    assert_eq!(h["userid"], "q1", "{h}");
    assert_eq!(h["webhook_trigger"], "submit", "{h}");
    // A decision later is projected too.
    review(&s, "prj", &sid, "approved").await;
    let h = hooks.wait(&sid, "approved").await;
    assert!(h.get("email").is_none(), "{h}");
    // The lookup by the left-out field still finds it (only the output is projected).
    let r = api(&s, "prj", "GET", "/v3/submission?email=q1%40x.example", "").await;
    assert_eq!(r.json()["count"], 1, "{}", r.text());

    // By id: another projection.
    let (_, sid) = submit(
        &s,
        &link("prj", &format!(r#"{{{person},"projectionId":"p-anon"}}"#)),
    )
    .await;
    let it = item(&s, "prj", &sid).await;
    assert!(
        it.get("userid").is_none() && it.get("tokenId").is_none(),
        "{it}"
    );
    assert_eq!(it["email"], "q1@x.example", "{it}");
    let h = hooks.wait(&sid, "submit").await;
    assert!(h.get("userid").is_none(), "{h}");
    assert_eq!(h["email"], "q1@x.example", "{h}");

    // Without one, everything; an unknown one refuses the link.
    let (_, sid) = submit(&s, &link("prj", &format!("{{{person}}}"))).await;
    let it = item(&s, "prj", &sid).await;
    assert_eq!(it["email"], "q1@x.example", "{it}");
    assert_eq!(it["data"]["cf1"], "one", "{it}");
    let r = s
        .open(&link("prj", r#"{"userid":"q1","projectionName":"nope"}"#))
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.code(), "LF-40005", "{}", r.text());
}

/// Two submissions of one identity finishing at the same moment (an auto-approving project, two
/// tabs or a script): the rules must see each other's outcome, so at most one is approved. The
/// decision is slowed inside the finishing transaction to make the race certain; on PostgreSQL
/// an advisory lock per identity serialises them (SQLite runs one transaction at a time).
#[tokio::test]
async fn concurrent_finishes_of_one_identity_cannot_both_be_approved() {
    use liveform_core::api::KycStatus;
    use liveform_server::store::{Decision, Lookup, NewSubmission};
    eprintln!("backend: {}", common::backend_name());
    let (hook, _hooks) = receiver().await;
    let data = temp_dir("race");
    let s = TestServer::start_stored(&config(hook), &data).await;
    let store = s.state.store.clone().unwrap();
    for id in ["race-a", "race-b"] {
        store
            .ensure_submission(
                &NewSubmission {
                    id: id.into(),
                    pid: "dup".into(),
                    userid: Some("racer".into()),
                    ..Default::default()
                },
                1,
            )
            .unwrap();
    }
    let finish = |id: &'static str| {
        let store = store.clone();
        std::thread::spawn(move || {
            store
                .finish_with(
                    id,
                    None,
                    None,
                    None,
                    2,
                    &[Lookup::Userid("racer")],
                    None,
                    |_, _, priors| {
                        std::thread::sleep(std::time::Duration::from_millis(300));
                        let dup = priors.iter().any(|p| p.status == KycStatus::Approved);
                        Some(Decision::plain(
                            if dup {
                                KycStatus::Rejected
                            } else {
                                KycStatus::Approved
                            },
                            "{}".into(),
                        ))
                    },
                )
                .unwrap()
        })
    };
    let (a, b) = (finish("race-a"), finish("race-b"));
    assert_eq!(
        (a.join().unwrap(), b.join().unwrap()),
        (Some(true), Some(true))
    );
    let mut statuses: Vec<&str> = ["race-a", "race-b"]
        .iter()
        .map(|id| store.submission(id).unwrap().unwrap().status.as_str())
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["approved", "rejected"]);
    let _ = std::fs::remove_dir_all(&data);
}
