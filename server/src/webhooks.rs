//! Webhooks with ARGOS's triggers (`created`, `retry`, `submit`, `approved`, `rejected`,
//! `updated`, `delete`) and fields, POSTed to the project's `webhook_url` when the project's
//! `webhook_triggers` list the trigger, signed with HMAC-SHA256 (our addition to ARGOS):
//!
//! `x-liveform-signature: t=<unix seconds>,v1=<lower-case hex HMAC-SHA256(secret, "<t>.<body>")>`
//!
//! With the project's `secure_data_transfer` (ARGOS's "Secure Data Transfer", §2.6) the body
//! sent is `{"response":{"body":"<AES-256-CBC, zero IV, Base64>"}}`; the signature covers that
//! body, as sent.
//!
//! Every event goes through the outbox first, so a restart loses none; a background task
//! delivers them, retrying with exponential backoff. The person's flow never waits for it.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use liveform_core::api::KycStatus;
use serde_json::json;
use sha2::Sha256;

use crate::state::{now_ms, AppState};
use crate::store::{StoreError, Submission};

/// Signature header.
pub const SIGNATURE_HEADER: &str = "x-liveform-signature";
/// Event name header (the body's `webhook_trigger` too).
pub const EVENT_HEADER: &str = "x-liveform-event";
/// Delivery id header (stable across retries of one event).
pub const DELIVERY_HEADER: &str = "x-liveform-delivery";

/// First retry after this long; doubled per attempt up to [`MAX_DELAY_MS`].
pub const BASE_DELAY_MS: i64 = 10_000;
pub const MAX_DELAY_MS: i64 = 6 * 3600 * 1000;
/// After this many failed attempts an event is kept as undeliverable (`dead`).
pub const MAX_ATTEMPTS: i64 = 12;

/// `t=<t>,v1=<hex>` for `body` at time `t`.
pub fn sign(secret: &str, t: i64, body: &str) -> String {
    // HMAC accepts keys of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a signature header (what an integrator does; used by tests): the HMAC must match and
/// `t` be within `tolerance_secs` of `now`.
pub fn verify(secret: &str, header: &str, body: &str, now: i64, tolerance_secs: i64) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = Some(v),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (now - t).abs() > tolerance_secs {
        return false;
    }
    let expected = sign(secret, t, body);
    let expected_v1 = expected.rsplit("v1=").next().unwrap_or("");
    crate::config::constant_time_eq(expected_v1.as_bytes(), v1.as_bytes())
}

/// The delay before retry number `attempts` (1-based), or `None` to give up.
pub fn backoff_ms(attempts: i64) -> Option<i64> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let shift = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    Some((BASE_DELAY_MS << shift).min(MAX_DELAY_MS))
}

/// UTC ISO-8601 with milliseconds.
pub fn iso8601(ms: i64) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&f).ok())
        .unwrap_or_default()
}

/// The event's JSON body (ARGOS field names; timestamps UTC ISO-8601).
pub fn event_body(event: &str, s: &Submission, now_ms: i64, extra: Option<(&str, &str)>) -> String {
    let opt_time = |ms: Option<i64>| ms.map(iso8601);
    let mut kyc = json!({
        "status": s.status.as_str(),
        "created_at": iso8601(s.created_ms),
        "updated_at": iso8601(s.updated_ms),
    });
    match s.status {
        KycStatus::Approved | KycStatus::Rejected => {
            kyc["kyc_result_at"] = json!(opt_time(s.decided_ms));
            kyc["pending_at"] = json!(opt_time(s.submitted_ms));
            kyc["reviewer"] = json!(s.reviewer.as_deref().unwrap_or("system"));
            if s.status == KycStatus::Rejected {
                kyc["comment"] = json!(s.comment);
                // ARGOS's reject code (results API: `commentCode`).
                kyc["commentCode"] = json!(s.comment_code);
            }
        }
        KycStatus::Pending => kyc["pending_at"] = json!(opt_time(s.submitted_ms)),
        KycStatus::Incomplete => {}
    }
    let mut body = json!({
        "webhook_trigger": event,
        "submission_id": s.id,
        "email": s.email,
        "userid": s.userid,
        "cf": {"cf1": s.cf1, "cf2": s.cf2, "cf3": s.cf3},
        "tokenId": s.token,
        "ipAddress": s.ip_address,
        "idType": s.id_type,
        "issuingCountry": s.issuing_country,
        "kyc_result": kyc,
        "sent_at": iso8601(now_ms),
    });
    // The document's MRZ: ARGOS's `duplicated_information` (the keyed identity index) on every
    // event, and on `approved` the identity fields from a valid read.
    body["duplicated_information"] = json!(s.identity_ix);
    if let Some(d) = crate::results::document(s) {
        if event == "approved" {
            for (k, v) in crate::results::document_data_fields(&d) {
                let k = if k == "idcard_expireDate" {
                    "expireDate"
                } else {
                    k
                };
                body[k] = v;
            }
        }
    }
    if event == "created" {
        // ARGOS documents `retryCode` and `attempts` for `created` and `retry`; nothing has
        // been retried when a submission starts (inferred values).
        body["retryCode"] = serde_json::Value::Null;
        body["attempts"] = json!(0);
    }
    if event == "delete" {
        body["delete_time"] = json!(iso8601(now_ms));
        if let Some((who, comment)) = extra {
            body["account_email"] = json!(who);
            body["comment"] = json!(comment);
        }
    }
    body.to_string()
}

