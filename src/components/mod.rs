//! Presentational widgets.

mod country_picker;
mod heading;
mod icons;
mod step_frame;

pub use country_picker::CountryPicker;
pub use heading::Heading;
pub use icons::IdTypeIcon;
pub use step_frame::StepFrame;
