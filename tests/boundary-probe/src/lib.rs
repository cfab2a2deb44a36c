//! Each feature turns on one web-sys call of the kind `clippy.toml` refuses outside the glue
//! crate (`liveform-web`), reached the ways a non-glue crate could reach it: through the
//! `web_sys` / `wasm_bindgen` that Leptos re-exports, Leptos's own `window()`, or a method on an
//! element a `NodeRef` hands out. scripts/check-boundaries.sh runs clippy with each feature and
//! expects it to fail on the lint.

#[cfg(feature = "leptos-web-sys")]
pub fn by_leptos_web_sys() -> bool {
    leptos::web_sys::window().is_some()
}

#[cfg(feature = "leptos-window")]
pub fn by_leptos_window() -> bool {
    leptos::prelude::window().inner_width().is_ok()
}

#[cfg(feature = "web-sys-type")]
pub fn by_type(_doc: leptos::web_sys::Document) {}

#[cfg(feature = "js-cast")]
pub fn by_cast(v: leptos::wasm_bindgen::JsValue) -> bool {
    use leptos::wasm_bindgen::JsCast;
    v.dyn_into::<leptos::web_sys::js_sys::Object>().is_ok()
}

#[cfg(feature = "node-ref-focus")]
pub fn by_node_ref(node: leptos::prelude::NodeRef<leptos::html::Input>) {
    use leptos::prelude::Get;
    if let Some(el) = node.get() {
        let _ = el.focus();
    }
}
