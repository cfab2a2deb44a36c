use leptos::prelude::*;

use crate::components::Heading;
use liveform_ui::i18n::use_i18n;

#[component]
pub fn LoadingScreen() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="lf-screen lf-loading" data-testid="screen-loading" aria-busy="true">
            <Heading text=Signal::derive(move || i18n.t("loading-title")) testid="loading-title"/>
            <div class="lf-spinner" aria-hidden="true"></div>
        </section>
    }
}
