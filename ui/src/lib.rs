//! What both wasm modules of the SPA show alike: the translations and the screen heading.
//! Leptos only: the DOM is reached through `liveform_web`.

mod heading;
pub mod i18n;

pub use heading::Heading;
