use leptos::prelude::*;
use liveform_core::IdType;

/// A small pictogram per document kind (booklet for passports and visas, card for the rest).
#[component]
pub fn IdTypeIcon(id_type: IdType) -> impl IntoView {
    let booklet = matches!(id_type, IdType::Passport | IdType::Visa);
    view! {
        <svg class="lf-icon" viewBox="0 0 48 48" aria-hidden="true" focusable="false">
            {if booklet {
                view! {
                    <rect x="10" y="4" width="28" height="40" rx="3" fill="none" stroke="currentColor" stroke-width="3"/>
                    <circle cx="24" cy="20" r="7" fill="none" stroke="currentColor" stroke-width="3"/>
                    <line x1="16" y1="35" x2="32" y2="35" stroke="currentColor" stroke-width="3"/>
                }.into_any()
            } else {
                view! {
                    <rect x="3" y="10" width="42" height="28" rx="4" fill="none" stroke="currentColor" stroke-width="3"/>
                    <circle cx="15" cy="22" r="5" fill="none" stroke="currentColor" stroke-width="3"/>
                    <line x1="25" y1="19" x2="39" y2="19" stroke="currentColor" stroke-width="3"/>
                    <line x1="25" y1="27" x2="35" y2="27" stroke="currentColor" stroke-width="3"/>
                    <line x1="9" y1="32" x2="21" y2="32" stroke="currentColor" stroke-width="3"/>
                }.into_any()
            }}
        </svg>
    }
}
