//! Reading JS objects by property name (one copy; the camera, the face worker and the module
//! loader all need it).

use js_sys::Reflect;
use wasm_bindgen::JsValue;

/// `target[key]`, `undefined` when it cannot be read.
pub(crate) fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `target[key]` when it is a string.
pub(crate) fn get_string(target: &JsValue, key: &str) -> Option<String> {
    get(target, key).as_string()
}
