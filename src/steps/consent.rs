use leptos::prelude::*;
use liveform_core::flow::Event;
use liveform_core::lang::NAMES;

use crate::components::{Heading, StepFrame};
use crate::state::use_state;
use liveform_ui::i18n::use_i18n;

/// The first screen: what will happen, the project's privacy and terms links, and consent
/// before anything is captured.
#[component]
pub fn ConsentStep() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_state();
    let ticked = RwSignal::new(
        state
            .flow
            .with_untracked(|f| f.as_ref().is_some_and(|f| f.consent_given()))
            || liveform_web::location::take_ticked(),
    );
    let project = move || state.project_name();
    let title = Signal::derive(move || i18n.tf("welcome-title", &[("project", &project())]));
    let links = move || {
        state.session.with(|s| {
            s.as_ref()
                .map(|s| (s.privacy_url.clone(), s.terms_url.clone()))
                .unwrap_or_default()
        })
    };
    let start = move |_| {
        if ticked.get_untracked() {
            let _ = state.dispatch(Event::AcceptConsent);
        }
    };
    let lang = i18n.lang();
    let options = NAMES
        .iter()
        .map(|(code, name)| {
            view! { <option value=*code lang=*code selected={*code == lang}>{*name}</option> }
        })
        .collect::<Vec<_>>();
    view! {
        <StepFrame>
            <section class="lf-screen" data-testid="screen-welcome">
                // The language switch (the first screen's `language_switch`): choosing a language
                // reopens the page in it and the tab's session resumes.
                <div class="lf-lang">
                    <label for="lf-lang">{move || i18n.t("language-label")}</label>
                    <select
                        id="lf-lang"
                        data-testid="language-select"
                        on:change=move |ev| {
                            liveform_web::location::switch_language(
                                &event_target_value(&ev),
                                ticked.get_untracked(),
                            )
                        }
                    >
                        {options}
                    </select>
                </div>
                <Heading text=title testid="welcome-title"/>
                <p>{move || i18n.t("welcome-intro")}</p>
                <ol class="lf-steps">
                    <li>{move || i18n.t("welcome-step-document")}</li>
                    <li>{move || i18n.t("welcome-step-selfie")}</li>
                    <li>{move || i18n.t("welcome-step-liveness")}</li>
                </ol>
                <p class="lf-hint">{move || i18n.t("welcome-need")}</p>
                {move || {
                    let (privacy, terms) = links();
                    (privacy.is_some() || terms.is_some()).then(|| view! {
                        <p class="lf-links" data-testid="consent-links">
                            {move || i18n.t("consent-links-intro")} " "
                            {privacy.map(|u| view! {
                                <a href=u target="_blank" rel="noopener noreferrer" data-testid="privacy-link">{move || i18n.t("consent-privacy-link")}</a>
                            })}
                            " "
                            {terms.map(|u| view! {
                                <a href=u target="_blank" rel="noopener noreferrer" data-testid="terms-link">{move || i18n.t("consent-terms-link")}</a>
                            })}
                        </p>
                    })
                }}
                <label class="lf-consent">
                    <input
                        type="checkbox"
                        data-testid="consent-checkbox"
                        prop:checked=move || ticked.get()
                        on:change=move |ev| ticked.set(event_target_checked(&ev))
                    />
                    <span>{move || i18n.tf("consent-label", &[("project", &project())])}</span>
                </label>
                <button
                    class="lf-button"
                    data-testid="consent-start"
                    aria-describedby="lf-consent-required"
                    prop:disabled=move || !ticked.get()
                    on:click=start
                >
                    {move || i18n.t("consent-start")}
                </button>
                <p id="lf-consent-required" class="lf-hint" hidden=move || ticked.get()>
                    {move || i18n.t("consent-required")}
                </p>
            </section>
        </StepFrame>
    }
}
