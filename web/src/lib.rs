//! The SPA's browser glue: the only crate of the SPA that depends on `web-sys`, `js-sys` and
//! `wasm-bindgen` (the other crates — the first-screen app, `liveform-ui`, the capture module —
//! reach the browser through these functions; `clippy.toml` and `scripts/check-boundaries.sh`
//! keep it so). Thin functions: every JS failure becomes `None` or a typed error.
//!
//! * [`api`]: the typed client of the form server (one function per endpoint, paths from
//!   `liveform_core::api`), [`xhr`]: uploads with progress.
//! * [`keys`]: what the tab keeps in `sessionStorage`, [`storage`]: reading and writing it.
//! * [`protocol`]: what the first-screen module and the capture module tell each other;
//!   [`module`]: loading the capture module; `entry` (feature `capture-entry`): its export.
//! * [`hooks`]: Leptos hooks with cleanup (camera, permission watch, frame loop, face feed).
//! * [`el`] and [`json`]: the first-screen module's DOM builder and JSON access (no Leptos, no
//!   serde there); `app_entry` (feature `app-entry`): the app module's export.
//! * [`dom`], [`location`], [`time`] (clocks, `sleep`, random bytes), [`embed`], [`embed_link`],
//!   [`camera`], [`face`]; `js` (reading JS objects, for this crate only).

pub mod api;
#[cfg(feature = "app-entry")]
pub mod app_entry;
pub mod camera;
pub mod dom;
pub mod el;
pub mod embed;
pub mod embed_link;
#[cfg(feature = "capture-entry")]
pub mod entry;
pub mod face;
#[cfg(feature = "leptos")]
pub mod hooks;
mod js;
pub mod json;
pub mod keys;
pub mod location;
pub mod module;
pub mod protocol;
pub mod storage;
pub mod time;
pub mod xhr;

/// Browser values the other crates hold and pass back (aliases: `clippy.toml` refuses the
/// web-sys names outside this crate, and the methods that matter).
pub type Blob = web_sys::Blob;
pub type HtmlElement = web_sys::HtmlElement;
pub type HtmlVideoElement = web_sys::HtmlVideoElement;

/// Runs a future on the page's event loop (the first screen has no Leptos to do it).
pub fn spawn(f: impl std::future::Future<Output = ()> + 'static) {
    wasm_bindgen_futures::spawn_local(f);
}
