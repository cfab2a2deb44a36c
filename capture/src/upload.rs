//! The upload status of the capture screens (progress, reconnecting, saved, refused). The queue
//! itself (sending, retries, the copy kept for a reload) is `liveform_web::hooks::
//! use_upload_queue`, owned by the capture module's context (`crate::CaptureCtx::uploads`).

use leptos::prelude::*;
use liveform_core::upload::UploadState;
use liveform_core::ErrorCode;
use liveform_ui::i18n::use_i18n;
pub use liveform_web::hooks::{forget_if_stored, UploadHandle, UploadQueue};
pub use liveform_web::time::sleep;

use crate::use_capture;

/// The upload of the current capture step, if any: its status; after a reload, a capture the
/// reload interrupted is sent again from here.
#[component]
pub fn UploadArea() -> impl IntoView {
    let ctx = use_capture();
    let upload = ctx.uploads.current();
    if let Some(slot) = ctx.config.step.slot() {
        if upload.with_untracked(Option::is_none) {
            ctx.uploads.resume(slot);
        }
    }
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
