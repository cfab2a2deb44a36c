//! The capture module's wasm entry points (built by Trunk as `liveform-capture`, loaded by the
//! main app with `import()` when a capture step starts; see `liveform_app::capture`).

use liveform_app::capture::{self, CaptureConfig, CaptureEvent};
use liveform_core::flow::CaptureSlot;
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

/// Mounts the capture screens for the capture slot numbered `slot` (index into
/// `CaptureSlot::ALL`) into `host`; `on_event(slot, capture_id)` hears each confirmed capture.
/// Plain arguments, no JSON: the main module stays free of the serde code for them.
#[wasm_bindgen]
pub fn mount_capture(
    host: web_sys::HtmlElement,
    slot: u32,
    lang: String,
    token: String,
    allow_file_upload: bool,
    on_event: js_sys::Function,
) -> Result<CaptureHandle, JsError> {
    let slot = CaptureSlot::ALL
        .get(slot as usize)
        .copied()
        .ok_or_else(|| JsError::new("no such capture slot"))?;
    let config = CaptureConfig {
        step: slot.step(),
        lang,
        token,
        allow_file_upload,
    };
    let handle = capture::mount(host, config, move |e| match e {
        CaptureEvent::Captured { slot, capture_id } => {
            let i = CaptureSlot::ALL
                .iter()
                .position(|s| *s == slot)
                .unwrap_or(0) as u32;
            let _ = on_event.call2(&JsValue::NULL, &i.into(), &capture_id.into());
        }
    });
    Ok(CaptureHandle {
        _handle: Box::new(handle),
    })
}

fn main() {
    console_error_panic_hook::set_once();
}
