//! The session's idle timeout, announced before it ends (WCAG 2.2.1, timing adjustable): the
//! server ends a session after `session_idle_minutes` without a request; two minutes before (or at
//! half the idle time), a dialog says so, counts down and offers more time, which is one request
//! (`GET /api/session`) that restarts the server's clock; past the end it says the session ended
//! and offers to try again (the same request; if the server ended it too, a reload shows the
//! session-expired page). Every answer from the server, in either
//! module, restarts the count (`liveform_web::storage::mark_contact`); the rule is
//! `liveform_core::idle`. Shown over the first screen's welcome too (the app is mounted behind
//! it), and not once the submission is made or an error page is shown.

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::flow::Step;
use liveform_core::idle::{idle_state, Idle};
use liveform_ui::i18n::use_i18n;
use liveform_web::{api, dom, location, storage, time};

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
            // The result page: the submission is made, nothing is lost if the session ends.
            let done = state
                .flow
                .try_with_untracked(|f| f.as_ref().is_some_and(|f| f.current() == Step::Result))
                .unwrap_or(true);
            let now = match storage::last_contact() {
                Some(c) if on_a_step && !done => idle_state(time::date_now(), c, idle),
                _ => Idle::Active,
            };
            if stage.try_get_untracked() != Some(now) && stage.try_set(now).is_some() {
                return;
            }
        }
    });
    // One request restarts the server's clock; where it fails on an ended session, a reload shows
    // the session-expired page with what to do next.
    let extend = move |_| {
        let Some(token) = state.token() else { return };
        busy.set(true);
        spawn_local(async move {
            let ok = api::resume_session(&token).await.is_ok();
            let _ = failed.try_set(!ok);
            let _ = busy.try_set(false);
            if ok {
                let _ = stage.try_set(Idle::Active);
            } else if stage.try_get_untracked() == Some(Idle::Ended) {
                location::reload();
            }
        });
    };
    let warning = Memo::new(move |_| matches!(stage.get(), Idle::Warning { .. }));
    let ended = Memo::new(move |_| stage.get() == Idle::Ended);
    let left = move || match stage.get() {
        Idle::Warning { left } => left,
        _ => 0,
    };
    // The page behind the dialog is inert while it is open (Tab stays in the dialog).
    Effect::new(move |_| dom::set_page_inert(warning.get() || ended.get(), "lf-idle-backdrop"));
    let button = NodeRef::<leptos::html::Button>::new();
    dom::focus_on_show(button);
    let expired = liveform_core::ErrorCode::SessionExpired.message_key();
    let title = move || {
        if ended.get() {
            i18n.t(&format!("{expired}-title"))
        } else {
            i18n.t("idle-warning")
        }
    };
    let text = move || {
        if ended.get() {
            i18n.t(&format!("{expired}-action"))
        } else {
            i18n.tf("idle-left", &[("seconds", &left().to_string())])
        }
    };
    // A modal dialog over a backdrop: the page behind cannot be used or read until it is answered.
    // It is created once per warning, so its name is announced once, not each second.
    view! {
        {move || (warning.get() || ended.get()).then(|| view! {
            <div class="lf-idle-backdrop">
                <div
                    class="lf-idle"
                    role="alertdialog"
                    aria-modal="true"
                    aria-labelledby="lf-idle-title"
                    aria-describedby="lf-idle-text"
                    data-testid=move || if ended.get() { "idle-ended" } else { "idle-warning" }
                >
                    <p id="lf-idle-title" class="lf-idle-title">{title}</p>
                    <p id="lf-idle-text" data-testid="idle-left">{text}</p>
                    <button class="lf-button" data-testid="idle-extend" node_ref=button
                        prop:disabled=move || busy.get() on:click=extend>
                        {move || if ended.get() { i18n.t("error-retry") } else { i18n.t("idle-extend") }}
                    </button>
                    <p class="lf-hint" role="alert" hidden=move || !failed.get()>{move || i18n.t("error-network-action")}</p>
                </div>
            </div>
        })}
    }
}
