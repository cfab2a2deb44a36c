//! The capture module's wasm entry points (built by Trunk as `liveform-capture`, loaded by the
//! main app with `import()` when a capture step starts; see `liveform_app::capture`).

use liveform_app::capture::{self, CaptureConfig};
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

/// Mounts the capture screens for `config` (JSON [`CaptureConfig`]) into `host`; `on_event` is
/// called with each [`capture::CaptureEvent`] as JSON.
#[wasm_bindgen]
pub fn mount_capture(
    host: web_sys::HtmlElement,
    config: &str,
    on_event: js_sys::Function,
) -> Result<CaptureHandle, JsError> {
    let config: CaptureConfig =
        serde_json::from_str(config).map_err(|e| JsError::new(&e.to_string()))?;
    let handle = capture::mount(host, config, move |e| {
        if let Ok(json) = serde_json::to_string(&e) {
            let _ = on_event.call1(&JsValue::NULL, &JsValue::from_str(&json));
        }
    });
    Ok(CaptureHandle {
        _handle: Box::new(handle),
    })
}

fn main() {
    console_error_panic_hook::set_once();
}
