use leptos::prelude::*;
use liveform_core::{ErrorBody, ErrorCode};

use crate::components::Heading;
use crate::state::{use_state, Screen};
use liveform_core::embed::EventType;
use liveform_ui::i18n::use_i18n;
use liveform_web::embed;

/// Codes where trying again can help (the others need a new link).
fn retryable(code: &str) -> bool {
    matches!(
        ErrorCode::from_id(code),
        Some(
            ErrorCode::Network
                | ErrorCode::RateLimited
                | ErrorCode::Internal
                | ErrorCode::BadRequest
                | ErrorCode::Runtime
        ) | None
    )
}

/// A translated error page: what happened, what to do next, the code and a support reference.
#[component]
pub fn ErrorScreen(error: ErrorBody) -> impl IntoView {
    let i18n = use_i18n();
    let state = use_state();
    let key = error.message_key.clone();
    let key2 = key.clone();
    let title = Signal::derive(move || i18n.t(&format!("{key}-title")));
    let can_retry = retryable(&error.code);
    // Raised during the flow (e.g. a refused country): the person can go back and choose again.
    let can_go_back = state.flow.with_untracked(Option::is_some)
        && ErrorCode::from_id(&error.code) != Some(ErrorCode::SessionExpired);
    let code = error.code.clone();
    let reference = error.reference.clone();
    // "Return to the website" with this code, when the project has a Return URL (added by the
    // snippet once the server answers).
    // In a frame it tells the host (`cancel`) and, where the project wants it, takes the whole
    // window there (in the snippet); the Return URL is never loaded inside the frame.
    let left = code.clone();
    let framed = move |url: String| {
        // `liveform_core::embed::Cancel`, written out (no serializer on the first screen).
        let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
        embed::post(
            EventType::Cancel,
            &format!(
                r#"{{"reason":"person","code":{},"returnUrl":{}}}"#,
                q(&left),
                q(&url)
            ),
        );
    };
    liveform_web::module::offer_return(state.token(), &code, &i18n.t("error-return"), framed);
    view! {
        <section class="lf-screen lf-error" data-testid="screen-error">
            <Heading text=title testid="error-title"/>
            <p data-testid="error-action">{move || i18n.t(&format!("{key2}-action"))}</p>
            {can_retry.then(|| view! {
                <button class="lf-button" data-testid="error-retry" on:click=move |_| {
                    if let Some(cb) = state.retry.get_value() { cb.run(()) }
                }>
                    {move || i18n.t("error-retry")}
                </button>
            })}
            {can_go_back.then(|| view! {
                <button
                    class="lf-button lf-secondary"
                    data-testid="error-back"
                    on:click=move |_| state.screen.set(Screen::Flow)
                >
                    {move || i18n.t("back")}
                </button>
            })}
            <dl class="lf-code">
                <dt>{move || i18n.t("error-code-label")}</dt>
                <dd data-testid="error-code">{code}</dd>
                {reference.map(|r| view! {
                    <dt>{move || i18n.t("error-reference-label")}</dt>
                    <dd data-testid="error-reference">{r}</dd>
                })}
            </dl>
            <p class="lf-hint">{move || i18n.t("error-support")}</p>
        </section>
    }
}
