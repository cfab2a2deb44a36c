//! Liveform SPA, the first-screen module: Leptos 0.8, client-side rendered.
//!
//! Layout: `boot` (pure: what to request for this address), `state` (`dispatch(Event)` into the
//! core step machine), `countries` (pure search), `steps/` one file per screen, `components/`
//! widgets. The browser is reached only through `liveform_web` (the glue crate); translations and
//! the heading come from `liveform_ui`; the capture steps mount the capture module
//! (`liveform-capture`), loaded on demand.

pub mod app;
pub mod boot;
pub mod components;
pub mod countries;
pub mod state;
pub mod steps;

pub use liveform_ui::i18n;

/// Mounts the app into `#lf-root` and installs the panic page.
pub fn start() {
    install_panic_page();
    match liveform_web::dom::app_root() {
        Some(el) => leptos::mount::mount_to(el, app::App).forget(),
        None => leptos::mount::mount_to_body(app::App),
    }
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
