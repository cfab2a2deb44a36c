//! `sessionStorage`, JSON values; failures (private modes, disabled storage) read as absent.

use serde::de::DeserializeOwned;
use serde::Serialize;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

pub fn get<T: DeserializeOwned>(key: &str) -> Option<T> {
    let s = storage()?.get_item(key).ok()??;
    serde_json::from_str(&s).ok()
}

pub fn set<T: Serialize>(key: &str, value: &T) {
    if let (Some(st), Ok(s)) = (storage(), serde_json::to_string(value)) {
        let _ = st.set_item(key, &s);
    }
}

pub fn remove(key: &str) {
    if let Some(st) = storage() {
        let _ = st.remove_item(key);
    }
}
