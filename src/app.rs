//! The root component: providers, theme, live region, start-up flow, screen switch.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::ErrorBody;

use crate::components::IdleWarning;
use crate::state::{provide_state, AppState, Screen};
use crate::steps::{
    CaptureStep, ConsentStep, CountryStep, EmailStep, ErrorScreen, IdTypeStep, LoadingScreen,
};
use liveform_core::api::SessionView;
use liveform_core::boot::{self, Boot, Pending, Plan, Stored};
use liveform_core::embed::{EventType, FrameComplete};
use liveform_core::flow::Event;
use liveform_core::flow::Step;
use liveform_ui::i18n::{is_rtl, pick_language, provide_i18n, I18n, Translations};
use liveform_web::app_entry::AppStart;
use liveform_web::keys::{FLOW_KEY, PENDING_KEY, SESSION_KEY};
use liveform_web::protocol::StoredFlow;
use liveform_web::{api, dom, embed, location, module, storage};

/// Fetches country names in the UI language (the picker shows codes until they arrive).
fn load_country_names(state: AppState, lang: &'static str) {
    if state.country_names.with_untracked(Option::is_some) {
        return;
    }
    spawn_local(async move {
        if let Some(names) = api::fetch_countries(lang).await {
            state.country_names.set(Some(std::sync::Arc::new(names)));
        }
    });
}

/// Opens (or resumes) the session and switches screens.
fn open(state: AppState, boot: Boot, lang: &'static str) {
    state.screen.set(Screen::Loading);
    let stored: Option<Stored> = storage::get(SESSION_KEY);
    let pending: Option<Pending> = storage::get(PENDING_KEY);
    let plan = boot::plan(&boot, stored.as_ref(), pending.as_ref());
    if let Some(p) = boot::pending_for(&boot, &plan) {
        storage::set(PENDING_KEY, &p);
    }
    spawn_local(async move {
        let result = match &plan {
            Plan::Create(query) => api::create_session(query).await,
            Plan::Resume(token) => api::resume_session(token).await,
            Plan::Claim(token) => {
                let r = api::claim_handoff(token).await;
                if let Ok(v) = &r {
                    // A reload now resumes this tab's session instead of claiming again.
                    let b = Boot {
                        pid: Some(v.project.pid.clone()),
                        ..boot.clone()
                    };
                    location::replace_query(&b.clean_query(lang));
                }
                r
            }
            Plan::Fail(code) => Err(ErrorBody::new(*code, "the address has no usable link")),
        };
        if let Err(e) = &result {
            let forget = boot::forget_after_failure(&plan, &e.code);
            if forget.pending {
                storage::remove(PENDING_KEY);
            }
            if forget.session {
                storage::remove(SESSION_KEY);
            }
        }
        settle(state, lang, result);
    });
}

/// Shows the outcome of opening the session: its flow (resumed where this tab left it), or the
/// error page.
fn settle(state: AppState, lang: &'static str, result: Result<SessionView, ErrorBody>) {
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
            let remembered: Option<StoredFlow> = storage::get(FLOW_KEY);
            let needs_countries = view.flow.steps().contains(&Step::Country);
            state.session.set(Some(view.clone()));
            state.start_flow(&view, remembered);
            if !location::is_top() && !view.frame_origins.is_empty() {
                start_frame_link(&view);
            }
            if needs_countries {
                load_country_names(state, lang);
            }
        }
        Err(e) => state.screen.set(Screen::Error(e)),
    }
}

/// In a frame: the capture module (loaded now rather than at the first capture step) sets up the
/// link to the host page from what is noted here (`liveform_web::embed_link`).
fn start_frame_link(view: &SessionView) {
    module::embed_init(
        &view.frame_origins.join(" "),
        view.frame_complete == FrameComplete::NavigateTop,
    );
    spawn_local(async {
        let _ = module::capture_module().await;
    });
}

/// Loads the active language's strings (English is compiled in).
fn load_language(i18n: I18n, lang: &'static str, ready: RwSignal<bool>) {
    dom::set_document_lang(lang, is_rtl(lang));
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
            None => dom::set_document_lang("en", false),
        }
        ready.set(true);
    });
}

/// Where [`app`] leaves what the welcome screen's Start calls.
pub type AcceptSlot = Rc<RefCell<Option<Box<dyn Fn()>>>>;

