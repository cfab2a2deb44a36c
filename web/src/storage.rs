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

/// The stored text under `key` (the first screen reads it with [`crate::json::Json`]).
pub fn get_text(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

pub fn set_text(key: &str, value: &str) {
    if let Some(st) = storage() {
        let _ = st.set_item(key, value);
    }
}

pub fn remove(key: &str) {
    if let Some(st) = storage() {
        let _ = st.remove_item(key);
    }
}

/// `localStorage` text (remembered across visits, e.g. the last country chosen).
pub fn local_get(key: &str) -> Option<String> {
    web_sys::window()?
        .local_storage()
        .ok()??
        .get_item(key)
        .ok()?
}

pub fn local_set(key: &str, value: &str) {
    if let Some(st) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = st.set_item(key, value);
    }
}

/// Records that the server answered just now: its idle clock restarted (`core::idle`).
pub fn mark_contact() {
    // Whole milliseconds, written as an integer: float formatting would add kilobytes to the
    // first screen, which calls this on its session request.
    set_text(
        crate::keys::CONTACT_KEY,
        &(crate::time::date_now().max(0.0) as u64).to_string(),
    );
}

/// When the server last answered this tab (`Date.now()` ms), if it has.
pub fn last_contact() -> Option<f64> {
    get_text(crate::keys::CONTACT_KEY)?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|ms| ms as f64)
}
