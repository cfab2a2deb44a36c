//! Issue 18, item 2: private mode and the token pool (`argos-liveform.md` §1.5), over loopback
//! HTTP: a private-mode link without a token (`TK-10000`), the Token API
//! (`POST/GET/DELETE /v3/submission/tokens`) with ARGOS's limits, formats and partial handling,
//! a registered-only pool (`TK-10005`), a registered token's expiry (`TK-10001`) and its
//! auto-deletion by the minute's sweep, and a token's decided submission as ARGOS's pages
//! (`TK-10002` approved, `TK-10003` pending, `TK-10004` rejected) with "time wins"; the
//! `token_expired` webhook, by time (the sweep) and by count (a decided submission), each once.

mod common;

use common::{http_bytes, temp_dir, Resp, TestServer, START, STORAGE_KEY};
use serde_json::{json, Value};

const PRIV_KEY: &str = "tokens-api-key-priv-0123";
const POOL_KEY: &str = "tokens-api-key-pool-0123";
const SWEEP_KEY: &str = "tokens-api-key-sweep-012";
const FULL_KEY: &str = "tokens-api-key-full-0123";
const DUP_KEY: &str = "tokens-api-key-dupl-0123";
const NOTRIG_KEY: &str = "tokens-api-key-notr-0123";

fn config() -> String {
    let server = common::server_table("");
    format!(
        r#"{server}
[[project]]
pid = "open"
key = "open-project-key-123"
algorithm = "ecb"

[[project]]
pid = "priv"
key = "priv-project-key-123"
algorithm = "ecb"
api_key = "{PRIV_KEY}"
active_liveness = false
private_mode = true

[[project]]
pid = "pool"
key = "pool-project-key-123"
algorithm = "ecb"
api_key = "{POOL_KEY}"
active_liveness = false
private_mode = true
token_registration = true
token_expiry_hours = 1
# Nothing listens: webhooks stay in the outbox, where the test reads them.
webhook_url = "http://127.0.0.1:9/token-hooks"
webhook_secret = "pool-webhook-secret-1"
webhook_triggers = ["token_expired"]

[[project]]
pid = "sweep"
key = "sweep-project-key-12"
algorithm = "ecb"
api_key = "{SWEEP_KEY}"
private_mode = true
token_registration = true
token_expiry_hours = 1
token_auto_delete = true

[[project]]
pid = "full"
key = "full-project-key-123"
algorithm = "ecb"
api_key = "{FULL_KEY}"
private_mode = true
token_registration = true

# A used token leaves the pool (auto-deletion), a rule rejects a repeated identity at finish.
[[project]]
pid = "dupl"
key = "dupl-project-key-123"
algorithm = "ecb"
api_key = "{DUP_KEY}"
active_liveness = false
private_mode = true
token_registration = true
token_expiry_hours = 1
token_auto_delete = true
reject_duplicate_user = true
webhook_url = "http://127.0.0.1:9/token-hooks"
webhook_secret = "dupl-webhook-secret-1"
webhook_triggers = ["token_expired"]

# Tokens without registration: no pool, so no `token_expired`.
[[project]]
pid = "nopool"
key = "nopool-project-key-1"
algorithm = "ecb"
active_liveness = false
private_mode = true
webhook_url = "http://127.0.0.1:9/token-hooks"
webhook_secret = "nopool-webhook-secret"
webhook_triggers = ["token_expired", "submit"]

# Registered tokens, but `token_expired` not among the triggers.
[[project]]
pid = "notrig"
key = "notrig-project-key-1"
algorithm = "ecb"
api_key = "{NOTRIG_KEY}"
active_liveness = false
private_mode = true
token_registration = true
webhook_url = "http://127.0.0.1:9/token-hooks"
webhook_secret = "notrig-webhook-secret"
webhook_triggers = ["submit"]
"#
    )
}

async fn start(tag: &str) -> TestServer {
    TestServer::start_stored(&config(), &temp_dir(tag)).await
}

/// A Token API call with `key`, the body as ARGOS recommends it (`text/plain`).
async fn api(s: &TestServer, key: &str, method: &str, path: &str, body: &str) -> Resp {
    common::api_as(s, key, method, path, "text/plain", body.as_bytes()).await
}

