//! The capture steps in the main app: the step's frame and heading, and the capture module
//! (camera, primer, recovery; `crate::capture`) loaded on demand and mounted inside.

use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::flow::Step;
use liveform_core::{ErrorBody, ErrorCode};

use crate::components::{Heading, StepFrame};
use crate::state::{use_state, Screen};
use liveform_ui::i18n::use_i18n;
use liveform_web::module::{self, MountArgs, Mounted};
use liveform_web::protocol::CaptureEvent;

#[component]
pub fn CaptureStep(step: Step) -> impl IntoView {
    let i18n = use_i18n();
    let state = use_state();
    let (testid, key) = match step {
        Step::DocumentFront => ("screen-document-front", "capture-front-title"),
        Step::DocumentBack => ("screen-document-back", "capture-back-title"),
        Step::Selfie => ("screen-selfie", "selfie-title"),
        Step::Liveness => ("screen-liveness", "liveness-title"),
        Step::Result => ("screen-result", "result-title"),
        _ => ("screen-finish", "finish-title"),
    };
    // Everything from the first capture to the result runs in the capture module.
    let is_capture = step.slot().is_some() || matches!(step, Step::Finish | Step::Result);
    let host = NodeRef::<leptos::html::Div>::new();
    let loading = RwSignal::new(is_capture);
    let mounted: StoredValue<Option<Mounted>, LocalStorage> = StoredValue::new_local(None);
    let alive = StoredValue::new(true);

    if is_capture {
        host.on_load(move |el| {
            let el: liveform_web::HtmlElement = el.into();
            let Some(step_no) = Step::ALL.iter().position(|s| *s == step) else {
                return;
            };
            let lang = i18n.lang();
            let token = state.token().unwrap_or_default();
            let flow_json = state
                .flow
                .with_untracked(|f| f.as_ref().and_then(|f| serde_json::to_string(f).ok()))
                .unwrap_or_default();
            let allow_file_upload = state
                .session
                .with_untracked(|s| s.as_ref().is_some_and(|s| s.allow_file_upload));
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
                let on_event = move |kind: String, a: String, b: String| {
                    let Some(e) = CaptureEvent::from_parts(&kind, a, b) else {
                        return;
                    };
                    if let CaptureEvent::Failed { code } = &e {
                        let c = ErrorCode::from_id(code).unwrap_or(ErrorCode::Runtime);
                        state
                            .screen
                            .set(Screen::Error(ErrorBody::new(c, "the capture step failed")));
                    } else if let Some(ev) = e.into_flow_event() {
                        let _ = state.dispatch(ev);
                    }
                };
                let args = MountArgs {
                    step: step_no as u32,
                    lang: &lang,
                    token: &token,
                    allow_file_upload,
                    flow_json: &flow_json,
                };
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
                <p class="lf-hint" data-testid="capture-loading" hidden=move || !loading.get()>
                    {move || i18n.t("capture-loading")}
                </p>
                <div node_ref=host class="lf-capture-host"></div>
            </section>
        </StepFrame>
    }
}
