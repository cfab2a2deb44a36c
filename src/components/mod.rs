//! Presentational widgets.

mod country_picker;
mod icons;
mod step_frame;

pub use country_picker::CountryPicker;
pub use icons::IdTypeIcon;
pub use liveform_ui::Heading;
pub use step_frame::StepFrame;
