//! Retention: a project's `retention_days` purges its submissions (rows and image files) that
//! many days after they were created, with a `delete` webhook each. [`purge`] takes the time as
//! an argument (tested with an injected clock); [`run`] calls it hourly. The private-token ledger's
//! rows of those days go with them.

use std::sync::Arc;
use std::time::Duration;

use crate::config::ValidConfig;
use crate::state::{now_ms, AppState};
use crate::store::{Store, StoreError, Submission};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Deletes every submission older than its project's retention at `now_ms`; returns them
/// (as they were, for the webhooks). Also drops undeliverable webhooks older than 30 days and
/// capture files that no row names.
pub fn purge(
    store: &Store,
    config: &ValidConfig,
    now_ms: i64,
) -> Result<Vec<Submission>, StoreError> {
    let mut gone = Vec::new();
    for p in &config.projects {
        let Some(days) = p.retention_days else {
            continue;
        };
        let cutoff = now_ms - i64::from(days) * DAY_MS;
        for s in store.created_before(&p.pid, cutoff)? {
            if store.delete_submission(&s.id)? {
                gone.push(s);
            }
        }
        // Seconds: first used at t s ⇔ t·1000 < cutoff ms ⇔ t < ⌈cutoff / 1000⌉.
        crate::sessions::forget_tokens_before(store.db(), &p.pid, (cutoff + 999).div_euclid(1000))?;
    }
    store.purge_dead(now_ms - 30 * DAY_MS)?;
    Ok(gone)
}

/// Deletes incomplete submissions untouched for `days` (whatever the project's retention: an
/// abandoned flow's images are not kept for ever); returns them for their `delete` webhooks. At
/// most 1000 per call (the next hour takes the rest).
pub fn purge_incomplete(
    store: &Store,
    days: u32,
    now_ms: i64,
) -> Result<Vec<Submission>, StoreError> {
    let cutoff = now_ms - i64::from(days) * DAY_MS;
    let mut gone = Vec::new();
    for s in store.incomplete_before(cutoff, 1000)? {
        if store.delete_stale_incomplete(&s.id, cutoff)? {
            gone.push(s);
        }
    }
    Ok(gone)
}

