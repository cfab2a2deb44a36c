//! The upload queue of the capture screens: one `PUT /api/capture/{capture_id}?slot=…` per
//! capture (raw body, session header), sent with `XMLHttpRequest` for byte-level progress, and
//! retried with the same client-made capture id (the server stores it once) until the server
//! holds it or refuses it for good. The decisions (backoff with full jitter, `Retry-After`,
//! which answers are retried, the states) are `liveform_core::upload`.
//!
//! Until stored, the capture's id, type and (when small enough) its bytes stay in
//! `sessionStorage` under `liveform.upload.<slot>`: after a reload the step re-sends them with
//! the same id (answered `200` if the first attempt had in fact arrived).

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::flow::CaptureSlot;
use liveform_core::upload::{
    capture_id, classify, failure_code, from_base64, parse_retry_after, retry_delay_ms, to_base64,
    Outcome, UploadState,
};
use liveform_core::{ErrorBody, ErrorCode};
use liveform_ui::i18n::use_i18n;
use liveform_web::keys::UPLOAD_KEY_PREFIX;
use liveform_web::protocol::CaptureEvent;
use liveform_web::time::random_bytes;
pub use liveform_web::time::sleep;
use liveform_web::xhr::{self, blob_bytes, blob_from_bytes, blob_size, Answer};
use liveform_web::{storage, Blob};
use serde::{Deserialize, Serialize};

use crate::{use_capture, CaptureCtx};

/// Bytes of a capture kept in `sessionStorage` for a re-send after a reload (Base64 makes them
/// a third larger; the storage holds about 5 MB per origin).
const MAX_KEPT_BYTES: u64 = 1_500_000;
/// How long "Saved" shows before the flow moves on.
const SAVED_PAUSE_MS: u32 = 400;

/// One capture's upload, for the screens: its reactive state.
#[derive(Clone)]
pub struct UploadHandle {
    pub slot: CaptureSlot,
    pub capture_id: String,
    pub state: RwSignal<UploadState>,
    /// Set by "Retry now": ends the current wait.
    retry_now: RwSignal<bool>,
    /// Extra query for the upload (`&device=…`: the gate's verdict on a document side).
    query: String,
}

impl UploadHandle {
    fn alive(&self) -> bool {
        self.state.try_get_untracked().is_some()
    }

    fn set(&self, s: UploadState) {
        let _ = self.state.try_set(s);
    }
}

/// What waits in `sessionStorage` until the server holds it.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    capture_id: String,
    content_type: String,
    /// Base64 of the bytes (absent when too large to keep).
    #[serde(default)]
    data: Option<String>,
}

fn pending_key(slot: CaptureSlot) -> String {
    format!("{UPLOAD_KEY_PREFIX}{}", slot.name())
}

/// A random `u32` for the jitter (a fixed mid value if the browser has no `crypto`).
fn random_u32() -> u32 {
    random_bytes::<4>().map_or(u32::MAX / 2, u32::from_le_bytes)
}

/// Whether an upload of this screen is under way or done (the shutter waits).
pub fn busy(ctx: &CaptureCtx) -> bool {
    ctx.upload.with_untracked(|u| {
        u.as_ref().is_some_and(|h| {
            h.state
                .try_with_untracked(|s| !matches!(s, UploadState::Failed { .. }))
                .unwrap_or(false)
        })
    })
}

/// Uploads `blob` for `slot` under a new capture id; the returned handle shows the progress.
/// Once the server holds it, [`CaptureEvent::Captured`] goes to the main app (the flow moves on).
/// `device`: what the document gate said when the photo was taken (`ok` or its issue), sent as
/// `&device=` for the server to record beside its own verdict.
pub fn upload(
    ctx: &CaptureCtx,
    slot: CaptureSlot,
    blob: Blob,
    content_type: &str,
    device: Option<&str>,
) -> UploadHandle {
    match random_bytes::<16>() {
        Some(r) => {
            let query = device.map(|d| format!("&device={d}")).unwrap_or_default();
            start(ctx, slot, capture_id(&r), blob, content_type, true, query)
        }
        None => failed(ctx, slot, ErrorCode::Runtime),
    }
}

/// A handle that failed before sending (no frame, no `crypto`): shown like any failure.
pub fn failed(ctx: &CaptureCtx, slot: CaptureSlot, code: ErrorCode) -> UploadHandle {
    let h = ctx.owner.with(|| UploadHandle {
        slot,
        capture_id: String::new(),
        state: RwSignal::new(UploadState::Failed {
            code: code.id().to_owned(),
        }),
        retry_now: RwSignal::new(false),
        query: String::new(),
    });
    ctx.upload.set(Some(h.clone()));
    h
}

