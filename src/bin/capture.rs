//! The capture module's wasm entry points (built by Trunk as `liveform-capture`, loaded by the
//! main app with `import()` when a capture step starts; see `liveform_app::capture`).

use liveform_app::browser::embed_link;
use liveform_app::capture::{self, CaptureConfig};
use liveform_app::i18n::SUPPORTED;
use liveform_core::flow::Step;
use wasm_bindgen::prelude::*;

/// A mounted capture view; `unmount()` removes it and stops the camera.
#[wasm_bindgen]
pub struct CaptureHandle {
    _handle: Box<dyn std::any::Any>,
}

#[wasm_bindgen]
impl CaptureHandle {
    pub fn unmount(self) {}
}

/// Mounts the screens of step number `step` (index into `Step::ALL`: the capture steps, finish
/// and result) into `host`. `flow_json` is the main app's flow (as it keeps it in
/// `sessionStorage`). `on_event(kind, a, b)` hears what the main app must do, as plain strings
/// (no serde on the main side): see `CaptureEvent::to_parts`.
#[wasm_bindgen]
pub fn mount_capture(
    host: web_sys::HtmlElement,
    step: u32,
    lang: String,
    token: String,
    allow_file_upload: bool,
    flow_json: String,
    on_event: js_sys::Function,
) -> Result<CaptureHandle, JsError> {
    let step = Step::ALL
        .get(step as usize)
        .copied()
        .ok_or_else(|| JsError::new("no such step"))?;
    let config = CaptureConfig {
        step,
        lang,
        token,
        allow_file_upload,
        flow: serde_json::from_str(&flow_json).ok(),
    };
    let handle = capture::mount(host, config, move |e| {
        let (kind, a, b) = e.to_parts();
        let _ = on_event.call3(&JsValue::NULL, &kind.into(), &a.into(), &b.into());
    });
    Ok(CaptureHandle {
        _handle: Box::new(handle),
    })
}

fn main() {
    console_error_panic_hook::set_once();
    // In a frame, the link to the host page (the main module noted the origins).
    embed_link::start_from_page(&SUPPORTED);
}
