use leptos::prelude::*;
use liveform_core::flow::Step;

use crate::components::{Heading, StepFrame};
use crate::i18n::use_i18n;

/// The capture steps (document sides, selfie, liveness) and what follows: filled by the camera
/// issues. Until then they say so plainly, and Back works.
#[component]
pub fn CaptureStep(step: Step) -> impl IntoView {
    let i18n = use_i18n();
    let (testid, key) = match step {
        Step::DocumentFront => ("screen-document-front", "capture-front-title"),
        Step::DocumentBack => ("screen-document-back", "capture-back-title"),
        Step::Selfie => ("screen-selfie", "selfie-title"),
        Step::Liveness => ("screen-liveness", "liveness-title"),
        _ => ("screen-finish", "finish-title"),
    };
    view! {
        <StepFrame>
            <section class="lf-screen" data-testid=testid>
                <Heading text=Signal::derive(move || i18n.t(key)) testid="capture-title"/>
                <p>{move || i18n.t("capture-placeholder")}</p>
            </section>
        </StepFrame>
    }
}