/// Once an hour (and once at start-up), on one instance at a time (a lease in the database).
pub async fn run(state: Arc<AppState>) {
    loop {
        let now = now_ms(&state);
        let (db, me) = (state.db.clone(), state.instance.clone());
        let mine =
            tokio::task::spawn_blocking(move || db.try_lease("retention", &me, now, 3_500_000))
                .await
                .is_ok_and(|r| r.unwrap_or(false));
        if let (true, Some(store)) = (mine, state.store.clone()) {
            let st = state.clone();
            let now = now_ms(&state);
            // The purge and its `delete` webhooks, all on the blocking pool.
            let res = tokio::task::spawn_blocking(move || {
                let gone = purge(&store, &st.config, now)?;
                for s in &gone {
                    crate::webhooks::enqueue(
                        &st,
                        s,
                        "delete",
                        Some(("retention", "retention period ended")),
                    );
                }
                let days = st.config.server.incomplete_days;
                let abandoned = purge_incomplete(&store, days, now)?;
                for s in &abandoned {
                    crate::webhooks::enqueue(
                        &st,
                        s,
                        "delete",
                        Some(("incomplete", "not finished within incomplete_days")),
                    );
                }
                Ok::<usize, StoreError>(gone.len() + abandoned.len())
            })
            .await;
            match res {
                Ok(Ok(0)) | Err(_) => {}
                Ok(Ok(n)) => tracing::info!(submissions = n, "retention purged submissions"),
                Ok(Err(e)) => tracing::error!(error = %e, "retention failed"),
            }
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewSubmission;

    /// A 3-byte selfie capture for `id`, stored at `t0`.
    fn put_selfie(store: &Store, id: &str, t0: i64) {
        store
            .put_capture(
                id,
                &liveform_core::api::CaptureRecord {
                    capture_id: "c".into(),
                    slot: liveform_core::flow::CaptureSlot::Selfie,
                    content_type: "image/png".into(),
                    bytes: 3,
                    width: None,
                    height: None,
                    check: None,
                },
                b"abc",
                None,
                100,
                16,
                t0,
            )
            .unwrap();
    }

    #[test]
    fn purges_after_the_project_retention_only() {
        let dir = std::env::temp_dir().join(format!("lf-retention-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir, &[1; 32]).unwrap();
        let cfg = crate::config::parse(
            "[[project]]\npid = \"short\"\nkey = \"short-key-123\"\nalgorithm = \"ecb\"\nretention_days = 2\n\
             [[project]]\npid = \"keep\"\nkey = \"keep-key-1234\"\nalgorithm = \"ecb\"\n",
            |_| None,
        )
        .unwrap();
        let t0 = 1_800_000_000_000;
        for (id, pid) in [("a", "short"), ("b", "keep")] {
            store
                .ensure_submission(
                    &NewSubmission {
                        id: id.into(),
                        pid: pid.into(),
                        ..Default::default()
                    },
                    t0,
                )
                .unwrap();
        }
        put_selfie(&store, "a", t0);
        let ledger = crate::sessions::TokenLedger::new(store.db().clone());
        for pid in ["short", "keep"] {
            ledger.use_token(pid, "tok-1234", t0 / 1000).unwrap();
        }
        let tokens = || {
            store
                .db()
                .tx(|c| {
                    c.query("SELECT pid FROM private_tokens ORDER BY pid", &[])?
                        .iter()
                        .map(|r| r.text("pid"))
                        .collect::<Result<Vec<_>, _>>()
                })
                .unwrap()
        };
        // The clock is injected: one day later nothing goes, two days and a bit later "a" goes.
        assert!(purge(&store, &cfg, t0 + DAY_MS).unwrap().is_empty());
        assert_eq!(tokens(), ["keep", "short"]);
        let gone = purge(&store, &cfg, t0 + 2 * DAY_MS + 1).unwrap();
        assert_eq!(
            gone.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["a"]
        );
        assert!(store.submission("a").unwrap().is_none());
        assert!(
            store.submission("b").unwrap().is_some(),
            "no retention: kept"
        );
        assert_eq!(
            tokens(),
            ["keep"],
            "the ledger's rows go with the retention"
        );
        assert_eq!(
            std::fs::read_dir(store.capture_dir().unwrap())
                .unwrap()
                .count(),
            0,
            "files gone"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn abandoned_incomplete_submissions_go_after_incomplete_days_and_finished_ones_stay() {
        let dir = std::env::temp_dir().join(format!("lf-incomplete-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir, &[1; 32]).unwrap();
        let t0 = 1_800_000_000_000;
        for id in ["abandoned", "finished", "recent"] {
            let at = if id == "recent" { t0 + 2 * DAY_MS } else { t0 };
            store
                .ensure_submission(
                    &NewSubmission {
                        id: id.into(),
                        pid: "p".into(),
                        ..Default::default()
                    },
                    at,
                )
                .unwrap();
        }
        put_selfie(&store, "abandoned", t0);
        let pending = |_: &[crate::store::StoredCapture],
                       _: &[crate::store::StoredAttempt],
                       _: &[crate::rules::Prior]| {
            Some(crate::store::Decision::plain(
                liveform_core::api::KycStatus::Pending,
                "{}".to_owned(),
            ))
        };
        store
            .finish_with("finished", None, None, None, t0, &[], None, pending)
            .unwrap();
        assert!(purge_incomplete(&store, 3, t0 + 3 * DAY_MS - 1)
            .unwrap()
            .is_empty());
        let gone = purge_incomplete(&store, 3, t0 + 3 * DAY_MS + 1).unwrap();
        assert_eq!(
            gone.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["abandoned"]
        );
        assert!(store.submission("finished").unwrap().is_some());
        assert!(store.submission("recent").unwrap().is_some());
        assert!(
            store.unreferenced_files().unwrap().is_empty(),
            "its file went too"
        );
        assert_eq!(
            std::fs::read_dir(store.capture_dir().unwrap())
                .unwrap()
                .count(),
            0
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
