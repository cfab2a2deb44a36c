use leptos::prelude::*;
use liveform_core::api::Choice;
use liveform_core::flow::Event;
use liveform_core::policy::sides;
use liveform_core::IdType;

use crate::components::{Heading, IdTypeIcon, StepFrame};
use crate::state::use_state;
use crate::steps::country::choose;
use liveform_ui::i18n::use_i18n;

/// The document type: the types the policy offers for the chosen country.
#[component]
pub fn IdTypeStep() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_state();
    let types = move || {
        state.flow.with(|f| {
            f.as_ref()
                .and_then(|f| f.country().map(|c| f.offer().types_for(c).to_vec()))
                .unwrap_or_default()
        })
    };
    let chosen = move || state.flow.with(|f| f.as_ref().and_then(|f| f.id_type()));
    let pick = move |t: IdType| {
        let Some(country) = state
            .flow
            .with_untracked(|f| f.as_ref().and_then(|f| f.country()))
        else {
            return;
        };
        choose(
            state,
            Choice {
                country,
                id_type: Some(t),
            },
            Event::ChooseIdType(t),
        );
    };
    view! {
        <StepFrame>
            <section class="lf-screen" data-testid="screen-idtype">
                <Heading text=Signal::derive(move || i18n.t("idtype-title")) testid="idtype-title"/>
                <ul class="lf-choices" role="list">
                    {move || types().into_iter().map(|t| {
                        let label = move || i18n.t(&format!("idtype-{}", t.as_str()));
                        let hint = move || if sides(t).needs_back() { i18n.t("idtype-two-sides") } else { i18n.t("idtype-one-side") };
                        view! {
                            <li>
                                <button
                                    class="lf-choice"
                                    data-testid="idtype-option"
                                    data-type=t.as_str()
                                    aria-pressed=move || (chosen() == Some(t)).to_string()
                                    prop:disabled=move || state.busy.get()
                                    on:click=move |_| pick(t)
                                >
                                    <IdTypeIcon id_type=t/>
                                    <span class="lf-choice-text">
                                        <span class="lf-choice-label">{label}</span>
                                        <span class="lf-hint">{hint}</span>
                                    </span>
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        </StepFrame>
    }
}
