use leptos::prelude::*;

use crate::countries::{search, Entry};
use liveform_ui::i18n::use_i18n;
use liveform_web::dom;

/// A searchable country list (ARIA combobox + listbox): type to filter by name in the UI
/// language, native name, alpha-2 or alpha-3; arrows move, Enter chooses; clicking works too.
/// The last country chosen on this device comes first, marked.
#[component]
pub fn CountryPicker(
    #[prop(into)] entries: Signal<Vec<Entry>>,
    #[prop(into)] last_used: Signal<Option<String>>,
    on_select: Callback<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let query = RwSignal::new(String::new());
    let active = RwSignal::new(0usize);
    // Matching entries, the last-used country first when it matches.
    let results = Memo::new(move |_| {
        entries.with(|all| {
            let mut idx = search(all, &query.get());
            if let Some(last) = last_used.get() {
                if let Some(pos) = idx.iter().position(|&i| all[i].alpha3 == last) {
                    let i = idx.remove(pos);
                    idx.insert(0, i);
                }
            }
            idx.into_iter()
                .map(|i| all[i].clone())
                .collect::<Vec<Entry>>()
        })
    });
    let option_id = |a3: &str| format!("lf-country-{a3}");
    let active_id = move || {
        results
            .with(|r| r.get(active.get()).map(|e| option_id(&e.alpha3)))
            .unwrap_or_default()
    };
    let choose = move |a3: String| on_select.run(a3);
    let move_to = move |i: usize| {
        active.set(i);
        dom::scroll_into_view(&active_id());
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let n = results.with(Vec::len);
        if n == 0 {
            return;
        }
        let cur = active.get_untracked().min(n - 1);
        match ev.key().as_str() {
            "ArrowDown" => {
                ev.prevent_default();
                move_to((cur + 1).min(n - 1));
            }
            "ArrowUp" => {
                ev.prevent_default();
                move_to(cur.saturating_sub(1));
            }
            "Home" if ev.ctrl_key() => move_to(0),
            "End" if ev.ctrl_key() => move_to(n - 1),
            "PageDown" => {
                ev.prevent_default();
                move_to((cur + 8).min(n - 1));
            }
            "PageUp" => {
                ev.prevent_default();
                move_to(cur.saturating_sub(8));
            }
            "Enter" => {
                ev.prevent_default();
                if let Some(e) = results.with_untracked(|r| r.get(cur).cloned()) {
                    choose(e.alpha3);
                }
            }
            _ => {}
        }
    };
    let count_text = move || {
        let n = results.with(Vec::len);
        if n == 0 {
            i18n.tf("country-no-results", &[("query", &query.get())])
        } else {
            i18n.tf("country-results", &[("count", &n.to_string())])
        }
    };
    view! {
        <div class="lf-picker">
            <label class="lf-label" for="lf-country-search">{move || i18n.t("country-search-label")}</label>
            <input
                id="lf-country-search"
                class="lf-input"
                type="search"
                role="combobox"
                autocomplete="off"
                spellcheck="false"
                aria-autocomplete="list"
                aria-expanded="true"
                aria-controls="lf-country-list"
                aria-activedescendant=active_id
                data-testid="country-search"
                placeholder=move || i18n.t("country-search-placeholder")
                prop:value=move || query.get()
                on:input=move |ev| {
                    query.set(event_target_value(&ev));
                    active.set(0);
                }
                on:keydown=on_key
            />
            <p class="lf-hint" aria-live="polite" data-testid="country-count">{count_text}</p>
            <ul
                id="lf-country-list"
                class="lf-options"
                role="listbox"
                aria-label=move || i18n.t("country-title")
                data-testid="country-list"
            >
                // Not keyed: the list is rebuilt per keystroke (≤ 250 items), which costs far
                // less download than the keyed <For> machinery.
                {move || results.get().into_iter().enumerate().map(|(i, e)| {
                    let a3 = e.alpha3.clone();
                    let is_last = {
                        let a3 = a3.clone();
                        move || last_used.get().as_deref() == Some(a3.as_str())
                    };
                    view! {
                        <li
                            id=option_id(&e.alpha3)
                            class="lf-option"
                            class:lf-active=move || active.get() == i
                            role="option"
                            aria-selected=move || (active.get() == i).to_string()
                            data-testid="country-option"
                            data-code=e.alpha3.clone()
                            on:click=move |_| choose(a3.clone())
                        >
                            <span class="lf-option-name">{e.name.clone()}</span>
                            <span class="lf-option-meta" lang="und">
                                {(e.native != e.name && !e.native.is_empty()).then(|| e.native.clone())}
                            </span>
                            <span class="lf-badge" hidden=move || !is_last()>{move || i18n.t("country-last-used")}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}
