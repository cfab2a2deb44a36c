//! The background tasks every instance runs: the minute's sweep (here), the webhook sender
//! (`webhooks.rs`) and retention (`retention.rs`). Their database work runs on the blocking pool.

use std::sync::Arc;

use crate::state::AppState;

/// Starts the background tasks (webhook sender, retention); `serve` calls it, tests may.
pub fn spawn_background(state: &Arc<AppState>) {
    tokio::spawn(maintain(state.clone()));
    if state.store.is_some() {
        tokio::spawn(crate::webhooks::run(state.clone()));
        tokio::spawn(crate::retention::run(state.clone()));
    }
}

/// Every minute: removes expired sessions (their tokens and handoff codes go with them),
/// ended rate-limit windows and the expired registered tokens of projects with
/// `token_auto_delete`. Idempotent deletes, so every instance may run it.
async fn maintain(state: Arc<AppState>) {
    loop {
        let now = (state.clock)();
        let st = state.clone();
        let res = tokio::task::spawn_blocking(move || {
            let sessions = st.sessions.sweep(now);
            let windows = crate::sessions::sweep_rate_counts(&st.db, now);
            sweep_tokens(&st, now);
            (sessions, windows)
        })
        .await;
        if let Ok((Err(code), _)) = &res {
            tracing::error!(code = code.id(), "session sweep failed");
        }
        if let Ok((_, Err(e))) = &res {
            tracing::error!(error = %e, "rate-limit sweep failed");
        }
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
}

/// Removes registered tokens past their `token_expiry_hours` from the pools of projects with
/// `token_auto_delete` (ARGOS's "Token ID deletion condition").
pub fn sweep_tokens(state: &AppState, now: i64) {
    for p in &state.config.projects {
        // Announced before an auto-deletion can take them.
        if let Some(life) = p.private.expiry_secs {
            crate::webhooks::announce_expired_tokens(state, &p.pid, life, now);
        }
        if let (true, Some(life)) = (p.private.auto_delete, p.private.expiry_secs) {
            match state.tokens.sweep_expired(&p.pid, life, now) {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(pid = %p.pid, tokens = n, "expired registered tokens removed")
                }
                Err(code) => tracing::error!(pid = %p.pid, code = code.id(), "token sweep failed"),
            }
        }
    }
}
