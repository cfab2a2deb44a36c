//! What the Liveform server accepts as an image (issue 14): `media` recognises the format by its
//! magic bytes and reads the size from the header; `decode` decodes completely and within bounds.
//! Pure Rust, no I/O.

pub mod decode;
pub mod media;
