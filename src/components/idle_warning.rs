//! The session's idle timeout, announced before it ends (WCAG 2.2.1, timing adjustable): the
//! server ends a session after `session_idle_minutes` without a request; two minutes before (or at
//! half the idle time), a banner says so, counts down and offers more time, which is one request
//! (`GET /api/session`) that restarts the server's clock. Every answer from the server, in either
//! module, restarts the count (`liveform_web::storage::mark_contact`); the rule is
//! `liveform_core::idle`. Shown over the first screen's welcome too (the app is mounted behind
//! it), and not once the submission is made or an error page is shown.

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::idle::{idle_state, Idle};
use liveform_ui::i18n::use_i18n;
use liveform_web::{api, dom, storage, time};

use crate::state::{use_state, Screen};

#[component]
pub fn IdleWarning() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_state();
    let stage = RwSignal::new(Idle::Active);
    let failed = RwSignal::new(false);
    let busy = RwSignal::new(false);
    spawn_local(async move {
        loop {
            time::sleep(1000).await;
            let Some(idle) = state
                .session
                .try_with_untracked(|s| s.as_ref().map_or(0, |s| s.idle_seconds))
            else {
                return; // unmounted
            };
            let on_a_step = state
                .screen
                .try_with_untracked(|s| matches!(s, Screen::Flow))
                .unwrap_or(false);
            let done = storage::get_text(liveform_web::keys::FINISHED_KEY).is_some();
            let now = match storage::last_contact() {
                Some(c) if on_a_step && !done => idle_state(time::date_now(), c, idle),
                _ => Idle::Active,
            };
            if stage.try_get_untracked() != Some(now) && stage.try_set(now).is_some() {
                return;
            }
        }
    });
    let extend = move |_| {
        let Some(token) = state.token() else { return };
        busy.set(true);
        spawn_local(async move {
            let ok = api::resume_session(&token).await.is_ok();
            let _ = failed.try_set(!ok);
            let _ = busy.try_set(false);
            if ok {
                let _ = stage.try_set(Idle::Active);
            }
        });
    };
    let warning = Memo::new(move |_| matches!(stage.get(), Idle::Warning { .. }));
    let ended = Memo::new(move |_| stage.get() == Idle::Ended);
    let left = move || match stage.get() {
        Idle::Warning { left } => left,
        _ => 0,
    };
    let button = NodeRef::<leptos::html::Button>::new();
    dom::focus_button_on_show(button);
    let expired = liveform_core::ErrorCode::SessionExpired.message_key();
    view! {
        {move || warning.get().then(|| view! {
            <div class="lf-idle" role="region" aria-labelledby="lf-idle-title" data-testid="idle-warning">
                // Announced once when it appears; the seconds below are not a live region.
                <p id="lf-idle-title" class="lf-idle-title" role="alert">{move || i18n.t("idle-warning")}</p>
                <p data-testid="idle-left">{move || i18n.tf("idle-left", &[("seconds", &left().to_string())])}</p>
                <button class="lf-button" data-testid="idle-extend" node_ref=button
                    prop:disabled=move || busy.get() on:click=extend>
                    {move || i18n.t("idle-extend")}
                </button>
                <p class="lf-hint" role="alert" hidden=move || !failed.get()>{move || i18n.t("error-network-action")}</p>
            </div>
        })}
        {move || ended.get().then(|| view! {
            <div class="lf-idle" role="alert" data-testid="idle-ended">
                <p class="lf-idle-title">{move || i18n.t(&format!("{expired}-title"))}</p>
                <p>{move || i18n.t(&format!("{expired}-action"))}</p>
            </div>
        })}
    }
}
