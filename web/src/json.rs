//! JSON read and written by the browser's own `JSON.parse` / `JSON.stringify`: the first-screen
//! module reads the few fields it shows this way, so no JSON library is compiled into it (the
//! app module parses the same text with serde, into the typed [`liveform_core::api`] values).

use js_sys::{Array, Object, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};

/// A parsed JSON value (absent members read as `undefined`, never as an error).
#[derive(Debug, Clone)]
pub struct Json(JsValue);

impl Json {
    /// Parses `text`; `None` when it is not JSON.
    pub fn parse(text: &str) -> Option<Json> {
        JSON::parse(text).ok().map(Json)
    }

    /// The member `key` (`undefined` when absent or when this is not an object).
    pub fn get(&self, key: &str) -> Json {
        if self.0.is_object() {
            Json(Reflect::get(&self.0, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED))
        } else {
            Json(JsValue::UNDEFINED)
        }
    }

    /// The value as a string, when it is one.
    pub fn str(&self) -> Option<String> {
        self.0.as_string()
    }

    /// The value as a boolean, when it is one.
    pub fn bool(&self) -> Option<bool> {
        self.0.as_bool()
    }

    /// The elements of an array (empty for anything else).
    pub fn items(&self) -> Vec<Json> {
        match self.0.dyn_ref::<Array>() {
            Some(a) => a.iter().map(Json).collect(),
            None => Vec::new(),
        }
    }

    /// The value written back as JSON text (`None` for `undefined`).
    pub fn stringify(&self) -> Option<String> {
        JSON::stringify(&self.0).ok()?.as_string()
    }
}

/// A flat JSON object of string members, as text (`{"pid":"…","token":"…"}`).
pub fn object_text(members: &[(&str, &str)]) -> String {
    let o = Object::new();
    for (k, v) in members {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    JSON::stringify(&o)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "{}".into())
}
