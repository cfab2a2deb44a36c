//! One file per screen: each reads state and dispatches events; none picks the next step itself.

mod capture;
mod consent;
mod country;
mod email;
mod error;
mod id_type;
mod loading;

pub use capture::CaptureStep;
pub use consent::ConsentStep;
pub use country::CountryStep;
pub use email::EmailStep;
pub use error::ErrorScreen;
pub use id_type::IdTypeStep;
pub use loading::LoadingScreen;
