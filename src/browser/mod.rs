//! All web-sys glue lives here: thin functions, every JS failure mapped to `None`/typed errors.

pub mod api;
pub mod camera;
pub mod dom;
pub mod embed;
pub mod embed_link;
pub mod face;
pub mod location;
pub mod module;
pub mod storage;
