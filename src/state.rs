//! The app's shared state: a `Copy` bundle of signals, and `dispatch` into the core step machine.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;
use liveform_core::api::SessionView;
use liveform_core::flow::{transition, Event, Flow, FlowError};
use liveform_core::ErrorBody;
use liveform_web::protocol::StoredFlow;

use crate::countries::CountryName;

/// "Step X of Y" as the person sees it: the result page is where the flow ends, not a step they
/// do, so it is not counted.
pub fn shown_progress(flow: &Flow) -> (usize, usize) {
    let (cur, total) = flow.progress();
    let ends_in_result = flow.steps().last() == Some(&liveform_core::flow::Step::Result);
    let total = if ends_in_result {
        total.saturating_sub(1).max(1)
    } else {
        total
    };
    (cur.clamp(1, total), total)
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Loading,
    /// The current step of the flow.
    Flow,
    Error(ErrorBody),
}

#[derive(Clone, Copy)]
pub struct AppState {
    pub screen: RwSignal<Screen>,
    pub session: RwSignal<Option<SessionView>>,
    pub flow: RwSignal<Option<Flow>>,
    /// Country names in the UI language (fetched when needed).
    pub country_names: RwSignal<Option<Arc<HashMap<String, CountryName>>>>,
    /// A request is in flight (buttons wait).
    pub busy: RwSignal<bool>,
    /// Text for the polite live region.
    pub announce: RwSignal<String>,
    /// Re-runs the start-up (the error page's "Try again").
    pub retry: StoredValue<Option<Callback<()>>>,
}

impl AppState {
    pub fn new() -> Self {
        AppState {
            screen: RwSignal::new(Screen::Loading),
            session: RwSignal::new(None),
            flow: RwSignal::new(None),
            country_names: RwSignal::new(None),
            busy: RwSignal::new(false),
            announce: RwSignal::new(String::new()),
            retry: StoredValue::new(None),
        }
    }

    pub fn project_name(&self) -> String {
        self.session
            .with(|s| s.as_ref().map(|s| s.project.name.clone()))
            .unwrap_or_default()
    }

    pub fn token(&self) -> Option<String> {
        self.session
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
    }

    /// Applies an event to the flow (the only way screens move on), and remembers the result.
    /// A refused event (a double click, a stale screen, a bug) changes nothing and is logged
    /// on the console with the step machine's reason ([`FlowError::kind`]), so no caller can
    /// drop it silently.
    pub fn dispatch(&self, event: Event) -> Result<(), FlowError> {
        let r = self.apply(event);
        if let Err(e) = &r {
            liveform_web::dom::warn(&["liveform: step transition refused: ", e.kind()].concat());
        }
        r
    }

    fn apply(&self, event: Event) -> Result<(), FlowError> {
        let Some(current) = self.flow.get_untracked() else {
            return Err(FlowError::Inconsistent);
        };
        let next = transition(&current, event)?;
        if let Some(token) = self.token() {
            liveform_web::storage::set(
                liveform_web::keys::FLOW_KEY,
                &StoredFlow {
                    token,
                    flow: next.clone(),
                },
            );
        }
        self.flow.set(Some(next));
        Ok(())
    }

    /// Shows the session's flow: the tab's remembered one when it belongs to this session.
    pub fn start_flow(&self, view: &SessionView, remembered: Option<StoredFlow>) {
        let flow = remembered
            .filter(|r| r.token == view.token && r.flow.offer() == view.flow.offer())
            .map(|r| r.flow)
            .unwrap_or_else(|| view.flow.clone());
        self.flow.set(Some(flow));
        self.screen.set(Screen::Flow);
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}

/// Provides a fresh state to the component tree.
pub fn provide_state() -> AppState {
    let s = AppState::new();
    provide_context(s);
    s
}

/// The state in context.
pub fn use_state() -> AppState {
    use_context::<AppState>().unwrap_or_else(provide_state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use liveform_core::flow::{Event, FlowConfig};
    use liveform_core::policy::{offer, PolicyInput, SupportTable};

    #[test]
    fn the_result_page_is_not_counted_as_a_step() {
        let table = SupportTable::builtin().expect("built-in table");
        let o = offer(table, &PolicyInput::default()).expect("offer");
        let f = Flow::new(FlowConfig::default(), o).expect("flow");
        let (cur, total) = f.progress();
        assert_eq!(shown_progress(&f), (cur, total - 1));
        let f = transition(&f, Event::AcceptConsent).expect("consent");
        assert_eq!(shown_progress(&f).0, 2);
    }
}