/// The app as the first screen mounts it (`crate::mount`): the session outcome it got, the
/// language it chose (with its strings), and whether the welcome screen is still the first
/// screen's. `accept` receives what the welcome's Start calls.
pub fn app(start: AppStart, accept: AcceptSlot) -> impl IntoView {
    let i18n = provide_i18n();
    let state = provide_state();
    // The first screen has already cleaned the address bar: `pid` and `lang` stay.
    let boot = Boot::read(&location::search());
    let lang = pick_language(Some(&start.lang), &[]);
    let locale_ready = RwSignal::new(false);
    match start
        .locale
        .as_deref()
        .and_then(|json| Translations::parse(lang, json).ok())
    {
        Some(t) => {
            i18n.set(t);
            locale_ready.set(true);
        }
        None => load_language(i18n, lang, locale_ready),
    }
    let b = boot.clone();
    // "Try again": once this tab holds a session for the link, resume it (same step, nothing
    // lost) instead of opening the link a second time.
    state.retry.set_value(Some(Callback::new(move |_| {
        let mut again = b.clone();
        if storage::get::<Stored>(SESSION_KEY).is_some_and(|s| again.pid.as_ref() == Some(&s.pid)) {
            again.is_fresh_link = false;
        }
        open(state, again, lang)
    })));
    settle(state, lang, start.opened.into_result());
    let standby = RwSignal::new(start.standby);
    *accept.borrow_mut() = Some(Box::new(move || {
        standby.set(false);
        let _ = state.dispatch(Event::AcceptConsent);
    }));
    // A link that chose the country and the ID type goes from the welcome straight to the
    // camera: its capture module loads now, while the person reads.
    let capture_next = state.flow.with_untracked(|f| {
        f.as_ref()
            .and_then(|f| f.steps().get(1).copied())
            .is_some_and(|s| s.slot().is_some())
    });
    if start.standby && capture_next {
        spawn_local(async {
            let _ = module::capture_module().await;
        });
    }
    dom::mark_mounted();
    dom::mark_app_ready();
    app_view(state, i18n, locale_ready, standby)
}

/// The page around whichever screen is current (separate so tests can mount it with a state).
///
/// With `standby` set, the welcome screen is the first screen's (rendered without this module):
/// the app is ready behind it but shows and announces nothing until the welcome's Start.
pub fn app_view(
    state: AppState,
    i18n: I18n,
    locale_ready: RwSignal<bool>,
    standby: RwSignal<bool>,
) -> impl IntoView {
    // Colours come from the server, already checked for contrast; CSS defaults until then.
    let palette = Memo::new(move |_| state.session.with(|s| s.as_ref().map(|s| s.theme.clone())));
    // Only a change of step re-renders the screen (not every change inside the flow).
    let current_step = Memo::new(move |_| state.flow.with(|f| f.as_ref().map(|f| f.current())));
    Effect::new(move |_| {
        if !locale_ready.get() || standby.get() {
            return;
        }
        dom::set_title(&i18n.t("app-title"));
        let text = match state.screen.get() {
            Screen::Loading => i18n.t("loading-status"),
            Screen::Flow => {
                let (step, (cur, total)) = state
                    .flow
                    .with(|f| {
                        f.as_ref()
                            .map(|f| (f.current(), crate::state::shown_progress(f)))
                    })
                    .unwrap_or((Step::Consent, (1, 1)));
                // Frame event (nothing at the top level).
                let name = serde_json::to_string(&step).unwrap_or_default();
                embed::post(
                    EventType::Step,
                    &format!(r#"{{"step":{name},"index":{cur},"total":{total}}}"#),
                );
                let progress = i18n.tf(
                    "progress-label",
                    &[("current", &cur.to_string()), ("total", &total.to_string())],
                );
                match step {
                    Step::Consent => format!("{progress}. {}", i18n.t("welcome-ready-status")),
                    _ => progress,
                }
            }
            Screen::Error(e) => {
                let code = serde_json::to_string(&e.code).unwrap_or_default();
                embed::post(EventType::Error, &format!(r#"{{"code":{code}}}"#));
                format!(
                    "{} {}",
                    i18n.t("error-status"),
                    i18n.t(&format!("{}-title", e.message_key))
                )
            }
        };
        state.announce.set(text);
    });
    let page = move || {
        (!standby.get()).then(|| view! {
        <div
            class="lf-app"
            style:--lf-main=move || palette.with(|p| p.as_ref().map(|p| p.main.clone()))
            style:--lf-on-main=move || palette.with(|p| p.as_ref().map(|p| p.on_main.clone()))
            style:--lf-main-text=move || palette.with(|p| p.as_ref().map(|p| p.main_text.clone()))
            style:--lf-inner=move || palette.with(|p| p.as_ref().map(|p| p.inner.clone()))
            style:--lf-on-inner=move || palette.with(|p| p.as_ref().map(|p| p.on_inner.clone()))
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
                        Screen::Flow => step_view(current_step.get()),
                        Screen::Error(e) => view! { <ErrorScreen error=e/> }.into_any(),
                    }
                }}
            </div>
        </div>
    })
    };
    // The idle warning stands outside the standby: it shows over the first screen's welcome too.
    view! { <IdleWarning/> {page} }
}

/// The screen for a step (re-rendered only when the step changes).
fn step_view(step: Option<Step>) -> AnyView {
    match step {
        Some(Step::Consent) | None => view! { <ConsentStep/> }.into_any(),
        Some(Step::Email) => view! { <EmailStep/> }.into_any(),
        Some(Step::Country) => view! { <CountryStep/> }.into_any(),
        Some(Step::IdType) => view! { <IdTypeStep/> }.into_any(),
        Some(step) => view! { <CaptureStep step=step/> }.into_any(),
    }
}