fn start(
    ctx: &CaptureCtx,
    slot: CaptureSlot,
    id: String,
    blob: Blob,
    content_type: &str,
    keep: bool,
    query: String,
) -> UploadHandle {
    let h = ctx.owner.with(|| UploadHandle {
        slot,
        capture_id: id,
        state: RwSignal::new(UploadState::Queued),
        retry_now: RwSignal::new(false),
        query,
    });
    ctx.upload.set(Some(h.clone()));
    spawn_local(run(
        ctx.clone(),
        h.clone(),
        blob,
        content_type.to_owned(),
        keep,
        true,
    ));
    h
}

/// Drops the kept copy of `slot` when the server already holds that capture (its answer was
/// lost to a reload).
pub fn forget_if_stored(slot: CaptureSlot, capture_id: &str) {
    let key = pending_key(slot);
    if storage::get::<Pending>(&key).is_some_and(|p| p.capture_id == capture_id) {
        storage::remove(&key);
    }
}

/// Re-sends what a reload interrupted for `slot` (same capture id), if its bytes were kept.
pub fn resume_pending(ctx: &CaptureCtx, slot: CaptureSlot) -> Option<UploadHandle> {
    let p: Pending = storage::get(&pending_key(slot))?;
    let bytes = p.data.as_deref().and_then(from_base64);
    let Some(bytes) = bytes else {
        storage::remove(&pending_key(slot));
        return None;
    };
    let blob = blob_from_bytes(&bytes, &p.content_type)?;
    Some(start(
        ctx,
        slot,
        p.capture_id,
        blob,
        &p.content_type,
        false,
        String::new(),
    ))
}

async fn keep_pending(h: &UploadHandle, content_type: &str, blob: &Blob) {
    let mut p = Pending {
        capture_id: h.capture_id.clone(),
        content_type: content_type.to_owned(),
        data: None,
    };
    let key = pending_key(h.slot);
    if blob_size(blob) <= MAX_KEPT_BYTES {
        if let Some(bytes) = blob_bytes(blob).await {
            p.data = Some(to_base64(&bytes));
            storage::set(&key, &p);
            if storage::get::<Pending>(&key).is_some() {
                return;
            }
            p.data = None; // over the storage quota: keep the id only
        }
    }
    storage::set(&key, &p);
}

async fn send_once(
    url: &str,
    token: &str,
    blob: &Blob,
    content_type: &str,
    h: &UploadHandle,
) -> Answer {
    let state = h.state;
    xhr::put_blob(url, token, blob, content_type, move |sent, total| {
        let _ = state.try_set(UploadState::Sending { sent, total });
    })
    .await
}

/// Uploads one liveness frame (or any capture that must not move the flow on): no progress on
/// screen, no copy kept for a reload, the same retries. The capture id once the server holds it,
/// else the failure's code.
pub async fn upload_quiet(
    ctx: &CaptureCtx,
    slot: CaptureSlot,
    blob: Blob,
    content_type: &str,
) -> Result<String, String> {
    let r = random_bytes::<16>().ok_or_else(|| ErrorCode::Runtime.id().to_owned())?;
    let h = ctx.owner.with(|| UploadHandle {
        slot,
        capture_id: capture_id(&r),
        state: RwSignal::new(UploadState::Queued),
        retry_now: RwSignal::new(false),
        query: String::new(),
    });
    run(
        ctx.clone(),
        h.clone(),
        blob,
        content_type.to_owned(),
        false,
        false,
    )
    .await;
    match h.state.try_get_untracked() {
        Some(UploadState::Stored { capture_id }) => Ok(capture_id),
        Some(UploadState::Failed { code }) => Err(code),
        _ => Err(ErrorCode::Network.id().to_owned()),
    }
}

