//! The capture steps in the main app: the step's frame and heading, and the capture module
//! (camera, primer, recovery; `crate::capture`) loaded on demand and mounted inside.

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::flow::{CaptureSlot, Event, Step};
use liveform_core::{ErrorBody, ErrorCode};

use crate::browser::module::{self, Mounted};
use crate::components::{Heading, StepFrame};
use crate::i18n::use_i18n;
use crate::state::{use_state, Screen};

#[component]
pub fn CaptureStep(step: Step) -> impl IntoView {
    let i18n = use_i18n();
    let state = use_state();
    let (testid, key) = match step {
        Step::DocumentFront => ("screen-document-front", "capture-front-title"),
        Step::DocumentBack => ("screen-document-back", "capture-back-title"),
        Step::Selfie => ("screen-selfie", "selfie-title"),
        Step::Liveness => ("screen-liveness", "liveness-title"),
        _ => ("screen-finish", "finish-title"),
    };
    let is_capture = step.slot().is_some();
    let host = NodeRef::<leptos::html::Div>::new();
    let loading = RwSignal::new(is_capture);
    let mounted: StoredValue<Option<Mounted>, LocalStorage> = StoredValue::new_local(None);
    let alive = StoredValue::new(true);

    if is_capture {
        host.on_load(move |el| {
            let el: web_sys::HtmlElement = el.into();
            let Some(slot) = CaptureSlot::ALL
                .iter()
                .position(|s| Some(*s) == step.slot())
            else {
                return;
            };
            let lang = i18n.lang();
            let token = state.token().unwrap_or_default();
            spawn_local(async move {
                let m = match module::capture_module().await {
                    Ok(m) => m,
                    Err(e) => {
                        let detail = e.as_string().unwrap_or_else(|| format!("{e:?}"));
                        state.screen.set(Screen::Error(ErrorBody::new(
                            ErrorCode::Network,
                            format!("the capture module did not load: {detail}"),
                        )));
                        return;
                    }
                };
                if alive.try_get_value() != Some(true) {
                    return;
                }
                let on_event = move |slot: u32, capture_id: String| {
                    if let Some(slot) = CaptureSlot::ALL.get(slot as usize).copied() {
                        let _ = state.dispatch(Event::Captured { slot, capture_id });
                    }
                };
                let args = (slot as u32, lang.as_str(), token.as_str(), false);
                match module::mount(&m, &el, args, on_event) {
                    Ok(h) => {
                        let _ = mounted.try_set_value(Some(h));
                    }
                    Err(e) => state.screen.set(Screen::Error(ErrorBody::new(
                        ErrorCode::Runtime,
                        format!("the capture module did not start: {e:?}"),
                    ))),
                }
                let _ = loading.try_set(false);
            });
        });
        on_cleanup(move || {
            let _ = alive.try_set_value(false);
            if let Some(Some(h)) = mounted.try_update_value(|m| m.take()) {
                h.unmount();
            }
        });
    }

    view! {
        <StepFrame>
            <section class="lf-screen" data-testid=testid>
                <Heading text=Signal::derive(move || i18n.t(key)) testid="capture-title"/>
                {(!is_capture).then(|| view! { <p>{move || i18n.t("capture-placeholder")}</p> })}
                <p class="lf-hint" data-testid="capture-loading" hidden=move || !loading.get()>
                    {move || i18n.t("capture-loading")}
                </p>
                <div node_ref=host class="lf-capture-host"></div>
            </section>
        </StepFrame>
    }
}
