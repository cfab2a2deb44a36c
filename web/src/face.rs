//! The face detector's Web Worker, seen from the page (capture module only): `FaceWorker` starts
//! `/liveform-face_loader.js` (the `face/` crate, built by Trunk as its own wasm; not in the first
//! screen, downloaded when the selfie step starts), sends camera frames one at a time and hands
//! each answer to a callback. Protocol: the `liveform-face` crate doc.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use liveform_core::face::FaceFrame;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, MessageEvent, Worker};

use crate::js::get;

/// What the callback receives for every frame sent (and once, `Err`, when the worker could not
/// start): the faces, or why there are none; the detection time in the worker (ms, 0 for
/// errors); and the pixels the worker analysed, when it sent them back.
pub type FaceCallback = dyn Fn(Result<FaceFrame, String>, f64, Option<Analysed<'_>>);

/// The RGBA frame the worker analysed (`width × height × 4` bytes), transferred back with its
/// answer. Only valid during the callback: the buffer carries the next frame to the worker.
pub struct Analysed<'a> {
    pub width: u32,
    pub height: u32,
    pub pixels: &'a ArrayBuffer,
}

impl Analysed<'_> {
    /// Copies the pixels into `out` (resized to fit).
    pub fn copy_into(&self, out: &mut Vec<u8>) {
        out.resize(self.pixels.byte_length() as usize, 0);
        Uint8Array::new(self.pixels).copy_to(out);
    }
}

#[derive(Default)]
struct State {
    ready: bool,
    failed: Option<String>,
    in_flight: bool,
    next_id: u32,
    /// The size of the frame in flight.
    size: (u32, u32),
    /// The last frame's buffer, transferred back by the worker: reused for the next frame.
    spare: Option<ArrayBuffer>,
}

/// A running face worker. Dropping it terminates the worker.
pub struct FaceWorker {
    worker: Worker,
    state: Rc<RefCell<State>>,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(Event)>,
}

impl FaceWorker {
    /// Starts the worker (same build as this page: the URL carries the build id, see
    /// `super::module`). `on_result` hears every answer; it may call [`FaceWorker::send`] again.
    pub fn spawn(
        on_result: impl Fn(Result<FaceFrame, String>, f64, Option<Analysed<'_>>) + 'static,
    ) -> Result<Self, JsValue> {
        Self::spawn_with_ready(|| {}, on_result)
    }

    /// [`FaceWorker::spawn`], and `on_ready` hears the moment the detector is built and takes
    /// frames.
    pub fn spawn_with_ready(
        on_ready: impl Fn() + 'static,
        on_result: impl Fn(Result<FaceFrame, String>, f64, Option<Analysed<'_>>) + 'static,
    ) -> Result<Self, JsValue> {
        let worker = Worker::new(&format!(
            "/liveform-face_loader.js?v={}",
            super::module::BUILD_ID
        ))?;
        let state = Rc::new(RefCell::new(State::default()));
        let on_result: Rc<FaceCallback> = Rc::new(on_result);

        let (st, cb) = (state.clone(), on_result.clone());
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
            let data = ev.data();
            if get(&data, "ready").as_bool() == Some(true) {
                st.borrow_mut().ready = true;
                on_ready();
                return;
            }
            let error = get(&data, "error").as_string();
            let Some(id) = get(&data, "id").as_f64() else {
                // A start-up failure: no frame will ever be answered.
                let msg = error.unwrap_or_else(|| "unexpected message from the face worker".into());
                st.borrow_mut().failed = Some(msg.clone());
                cb(Err(msg), 0.0, None);
                return;
            };
            let (result, size, pixels) = {
                let mut s = st.borrow_mut();
                if id as u32 != s.next_id.wrapping_sub(1) {
                    return; // not the frame in flight (cannot happen: one at a time)
                }
                s.in_flight = false;
                let pixels = get(&data, "pixels").dyn_into::<ArrayBuffer>().ok();
                s.spare = pixels.clone();
                let result = match error {
                    Some(e) => Err(e),
                    None => get(&data, "frame")
                        .as_string()
                        .ok_or_else(|| "the face worker sent no frame".to_owned())
                        .and_then(|j| {
                            serde_json::from_str::<FaceFrame>(&j).map_err(|e| e.to_string())
                        }),
                };
                (result, s.size, pixels)
            };
            let ms = get(&data, "ms").as_f64().unwrap_or(0.0);
            let (width, height) = size;
            let analysed = pixels
                .as_ref()
                .filter(|p| p.byte_length() as usize == width as usize * height as usize * 4)
                .map(|pixels| Analysed {
                    width,
                    height,
                    pixels,
                });
            cb(result, ms, analysed);
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));

        let (st, cb) = (state.clone(), on_result);
        let on_error = Closure::<dyn Fn(Event)>::new(move |ev: Event| {
            // The script or the wasm could not load (network, CSP), or the worker crashed.
            ev.prevent_default();
            let msg = get(&ev, "message")
                .as_string()
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "the face worker could not start".into());
            {
                let mut s = st.borrow_mut();
                s.failed = Some(msg.clone());
                s.in_flight = false;
            }
            cb(Err(msg), 0.0, None);
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));

        Ok(FaceWorker {
            worker,
            state,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    /// The detector is built and takes frames.
    pub fn is_ready(&self) -> bool {
        let s = self.state.borrow();
        s.ready && s.failed.is_none()
    }

    /// Why the worker cannot detect, once that is known.
    pub fn failed(&self) -> Option<String> {
        self.state.borrow().failed.clone()
    }

    /// A frame is being analysed.
    pub fn busy(&self) -> bool {
        self.state.borrow().in_flight
    }

    /// Sends an RGBA frame (`getImageData` layout). Returns `false`, sending nothing, while the
    /// worker is not ready or still busy with the previous frame (the caller drops this one),
    /// or when `rgba` is not `width * height * 4` bytes.
    pub fn send(&self, rgba: &[u8], width: u32, height: u32) -> bool {
        let len = width as usize * height as usize * 4;
        if len == 0 || rgba.len() != len {
            return false;
        }
        let mut s = self.state.borrow_mut();
        if !s.ready || s.failed.is_some() || s.in_flight {
            return false;
        }
        let buffer = match s.spare.take() {
            Some(b) if b.byte_length() as usize == len => b,
            _ => ArrayBuffer::new(len as u32),
        };
        Uint8Array::new(&buffer).copy_from(rgba);
        let id = s.next_id;
        let msg = Object::new();
        for (k, v) in [
            ("id", JsValue::from(id)),
            ("width", width.into()),
            ("height", height.into()),
            ("pixels", buffer.clone().into()),
        ] {
            let _ = Reflect::set(&msg, &JsValue::from_str(k), &v);
        }
        if self
            .worker
            .post_message_with_transfer(&msg, &Array::of1(&buffer))
            .is_err()
        {
            return false;
        }
        s.next_id = id.wrapping_add(1);
        s.size = (width, height);
        s.in_flight = true;
        true
    }

    /// Stops the worker at once (also on drop).
    pub fn terminate(&self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
        let mut s = self.state.borrow_mut();
        s.ready = false;
        s.in_flight = false;
        s.failed.get_or_insert_with(|| "terminated".into());
    }
}

impl Drop for FaceWorker {
    fn drop(&mut self) {
        self.terminate();
    }
}
