//! The camera engine: the only place that calls `getUserMedia`.
//!
//! What it guarantees (see `kyc-capture-lessons.md` §3 and `core::capture` for the pure rules):
//! * typed failures ([`CameraError`](liveform_core::capture::CameraError)) from the
//!   `DOMException` name, a looser retry once after `OverconstrainedError` (and the other
//!   `should_retry_looser` cases);
//! * constraints per platform and facing mode from `VideoConstraints::for_capture`;
//! * after permission, the rear lens chosen by `lens::rank` (primary, not ultra-wide / IR /
//!   virtual), remembered per facing mode in `localStorage`, switchable by hand;
//! * the `<video>` gets `playsinline`, `muted` and `autoplay` *before* `srcObject` (iOS shows a
//!   black preview otherwise); one stream at a time; tracks stopped on [`Camera::stop`] and on drop;
//! * the stream is released when the page is hidden and re-acquired on `visibilitychange`,
//!   `pageshow` and a track's `ended` / lasting `mute`; restarts are serialized (a restart asked
//!   for while one runs is run once afterwards, never in parallel);
//! * frames for analysis are drawn into one small reused canvas ([`FrameGrabber`]).
//!
//! By concern: [`env`] (user agent, `check()`, framing, visibility), [`permission`] (the
//! Permissions API), `stream` (`getUserMedia`, typed errors, tracks, lenses), `lifecycle`
//! ([`Camera`] and its state), [`frames`] (frame grabbing and JPEGs). The Leptos hooks over them
//! are in [`crate::hooks`].

pub mod env;
pub mod frames;
mod lifecycle;
pub mod permission;
mod stream;

pub use env::{check, in_frame, page_visible, policy_blocked, user_agent};
pub use frames::{blob_pixels, canvas_jpeg, photo_from_file, still_jpeg, FrameGrabber, JpegCanvas};
pub use lifecycle::{prepare_video, Camera, CameraState};
pub use permission::{permission, watch_permission, Permission, PermissionWatch};
pub use stream::{error_from_js, TrackInfo};
