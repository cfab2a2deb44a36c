use leptos::prelude::*;

/// A screen's heading: focus moves to it when the screen appears (screen readers start there).
#[component]
pub fn Heading(#[prop(into)] text: Signal<String>, testid: &'static str) -> impl IntoView {
    let node = NodeRef::<leptos::html::H1>::new();
    liveform_web::dom::focus_on_show(node);
    view! {
        <h1 class="lf-heading" tabindex="-1" data-testid=testid node_ref=node>
            {move || text.get()}
        </h1>
    }
}