fn argos_code(r: &Resp) -> String {
    r.json()["errorCode"].as_str().unwrap_or("").to_owned()
}

async fn register(s: &TestServer, key: &str, tokens: &[&str]) -> Resp {
    let r = api(
        s,
        key,
        "POST",
        "/v3/submission/tokens",
        &json!({ "tokenId": tokens }).to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r
}

/// The code a link of `pid` with `token` (or none) opens with: `""` when it opens a session.
async fn open_code(s: &TestServer, pid: &str, token: Option<&str>) -> (u16, String) {
    let q = match token {
        Some(t) => format!("pid={pid}&token={t}"),
        None => format!("pid={pid}"),
    };
    let r = s.open(&q).await;
    if r.status == 201 {
        (201, String::new())
    } else {
        (r.status, r.code())
    }
}

/// A person's finished submission (passport, selfie, no liveness step) from a link of `pid`
/// with `token`: `pending`, its id.
async fn submit(s: &TestServer, pid: &str, token: &str) -> String {
    let session = common::open_passport(s, &format!("pid={pid}&token={token}")).await;
    common::submit_pending(s, &session).await
}

async fn review(s: &TestServer, sid: &str, status: &str) {
    let body =
        json!({"submissionId": sid, "status": status, "admin": "ops@x", "rejectComment": "no"});
    let r = common::api(
        s,
        PRIV_KEY,
        "POST",
        "/v3/submission/review",
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn private_mode_refuses_a_link_without_token() {
    let s = start("missing").await;
    assert_eq!(open_code(&s, "priv", None).await, (403, "TK-10000".into()));
    // The page's message key is the TK page's.
    let r = s.open("pid=priv").await;
    assert_eq!(r.json()["message_key"], "error-token-missing");
    // A token in the link opens it; a project without private mode needs none.
    assert_eq!(open_code(&s, "priv", Some("user-0001")).await.0, 201);
    assert_eq!(open_code(&s, "open", None).await.0, 201);
    // startValidUntil is checked first (ARGOS: before the token).
    let enc = common::enc(
        liveform_core::Algorithm::Ecb,
        "priv-project-key-123",
        r#"{"startValidUntil":"2020-01-01T00:00:00Z"}"#,
    );
    let r = s.open(&format!("pid=priv&encrypted={enc}")).await;
    assert_eq!(r.code(), "PV-40018");
}

#[tokio::test]
async fn registered_only_pool_refuses_unregistered_tokens_and_accepts_registered_ones() {
    let s = start("pool").await;
    assert_eq!(
        open_code(&s, "pool", Some("member-0001")).await,
        (403, "TK-10005".into())
    );
    // A refused token is not recorded as used: registering it later makes it work.
    register(&s, POOL_KEY, &["member-0001", "member-0002"]).await;
    assert_eq!(open_code(&s, "pool", Some("member-0001")).await.0, 201);
    // A private project without registration takes any token; the pool is per project.
    assert_eq!(open_code(&s, "priv", Some("member-0003")).await.0, 201);
    register(&s, PRIV_KEY, &["member-0004"]).await;
    assert_eq!(
        open_code(&s, "pool", Some("member-0004")).await,
        (403, "TK-10005".into()),
        "registered in another project"
    );
    // Deleted: refused again.
    let r = api(
        &s,
        POOL_KEY,
        "DELETE",
        "/v3/submission/tokens",
        r#"{"tokenId":["member-0002"]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        open_code(&s, "pool", Some("member-0002")).await,
        (403, "TK-10005".into())
    );
    // Still missing → TK-10000 before the pool is looked at.
    assert_eq!(open_code(&s, "pool", None).await.1, "TK-10000");
}

#[tokio::test]
async fn token_api_registers_lists_and_deletes_with_argos_limits_and_errors() {
    let s = start("api").await;
    // The results API's key rules.
    let r = http_bytes(s.addr, "GET", "/v3/submission/tokens", &[], b"").await;
    assert_eq!((r.status, r.code().as_str()), (401, "LF-70001"));
    let r = api(
        &s,
        "wrong-key-0123456789",
        "GET",
        "/v3/submission/tokens",
        "",
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (403, "LF-70002"));

    // Validation: the body, the array, the limit per request.
    let post = |body: String| {
        let s = &s;
        async move { api(s, POOL_KEY, "POST", "/v3/submission/tokens", &body).await }
    };
    for (body, code) in [
        ("not json".to_owned(), "invalid_payload"),
        (r#"{"tokenId":"member-0001"}"#.to_owned(), "invalid_payload"),
        ("{}".to_owned(), "missing_data"),
        (r#"{"tokenId":[]}"#.to_owned(), "missing_data"),
    ] {
        let r = post(body.clone()).await;
        assert_eq!((r.status, argos_code(&r).as_str()), (400, code), "{body}");
        assert_eq!(r.code(), "LF-70005");
    }
    let many: Vec<String> = (0..501).map(|i| format!("bulk-{i:05}")).collect();
    let r = post(json!({ "tokenId": many }).to_string()).await;
    assert_eq!(
        (r.status, argos_code(&r).as_str()),
        (400, "invalid_payload")
    );

    // 500 at once; partial handling: invalid ones reported, the rest registered.
    let r = post(json!({ "tokenId": &many[..500] }).to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["success"], true);
    assert_eq!(r.json()["message"], "All tokens are now in the pool");
    assert_eq!(
        r.json()["summary"],
        json!({"totalSubmitted": 500, "currentCount": 500, "processed": 500, "failed": 0})
    );
    assert!(r.json().get("details").is_none());
    let r = post(
        json!({"tokenId": ["user001a", "api.key.01", "short", "-dash-start", "has space", 7, "bulk-00000"]})
            .to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["success"], false);
    assert_eq!(
        v["summary"],
        json!({"totalSubmitted": 7, "currentCount": 502, "processed": 3, "failed": 4}),
        "bulk-00000 was already there: overwritten, no duplication error"
    );
    let failed: Vec<&Value> = v["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["tokenId"])
        .collect();
    assert_eq!(
        failed,
        [
            &json!("short"),
            &json!("-dash-start"),
            &json!("has space"),
            &json!(7)
        ]
    );

    // GET: one token, the count, the list in pages.
    let get = |q: &'static str| {
        let s = &s;
        async move { api(s, POOL_KEY, "GET", &format!("/v3/submission/tokens{q}"), "").await }
    };
    let r = get("?tokenId=user001a").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["success"].clone(), v["tokenId"].clone()),
        (json!(true), json!("user001a"))
    );
    assert_eq!(v["data"]["tokenId"], "user001a");
    assert_eq!(v["data"]["expired"], false);
    let t = v["data"]["updateTime"].as_str().unwrap();
    assert!(t.ends_with('Z') && t.contains('T') && t.len() == 24, "{t}");
    let r = get("?tokenId=unknown-0001").await;
    assert_eq!(
        (r.status, argos_code(&r).as_str()),
        (404, "token_not_found")
    );
    assert_eq!(r.code(), "LF-70007");
    let r = get("?tokenId=bad").await;
    assert_eq!((r.status, argos_code(&r).as_str()), (400, "invalid_format"));
    let r = get("?type=count").await;
    assert_eq!(r.json(), json!({"success": true, "count": 502}));
    let r = get("?type=other").await;
    assert_eq!(r.status, 400);
    let r = get("?count=0").await;
    assert_eq!((r.status, argos_code(&r).as_str()), (400, "invalid_format"));
    let r = get("?nextPageKeyId=user001a").await;
    assert_eq!((r.status, argos_code(&r).as_str()), (400, "missing_data"));

    let mut seen = Vec::new();
    let mut next: Option<(String, String)> = None;
    loop {
        let q = match &next {
            None => "?count=200".to_owned(),
            Some((id, t)) => format!("?count=200&nextPageKeyId={id}&nextPageKeyTime={t}"),
        };
        let r = api(
            &s,
            POOL_KEY,
            "GET",
            &format!("/v3/submission/tokens{q}"),
            "",
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        assert_eq!(v["count"], 502);
        let page = v["data"].as_array().unwrap();
        assert!(page.len() <= 200);
        seen.extend(
            page.iter()
                .map(|e| e["tokenId"].as_str().unwrap().to_owned()),
        );
        match (v.get("nextPageKeyId"), v.get("nextPageKeyTime")) {
            (Some(id), Some(t)) => {
                next = Some((id.as_str().unwrap().into(), t.as_str().unwrap().into()))
            }
            _ => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 502, "every token exactly once");
    // Another project's key sees its own (empty) pool.
    let r = api(&s, PRIV_KEY, "GET", "/v3/submission/tokens?type=count", "").await;
    assert_eq!(r.json()["count"], 0);

    // At rest: blind indexes and sealed values, never the token.
    let rows: Vec<String> = s
        .state
        .db
        .tx(|c| {
            c.query("SELECT token_ix, token FROM token_pool", &[])?
                .iter()
                .map(|r| Ok(format!("{} {}", r.text("token_ix")?, r.text("token")?)))
                .collect::<Result<Vec<_>, liveform_server::db::DbError>>()
        })
        .unwrap();
    assert_eq!(rows.len(), 502);
    assert!(rows
        .iter()
        .all(|r| !r.contains("user001a") && !r.contains("bulk-")));

    // DELETE: partial, with ARGOS's summary.
    let r = api(
        &s,
        POOL_KEY,
        "DELETE",
        "/v3/submission/tokens",
        r#"{"tokenId":["user001a","api.key.01","never-there-1","x"]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["message"], "Successfully deleted 2 tokens");
    assert_eq!(
        v["summary"],
        json!({"totalSubmitted": 4, "deleted": 2, "notFound": 1, "failed": 1})
    );
    let r = get("?tokenId=user001a").await;
    assert_eq!(r.status, 404);
    let r = api(&s, POOL_KEY, "DELETE", "/v3/submission/tokens", "{}").await;
    assert_eq!((r.status, argos_code(&r).as_str()), (400, "missing_data"));
}

#[tokio::test]
async fn the_pool_holds_at_most_100000_tokens() {
    let s = start("full").await;
    // 99,999 filler rows straight into the table (registering them through the API would take
    // 200 requests).
    let sql = match s.state.db.backend() {
        liveform_server::db::Backend::Sqlite => {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
             INSERT INTO token_pool (pid, token_ix, token, updated_ms)
             SELECT 'full', 'filler' || i, 'x', 0 FROM n"
        }
        liveform_server::db::Backend::Postgres => {
            "INSERT INTO token_pool (pid, token_ix, token, updated_ms)
             SELECT 'full', 'filler' || i, 'x', 0 FROM generate_series(1, 99999) AS i"
        }
    };
    s.state.db.tx(|c| c.execute(sql, &[])).unwrap();
    let r = api(
        &s,
        FULL_KEY,
        "POST",
        "/v3/submission/tokens",
        r#"{"tokenId":["last-0001","last-0002"]}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str(), argos_code(&r).as_str()),
        (409, "LF-70008", "token_limit_exceeded"),
        "{}",
        r.text()
    );
    let r = register(&s, FULL_KEY, &["last-0001"]).await;
    assert_eq!(r.json()["summary"]["currentCount"], 100_000);
    // Overwriting a token already there does not grow the pool.
    let r = register(&s, FULL_KEY, &["last-0001"]).await;
    assert_eq!(r.json()["summary"]["currentCount"], 100_000);
}

#[tokio::test]
async fn registered_tokens_expire_and_auto_deletion_removes_them() {
    let s = start("expiry").await;
    register(&s, POOL_KEY, &["expiring-01", "expiring-02"]).await;
    register(&s, SWEEP_KEY, &["sweeping-01"]).await;
    assert_eq!(open_code(&s, "pool", Some("expiring-01")).await.0, 201);
    s.advance(3599);
    assert_eq!(open_code(&s, "pool", Some("expiring-02")).await.0, 201);
    s.advance(1);
    // Past token_expiry_hours (counted from the registration): TK-10001, listed as expired.
    assert_eq!(
        open_code(&s, "pool", Some("expiring-02")).await,
        (410, "TK-10001".into())
    );
    let r = api(
        &s,
        POOL_KEY,
        "GET",
        "/v3/submission/tokens?tokenId=expiring-02",
        "",
    )
    .await;
    assert_eq!(r.json()["data"]["expired"], true);
    // Registering again renews a token (ARGOS: overwritten), but not its first use: the one
    // first used an hour ago stays expired.
    register(&s, POOL_KEY, &["expiring-01", "expiring-02"]).await;
    assert_eq!(open_code(&s, "pool", Some("expiring-02")).await.0, 201);
    assert_eq!(
        open_code(&s, "pool", Some("expiring-01")).await,
        (410, "TK-10001".into()),
        "3 minutes after its first use"
    );
    // Without token_auto_delete the sweep keeps them; with it they leave the pool.
    liveform_server::background::sweep_tokens(&s.state, START + 7200);
    // Each expired registered token is announced once (`token_expired`), again only after it is
    // registered again.
    let expired = || {
        let mut t: Vec<String> = s
            .state
            .store
            .as_ref()
            .unwrap()
            .due(i64::MAX / 2, 100)
            .unwrap()
            .iter()
            .filter(|i| i.event == "token_expired")
            .map(|i| {
                let v: serde_json::Value = serde_json::from_str(&i.body).unwrap();
                assert_eq!(v["webhook_trigger"], "token_expired");
                assert_eq!(v["expired_condition"], "time");
                assert_eq!(v["service"], "idCheck");
                assert!(v["expected_expired_at"].as_str().unwrap().ends_with('Z'));
                v["token_id"].as_str().unwrap().to_owned()
            })
            .collect();
        t.sort();
        t
    };
    assert_eq!(expired(), ["expiring-01", "expiring-02"]);
    liveform_server::background::sweep_tokens(&s.state, START + 7200);
    assert_eq!(expired(), ["expiring-01", "expiring-02"], "once");
    register(&s, POOL_KEY, &["expiring-01"]).await;
    liveform_server::background::sweep_tokens(&s.state, START + 3 * 3600);
    assert_eq!(
        expired(),
        ["expiring-01", "expiring-01", "expiring-02"],
        "registered again, expired again"
    );
    let r = api(
        &s,
        POOL_KEY,
        "GET",
        "/v3/submission/tokens?tokenId=expiring-01",
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    let r = api(
        &s,
        SWEEP_KEY,
        "GET",
        "/v3/submission/tokens?tokenId=sweeping-01",
        "",
    )
    .await;
    assert_eq!(
        (r.status, argos_code(&r).as_str()),
        (404, "token_not_found")
    );
    assert_eq!(
        open_code(&s, "sweep", Some("sweeping-01")).await,
        (403, "TK-10005".into())
    );
}

#[tokio::test]
async fn decided_tokens_show_their_status_and_time_wins() {
    let s = start("decided").await;
    // Pending (waiting for review): TK-10003; approved: TK-10002; rejected: TK-10004. The
    // submission's current status counts (a review changes the page).
    let a = submit(&s, "priv", "person-a-01").await;
    assert_eq!(
        open_code(&s, "priv", Some("person-a-01")).await,
        (409, "TK-10003".into())
    );
    review(&s, &a, "approved").await;
    let r = s.open("pid=priv&token=person-a-01").await;
    assert_eq!(
        (
            r.status,
            r.code().as_str(),
            r.json()["message_key"].as_str()
        ),
        (409, "TK-10002", Some("error-token-approved"))
    );
    let b = submit(&s, "priv", "person-b-01").await;
    review(&s, &b, "rejected").await;
    assert_eq!(
        open_code(&s, "priv", Some("person-b-01")).await,
        (409, "TK-10004".into())
    );
    // Within the 3 minutes another person may use an undecided token concurrently.
    assert_eq!(open_code(&s, "priv", Some("person-c-01")).await.0, 201);
    assert_eq!(open_code(&s, "priv", Some("person-c-01")).await.0, 201);
    // More than 3 minutes after the first use: expired, whatever the decided status.
    s.advance(181);
    for t in ["person-a-01", "person-b-01", "person-c-01"] {
        assert_eq!(
            open_code(&s, "priv", Some(t)).await,
            (410, "TK-10001".into()),
            "{t}: time wins"
        );
    }
    // The submission's token is the one the link carried (ARGOS `tokenId`).
    let r = http_bytes(
        s.addr,
        "GET",
        &format!("/v3/submission?submission_id={a}"),
        &[("x-api-key", PRIV_KEY)],
        b"",
    )
    .await;
    assert_eq!(r.json()["Items"][0]["tokenId"], "person-a-01");
}

#[tokio::test]
async fn a_used_registered_token_is_listed_expired_and_auto_deleted() {
    let s = start("used").await;
    register(&s, POOL_KEY, &["used-token-1"]).await;
    let sid = submit(&s, "pool", "used-token-1").await;
    assert!(!sid.is_empty());
    let r = api(
        &s,
        POOL_KEY,
        "GET",
        "/v3/submission/tokens?tokenId=used-token-1",
        "",
    )
    .await;
    assert_eq!(
        r.json()["data"]["expired"],
        true,
        "ARGOS: a registered token expires after a single submission"
    );
    assert_eq!(
        open_code(&s, "pool", Some("used-token-1")).await,
        (409, "TK-10003".into())
    );
}

/// The queued webhooks (nothing listens, so they all stay in the outbox): `(pid, event, body)`.
fn outbox(s: &TestServer) -> Vec<(String, String, Value)> {
    s.state
        .store
        .as_ref()
        .unwrap()
        .due(i64::MAX / 2, 1000)
        .unwrap()
        .into_iter()
        .map(|i| (i.pid, i.event, serde_json::from_str(&i.body).unwrap()))
        .collect()
}

/// The queued `token_expired` bodies of `pid`.
fn token_expired(s: &TestServer, pid: &str) -> Vec<Value> {
    outbox(s)
        .into_iter()
        .filter(|(p, e, _)| p == pid && e == "token_expired")
        .map(|(_, _, v)| v)
        .collect()
}

/// `(token_id, expired_condition)` of each body.
fn announced(bodies: &[Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = bodies
        .iter()
        .map(|b| {
            (
                b["token_id"].as_str().unwrap().to_owned(),
                b["expired_condition"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_used_registered_token_is_announced_once_by_count() {
    let s = start("count").await;
    register(&s, POOL_KEY, &["counted-01", "unused-01"]).await;
    let decided_ms = liveform_server::state::now_ms(&s.state);
    let sid = submit(&s, "pool", "counted-01").await;
    // ARGOS §1.5: a pending (decided) submission uses the token up: one `token_expired`,
    // `expired_condition: "count"`, at the decision's time.
    let bodies = token_expired(&s, "pool");
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let b = &bodies[0];
    assert_eq!(b["webhook_trigger"], "token_expired");
    assert_eq!(b["token_id"], "counted-01");
    assert_eq!(b["expired_condition"], "count");
    assert_eq!(
        b["expired_at"],
        liveform_server::webhooks::iso8601(decided_ms)
    );
    assert_eq!(b["service"], "idCheck");
    assert!(b["sent_at"].as_str().unwrap().ends_with('Z'));
    assert!(b.get("expected_expired_at").is_none(), "{b}");
    assert_eq!(b.as_object().unwrap().len(), 6, "{b}");
    // A later review decides again: not announced again.
    let r = common::api(
        &s,
        POOL_KEY,
        "POST",
        "/v3/submission/review",
        &json!({"submissionId": sid, "status": "approved", "admin": "ops@x"}).to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(token_expired(&s, "pool").len(), 1);
    // Past token_expiry_hours the minute sweep announces the unused token by time, not the used
    // one a second time (it was marked with the `count` webhook).
    liveform_server::background::sweep_tokens(&s.state, START + 7200);
    liveform_server::background::sweep_tokens(&s.state, START + 7260);
    assert_eq!(
        announced(&token_expired(&s, "pool")),
        [
            ("counted-01".to_owned(), "count".to_owned()),
            ("unused-01".to_owned(), "time".to_owned())
        ]
    );
    // Registering it again re-arms it (the time sweep announces that registration's expiry).
    register(&s, POOL_KEY, &["counted-01"]).await;
    liveform_server::background::sweep_tokens(&s.state, START + 3 * 3600);
    assert_eq!(
        announced(&token_expired(&s, "pool")),
        [
            ("counted-01".to_owned(), "count".to_owned()),
            ("counted-01".to_owned(), "time".to_owned()),
            ("unused-01".to_owned(), "time".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_rule_rejection_announces_the_token_before_auto_deletion() {
    let s = start("count-rule").await;
    register(&s, DUP_KEY, &["dupl-tok-01", "dupl-tok-02"]).await;
    let first = common::open_passport(&s, "pid=dupl&token=dupl-tok-01&userid=person-1").await;
    let sid = common::submit_pending(&s, &first).await;
    let r = common::api(
        &s,
        DUP_KEY,
        "POST",
        "/v3/submission/review",
        &json!({"submissionId": sid, "status": "approved", "admin": "ops@x"}).to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // The same identity again: rejected at finish by the duplicate-user rule.
    let second = common::open_passport(&s, "pid=dupl&token=dupl-tok-02&userid=person-1").await;
    let r = common::capture_and_finish(&s, &second).await;
    assert_eq!(r.json()["status"], "rejected", "{}", r.text());
    let bodies = token_expired(&s, "dupl");
    assert_eq!(
        announced(&bodies),
        [
            ("dupl-tok-01".to_owned(), "count".to_owned()),
            ("dupl-tok-02".to_owned(), "count".to_owned())
        ]
    );
    // Announced in the finish's transaction, then removed by token_auto_delete.
    let r = api(
        &s,
        DUP_KEY,
        "GET",
        "/v3/submission/tokens?tokenId=dupl-tok-02",
        "",
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text());
    liveform_server::background::sweep_tokens(&s.state, START + 7200);
    assert_eq!(token_expired(&s, "dupl").len(), 2);
}

#[tokio::test]
async fn no_count_announcement_without_registration_or_trigger() {
    let s = start("count-none").await;
    // No token_registration: the token is not a pool token.
    submit(&s, "nopool", "plain-tok-01").await;
    // Registered, but the project does not want `token_expired`.
    register(&s, NOTRIG_KEY, &["notrig-tok-01"]).await;
    submit(&s, "notrig", "notrig-tok-01").await;
    // The outbox has no order across projects (PostgreSQL returns the rows as it likes).
    let mut events: Vec<(String, String)> =
        outbox(&s).into_iter().map(|(p, e, _)| (p, e)).collect();
    events.sort();
    assert_eq!(
        events,
        [
            ("nopool".to_owned(), "submit".to_owned()),
            ("notrig".to_owned(), "submit".to_owned())
        ]
    );
}

#[test]
fn config_checks_the_private_mode_settings() {
    let base = format!(
        "[server]\nstorage_key = \"{STORAGE_KEY}\"\n[[project]]\npid = \"p\"\nkey = \"project-key-123\"\nalgorithm = \"gcm\"\n"
    );
    let err = |extra: &str| {
        liveform_server::config::parse(&format!("{base}{extra}"), |_| None)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let api = "api_key = \"project-api-key-0123456\"\n";
    assert!(err("token_registration = true\n").contains("needs private_mode"));
    assert!(err("private_mode = true\ntoken_registration = true\n").contains("needs api_key"));
    assert!(err(&format!(
        "{api}private_mode = true\ntoken_expiry_hours = 2\n"
    ))
    .contains("project[0].token_expiry_hours"));
    assert!(err(&format!(
        "{api}private_mode = true\ntoken_auto_delete = true\n"
    ))
    .contains("project[0].token_auto_delete"));
    assert!(err(&format!(
        "{api}private_mode = true\ntoken_registration = true\ntoken_expiry_hours = 0\n"
    ))
    .contains("1-87600"));
    let no_key = "[[project]]\npid = \"p\"\nkey = \"project-key-123\"\nalgorithm = \"gcm\"\n";
    let e = liveform_server::config::parse(
        &format!("{no_key}{api}private_mode = true\ntoken_registration = true\n"),
        |_| None,
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(e.contains("needs server.storage_key"), "{e}");
    let ok = liveform_server::config::parse(
        &format!("{base}{api}private_mode = true\ntoken_registration = true\ntoken_expiry_hours = 24\ntoken_auto_delete = true\n"),
        |_| None,
    )
    .unwrap();
    let m = ok.projects[0].private;
    assert!(m.required && m.registered_only && m.auto_delete);
    assert_eq!(m.expiry_secs, Some(24 * 3600));
}
