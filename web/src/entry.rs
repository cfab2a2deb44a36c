//! The capture module's wasm entry point (feature `capture-entry`, turned on by the capture crate
//! only). The capture crate's `main` calls [`serve`] with its mount function; the first-screen
//! module then calls the exported `mount_capture` (see [`crate::module::mount`]).

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use liveform_core::flow::Step;
use wasm_bindgen::prelude::*;

use crate::protocol::{CaptureConfig, CaptureEvent};

/// Mounts the capture screens into the host element; dropping what it returns unmounts them.
pub type MountFn =
    dyn Fn(web_sys::HtmlElement, CaptureConfig, Box<dyn Fn(CaptureEvent)>) -> Box<dyn Any>;

thread_local! {
    static MOUNT: RefCell<Option<Rc<MountFn>>> = const { RefCell::new(None) };
}

/// Starts the capture module: panics reach the console, `mount` answers `mount_capture`, and in
/// a frame the link to the host page starts (the main module noted the origins).
pub fn serve(
    mount: impl Fn(web_sys::HtmlElement, CaptureConfig, Box<dyn Fn(CaptureEvent)>) -> Box<dyn Any>
        + 'static,
    languages: &'static [&'static str],
) {
    console_error_panic_hook::set_once();
    MOUNT.with(|m| *m.borrow_mut() = Some(Rc::new(mount)));
    crate::embed_link::start_from_page(languages);
}

/// A mounted capture view; `unmount()` removes it and stops the camera.
#[wasm_bindgen]
pub struct CaptureHandle {
    _handle: Box<dyn Any>,
}

#[wasm_bindgen]
impl CaptureHandle {
    pub fn unmount(self) {}
}

/// Mounts the screens of step number `step` (index into `Step::ALL`: the capture steps, finish
/// and result) into `host`. `flow_json` is the main app's flow (as it keeps it in
/// `sessionStorage`). `on_event(kind, a, b)` hears what the main app must do, as plain strings
/// (no serde on the main side): see [`CaptureEvent::to_parts`].
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
    let mount = MOUNT
        .with(|m| m.borrow().clone())
        .ok_or_else(|| JsError::new("the capture module has not started"))?;
    let config = CaptureConfig {
        step,
        lang,
        token,
        allow_file_upload,
        flow: serde_json::from_str(&flow_json).ok(),
    };
    let emit = Box::new(move |e: CaptureEvent| {
        let (kind, a, b) = e.to_parts();
        let _ = on_event.call3(&JsValue::NULL, &kind.into(), &a.into(), &b.into());
    });
    Ok(CaptureHandle {
        _handle: mount(host, config, emit),
    })
}