/// ARGOS's `token_expired` webhook for the registered tokens of project `pid` past their expiry
/// (`token_expiry_hours`, counted from the registration) that were not announced yet, each once
/// (a token a decided submission used up was announced by [`used_token_body`]'s `count`
/// webhook instead, and is not announced again by time).
/// **Inferred** fields beyond ARGOS's live docs: `expected_expired_at` is when the token expired,
/// `sent_at` ours. Blocking; called by the minute sweep.
pub fn announce_expired_tokens(state: &AppState, pid: &str, expiry_secs: i64, now_s: i64) {
    let Some(store) = &state.store else { return };
    if !wanted(state, pid, "token_expired") {
        return;
    }
    let now = now_ms(state);
    let cutoff_ms = now_s.saturating_sub(expiry_secs).saturating_mul(1000);
    let body = |token: &str, registered_ms: i64| {
        json!({
            "webhook_trigger": "token_expired",
            "token_id": token,
            "expired_condition": "time",
            "expected_expired_at": iso8601(registered_ms.saturating_add(expiry_secs * 1000)),
            "service": "idCheck",
            "sent_at": iso8601(now),
        })
        .to_string()
    };
    match store.announce_expired_tokens(pid, "token_expired", cutoff_ms, now, body) {
        Ok(0) => {}
        Ok(_) => state.webhook_wake.notify_one(),
        Err(e) => tracing::error!(%pid, error = %e, "cannot queue token_expired webhooks"),
    }
}

/// ARGOS's `token_expired` with `expired_condition: "count"` (§1.5: a private-mode token is
/// used up once a decided submission exists for it), for a submission of project `pid` decided
/// at `decided_ms`: the body writer for [`crate::store::Store::finish_with`], which queues
/// it (once per registration, in the finish's transaction) when the submission's token is in
/// the pool. `None` unless the project has `token_registration` and wants `token_expired`.
/// **Inferred** fields beyond ARGOS's live docs: `expired_at` is the decision's time (ARGOS
/// names `expired_at` and `expected_expired_at`, not which goes with `count`), `sent_at` ours.
pub fn used_token_body(
    state: &AppState,
    pid: &str,
    decided_ms: i64,
) -> Option<impl Fn(&str) -> String> {
    let registered_only = state
        .config
        .project(pid)
        .is_some_and(|p| p.private.registered_only);
    if !registered_only || !wanted(state, pid, "token_expired") {
        return None;
    }
    Some(move |token: &str| {
        json!({
            "webhook_trigger": "token_expired",
            "token_id": token,
            "expired_condition": "count",
            "expired_at": iso8601(decided_ms),
            "service": "idCheck",
            "sent_at": iso8601(decided_ms),
        })
        .to_string()
    })
}

/// Puts an event for `s` in the outbox (if the project has a webhook) and wakes the sender.
/// Never fails the caller: a storage error is logged. Blocking (a database write): async code
/// calls [`queue`].
pub fn enqueue(state: &AppState, s: &Submission, event: &str, extra: Option<(&str, &str)>) {
    enqueue_with(state, s, event, extra, None);
}

/// Whether `event`s of project `pid` go anywhere (storage, a webhook configured, and the trigger
/// selected in the project's `webhook_triggers`).
fn wanted(state: &AppState, pid: &str, event: &str) -> bool {
    state.store.is_some()
        && state.config.project(pid).is_some_and(|p| {
            p.webhook_url.is_some() && p.webhook_triggers.iter().any(|t| t == event)
        })
}

/// [`enqueue`], with the server's `verification` object (issue 14) in the body (the `submit`,
/// `approved` and `rejected` events that finishing sends).
pub fn enqueue_with(
    state: &AppState,
    s: &Submission,
    event: &str,
    extra: Option<(&str, &str)>,
    verification: Option<&serde_json::Value>,
) {
    let fields = verification.map(|v| {
        let mut m = serde_json::Map::new();
        m.insert("verification".into(), v.clone());
        m
    });
    enqueue_fields(state, s, event, extra, fields.as_ref());
}

