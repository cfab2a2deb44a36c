use leptos::prelude::*;
use liveform_core::flow::Event;

use crate::state::{shown_progress, use_state};
use liveform_ui::i18n::use_i18n;

/// Progress ("Step 2 of 7" and a bar) and a Back button around a step's content.
#[component]
pub fn StepFrame(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let state = use_state();
    let progress = move || {
        state
            .flow
            .with(|f| f.as_ref().map(shown_progress).unwrap_or((1, 1)))
    };
    let label = move || {
        let (cur, total) = progress();
        i18n.tf(
            "progress-label",
            &[("current", &cur.to_string()), ("total", &total.to_string())],
        )
    };
    let can_go_back = move || progress().0 > 1;
    view! {
        <div class="lf-frame">
            <div class="lf-progress-row">
                <button
                    class="lf-back"
                    data-testid="back"
                    hidden=move || !can_go_back()
                    on:click=move |_| {
                        let _ = state.dispatch(Event::Back);
                    }
                >
                    <span aria-hidden="true" class="lf-back-arrow">"‹"</span>
                    {move || i18n.t("back")}
                </button>
                <span class="lf-progress-text" id="lf-progress-text" data-testid="progress">{label}</span>
            </div>
            <div
                class="lf-progress"
                role="progressbar"
                aria-labelledby="lf-progress-text"
                aria-valuemin="1"
                aria-valuemax=move || progress().1
                aria-valuenow=move || progress().0
                aria-valuetext=label
            >
                <div
                    class="lf-progress-fill"
                    style:width=move || {
                        let (c, t) = progress();
                        format!("{}%", c * 100 / t.max(1))
                    }
                ></div>
            </div>
            {children()}
        </div>
    }
}
