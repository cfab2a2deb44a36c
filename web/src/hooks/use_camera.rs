//! `use_camera`: a [`Camera`] bound to a `<video>` `NodeRef`, created when the element is
//! mounted, closed (tracks stopped, page listeners removed) when the owner is cleaned up.

use leptos::html::Video;
use leptos::prelude::*;
use leptos::task::spawn_local;
use liveform_core::capture::Facing;

use crate::camera::{Camera, CameraState, TrackInfo};

/// What [`use_camera`] returns. `Copy`: hand it to as many closures as needed.
#[derive(Clone, Copy)]
pub struct UseCamera {
    /// Every state the camera reports, the latest last (`None` before the first).
    pub state: Signal<Option<CameraState>>,
    /// The running track's settings, from the latest `Live` state (kept while the camera
    /// restarts or is paused).
    pub track: Signal<Option<TrackInfo>>,
    camera: StoredValue<Option<Camera>, LocalStorage>,
    video: NodeRef<Video>,
    facing: Facing,
    state_w: RwSignal<Option<CameraState>>,
    track_w: RwSignal<Option<TrackInfo>>,
}

/// A camera for the `<video>` behind `video`, facing `facing`: created (the element prepared
/// for inline autoplay, page listeners added) as soon as the element is mounted, started by
/// [`UseCamera::start`], closed on cleanup.
pub fn use_camera(video: NodeRef<Video>, facing: Facing) -> UseCamera {
    let state_w = RwSignal::new(None);
    let track_w = RwSignal::new(None);
    let cam = UseCamera {
        state: state_w.into(),
        track: track_w.into(),
        camera: StoredValue::new_local(None),
        video,
        facing,
        state_w,
        track_w,
    };
    video.on_load(move |_| {
        cam.camera();
    });
    on_cleanup(move || {
        if let Some(c) = cam.camera.try_get_value().flatten() {
            c.close();
        }
    });
    cam
}

impl UseCamera {
    /// The camera, created on first use once the `<video>` is mounted.
    fn camera(&self) -> Option<Camera> {
        if let Some(c) = self.camera.try_get_value().flatten() {
            return Some(c);
        }
        let el = self.video.get_untracked()?;
        let (state, track) = (self.state_w, self.track_w);
        let c = Camera::new(el, self.facing, move |s| {
            if let CameraState::Live { track: t, .. } = &s {
                let _ = track.try_set(Some(t.clone()));
            }
            let _ = state.try_set(Some(s));
        });
        // The owner is gone: nothing may keep this camera.
        if self.camera.try_set_value(Some(c.clone())).is_some() {
            c.close();
            return None;
        }
        Some(c)
    }

    /// Starts (or restarts) the stream in the background; the outcome arrives in
    /// [`UseCamera::state`]. `false` (nothing started) while the `<video>` is not mounted.
    pub fn start(&self) -> bool {
        let Some(c) = self.camera() else {
            return false;
        };
        spawn_local(async move {
            let _ = c.start().await;
        });
        true
    }

    /// Switches to the next usable lens in the background (the choice is remembered).
    pub fn switch_lens(&self) {
        if let Some(c) = self.camera.try_get_value().flatten() {
            spawn_local(async move {
                let _ = c.switch_lens().await;
            });
        }
    }

    /// Stops every track now (the camera can be started again).
    pub fn stop(&self) {
        if let Some(c) = self.camera.try_get_value().flatten() {
            c.stop();
        }
    }
}