/// [`enqueue`] with `fields` added to the body (the `verification`, a `retry`'s `retryCode` and
/// `attempts`, an `updated` event's `update_type`).
pub fn enqueue_fields(
    state: &AppState,
    s: &Submission,
    event: &str,
    extra: Option<(&str, &str)>,
    fields: Option<&serde_json::Map<String, serde_json::Value>>,
) {
    let Some(store) = &state.store else { return };
    if !wanted(state, &s.pid, event) {
        return;
    }
    let now_ms = now_ms(state);
    let mut body = event_body(event, s, now_ms, extra);
    if let Some(f) = fields.filter(|f| !f.is_empty()) {
        if let Ok(serde_json::Value::Object(mut o)) = serde_json::from_str(&body) {
            o.extend(f.iter().map(|(k, v)| (k.clone(), v.clone())));
            body = serde_json::Value::Object(o).to_string();
        }
    }
    // The link's projection leaves its fields out (server/src/projection.rs).
    if let Some(p) = state.config.project(&s.pid) {
        let omit = crate::projection::omitted(&p.projections, s.projection.as_deref());
        if !omit.is_empty() {
            if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&body) {
                crate::projection::apply(&mut v, &omit);
                body = v.to_string();
            }
        }
    }
    match store.enqueue(&s.pid, &s.id, event, &body, now_ms) {
        Ok(()) => state.webhook_wake.notify_one(),
        Err(e) => tracing::error!(pid = %s.pid, event, error = %e, "cannot queue a webhook"),
    }
}

/// [`enqueue_with`] from async code: on the blocking pool (in the caller's span), awaited, so
/// that the event is in the outbox before the request that caused it is answered.
pub async fn queue(
    state: &Arc<AppState>,
    s: Submission,
    event: &str,
    extra: Option<(&str, &str)>,
    verification: Option<serde_json::Value>,
) {
    let fields = verification.map(|v| {
        let mut m = serde_json::Map::new();
        m.insert("verification".into(), v);
        m
    });
    queue_fields(state, s, event, extra, fields).await;
}

/// [`enqueue_fields`] from async code (see [`queue`]).
pub async fn queue_fields(
    state: &Arc<AppState>,
    s: Submission,
    event: &str,
    extra: Option<(&str, &str)>,
    fields: Option<serde_json::Map<String, serde_json::Value>>,
) {
    if !wanted(state, &s.pid, event) {
        return;
    }
    let st = state.clone();
    let event = event.to_owned();
    let extra = extra.map(|(who, comment)| (who.to_owned(), comment.to_owned()));
    let span = tracing::Span::current();
    let res = tokio::task::spawn_blocking(move || {
        span.in_scope(|| {
            let extra = extra.as_ref().map(|(w, c)| (w.as_str(), c.as_str()));
            enqueue_fields(&st, &s, &event, extra, fields.as_ref());
        })
    })
    .await;
    if let Err(e) = res {
        tracing::error!(error = %e, "queueing a webhook failed");
    }
}

/// The body as sent: the stored JSON, or with the project's `secure_data_transfer` the form
/// ARGOS's sample code decrypts, `{"response":{"body":"<AES-256-CBC zero IV, Base64>"}}`
/// (§2.6 also names `{"data": …}` in prose; the sample's form is followed).
pub fn wire_body(project: &crate::config::ProjectConfig, body: &str) -> String {
    if !project.secure_data_transfer {
        return body.to_owned();
    }
    let sealed = liveform_core::launch::crypto::encrypt_cbc_zero_iv(&project.key, body.as_bytes());
    json!({"response": {"body": sealed}}).to_string()
}
/// How long a claimed delivery is left to its claimer before another instance retries it.
pub const CLAIM_MS: i64 = 120_000;

/// Deliveries in flight on one instance, and per project: a slow or unreachable endpoint holds
/// at most [`PER_PROJECT`] of the [`IN_FLIGHT`], so other projects' events go out meanwhile.
pub const IN_FLIGHT: usize = 32;
pub const PER_PROJECT: usize = 4;

