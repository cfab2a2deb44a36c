//! Small DOM effects: focus, the document language, the start-up fallback, the fatal page.

use wasm_bindgen::JsCast;

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

/// Moves focus to an element (headings carry `tabindex="-1"`).
pub fn focus(el: &web_sys::Element) {
    if let Some(h) = el.dyn_ref::<web_sys::HtmlElement>() {
        let _ = h.focus();
    }
}

/// `<html lang dir>`, so screen readers pronounce the text right and Arabic reads right to left.
pub fn set_document_lang(lang: &str) {
    if let Some(html) = document().and_then(|d| d.document_element()) {
        let _ = html.set_attribute("lang", lang);
        let dir = if crate::i18n::is_rtl(lang) {
            "rtl"
        } else {
            "ltr"
        };
        let _ = html.set_attribute("dir", dir);
    }
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
