//! Presentational widgets.

mod heading;

pub use heading::Heading;
