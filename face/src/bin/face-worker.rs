//! The face detector's Web Worker (Trunk `data-type="worker"`, wasm-bindgen `no-modules`): started
//! by `liveform-face_loader.js`; the message protocol is in the crate doc (`src/lib.rs`).
//! Natively this binary does nothing (the crate's library is what the native tests use).

#[cfg(not(target_arch = "wasm32"))]
fn main() {}

#[cfg(target_arch = "wasm32")]
fn main() {
    worker::start();
}

#[cfg(target_arch = "wasm32")]
mod worker {
    use std::cell::RefCell;
    use std::rc::Rc;

    use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
    use liveform_face::Detector;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    fn get(o: &JsValue, k: &str) -> JsValue {
        Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
    }

    fn obj(fields: &[(&str, JsValue)]) -> Object {
        let o = Object::new();
        for (k, v) in fields {
            let _ = Reflect::set(&o, &JsValue::from_str(k), v);
        }
        o
    }

    /// Posts `msg`, transferring `buffer` when there is one.
    fn post(scope: &DedicatedWorkerGlobalScope, msg: &Object, buffer: Option<&ArrayBuffer>) {
        let sent = match buffer {
            Some(b) => scope.post_message_with_transfer(msg, &Array::of1(b)),
            None => scope.post_message(msg),
        };
        if sent.is_err() {
            // A buffer that cannot be transferred (detached): send the answer without it.
            let _ = Reflect::delete_property(msg, &JsValue::from_str("pixels"));
            let _ = scope.post_message(msg);
        }
    }

    fn now(scope: &DedicatedWorkerGlobalScope) -> f64 {
        scope.performance().map(|p| p.now()).unwrap_or(0.0)
    }

    /// A frame message's fields, or why it is not one.
    fn frame_fields(data: &JsValue) -> Result<(u32, u32, ArrayBuffer), String> {
        let dim = |k: &str| -> Result<u32, String> {
            let v = get(data, k)
                .as_f64()
                .ok_or_else(|| format!("`{k}` is not a number"))?;
            if v.fract() != 0.0 || !(1.0..=16384.0).contains(&v) {
                return Err(format!("`{k}` = {v} is not a frame size"));
            }
            Ok(v as u32)
        };
        let (w, h) = (dim("width")?, dim("height")?);
        let pixels = get(data, "pixels")
            .dyn_into::<ArrayBuffer>()
            .map_err(|_| "`pixels` is not an ArrayBuffer".to_owned())?;
        Ok((w, h, pixels))
    }

    pub fn start() {
        let Ok(scope) = js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>() else {
            return;
        };
        let detector = match Detector::new() {
            Ok(d) => {
                post(&scope, &obj(&[("ready", true.into())]), None);
                Some(d)
            }
            Err(e) => {
                post(&scope, &obj(&[("error", e.to_string().into())]), None);
                None
            }
        };
        let detector = Rc::new(RefCell::new(detector));
        // Scratch copy of the frame in wasm memory, reused (its capacity grows once).
        let scratch = Rc::new(RefCell::new(Vec::<u8>::new()));
        let s = scope.clone();
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
            let data = ev.data();
            let id = get(&data, "id").as_f64().unwrap_or(-1.0);
            let buffer = get(&data, "pixels").dyn_into::<ArrayBuffer>().ok();
            let answer = handle(&s, &data, &detector, &scratch);
            let msg = match answer {
                Ok((ms, json)) => {
                    obj(&[("id", id.into()), ("ms", ms.into()), ("frame", json.into())])
                }
                Err(e) => obj(&[("id", id.into()), ("error", e.into())]),
            };
            if let Some(b) = &buffer {
                let _ = Reflect::set(&msg, &JsValue::from_str("pixels"), b);
            }
            post(&s, &msg, buffer.as_ref());
        });
        scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
    }

    fn handle(
        scope: &DedicatedWorkerGlobalScope,
        data: &JsValue,
        detector: &RefCell<Option<Detector>>,
        scratch: &RefCell<Vec<u8>>,
    ) -> Result<(f64, String), String> {
        let (w, h, pixels) = frame_fields(data)?;
        let expected = w as u64 * h as u64 * 4;
        if pixels.byte_length() as u64 != expected {
            return Err(format!(
                "`pixels` has {} bytes, a {w}x{h} RGBA frame has {expected}",
                pixels.byte_length()
            ));
        }
        let mut guard = detector.borrow_mut();
        let detector = guard
            .as_mut()
            .ok_or_else(|| "the face detector could not start".to_owned())?;
        let mut buf = scratch.borrow_mut();
        buf.resize(expected as usize, 0);
        Uint8Array::new(&pixels).copy_to(&mut buf);
        let t = now(scope);
        let frame = detector.detect(&buf, w, h).map_err(|e| e.to_string())?;
        let ms = now(scope) - t;
        let json = serde_json::to_string(&frame).map_err(|e| e.to_string())?;
        Ok((ms, json))
    }
}
