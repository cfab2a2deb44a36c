//! Several instances (issue 16): servers sharing one PostgreSQL (a schema per test) and one S3
//! store (a key prefix per test) behind a per-request round-robin proxy whose address is the
//! form's origin (`liveform_e2e::scale`). Chromium only (other engines print a skip line);
//! needs `scripts/services.sh start` and its env (`scripts/test-e2e.sh` does both).
//!
//! * two instances: a whole flow (front, back, selfie, finish, Return URL) whose requests are
//!   spread over both; each instance's results API shows the one submission with every capture
//!   and serves every image (stored through either instance);
//! * kill: once the front side is stored, the instance that stored it is SIGKILLed; the flow
//!   goes on through the other (the front is still there, not asked again) to one submission;
//! * restart: the only instance is SIGKILLed after the front side and started again; the
//!   reloaded page resumes at the back side and the flow completes.

use std::sync::Arc;

use liveform_e2e::flow::{
    assert_complete, capture, capture_all, flow_link, held, held_at, submission, submit_and_return,
};
use liveform_e2e::{
    http_request, tests, with_cluster, BoxError, Cluster, Ctx, Engine, SuiteOptions, TestResult,
    RETURN_API_KEY,
};
use serde_json::{json, Value};

fn main() {
    liveform_e2e::suite_with(
        "scale",
        &SuiteOptions {
            engines: &[Engine::Chromium],
            requires: Some(liveform_e2e::scale::require_services),
            ..SuiteOptions::default()
        },
        &[liveform_e2e::Group::new(tests![
            two_instances_complete_a_flow,
            killed_instance_loses_nothing,
            restarted_instance_resumes_at_the_back,
        ])],
    );
}

/// Waits until the server (through `b`'s base) holds the front side and nothing else.
async fn wait_front_held(b: &Ctx) -> TestResult {
    let last = std::sync::Mutex::new(Value::Null);
    let got = b
        .wait_until("the server holds the front side", || async {
            let list = held(b).await?;
            let front_only = list["missing"] == json!(["document_back", "selfie"]);
            *last.lock().unwrap_or_else(|e| e.into_inner()) = list;
            Ok(front_only)
        })
        .await;
    got.map_err(|e| {
        let last = last.lock().unwrap_or_else(|e| e.into_inner());
        format!("{e}; last answer: {last}").into()
    })
}

/// Checks the one submission of `userid` through instance `i` directly: complete, with the
/// Return URL's id, and each of its images readable there (whichever instance stored it).
async fn check_submission_at(
    b: &Ctx,
    cluster: &Cluster,
    i: usize,
    userid: &str,
    sid: &str,
) -> TestResult {
    let direct = b.with_base(&cluster.instance_base(i));
    let found = submission(&direct, &format!("userid={userid}")).await?;
    assert_eq!(
        found["count"],
        json!(1),
        "instance {i}: exactly one submission: {found}"
    );
    let item = &found["Items"][0];
    assert_eq!(item["submission_id"], sid, "instance {i}: {item}");
    assert_eq!(item["data"]["userid"], userid, "instance {i}: {item}");
    assert_complete(item);
    for kind in ["idImage", "idBackImage", "selfieImage"] {
        let path = format!("/v3/image?submission_id={sid}&type={kind}");
        let (status, body) = http_request(
            cluster.addr(i),
            "GET",
            &path,
            &[("x-api-key", RETURN_API_KEY)],
            None,
        )
        .await?;
        assert_eq!(status, 200, "instance {i}: GET {path}: {body:.200}");
        assert!(!body.is_empty(), "instance {i}: {kind} is empty");
    }
    Ok(())
}

/// The Return URL's submission id, after checking its fields.
fn returned_submission(fields: &Value, userid: &str) -> Result<String, BoxError> {
    assert_eq!(fields["kycStatus"], "pending", "{fields}");
    assert_eq!(fields["userid"], userid, "{fields}");
    assert_eq!(fields["cf1"], format!("order-{userid}"), "{fields}");
    Ok(fields["submissionId"]
        .as_str()
        .ok_or("no submissionId in the Return URL")?
        .to_owned())
}

