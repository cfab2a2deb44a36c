use leptos::prelude::*;

use crate::components::Heading;
use crate::i18n::use_i18n;
use crate::state::{use_state, Screen};

/// The first screen: what will happen, and consent before anything is captured.
#[component]
pub fn WelcomeScreen() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_state();
    let project = move || state.project_name();
    let title = Signal::derive(move || i18n.tf("welcome-title", &[("project", &project())]));
    let start = move |_| {
        if state.consented.get_untracked() {
            state.screen.set(Screen::Next);
        }
    };
    view! {
        <section class="lf-screen" data-testid="screen-welcome">
            <Heading text=title testid="welcome-title"/>
            <p>{move || i18n.t("welcome-intro")}</p>
            <ol class="lf-steps">
                <li>{move || i18n.t("welcome-step-document")}</li>
                <li>{move || i18n.t("welcome-step-selfie")}</li>
                <li>{move || i18n.t("welcome-step-liveness")}</li>
            </ol>
            <p class="lf-hint">{move || i18n.t("welcome-need")}</p>
            <label class="lf-consent">
                <input
                    type="checkbox"
                    data-testid="consent-checkbox"
                    prop:checked=move || state.consented.get()
                    on:change=move |ev| state.consented.set(event_target_checked(&ev))
                />
                <span>{move || i18n.tf("consent-label", &[("project", &project())])}</span>
            </label>
            <button
                class="lf-button"
                data-testid="consent-start"
                aria-describedby="lf-consent-required"
                prop:disabled=move || !state.consented.get()
                on:click=start
            >
                {move || i18n.t("consent-start")}
            </button>
            <p id="lf-consent-required" class="lf-hint" hidden=move || state.consented.get()>
                {move || i18n.t("consent-required")}
            </p>
        </section>
    }
}
