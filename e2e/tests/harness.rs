//! The harness itself (needs the server binary and the browser, not the SPA): the browser
//! reaches the server, and a panicking test still ends its session and kills every process.

use std::sync::Mutex;

use liveform_e2e::{current_pgids, group_alive, run_without_spa, Pgids};

static SEEN: Mutex<Option<(Pgids, String, String)>> = Mutex::new(None);

#[test]
fn harness_cleans_up_after_a_panicking_test() {
    let outcome = std::panic::catch_unwind(|| {
        run_without_spa(|b| async move {
            b.open("/?pid=e2e").await?;
            let index = b.body_text().await?;
            // A returned promise is awaited by the driver.
            let health = b
                .js("return fetch('/api/health').then(r => r.text());", vec![])
                .await?
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let pgids = current_pgids().expect("inside run");
            *SEEN.lock().unwrap() = Some((pgids, health, index));
            panic!("deliberate panic to check the cleanup");
        })
    });
    let err = outcome.expect_err("the body panicked, so run must panic");
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_else(|| "<non-string panic>".into());
    assert!(
        msg.contains("deliberate panic to check the cleanup"),
        "unexpected failure: {msg}"
    );
    let (pgids, health, index) = SEEN.lock().unwrap().clone().expect("the body ran");
    assert!(
        health.contains(r#""status":"ok""#),
        "GET /api/health in the browser showed {health:?}"
    );
    assert!(
        index.contains("not built"),
        "GET / without a dist showed {index:?}"
    );
    assert!(
        !group_alive(pgids.driver),
        "driver/browser processes of group {} survived",
        pgids.driver
    );
    assert!(
        !group_alive(pgids.server),
        "server process group {} survived",
        pgids.server
    );
}
