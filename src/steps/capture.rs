//! The capture steps in the main app: the step's frame and heading, and the capture module
//! (camera, primer, recovery; `crate::capture`) loaded on demand and mounted inside.

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::flow::{Event, Step};
use liveform_core::{ErrorBody, ErrorCode};

use crate::browser::module::{self, Mounted};
use crate::capture::{CaptureConfig, CaptureEvent};
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
            let config = CaptureConfig {
                step,
                lang: i18n.lang(),
                token: state.token().unwrap_or_default(),
                allow_file_upload: false,
            };
            let Ok(json) = serde_json::to_string(&config) else {
                return;
            };
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
                let on_event = move |json: String| {
                    if let Ok(CaptureEvent::Captured { slot, capture_id }) =
                        serde_json::from_str::<CaptureEvent>(&json)
                    {
                        let _ = state.dispatch(Event::Captured { slot, capture_id });
                    }
                };
                match module::mount(&m, &el, &json, on_event) {
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
                    {move || i18n.t("camera-starting")}
                </p>
                <div node_ref=host class="lf-capture-host"></div>
            </section>
        </StepFrame>
    }
}
