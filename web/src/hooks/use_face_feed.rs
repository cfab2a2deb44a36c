//! `use_face_feed`: the face detector's worker ([`FaceWorker`]) started the first time a signal
//! is `true`, fed one preview frame at a time, its newest answer kept until read; terminated on
//! cleanup.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use liveform_core::face::FaceFrame;

use crate::camera::FrameGrabber;
use crate::face::FaceWorker;
use crate::HtmlVideoElement;

/// The RGBA pixels of a frame the detector analysed (`width × height × 4` bytes).
pub struct FramePixels {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// An analysed frame: the detector's answer and, when the feed keeps them, its pixels.
type Analysed = (FaceFrame, Option<FramePixels>);

struct Feed {
    worker: Option<FaceWorker>,
    latest: Option<Analysed>,
}

/// What [`use_face_feed`] returns. `Copy`.
#[derive(Clone, Copy)]
pub struct UseFaceFeed {
    /// The detector is built and takes frames.
    pub ready: Signal<bool>,
    /// Detection cannot run here (old browser without wasm SIMD, blocked download, crashed
    /// worker).
    pub failed: Signal<bool>,
    /// The last detection time in the worker (ms), for diagnostics.
    pub detect_ms: Signal<f64>,
    feed: StoredValue<Rc<RefCell<Feed>>, LocalStorage>,
}

/// The face detector, started the first time `start` is `true`. With `keep_pixels`, every
/// answer comes with a copy of the pixels the detector analysed (the liveness evidence is encoded
/// from the very frames the attempt judged).
pub fn use_face_feed(start: Signal<bool>, keep_pixels: bool) -> UseFaceFeed {
    let ready = RwSignal::new(false);
    let failed = RwSignal::new(false);
    let detect_ms = RwSignal::new(0.0);
    let shared = Rc::new(RefCell::new(Feed {
        worker: None,
        latest: None,
    }));
    let feed = StoredValue::new_local(shared.clone());
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) {
            return true;
        }
        if !start.get() {
            return false;
        }
        let weak = Rc::downgrade(&shared);
        let spawned = FaceWorker::spawn_with_ready(
            move || {
                let _ = ready.try_set(true);
            },
            move |r, ms, analysed| match r {
                Ok(frame) => {
                    let _ = detect_ms.try_set(ms);
                    let Some(shared) = weak.upgrade() else { return };
                    let mut s = shared.borrow_mut();
                    // The worker reuses its buffer for the next frame: copy the pixels now (into
                    // the unread previous frame's buffer, if any).
                    let pixels = analysed.filter(|_| keep_pixels).map(|a| {
                        let mut rgba = s
                            .latest
                            .take()
                            .and_then(|(_, p)| p)
                            .map(|p| p.rgba)
                            .unwrap_or_default();
                        a.copy_into(&mut rgba);
                        FramePixels {
                            width: a.width,
                            height: a.height,
                            rgba,
                        }
                    });
                    s.latest = Some((frame, pixels));
                }
                Err(_) => {
                    let _ = ready.try_set(false);
                    let _ = failed.try_set(true);
                }
            },
        );
        match spawned {
            Ok(w) => shared.borrow_mut().worker = Some(w),
            Err(_) => failed.set(true),
        }
        true
    });
    on_cleanup(move || terminate(feed));
    UseFaceFeed {
        ready: ready.into(),
        failed: failed.into(),
        detect_ms: detect_ms.into(),
        feed,
    }
}

impl UseFaceFeed {
    /// Sends the current preview frame, grabbed at the long edge `edge(video width, video
    /// height)`, when the worker is ready and idle.
    pub fn feed(
        &self,
        grabber: &mut FrameGrabber,
        video: &HtmlVideoElement,
        edge: impl Fn(u32, u32) -> u32,
    ) {
        let Some(s) = self.feed.try_get_value() else {
            return;
        };
        let s = s.borrow();
        let Some(worker) = s.worker.as_ref() else {
            return;
        };
        if !worker.is_ready() || worker.busy() {
            return;
        }
        let edge = edge(video.video_width(), video.video_height());
        if let Some((fw, fh, rgba)) = grabber.grab(video, edge) {
            worker.send(rgba, fw, fh);
        }
    }

    /// The newest analysed frame, once.
    pub fn take(&self) -> Option<FaceFrame> {
        self.take_with_pixels().map(|(f, _)| f)
    }

    /// The newest analysed frame with its pixels (when the feed keeps them), once.
    pub fn take_with_pixels(&self) -> Option<(FaceFrame, Option<FramePixels>)> {
        self.feed
            .try_get_value()
            .and_then(|s| s.borrow_mut().latest.take())
    }

    /// Detection could not start or stopped for good (untracked: for loops).
    pub fn has_failed(&self) -> bool {
        self.failed.try_get_untracked().unwrap_or(false)
    }

    /// Terminates the worker now (cleanup does it too).
    pub fn stop(&self) {
        terminate(self.feed);
    }
}

/// Terminates the feed's worker, if it still runs.
fn terminate(feed: StoredValue<Rc<RefCell<Feed>>, LocalStorage>) {
    if let Some(s) = feed.try_get_value() {
        let w = s.borrow_mut().worker.take();
        if let Some(w) = w {
            w.terminate();
        }
    }
}
