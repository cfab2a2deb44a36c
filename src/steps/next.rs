use leptos::prelude::*;

use crate::components::Heading;
use crate::i18n::use_i18n;
use crate::state::{use_state, Screen};

/// Placeholder for the steps after consent (country, ID type, capture: later issues).
#[component]
pub fn NextScreen() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_state();
    view! {
        <section class="lf-screen" data-testid="screen-next">
            <Heading text=Signal::derive(move || i18n.t("next-title")) testid="next-title"/>
            <p>{move || i18n.t("next-body")}</p>
            <button class="lf-button lf-secondary" data-testid="next-back" on:click=move |_| state.screen.set(Screen::Welcome)>
                {move || i18n.t("next-back")}
            </button>
        </section>
    }
}
