//! Small DOM effects: focus, the document language, the start-up fallback, the fatal page,
//! object URLs, media queries, picked files, the app's root element.

use wasm_bindgen::JsCast;

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

/// Focuses the element whenever it (re)appears: a screen's heading (headings carry
/// `tabindex="-1"`; screen readers start there), the idle warning's "more time" button.
#[cfg(feature = "leptos")]
pub fn focus_on_show<E>(node: leptos::prelude::NodeRef<E>)
where
    E: leptos::html::ElementType,
    E::Output: JsCast + Clone + 'static,
{
    use leptos::prelude::{Effect, Get};
    Effect::new(move |_| {
        if let Some(el) = node.get() {
            let _ = el.unchecked_ref::<web_sys::HtmlElement>().focus();
        }
    });
}

/// While a modal dialog is open (`on`), everything else in `#lf-root` is `inert`: it can be
/// neither focused, clicked nor read by a screen reader, so Tab stays in the dialog. The dialog is
/// the root's child with class `keep`.
pub fn set_page_inert(on: bool, keep: &str) {
    let Some(root) = document().and_then(|d| d.get_element_by_id("lf-root")) else {
        return;
    };
    let mut child = root.first_element_child();
    while let Some(el) = child {
        if !el.class_list().contains(keep) {
            if on {
                let _ = el.set_attribute("inert", "");
            } else {
                let _ = el.remove_attribute("inert");
            }
        }
        child = el.next_element_sibling();
    }
}

/// `<html lang dir>`, so screen readers pronounce the text right and Arabic reads right to left.
pub fn set_document_lang(lang: &str, rtl: bool) {
    if let Some(html) = document().and_then(|d| d.document_element()) {
        let _ = html.set_attribute("lang", lang);
        let _ = html.set_attribute("dir", if rtl { "rtl" } else { "ltr" });
    }
}

/// The element the app mounts into (`#lf-root`), if the page has it.
pub fn app_root() -> Option<web_sys::HtmlElement> {
    document()?
        .get_element_by_id("lf-root")?
        .dyn_into::<web_sys::HtmlElement>()
        .ok()
}

/// Whether a CSS media query matches now.
pub fn matches_media(query: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.match_media(query).ok().flatten())
        .is_some_and(|m| m.matches())
}

/// An object URL for a blob (shown in an `<img>`); revoke it with [`revoke_object_url`].
pub fn object_url(blob: &web_sys::Blob) -> Option<String> {
    web_sys::Url::create_object_url_with_blob(blob).ok()
}

pub fn revoke_object_url(url: &str) {
    let _ = web_sys::Url::revoke_object_url(url);
}

/// The file picked in the `<input type=file>` that fired `ev`; the input is cleared so that
/// picking the same file again fires again.
pub fn take_picked_file(ev: &web_sys::Event) -> Option<web_sys::File> {
    let input = ev.target()?.dyn_into::<web_sys::HtmlInputElement>().ok()?;
    let file = input.files().and_then(|f| f.get(0))?;
    input.set_value("");
    Some(file)
}

/// The document title (tab name, and what a screen reader says first).
pub fn set_title(title: &str) {
    if let Some(d) = document() {
        d.set_title(title);
    }
}

/// Tells index.html's start-up watchdog the app is running, and hides its fallback.
pub fn mark_mounted() {
    if let Some(d) = document() {
        if let Some(html) = d.document_element() {
            let _ = html.set_attribute("data-lf-mounted", "");
        }
        if let Some(f) = d.get_element_by_id("lf-fallback") {
            let _ = f.set_attribute("hidden", "");
        }
    }
}

/// Notes on `<html data-lf-app>` that the app module has mounted (behind the welcome, or in front
/// of the loading screen): what the end-to-end tests and the side-by-side timing wait for.
pub fn mark_app_ready() {
    if let Some(html) = document().and_then(|d| d.document_element()) {
        let _ = html.set_attribute("data-lf-app", "");
    }
}

/// Notes a measurement on `<html data-lf-{name}="{value}">` (e.g. how long the read of a
/// document's machine-readable zone took): what the end-to-end tests and benchmarks read.
pub fn mark(name: &str, value: &str) {
    if let Some(html) = document().and_then(|d| d.document_element()) {
        let _ = html.set_attribute(&format!("data-lf-{name}"), value);
    }
}

/// Replaces the page with a static message (used by the panic hook: nothing reactive can run).
pub fn show_fatal(title: &str, action: &str, code: &str) {
    let Some(d) = document() else { return };
    let Some(body) = d.body() else { return };
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    body.set_inner_html(&format!(
        "<main class=\"lf-page\"><section class=\"lf-screen\" data-testid=\"screen-error\">\
         <h1 tabindex=\"-1\" data-testid=\"error-title\">{}</h1><p data-testid=\"error-action\">{}</p>\
         <p class=\"lf-code\"><span data-testid=\"error-code\">{}</span></p></section></main>",
        esc(title),
        esc(action),
        esc(code)
    ));
}

/// Scrolls the element with `id` into view if needed (the active option of a list).
pub fn scroll_into_view(id: &str) {
    if let Some(el) = document().and_then(|d| d.get_element_by_id(id)) {
        let opts = web_sys::ScrollIntoViewOptions::new();
        opts.set_block(web_sys::ScrollLogicalPosition::Nearest);
        el.scroll_into_view_with_scroll_into_view_options(&opts);
    }
}

/// Copies text to the clipboard (`navigator.clipboard.writeText`; needs a secure context and a
/// user gesture). Failures are silent: the link stays visible for copying by hand.
pub fn copy_text(text: &str) {
    let Some(nav) = web_sys::window().map(|w| w.navigator()) else {
        return;
    };
    let clipboard = js_sys::Reflect::get(&nav, &"clipboard".into()).unwrap_or_default();
    let write = js_sys::Reflect::get(&clipboard, &"writeText".into()).unwrap_or_default();
    if let Some(f) = write.dyn_ref::<js_sys::Function>() {
        let _ = f.call1(&clipboard, &text.into());
    }
}

/// Sets an element's markup (only for trusted markup made by our server, e.g. the QR code SVG).
pub fn set_inner_html(el: &web_sys::Element, html: &str) {
    el.set_inner_html(html);
}

/// A warning on the browser's console (what the page noticed but the person need not).
pub fn warn(message: &str) {
    web_sys::console::warn_1(&message.into());
}

/// A panic aborts the wasm: log it, then replace the page with `page()`'s static
/// `(title, action, code)` instead of a frozen screen.
pub fn on_panic(page: impl Fn() -> (String, String, String) + Send + Sync + 'static) {
    std::panic::set_hook(Box::new(move |info| {
        web_sys::console::error_1(&info.to_string().into());
        let (title, action, code) = page();
        show_fatal(&title, &action, &code);
    }));
}