/// Sends one claimed delivery and records the outcome.
async fn deliver(state: Arc<AppState>, client: reqwest::Client, item: crate::store::OutboxItem) {
    let now_ms = now_ms(&state);
    let project = state.config.project(&item.pid);
    let target = project.and_then(|p| {
        Some((
            p.webhook_url.clone()?,
            p.webhook_secret.clone()?,
            wire_body(p, &item.body),
        ))
    });
    let outcome: Result<(), String> = match &target {
        None => Err("the project has no webhook any more".into()),
        Some((url, secret, body)) => {
            let t = now_ms / 1000;
            let resp = client
                .post(url)
                .header("content-type", "application/json")
                .header(SIGNATURE_HEADER, sign(secret, t, body))
                .header(EVENT_HEADER, &item.event)
                .header(DELIVERY_HEADER, item.id.to_string())
                .body(body.clone())
                .send()
                .await;
            match resp {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
                Err(e) => Err(format!("{}", e.without_url())),
            }
        }
    };
    let Some(store) = state.store.clone() else {
        return;
    };
    let id = item.id;
    let event = item.event.clone();
    let pid = item.pid.clone();
    let attempts = item.attempts + 1;
    let res = tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
        match &outcome {
            Ok(()) => store.delivered(id),
            Err(e) if target.is_none() => store.failed(id, None, e),
            Err(e) => store.failed(id, backoff_ms(attempts).map(|d| now_ms + d), e),
        }?;
        if let Err(e) = &outcome {
            tracing::warn!(
                pid = %pid,
                delivery = id,
                attempt = attempts,
                error = %e,
                "webhook {event} delivery failed"
            );
        }
        Ok(())
    })
    .await;
    if let Ok(Err(e)) = res {
        tracing::error!(error = %e, "webhook outbox not updated");
    }
}

/// The HTTP client for webhooks: rustls, 10-second timeout, no redirects (a webhook URL that
/// redirects is a configuration error, and following it would resend signed personal data).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("liveform/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// The sender: delivers due events, then sleeps until woken or a second passes.
pub async fn run(state: Arc<AppState>) {
    let client = client();
    let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let per_project: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>> =
        Arc::default();
    loop {
        let free = slots.available_permits();
        let busy: Vec<String> = per_project
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, n)| **n >= PER_PROJECT)
            .map(|(p, _)| p.clone())
            .collect();
        let due = match (free, state.store.clone()) {
            (0, _) | (_, None) => Vec::new(),
            (free, Some(store)) => {
                let now = now_ms(&state);
                // Claimed, not just read: no other instance (or sender) delivers these while the
                // lease runs; each starts at once, and the client's timeout is 10 s.
                let limit = u32::try_from(free.min(PER_PROJECT)).unwrap_or(1);
                match tokio::task::spawn_blocking(move || {
                    store.claim_due_except(now, limit, CLAIM_MS, &busy)
                })
                .await
                {
                    Ok(Ok(d)) => d,
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "webhook outbox unreadable");
                        Vec::new()
                    }
                    Err(_) => Vec::new(),
                }
            }
        };
        if due.is_empty() {
            let _ =
                tokio::time::timeout(Duration::from_secs(1), state.webhook_wake.notified()).await;
            continue;
        }
        for item in due {
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                break;
            };
            let pid = item.pid.clone();
            *per_project
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(pid.clone())
                .or_insert(0) += 1;
            let (st, cl, pp) = (state.clone(), client.clone(), per_project.clone());
            tokio::spawn(async move {
                deliver(st, cl, item).await;
                let mut m = pp.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(n) = m.get_mut(&pid) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        m.remove(&pid);
                    }
                }
                drop(permit);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_expire() {
        let h = sign("whsec-0123456789", 1_800_000_000, r#"{"a":1}"#);
        assert!(h.starts_with("t=1800000000,v1="));
        assert!(verify(
            "whsec-0123456789",
            &h,
            r#"{"a":1}"#,
            1_800_000_100,
            300
        ));
        assert!(!verify(
            "whsec-0123456789",
            &h,
            r#"{"a":2}"#,
            1_800_000_100,
            300
        ));
        assert!(!verify(
            "other-secret-000",
            &h,
            r#"{"a":1}"#,
            1_800_000_100,
            300
        ));
        assert!(!verify(
            "whsec-0123456789",
            &h,
            r#"{"a":1}"#,
            1_800_001_000,
            300
        ));
        assert!(!verify("whsec-0123456789", "garbage", "", 0, 300));
    }

    #[test]
    fn backoff_doubles_then_gives_up() {
        assert_eq!(backoff_ms(1), Some(10_000));
        assert_eq!(backoff_ms(2), Some(20_000));
        assert_eq!(backoff_ms(5), Some(160_000));
        assert_eq!(backoff_ms(11), Some(10_240_000));
        assert_eq!(backoff_ms(MAX_ATTEMPTS), None);
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso8601(1_800_000_000_123), "2027-01-15T08:00:00.123Z");
    }
}
