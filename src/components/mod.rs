//! Presentational widgets.

mod country_picker;
mod icons;
mod idle_warning;
mod step_frame;

pub use country_picker::CountryPicker;
pub use icons::IdTypeIcon;
pub use idle_warning::IdleWarning;
pub use liveform_ui::Heading;
pub use step_frame::StepFrame;
