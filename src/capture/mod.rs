//! The capture module: the camera and everything around it, built as its own wasm file
//! (`src/bin/capture.rs`, `liveform-capture_bg.wasm`) and loaded only when the person reaches a
//! capture step, so the first screen stays small. The main app mounts it into the step's frame
//! and hears back through [`CaptureEvent`]s; the two share nothing else but the page.

pub mod face;
pub mod finish;
pub mod gate;
pub mod handoff;
pub mod help;
pub mod upload;
pub mod view;

use std::rc::Rc;

use leptos::prelude::*;
use liveform_core::flow::{CaptureSlot, Step};
use serde::{Deserialize, Serialize};

/// What the main app tells the capture module when it mounts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureConfig {
    pub step: Step,
    /// The UI language (its strings are fetched like the main app's).
    pub lang: String,
    /// The session token (for the server calls the capture screens make).
    pub token: String,
    /// The project allows a photo from the device instead of the live camera.
    #[serde(default)]
    pub allow_file_upload: bool,
    /// The main app's flow when it mounted these screens (choices, e-mail, captures so far).
    #[serde(default)]
    pub flow: Option<liveform_core::flow::Flow>,
}

/// What the capture module reports to the main app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureEvent {
    /// A capture was confirmed for its slot (and stored: `capture_id` is the server's).
    Captured {
        slot: CaptureSlot,
        capture_id: String,
    },
    /// Drop a slot's capture and capture it again.
    Retake(CaptureSlot),
    /// The submission was accepted.
    Submitted { submission_id: String },
    /// The person sent the submission (the flow waits for its answer).
    Submit,
    /// The submission failed (the finish step stays, everything kept).
    SubmitFailed,
    /// The step cannot go on: the main app shows the coded error page (`code`, e.g. `SE-50021`
    /// after three failed liveness attempts).
    Failed { code: String },
}

impl CaptureEvent {
    /// The event as `(kind, a, b)` strings for the main module, which reads them back with
    /// [`CaptureEvent::from_parts`] (so it needs no serde code for them).
    pub fn to_parts(&self) -> (&'static str, String, String) {
        let slot_no = |s: &CaptureSlot| {
            CaptureSlot::ALL
                .iter()
                .position(|x| x == s)
                .unwrap_or(0)
                .to_string()
        };
        match self {
            CaptureEvent::Captured { slot, capture_id } => {
                ("captured", slot_no(slot), capture_id.clone())
            }
            CaptureEvent::Retake(slot) => ("retake", slot_no(slot), String::new()),
            CaptureEvent::Submitted { submission_id } => {
                ("submitted", submission_id.clone(), String::new())
            }
            CaptureEvent::Submit => ("submit", String::new(), String::new()),
            CaptureEvent::SubmitFailed => ("submit_failed", String::new(), String::new()),
            CaptureEvent::Failed { code } => ("failed", code.clone(), String::new()),
        }
    }

    /// The inverse of [`CaptureEvent::to_parts`]; `None` for anything unknown.
    pub fn from_parts(kind: &str, a: String, b: String) -> Option<CaptureEvent> {
        let slot = || {
            a.parse::<usize>()
                .ok()
                .and_then(|i| CaptureSlot::ALL.get(i).copied())
        };
        Some(match kind {
            "captured" => CaptureEvent::Captured {
                slot: slot()?,
                capture_id: b,
            },
            "retake" => CaptureEvent::Retake(slot()?),
            "submitted" => CaptureEvent::Submitted { submission_id: a },
            "submit" => CaptureEvent::Submit,
            "submit_failed" => CaptureEvent::SubmitFailed,
            "failed" => CaptureEvent::Failed { code: a },
            _ => return None,
        })
    }

