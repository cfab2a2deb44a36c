//! Liveform core: pure logic shared by the SPA (wasm) and the form server.
//!
//! No web-sys, no wasm-bindgen, no clock, no randomness: callers pass time and random bytes in.
#![forbid(unsafe_code)]

pub mod api;
pub mod boot;
pub mod capture;
pub mod country;
pub mod document;
pub mod embed;
pub mod errors;
pub mod face;
pub mod flow;
pub mod id_type;
pub mod idle;
pub mod iso3166;
pub mod lang;
pub mod launch;
pub mod liveness;
pub mod policy;
pub mod returning;
pub mod selfie;
pub mod theme;
pub mod upload;
/// The document quality gate: its own crate (`core/vision`, compiled at opt-level 3 in the wasm
/// build), re-exported here.
pub use liveform_vision as vision;

pub use country::Alpha3;
pub use errors::{ErrorBody, ErrorCode};
pub use id_type::{DocumentField, IdType};
pub use launch::{Algorithm, LaunchContext, LaunchError, LaunchParams, RawQuery};
