use leptos::prelude::*;

/// A screen's heading: focus moves to it when the screen appears (screen readers start there).
#[component]
pub fn Heading(#[prop(into)] text: Signal<String>, testid: &'static str) -> impl IntoView {
    let node = NodeRef::<leptos::html::H1>::new();
    Effect::new(move |_| {
        if let Some(el) = node.get() {
            crate::browser::dom::focus(&el);
        }
    });
    view! {
        <h1 class="lf-heading" tabindex="-1" data-testid=testid node_ref=node>
            {move || text.get()}
        </h1>
    }
}
