//! The root component: providers, theme, live region, start-up flow, screen switch.

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::{ErrorBody, ErrorCode};

use crate::boot::{self, Boot, Pending, Plan, Stored, PENDING_KEY, SESSION_KEY};
use crate::browser::{api, dom, location, storage};
use crate::i18n::{pick_language, provide_i18n, I18n, Translations};
use crate::state::{provide_state, AppState, Screen};
use crate::steps::{ErrorScreen, LoadingScreen, NextScreen, WelcomeScreen};

/// Errors that a new attempt may fix keep the pending link (so a retry still has `encrypted`).
fn keeps_pending(e: &ErrorBody) -> bool {
    matches!(
        ErrorCode::from_id(&e.code),
        Some(ErrorCode::Network | ErrorCode::RateLimited | ErrorCode::Internal) | None
    )
}

/// Opens (or resumes) the session and switches screens.
fn open(state: AppState, boot: Boot) {
    state.screen.set(Screen::Loading);
    let stored: Option<Stored> = storage::get(SESSION_KEY);
    let pending: Option<Pending> = storage::get(PENDING_KEY);
    let plan = boot::plan(&boot, stored.as_ref(), pending.as_ref());
    spawn_local(async move {
        let result = match plan {
            Plan::Create(query) => {
                if let (Some(pid), true) = (&boot.pid, boot.is_fresh_link) {
                    storage::set(
                        PENDING_KEY,
                        &Pending {
                            pid: pid.clone(),
                            query: query.clone(),
                        },
                    );
                }
                api::create_session(&query).await
            }
            Plan::Resume(token) => {
                let r = api::resume_session(&token).await;
                if r.as_ref().is_err_and(|e| !keeps_pending(e)) {
                    storage::remove(SESSION_KEY);
                }
                r
            }
            Plan::Fail(code) => Err(ErrorBody::new(code, "the address has no usable link")),
        };
        match result {
            Ok(view) => {
                storage::set(
                    SESSION_KEY,
                    &Stored {
                        pid: view.project.pid.clone(),
                        token: view.token.clone(),
                    },
                );
                storage::remove(PENDING_KEY);
                state.session.set(Some(view));
                state.screen.set(Screen::Welcome);
            }
            Err(e) => {
                if !keeps_pending(&e) {
                    storage::remove(PENDING_KEY);
                }
                state.screen.set(Screen::Error(e));
            }
        }
    });
}

/// Loads the active language's strings (English is compiled in).
fn load_language(i18n: I18n, lang: &'static str, ready: RwSignal<bool>) {
    dom::set_document_lang(lang);
    if lang == "en" {
        ready.set(true);
        return;
    }
    spawn_local(async move {
        match api::fetch_locale(lang)
            .await
            .and_then(|json| Translations::parse(lang, &json).ok())
        {
            Some(t) => i18n.set(t),
            // Stay in English rather than block: the page must remain usable.
            None => dom::set_document_lang("en"),
        }
        ready.set(true);
    });
}

#[component]
pub fn App() -> impl IntoView {
    let i18n = provide_i18n();
    let state = provide_state();
    let boot = Boot::read(&location::search());
    let lang = pick_language(boot.lang_param.as_deref(), &location::browser_languages());
    // Drop `encrypted` and everything else from the address bar at once: only pid and lang stay.
    location::replace_query(&boot.clean_query(lang));
    let locale_ready = RwSignal::new(false);
    load_language(i18n, lang, locale_ready);
    let b = boot.clone();
    state
        .retry
        .set_value(Some(Callback::new(move |_| open(state, b.clone()))));
    open(state, boot);
    dom::mark_mounted();
    app_view(state, i18n, locale_ready)
}

/// The page around whichever screen is current (separate so tests can mount it with a state).
pub fn app_view(state: AppState, i18n: I18n, locale_ready: RwSignal<bool>) -> impl IntoView {
    let palette = Memo::new(move |_| {
        state.session.with(|s| {
            let theme = s.as_ref().map(|s| s.theme.clone()).unwrap_or_default();
            liveform_core::theme::palette(theme.main_color.as_deref(), theme.inner_color.as_deref())
        })
    });
    Effect::new(move |_| {
        if !locale_ready.get() {
            return;
        }
        let text = match state.screen.get() {
            Screen::Loading => i18n.t("loading-status"),
            Screen::Welcome => i18n.t("welcome-ready-status"),
            Screen::Next => i18n.t("next-body"),
            Screen::Error(e) => format!(
                "{} {}",
                i18n.t("error-status"),
                i18n.t(&format!("{}-title", e.message_key))
            ),
        };
        state.announce.set(text);
    });
    view! {
        <div
            class="lf-app"
            style:--lf-main=move || palette.with(|p| p.main.clone())
            style:--lf-on-main=move || palette.with(|p| p.on_main.clone())
            style:--lf-main-text=move || palette.with(|p| p.main_text.clone())
            style:--lf-inner=move || palette.with(|p| p.inner.clone())
            style:--lf-on-inner=move || palette.with(|p| p.on_inner.clone())
        >
            <div class="lf-sr-only" role="status" aria-live="polite" data-testid="live-status">
                {move || state.announce.get()}
            </div>
            <div class="lf-page">
                {move || {
                    if !locale_ready.get() {
                        return view! { <LoadingScreen/> }.into_any();
                    }
                    match state.screen.get() {
                        Screen::Loading => view! { <LoadingScreen/> }.into_any(),
                        Screen::Welcome => view! { <WelcomeScreen/> }.into_any(),
                        Screen::Next => view! { <NextScreen/> }.into_any(),
                        Screen::Error(e) => view! { <ErrorScreen error=e/> }.into_any(),
                    }
                }}
            </div>
        </div>
    }
}
