use leptos::prelude::*;
use liveform_core::flow::{is_valid_email, Event};

use crate::components::{Heading, StepFrame};
use crate::state::use_state;
use liveform_ui::i18n::use_i18n;

/// E-mail entry (only when the link gave none and the project asks for one).
#[component]
pub fn EmailStep() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_state();
    let value = RwSignal::new(
        state
            .flow
            .with_untracked(|f| f.as_ref().and_then(|f| f.email().map(str::to_owned)))
            .unwrap_or_default(),
    );
    let show_error = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let v = value.get_untracked().trim().to_owned();
        if is_valid_email(&v) {
            show_error.set(false);
            let _ = state.dispatch(Event::EnterEmail(v));
        } else {
            show_error.set(true);
            state.announce.set(i18n.t("email-invalid"));
        }
    };
    view! {
        <StepFrame>
            <section class="lf-screen" data-testid="screen-email">
                <Heading text=Signal::derive(move || i18n.t("email-title")) testid="email-title"/>
                <p>{move || i18n.t("email-intro")}</p>
                <form class="lf-screen" on:submit=submit novalidate=true>
                    <label class="lf-label" for="lf-email">{move || i18n.t("email-label")}</label>
                    <input
                        id="lf-email"
                        class="lf-input"
                        type="email"
                        inputmode="email"
                        autocomplete="email"
                        data-testid="email-input"
                        aria-invalid=move || show_error.get().to_string()
                        aria-describedby="lf-email-error"
                        // Set once: writing the signal back on every keystroke made the browser
                        // move the caret to the start where an e-mail field trims what was typed
                        // (a space), so "not an address" came out as "an addressnot".
                        prop:value=value.get_untracked()
                        on:input=move |ev| value.set(event_target_value(&ev))
                    />
                    <p id="lf-email-error" class="lf-field-error" data-testid="email-error" hidden=move || !show_error.get()>
                        {move || i18n.t("email-invalid")}
                    </p>
                    <button class="lf-button" type="submit" data-testid="email-continue">{move || i18n.t("continue")}</button>
                </form>
            </section>
        </StepFrame>
    }
}