    /// The step-machine event it stands for (`None` for [`CaptureEvent::Failed`]: an error
    /// page, not a step).
    pub fn into_flow_event(self) -> Option<liveform_core::flow::Event> {
        use liveform_core::flow::Event;
        Some(match self {
            CaptureEvent::Captured { slot, capture_id } => Event::Captured { slot, capture_id },
            CaptureEvent::Retake(slot) => Event::Retake(slot),
            CaptureEvent::Submit => Event::Submit,
            CaptureEvent::Submitted { submission_id } => Event::Submitted { submission_id },
            CaptureEvent::SubmitFailed => Event::SubmitFailed,
            CaptureEvent::Failed { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_survive_the_module_boundary() {
        for e in [
            CaptureEvent::Captured {
                slot: CaptureSlot::DocumentBack,
                capture_id: "c-1".into(),
            },
            CaptureEvent::Retake(CaptureSlot::Selfie),
            CaptureEvent::Submit,
            CaptureEvent::Submitted {
                submission_id: "s-9".into(),
            },
            CaptureEvent::SubmitFailed,
            CaptureEvent::Failed {
                code: "SE-50021".into(),
            },
        ] {
            let (k, a, b) = e.to_parts();
            assert_eq!(CaptureEvent::from_parts(k, a, b), Some(e));
        }
        assert_eq!(CaptureEvent::from_parts("nope", "".into(), "".into()), None);
        assert_eq!(
            CaptureEvent::from_parts("retake", "9".into(), "".into()),
            None
        );
    }
}

/// The capture module's context (instead of the main app's state).
#[derive(Clone)]
pub struct CaptureCtx {
    pub config: CaptureConfig,
    emit: StoredValue<Rc<dyn Fn(CaptureEvent)>, LocalStorage>,
    /// The capture screen's upload (see [`upload`]).
    pub upload: RwSignal<Option<upload::UploadHandle>>,
    /// The mount's reactive owner: what uploads started from event handlers belong to (they
    /// stop when the screens are unmounted).
    pub owner: Owner,
}

impl CaptureCtx {
    /// Must run inside the reactive owner (the mount closure).
    pub fn new(config: CaptureConfig, emit: impl Fn(CaptureEvent) + 'static) -> Self {
        let emit: Rc<dyn Fn(CaptureEvent)> = Rc::new(emit);
        CaptureCtx {
            config,
            emit: StoredValue::new_local(emit),
            upload: RwSignal::new(None),
            owner: Owner::current().unwrap_or_default(),
        }
    }

    pub fn emit(&self, e: CaptureEvent) {
        if let Some(f) = self.emit.try_get_value() {
            f(e)
        }
    }
}

pub fn use_capture() -> CaptureCtx {
    use_context::<CaptureCtx>().expect("CaptureCtx is provided by mount")
}

/// Mounts the capture screens into `host` (called by `src/bin/capture.rs`). Dropping the handle
/// unmounts them, which stops the camera.
pub fn mount(
    host: web_sys::HtmlElement,
    config: CaptureConfig,
    emit: impl Fn(CaptureEvent) + 'static,
) -> leptos::mount::UnmountHandle<impl Mountable> {
    crate::browser::module::add_capture_css();
    let lang = config.lang.clone();
    leptos::mount::mount_to(host, move || {
        let ctx = CaptureCtx::new(config, emit);
        use crate::i18n::{I18n, Translations};
        let i18n = I18n::with_english(Translations::english_with_capture());
        provide_context(i18n);
        if lang != "en" {
            let lang = lang.clone();
            leptos::task::spawn_local(async move {
                let api = crate::browser::api::fetch_text;
                let (main, capture) = (
                    api(&format!("/locales/{lang}.json")).await,
                    api(&format!("/locales/capture/{lang}.json")).await,
                );
                let parse = |j: Option<String>| j.and_then(|j| Translations::parse(&lang, &j).ok());
                if let Some(mut t) = parse(main) {
                    if let Some(c) = parse(capture) {
                        t.merge(c);
                    }
                    i18n.set(t);
                }
            });
        }
        let capture = ctx.config.step.slot().is_some();
        // The first screens of this page load (a reload, or the first capture step) agree the
        // flow with what the server holds before they show.
        let first = !CHECKED.with(|c| c.replace(true));
        let ready = RwSignal::new(!first);
        if first {
            leptos::task::spawn_local(agree(ctx.clone(), ready));
        }
        provide_context(ctx);
        // A one-time message from the finish step ("a photo did not reach us").
        let notice: Option<String> = crate::browser::storage::get(finish::NOTICE_KEY);
        if capture {
            crate::browser::storage::remove(finish::NOTICE_KEY);
        }
        move || {
            if !ready.get() {
                None
            } else if capture {
                let notice = notice.clone();
                Some(
                    view! {
                        {notice.map(|key| view! {
                            <p class="lf-notice" role="alert" data-testid="capture-notice">{move || i18n.t(&key)}</p>
                        })}
                        <view::CaptureView/>
                    }
                    .into_any(),
                )
            } else {
                Some(view! { <finish::FinishView/> }.into_any())
            }
        }
    })
}

/// When this tab last reloaded to take a flow agreed with the server.
const AGREED_KEY: &str = "liveform.agreed";

thread_local! {
    /// Whether this page load already agreed its flow with the server.
    static CHECKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `GET /api/session/captures` and [`liveform_core::flow::Flow::reconcile`]: when the server's
/// captures move the flow (a reload after an upload whose answer was lost, a capture the server
/// never got, a submission finished elsewhere), the page reloads with the agreed flow (the main
/// app keeps no code for this: the first screen has no room).
async fn agree(ctx: CaptureCtx, ready: RwSignal<bool>) {
    use liveform_core::api::{CaptureList, KycStatus};
    let list = crate::browser::api::get_with_session::<CaptureList>(
        "/api/session/captures",
        &ctx.config.token,
    )
    .await;
    if let (Some(flow), Ok(list)) = (&ctx.config.flow, list) {
        let ids: Vec<(CaptureSlot, &str)> = list
            .captures
            .iter()
            .map(|c| (c.slot, c.capture_id.as_str()))
            .collect();
        for (slot, id) in &ids {
            upload::forget_if_stored(*slot, id);
        }
        let done = (list.status != KycStatus::Incomplete).then_some(list.submission_id.as_str());
        let agreed = flow.reconcile(&ids, done);
        // The main app takes a changed flow the way it takes any remembered flow: from
        // `sessionStorage` on (re)load. Once per tab and minute at most, so this never loops.
        let now = js_sys::Date::now();
        let last: f64 = crate::browser::storage::get(AGREED_KEY).unwrap_or(0.0);
        if agreed.current() != flow.current() && now - last > 60_000.0 {
            crate::browser::storage::set(AGREED_KEY, &now);
            crate::browser::storage::set(
                crate::state::FLOW_KEY,
                &crate::state::StoredFlow {
                    token: ctx.config.token.clone(),
                    flow: agreed,
                },
            );
            crate::browser::location::reload();
            return;
        }
    }
    let _ = ready.try_set(true);
}
