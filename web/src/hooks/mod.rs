//! Leptos hooks over the browser glue, in the style of leptos-use: one per file, they take
//! signals and `NodeRef`s, return a struct of signals (and the few actions the screen needs), and
//! register `on_cleanup`, so that unmounting the component that called them stops everything
//! they started (tracks stopped, listeners removed, loops ended, workers terminated). Call them
//! in a component's body (they need its reactive owner).
//!
//! * [`use_camera`]: a [`Camera`](crate::camera::Camera) on a `<video>`, its state and track;
//! * [`use_permission_watch`]: the camera permission as a signal, watched while asked;
//! * [`use_frame_loop`]: a per-frame callback on a fixed interval from the first time a signal
//!   is `true` until unmount;
//! * [`use_face_feed`]: the face detector's worker (`crate::face::FaceWorker`), its ready and
//!   failed signals and its latest answer;
//! * [`use_upload_queue`]: the capture uploads (progress, retries, the copy kept for a reload),
//!   the screen's current upload as a signal; its loops end on unmount.

mod use_camera;
mod use_face_feed;
mod use_frame_loop;
mod use_permission_watch;
mod use_upload_queue;

pub use use_camera::{use_camera, UseCamera};
pub use use_face_feed::{use_face_feed, FramePixels, UseFaceFeed};
pub use use_frame_loop::{use_frame_loop, Tick, UseFrameLoop};
pub use use_permission_watch::use_permission_watch;
pub use use_upload_queue::{forget_if_stored, use_upload_queue, UploadHandle, UploadQueue};
