use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::api::Choice;
use liveform_core::flow::Event;
use liveform_core::Alpha3;

use crate::components::{CountryPicker, Heading, StepFrame};
use crate::countries::entries;
use crate::state::{use_state, Screen};
use liveform_ui::i18n::use_i18n;
use liveform_web::keys::LAST_COUNTRY_KEY;
use liveform_web::{api, storage};

/// Sends a country (and maybe a type) to the server, which re-checks it; then moves the flow.
pub fn choose(state: crate::state::AppState, choice: Choice, event: Event) {
    let Some(token) = state.token() else { return };
    state.busy.set(true);
    spawn_local(async move {
        let r = api::post_choice(&token, &choice).await;
        state.busy.set(false);
        match r {
            Ok(()) => {
                let _ = state.dispatch(event);
            }
            Err(e) => state.screen.set(Screen::Error(e)),
        }
    });
}

/// The issuing country: only what the policy offers, searchable, keyboard and screen-reader usable.
#[component]
pub fn CountryStep() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_state();
    let offered = move || {
        state.flow.with(|f| {
            f.as_ref()
                .map(|f| {
                    f.offer()
                        .countries
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let list = Signal::derive(move || {
        let names = state.country_names.get().unwrap_or_default();
        entries(&offered(), &names)
    });
    let last_used = Signal::derive(move || {
        storage::local_get(LAST_COUNTRY_KEY).filter(|c| offered().contains(c))
    });
    let on_select = Callback::new(move |a3: String| {
        let Some(country) = Alpha3::parse(&a3) else {
            return;
        };
        storage::local_set(LAST_COUNTRY_KEY, &a3);
        choose(
            state,
            Choice {
                country,
                id_type: None,
            },
            Event::ChooseCountry(country),
        );
    });
    view! {
        <StepFrame>
            <section class="lf-screen" data-testid="screen-country">
                <Heading text=Signal::derive(move || i18n.t("country-title")) testid="country-title"/>
                <CountryPicker entries=list last_used=last_used on_select=on_select/>
            </section>
        </StepFrame>
    }
}
