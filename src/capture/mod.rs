//! The capture module: the camera and everything around it, built as its own wasm file
//! (`src/bin/capture.rs`, `liveform-capture_bg.wasm`) and loaded only when the person reaches a
//! capture step, so the first screen stays small. The main app mounts it into the step's frame
//! and hears back through [`CaptureEvent`]s; the two share nothing else but the page.

pub mod handoff;
pub mod help;
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
}

/// What the capture module reports to the main app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureEvent {
    /// A capture was confirmed for its slot.
    Captured {
        slot: CaptureSlot,
        capture_id: String,
    },
}

/// The capture module's context (instead of the main app's state).
#[derive(Clone)]
pub struct CaptureCtx {
    pub config: CaptureConfig,
    emit: StoredValue<Rc<dyn Fn(CaptureEvent)>, LocalStorage>,
}

impl CaptureCtx {
    /// Must run inside the reactive owner (the mount closure).
    pub fn new(config: CaptureConfig, emit: impl Fn(CaptureEvent) + 'static) -> Self {
        let emit: Rc<dyn Fn(CaptureEvent)> = Rc::new(emit);
        CaptureCtx {
            config,
            emit: StoredValue::new_local(emit),
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
        provide_context(ctx);
        view! { <view::CaptureView/> }
    })
}