async fn run(
    ctx: CaptureCtx,
    h: UploadHandle,
    blob: Blob,
    content_type: String,
    keep: bool,
    emit: bool,
) {
    if keep {
        keep_pending(&h, &content_type, &blob).await;
    }
    let url = liveform_web::api::capture_url(&h.capture_id, h.slot, &h.query);
    let token = ctx.config.token.clone();
    let mut attempt = 0u32;
    loop {
        if !h.alive() {
            return; // the screen went away
        }
        attempt = attempt.saturating_add(1);
        h.set(UploadState::Sending {
            sent: 0,
            total: blob.size() as u64,
        });
        let a = send_once(&url, &token, &blob, &content_type, &h).await;
        let code = serde_json::from_str::<ErrorBody>(&a.body)
            .ok()
            .map(|e| e.code);
        match classify(a.status, code.as_deref()) {
            Outcome::Stored => {
                storage::remove(&pending_key(h.slot));
                h.set(UploadState::Stored {
                    capture_id: h.capture_id.clone(),
                });
                if !emit {
                    return;
                }
                sleep(SAVED_PAUSE_MS).await;
                if h.alive() {
                    ctx.emit(CaptureEvent::Captured {
                        slot: h.slot,
                        capture_id: h.capture_id.clone(),
                    });
                }
                return;
            }
            Outcome::Fail => {
                storage::remove(&pending_key(h.slot));
                h.set(UploadState::Failed {
                    code: failure_code(a.status, code.as_deref()),
                });
                return;
            }
            Outcome::Retry => {
                let now = liveform_web::time::date_now() as u64;
                let ra = a
                    .retry_after
                    .as_deref()
                    .and_then(|v| parse_retry_after(v, Some(now)));
                let mut left = retry_delay_ms(attempt, ra, random_u32());
                let _ = h.retry_now.try_set(false);
                while left > 0 {
                    if !h.alive() {
                        return;
                    }
                    h.set(UploadState::Reconnecting {
                        attempt,
                        retry_in_ms: left,
                    });
                    let step = left.min(250);
                    sleep(step).await;
                    left -= step;
                    if h.retry_now.try_get_untracked().unwrap_or(false) {
                        break;
                    }
                }
            }
        }
    }
}

/// The upload of the current capture step, if any: its status; after a reload, a capture the
/// reload interrupted is sent again from here.
#[component]
pub fn UploadArea() -> impl IntoView {
    let ctx = use_capture();
    if let Some(slot) = ctx.config.step.slot() {
        if ctx.upload.with_untracked(Option::is_none) {
            resume_pending(&ctx, slot);
        }
    }
    let upload = ctx.upload;
    move || {
        upload
            .get()
            .map(|handle| view! { <UploadStatus handle=handle on_retake=Callback::new(move |_| upload.set(None))/> })
    }
}

/// A capture's upload: a progress bar, a polite live text ("Uploading… 45 %", "Connection lost —
/// retrying in 4 s", "Saved"), "Retry now" while waiting, and what to do after a refusal.
#[component]
pub fn UploadStatus(handle: UploadHandle, #[prop(into)] on_retake: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let st = handle.state;
    let retry_now = handle.retry_now;
    let percent = move || st.with(|s| s.percent());
    let text = move || {
        st.with(|s| match s {
            UploadState::Queued => i18n.t("send-queued"),
            UploadState::Sending { .. } => i18n.tf(
                "send-progress",
                &[("percent", &s.percent().unwrap_or(0).to_string())],
            ),
            UploadState::Reconnecting { .. } => i18n.tf(
                "send-reconnecting",
                &[("seconds", &s.retry_in_secs().unwrap_or(1).to_string())],
            ),
            UploadState::Stored { .. } => i18n.t("send-saved"),
            UploadState::Failed { code } => {
                let key = ErrorCode::from_id(code).map_or("error-internal", |c| c.message_key());
                format!(
                    "{} {}",
                    i18n.t(&format!("{key}-title")),
                    i18n.tf("send-failed", &[("code", code)])
                )
            }
        })
    };
    let reconnecting = move || st.with(|s| matches!(s, UploadState::Reconnecting { .. }));
    let failed = move || st.with(|s| matches!(s, UploadState::Failed { .. }));
    view! {
        <div class="lf-upload" data-testid="upload-status" data-state=move || st.with(|s| s.name())>
            <progress
                role="progressbar"
                max="100"
                value=move || percent().unwrap_or(0)
                aria-label=move || i18n.t("send-label")
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=move || percent().map(|p| p.to_string())
            ></progress>
            <p aria-live="polite" aria-atomic="true" data-testid="upload-text">{text}</p>
            <button
                class="lf-button lf-secondary"
                data-testid="upload-retry-now"
                hidden=move || !reconnecting()
                on:click=move |_| {
                    let _ = retry_now.try_set(true);
                }
            >
                {move || i18n.t("send-retry-now")}
            </button>
            <button
                class="lf-button"
                data-testid="upload-retake"
                hidden=move || !failed()
                on:click=move |_| on_retake.run(())
            >
                {move || i18n.t("send-retake")}
            </button>
        </div>
    }
}
