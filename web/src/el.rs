//! A small DOM builder for the first-screen module, which renders its screens without Leptos.
//! Each [`El`] wraps one element; every method is a no-op when there is no document (the
//! module never runs outside a page).

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

/// One element, built by chaining.
#[derive(Debug, Clone)]
pub struct El(Option<web_sys::Element>);

impl El {
    /// A new, detached element.
    pub fn new(tag: &str) -> El {
        El(document().and_then(|d| d.create_element(tag).ok()))
    }

    /// The element with this `id`, if the page has it.
    pub fn by_id(id: &str) -> Option<El> {
        document()?.get_element_by_id(id).map(|e| El(Some(e)))
    }

    /// The page's `#lf-root`, else `<body>`.
    pub fn root() -> El {
        El::by_id("lf-root")
            .or_else(|| Some(El(Some(document()?.body()?.into()))))
            .unwrap_or(El(None))
    }

    pub fn attr(self, name: &str, value: &str) -> El {
        if let Some(e) = &self.0 {
            let _ = e.set_attribute(name, value);
        }
        self
    }

    pub fn class(self, value: &str) -> El {
        self.attr("class", value)
    }

    pub fn testid(self, value: &str) -> El {
        self.attr("data-testid", value)
    }

    /// Appends a text node.
    pub fn text(self, text: &str) -> El {
        if let (Some(e), Some(d)) = (&self.0, document()) {
            let _ = e.append_child(&d.create_text_node(text));
        }
        self
    }

    pub fn child(self, child: El) -> El {
        if let (Some(e), Some(c)) = (&self.0, &child.0) {
            let _ = e.append_child(c);
        }
        self
    }

    /// A CSS property (or custom property, `--name`) in the element's inline style, through the
    /// CSSOM: a `style` attribute would be refused by the page's `style-src 'self'`.
    pub fn style_var(self, name: &str, value: &str) -> El {
        if let Some(e) = self
            .0
            .as_ref()
            .and_then(|e| e.dyn_ref::<web_sys::HtmlElement>())
        {
            let _ = e.style().set_property(name, value);
        }
        self
    }

    /// Calls `f` on every `event` of this element, for the page's lifetime.
    pub fn on(self, event: &str, f: impl FnMut() + 'static) -> El {
        if let Some(e) = &self.0 {
            let cb = Closure::<dyn FnMut()>::new(f);
            let _ = e.add_event_listener_with_callback(event, cb.as_ref().unchecked_ref());
            cb.forget();
        }
        self
    }

    /// Sets or removes a boolean attribute (`hidden`, `disabled`, `aria-busy`…).
    pub fn toggle(&self, name: &str, on: bool) {
        if let Some(e) = &self.0 {
            let _ = if on {
                e.set_attribute(
                    name,
                    if name.starts_with("aria-") {
                        "true"
                    } else {
                        ""
                    },
                )
            } else {
                e.remove_attribute(name)
            };
        }
    }

    /// Replaces the element's children with one text node.
    pub fn set_text(&self, text: &str) {
        if let Some(e) = &self.0 {
            e.set_text_content(Some(text));
        }
    }

    /// Whether a checkbox is ticked.
    pub fn checked(&self) -> bool {
        self.0
            .as_ref()
            .and_then(|e| e.dyn_ref::<web_sys::HtmlInputElement>())
            .is_some_and(|i| i.checked())
    }

    /// A select's value (empty for any other element).
    pub fn value(&self) -> String {
        self.0
            .as_ref()
            .and_then(|e| e.dyn_ref::<web_sys::HtmlSelectElement>())
            .map(|s| s.value())
            .unwrap_or_default()
    }

    pub fn set_checked(&self, on: bool) {
        if let Some(i) = self
            .0
            .as_ref()
            .and_then(|e| e.dyn_ref::<web_sys::HtmlInputElement>())
        {
            i.set_checked(on);
        }
    }

    pub fn focus(&self) {
        if let Some(e) = self
            .0
            .as_ref()
            .and_then(|e| e.dyn_ref::<web_sys::HtmlElement>())
        {
            let _ = e.focus();
        }
    }

    /// Takes the element out of the page.
    pub fn remove(&self) {
        if let Some(e) = &self.0 {
            e.remove();
        }
    }

    /// Replaces the element's children with `child`.
    pub fn replace_children(&self, child: &El) {
        if let (Some(e), Some(c)) = (&self.0, &child.0) {
            e.set_text_content(None);
            let _ = e.append_child(c);
        }
    }

    /// The element, for the module loader (`crate::module::mount_app`).
    pub fn html(&self) -> Option<web_sys::HtmlElement> {
        self.0.as_ref()?.clone().dyn_into().ok()
    }
}