async fn two_instances_complete_a_flow(b: Ctx) -> TestResult {
    with_cluster(&b, 2, |b, cluster: Arc<Cluster>| async move {
        b.open(&flow_link(&b, "scale1")).await?;
        capture_all(&b).await?;
        let list = held(&b).await?;
        assert_eq!(list["missing"], json!([]), "{list}");
        assert_eq!(list["captures"].as_array().map_or(0, Vec::len), 3, "{list}");
        let fields = submit_and_return(&b).await?;
        let sid = returned_submission(&fields, "scale1")?;
        for i in 0..cluster.len() {
            check_submission_at(&b, &cluster, i, "scale1", &sid).await?;
        }
        // The flow's API requests really went to both instances.
        let answered = cluster.proxy().answered();
        eprintln!("scale: requests (all, /api/) per instance: {answered:?}");
        assert!(
            answered.iter().all(|&(_, api)| api > 0),
            "every instance served API requests: {answered:?}\n{}",
            cluster.proxy().describe(200)
        );
        let uploads: Vec<Option<usize>> = cluster
            .proxy()
            .records()
            .into_iter()
            .filter(|r| r.method == "PUT" && r.path.starts_with("/api/capture/"))
            .map(|r| r.backend)
            .collect();
        eprintln!("scale: capture uploads answered by {uploads:?}");
        Ok(())
    })
    .await
}

async fn killed_instance_loses_nothing(b: Ctx) -> TestResult {
    with_cluster(&b, 2, |b, cluster: Arc<Cluster>| async move {
        b.open(&flow_link(&b, "scale2")).await?;
        b.accept_consent().await?;
        capture(&b, "screen-document-front", "screen-document-back").await?;
        wait_front_held(&b).await?;
        // The instance that stored the front side goes (a crash, nothing flushed).
        let victim = cluster
            .proxy()
            .records()
            .iter()
            .rev()
            .find(|r| r.method == "PUT" && r.path.starts_with("/api/capture/") && r.status < 300)
            .and_then(|r| r.backend)
            .ok_or_else(|| format!("no stored upload in\n{}", cluster.proxy().describe(100)))?;
        let survivor = 1 - victim;
        cluster.kill(victim)?;
        let killed_at = cluster.proxy().records().len();
        eprintln!("scale: killed instance {victim}, which stored the front side");
        // The survivor has the front (the session and the capture are in the shared stores).
        let list = held_at(&b, cluster.addr(survivor)).await?;
        assert_eq!(
            list["missing"],
            json!(["document_back", "selfie"]),
            "instance {survivor} after the kill: {list}"
        );
        // The page stays on the back side: the front is not asked again.
        b.wait_screen("screen-document-back").await?;
        capture(&b, "screen-document-back", "screen-selfie").await?;
        capture(&b, "screen-selfie", "screen-finish").await?;
        let fields = submit_and_return(&b).await?;
        let sid = returned_submission(&fields, "scale2")?;
        check_submission_at(&b, &cluster, survivor, "scale2", &sid).await?;
        let after: Vec<_> = cluster.proxy().records().split_off(killed_at);
        assert!(
            after.iter().all(|r| r.backend == Some(survivor)),
            "after the kill every request went to instance {survivor}:\n{}",
            cluster.proxy().describe(after.len())
        );
        Ok(())
    })
    .await
}

async fn restarted_instance_resumes_at_the_back(b: Ctx) -> TestResult {
    with_cluster(&b, 1, |b, cluster: Arc<Cluster>| async move {
        b.open(&flow_link(&b, "scale3")).await?;
        b.accept_consent().await?;
        capture(&b, "screen-document-front", "screen-document-back").await?;
        wait_front_held(&b).await?;
        cluster.kill(0)?;
        // Down: the proxy has nobody to ask.
        let (status, _) = liveform_e2e::http_get(cluster.proxy().addr(), "/api/health").await?;
        assert_eq!(status, 502, "with the only instance down");
        cluster.restart(0).await?;
        b.client.refresh().await?;
        b.wait_screen("screen-document-back").await?;
        let list = held(&b).await?;
        assert_eq!(
            list["missing"],
            json!(["document_back", "selfie"]),
            "after the restart: {list}"
        );
        capture(&b, "screen-document-back", "screen-selfie").await?;
        capture(&b, "screen-selfie", "screen-finish").await?;
        let fields = submit_and_return(&b).await?;
        let sid = returned_submission(&fields, "scale3")?;
        check_submission_at(&b, &cluster, 0, "scale3", &sid).await?;
        Ok(())
    })
    .await
}
