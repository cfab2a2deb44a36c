//! The finish and result steps (submission, result page, Return URL): filled by the upload
//! work (issue 8). Until then they say so plainly.

use leptos::prelude::*;

use crate::i18n::use_i18n;

#[component]
pub fn FinishView() -> impl IntoView {
    let i18n = use_i18n();
    view! { <p data-testid="finish-placeholder">{move || i18n.t("capture-placeholder")}</p> }
}
