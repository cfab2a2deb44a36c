//! The app's shared state: a `Copy` bundle of signals.

use leptos::prelude::*;
use liveform_core::api::SessionView;
use liveform_core::ErrorBody;

/// Which screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Loading,
    Welcome,
    /// The screen after consent (built by the step machine's issue; a placeholder for now).
    Next,
    Error(ErrorBody),
}

#[derive(Clone, Copy)]
pub struct AppState {
    pub screen: RwSignal<Screen>,
    pub session: RwSignal<Option<SessionView>>,
    /// Consent ticked (kept when going back).
    pub consented: RwSignal<bool>,
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
            consented: RwSignal::new(false),
            announce: RwSignal::new(String::new()),
            retry: StoredValue::new(None),
        }
    }

    pub fn project_name(&self) -> String {
        self.session
            .with(|s| s.as_ref().map(|s| s.project.name.clone()))
            .unwrap_or_default()
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
