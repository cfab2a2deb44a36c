//! The address bar and the browser's language preferences.

/// `window.location.search` (with the leading `?`), or empty.
pub fn search() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// Replaces the query in the address bar without a navigation (drops `encrypted` & co.).
pub fn replace_query(query: &str) {
    let Some(w) = web_sys::window() else { return };
    let path = w.location().pathname().unwrap_or_else(|_| "/".into());
    if let Ok(h) = w.history() {
        let _ = h.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}{query}")),
        );
    }
}

/// `navigator.languages` (falls back to `navigator.language`).
pub fn browser_languages() -> Vec<String> {
    let Some(nav) = web_sys::window().map(|w| w.navigator()) else {
        return Vec::new();
    };
    let list: Vec<String> = nav
        .languages()
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    if list.is_empty() {
        nav.language().into_iter().collect()
    } else {
        list
    }
}

/// Reloads the page (the tab's session resumes from `sessionStorage`).
pub fn reload() {
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

/// Reopens the page in `lang` (the address keeps `pid`, `lang` becomes `lang`): the tab's session
/// resumes from `sessionStorage`, on the screen it was on, with the welcome's consent box as it
/// was (`ticked`, see [`take_ticked`]). Nothing happens for a code that is not one of the form's
/// languages.
pub fn switch_language(lang: &str, ticked: bool) {
    if liveform_core::lang::SUPPORTED.contains(&lang) {
        if ticked {
            crate::storage::set_text(crate::keys::TICKED_KEY, "1");
        }
        let query = liveform_core::boot::Boot::read(&search()).clean_query(lang);
        replace(&query);
    }
}

/// Whether the consent box was ticked when the language was switched ([`switch_language`]);
/// reading it forgets it.
pub fn take_ticked() -> bool {
    let ticked = crate::storage::get_text(crate::keys::TICKED_KEY).is_some();
    crate::storage::remove(crate::keys::TICKED_KEY);
    ticked
}

/// The page's origin (`https://host:port`), or empty.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// Whether the page is the top-level document (not inside a frame).
pub fn is_top() -> bool {
    web_sys::window().is_some_and(|w| {
        w.top()
            .ok()
            .flatten()
            .is_some_and(|t| js_sys::Object::is(&t, &w))
    })
}

/// Leaves for `url` (`location.assign`): only an http(s) URL, and never from a frame.
pub fn assign(url: &str) {
    if (url.starts_with("https://") || url.starts_with("http://")) && is_top() {
        if let Some(w) = web_sys::window() {
            let _ = w.location().assign(url);
        }
    }
}

/// Replaces the page with `url` (no history entry).
pub fn replace(url: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().replace(url);
    }
}
