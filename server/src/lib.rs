//! The Liveform form server: holds project keys, opens sessions from raw ARGOS links, serves the
//! built SPA with strict security headers. The binary (`liveform`) is in main.rs.

pub mod app;
pub mod background;
pub mod blobs;
/// The TOML configuration (its own crate, `server/config`, so that its fuzz target stays small).
pub use liveform_config as config;
pub use liveform_media::{decode, media};
pub mod db;
pub mod error;
pub mod extract;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod handoff;
pub mod headers;
pub mod link;
pub mod listen;
pub mod liveness;
pub mod opening;
pub mod pg;
pub mod pii;
pub mod projection;
pub mod qr;
pub mod results;
pub mod retention;
pub mod routes;
pub mod rules;
pub mod sessions;
pub mod state;
pub mod store;
pub mod trace;
pub mod uploads;
pub mod verify;
pub mod webhooks;

/// The embedded demo configuration (loopback only; its keys are public by design).
pub const DEMO_CONFIG: &str = include_str!("../demo.toml");
