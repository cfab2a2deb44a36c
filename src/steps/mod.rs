//! One file per screen: each reads state and dispatches; none picks the next step itself.

mod error;
mod loading;
mod next;
mod welcome;

pub use error::ErrorScreen;
pub use loading::LoadingScreen;
pub use next::NextScreen;
pub use welcome::WelcomeScreen;
