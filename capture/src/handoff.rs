//! Continuing on another device: the server makes a one-time, short-lived handoff link for this
//! session and its QR code (an SVG made in Rust on the server); the phone opens it and resumes the
//! same session; this page follows along (`GET /api/handoff`) and says when the phone is done.

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::api::{HandoffState, HandoffView};
use liveform_core::ErrorBody;

use crate::use_capture;
use liveform_ui::i18n::use_i18n;
use liveform_web::api;

/// How often the desktop asks whether the phone has taken over / finished.
const POLL_MS: u32 = 2_000;

async fn create(token: String) -> Result<HandoffView, ErrorBody> {
    api::open_handoff(&token).await
}

/// A handoff link for this session, made once on first use (for the in-app escape: the link to
/// open in the real browser). `None` while loading or where the server offers no handoff.
pub fn use_handoff_url() -> Signal<Option<String>> {
    let token = use_capture().config.token;
    let url = RwSignal::new(None::<String>);
    spawn_local(async move {
        if let Ok(v) = create(token).await {
            let _ = url.try_set(Some(v.url));
        }
    });
    url.into()
}

/// "Continue on your phone": a button, then the QR code, the link, and the phone's progress.
#[component]
pub fn HandoffPanel() -> impl IntoView {
    let i18n = use_i18n();
    let token = StoredValue::new(use_capture().config.token);
    let view_sig = RwSignal::new(None::<HandoffView>);
    let status = RwSignal::new(None::<HandoffState>);
    let unavailable = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let generation = StoredValue::new(0u32);

    let make = move || {
        let token = token.get_value();
        busy.set(true);
        generation.update_value(|g| *g += 1);
        let gen = generation.get_value();
        spawn_local(async move {
            let r = create(token.clone()).await;
            let _ = busy.try_set(false);
            match r {
                Ok(v) => {
                    let _ = view_sig.try_set(Some(v));
                    let _ = status.try_set(Some(HandoffState::Waiting));
                    poll(token, gen, generation, status).await;
                }
                Err(_) => {
                    let _ = unavailable.try_set(true);
                }
            }
        });
    };
    let qr = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let (Some(el), Some(v)) = (qr.get(), view_sig.get()) {
            liveform_web::dom::set_inner_html(&el, &v.qr_svg);
        }
    });
    on_cleanup(move || {
        // Stops the polling loop.
        let _ = generation.try_update_value(|g| *g += 1);
    });
    let status_text = move || match status.get() {
        Some(HandoffState::Waiting) => i18n.t("handoff-waiting"),
        Some(HandoffState::Claimed) => i18n.t("handoff-claimed"),
        Some(HandoffState::Finished) => i18n.t("handoff-finished"),
        Some(HandoffState::Expired) => i18n.t("handoff-expired"),
        Some(HandoffState::None) | None => String::new(),
    };
    view! {
        <div class="lf-handoff" data-testid="handoff">
            <h2>{move || i18n.t("handoff-title")}</h2>
            {move || if unavailable.get() {
                view! { <p data-testid="handoff-unavailable">{move || i18n.t("handoff-unavailable")}</p> }.into_any()
            } else if let Some(v) = view_sig.get() {
                let url = v.url.clone();
                view! {
                    <p>{move || i18n.t("handoff-text")}</p>
                    <div class="lf-qr" role="img" aria-label=move || i18n.t("handoff-qr-label") node_ref=qr data-testid="handoff-qr"></div>
                    <p class="lf-hint">{move || i18n.t("handoff-link-label")} " "
                        <a href=url.clone() data-testid="handoff-link" class="lf-break">{url.clone()}</a>
                    </p>
                }.into_any()
            } else {
                view! {
                    <p>{move || i18n.t("handoff-text")}</p>
                    <button class="lf-button lf-secondary" data-testid="handoff-start" prop:disabled=move || busy.get() on:click=move |_| make()>
                        {move || i18n.t("handoff-start")}
                    </button>
                }.into_any()
            }}
            <p aria-live="polite" data-testid="handoff-status" data-state=move || status.get().map(state_name).unwrap_or("")>
                {status_text}
            </p>
            <button
                class="lf-button lf-secondary"
                data-testid="handoff-new"
                hidden=move || status.get() != Some(HandoffState::Expired)
                on:click=move |_| make()
            >
                {move || i18n.t("handoff-new")}
            </button>
        </div>
    }
}

async fn poll(
    token: String,
    gen: u32,
    generation: StoredValue<u32>,
    status: RwSignal<Option<HandoffState>>,
) {
    loop {
        liveform_web::time::sleep(POLL_MS).await;
        if generation.try_get_value() != Some(gen) {
            return;
        }
        match api::handoff_status(&token).await {
            Ok(s) => {
                let done = matches!(s.state, HandoffState::Finished | HandoffState::Expired);
                let _ = status.try_set(Some(s.state));
                if done {
                    return;
                }
            }
            // A network blip: keep following.
            Err(_) => continue,
        }
    }
}

fn state_name(s: HandoffState) -> &'static str {
    match s {
        HandoffState::None => "none",
        HandoffState::Waiting => "waiting",
        HandoffState::Claimed => "claimed",
        HandoffState::Finished => "finished",
        HandoffState::Expired => "expired",
    }
}
