//! Liveform SPA, the app module: Leptos 0.8, client-side rendered; every screen after the
//! welcome (e-mail, country, ID type, the capture steps' frame, error pages, and the welcome
//! again after Back). The first screen (`welcome/`, no Leptos) opens the session, renders the
//! welcome and loads this module in the background, then mounts it ([`mount`]).
//!
//! Layout: `state` (`dispatch(Event)` into the core step machine), `countries` (pure search),
//! `steps/` one file per screen, `components/` widgets. The start-up plan is
//! `liveform_core::boot`. The browser is reached only through `liveform_web` (the glue crate);
//! translations and the heading come from `liveform_ui`; the capture steps mount the capture
//! module (`liveform-capture`), loaded on demand.

pub mod app;
pub mod components;
pub mod countries;
pub mod state;
pub mod steps;

pub use liveform_ui::i18n;

use std::cell::RefCell;
use std::rc::Rc;

use liveform_web::app_entry::AppStart;

/// The app module's `mount_app` (see `liveform_web::app_entry`): mounts the app into `host` with
/// the first screen's session outcome, and returns what the welcome screen's Start calls.
pub fn mount(host: liveform_web::HtmlElement, start: AppStart) -> Box<dyn Fn()> {
    install_panic_page();
    let accept: app::AcceptSlot = Rc::new(RefCell::new(None));
    let slot = accept.clone();
    leptos::mount::mount_to(host, move || app::app(start, slot)).forget();
    Box::new(move || {
        if let Some(f) = accept.borrow().as_ref() {
            f();
        }
    })
}

/// A panic aborts the wasm: replace the page with a translated message instead of freezing.
fn install_panic_page() {
    liveform_web::dom::on_panic(|| {
        let en = i18n::Translations::english();
        let code = liveform_core::ErrorCode::Runtime;
        let key = code.message_key();
        (
            en.get(&format!("{key}-title"))
                .unwrap_or("Error")
                .to_owned(),
            en.get(&format!("{key}-action")).unwrap_or("").to_owned(),
            code.id().to_owned(),
        )
    });
}
