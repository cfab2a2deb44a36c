//! Liveform SPA: Leptos 0.8, client-side rendered.
//!
//! Layout: `browser/` holds every web-sys call; `steps/` one file per screen; `components/`
//! widgets; `boot` and `i18n` hold the logic that tests check natively.

pub mod app;
pub mod boot;
pub mod browser;
pub mod capture;
pub mod components;
pub mod countries;
pub mod i18n;
pub mod state;
pub mod steps;

/// Mounts the app into `#lf-root` and installs the panic page.
pub fn start() {
    install_panic_page();
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("lf-root"))
        .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
    match root {
        Some(el) => leptos::mount::mount_to(el, app::App).forget(),
        None => leptos::mount::mount_to_body(app::App),
    }
}

/// A panic aborts the wasm: replace the page with a translated message instead of freezing.
fn install_panic_page() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let en = i18n::Translations::english();
        let code = liveform_core::ErrorCode::Runtime;
        let key = code.message_key();
        browser::dom::show_fatal(
            en.get(&format!("{key}-title")).unwrap_or("Error"),
            en.get(&format!("{key}-action")).unwrap_or(""),
            code.id(),
        );
    }));
}
