//! The camera lifecycle: one stream bound to one `<video>`, the lens choice after permission,
//! release while the page is hidden and re-acquisition (page shown again, back-forward cache,
//! a track `ended` or muted for a while), restarts serialized.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use liveform_core::capture::camera::precheck;
use liveform_core::capture::lens;
use liveform_core::capture::ua::UserAgent;
use liveform_core::capture::{CameraError, Facing, VideoConstraints};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlVideoElement, MediaStream, MediaStreamTrack};

use super::env::{media_devices, page_visible, policy_blocked, user_agent};
use super::stream::{
    acquire, remember, remembered, stop_stream, track_info, video_inputs, video_track, TrackInfo,
};

/// What a running camera reports to its screen.
#[derive(Debug, Clone, PartialEq)]
pub enum CameraState {
    Starting,
    Live {
        track: TrackInfo,
        /// Another usable lens exists (show the switch button).
        can_switch: bool,
    },
    /// Released while the page is hidden; re-acquired when it is shown again.
    Paused,
    Failed(CameraError),
}

/// Where the camera's lifecycle is (one state instead of the flags `running`, `again`, `closed`
/// and `wanted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    /// Never started, stopped, or the last start failed: page and track events leave it alone (a
    /// camera that failed stays on its problem screen).
    Idle,
    /// A start runs. `again`: another start was asked for meanwhile (run once afterwards, never
    /// in parallel); `was_live`: it restarts a camera that was live, which page and track events
    /// may still ask to restart.
    Starting { again: bool, was_live: bool },
    /// Stopped while a start runs: that start ends `Aborted`, and further starts are refused
    /// until it has.
    Stopping,
    /// The last start succeeded and nobody stopped the camera since: page and track events
    /// release and re-acquire it (the stream is `None` while the page is hidden).
    Live,
}

impl Life {
    /// A start runs (or is being aborted).
    fn running(self) -> bool {
        matches!(self, Life::Starting { .. } | Life::Stopping)
    }

    /// Page and track events may release or re-acquire the camera.
    fn wanted(self) -> bool {
        matches!(self, Life::Live | Life::Starting { was_live: true, .. })
    }
}

/// An event listener to remove later: target, event name, callback.
type Listener = (web_sys::EventTarget, &'static str, Closure<dyn FnMut()>);

struct Inner {
    video: HtmlVideoElement,
    facing: Facing,
    ua: UserAgent,
    stream: Option<MediaStream>,
    /// A specific camera asked for (manual switch), else the ranked best.
    device: Option<String>,
    candidates: Vec<String>,
    life: Life,
    on_state: Rc<dyn Fn(CameraState)>,
    track_listeners: Vec<Listener>,
    doc_listeners: Vec<Listener>,
    /// How many streams this camera has started (tests, diagnostics).
    starts: u32,
}

impl Inner {
    fn release(&mut self) {
        for (t, ev, cb) in self.track_listeners.drain(..) {
            let _ = t.remove_event_listener_with_callback(ev, cb.as_ref().unchecked_ref());
        }
        if let Some(s) = self.stream.take() {
            stop_stream(&s);
        }
        self.video.set_src_object(None);
    }

    fn remove_page_listeners(&mut self) {
        for (t, ev, cb) in self.doc_listeners.drain(..) {
            let _ = t.remove_event_listener_with_callback(ev, cb.as_ref().unchecked_ref());
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.release();
        self.remove_page_listeners();
    }
}

/// One camera bound to one `<video>`. Cloning shares it; the last drop (or [`Camera::stop`])
/// stops every track.
#[derive(Clone)]
pub struct Camera {
    inner: Rc<RefCell<Inner>>,
}

/// Prepares the `<video>` for inline, silent autoplay *before* it gets a stream (iOS Safari
/// otherwise shows a black preview or goes full screen).
pub fn prepare_video(video: &HtmlVideoElement) {
    for attr in ["playsinline", "webkit-playsinline", "muted", "autoplay"] {
        let _ = video.set_attribute(attr, "");
    }
    video.set_muted(true);
    video.set_autoplay(true);
}

impl Camera {
    /// A camera for `video`, not started; `on_state` hears every state change.
    pub fn new(
        video: HtmlVideoElement,
        facing: Facing,
        on_state: impl Fn(CameraState) + 'static,
    ) -> Camera {
        prepare_video(&video);
        let cam = Camera {
            inner: Rc::new(RefCell::new(Inner {
                video,
                facing,
                ua: user_agent(),
                stream: None,
                device: None,
                candidates: Vec::new(),
                life: Life::Idle,
                on_state: Rc::new(on_state),
                track_listeners: Vec::new(),
                doc_listeners: Vec::new(),
                starts: 0,
            })),
        };
        cam.watch_page();
        cam
    }

    fn emit(&self, s: CameraState) {
        let f = self.inner.borrow().on_state.clone();
        f(s);
    }

    /// Starts (or restarts) the stream. Serialized: while a start runs, further calls only ask
    /// for one more run afterwards.
    pub async fn start(&self) -> Result<TrackInfo, CameraError> {
        {
            let mut i = self.inner.borrow_mut();
            i.life = match i.life {
                Life::Starting { was_live, .. } => {
                    i.life = Life::Starting {
                        again: true,
                        was_live,
                    };
                    return Err(CameraError::Aborted);
                }
                Life::Stopping => return Err(CameraError::Aborted),
                Life::Idle => Life::Starting {
                    again: false,
                    was_live: false,
                },
                Life::Live => Life::Starting {
                    again: false,
                    was_live: true,
                },
            };
        }
        let mut result;
        loop {
            result = self.start_once().await;
            let mut i = self.inner.borrow_mut();
            if let Life::Starting {
                again: true,
                was_live,
            } = i.life
            {
                i.life = Life::Starting {
                    again: false,
                    was_live,
                };
                continue;
            }
            i.life = match i.life {
                Life::Starting { .. } if result.is_ok() => Life::Live,
                _ => Life::Idle,
            };
            break;
        }
        match &result {
            Ok(info) => {
                let can_switch = self.inner.borrow().candidates.len() > 1;
                self.emit(CameraState::Live {
                    track: info.clone(),
                    can_switch,
                });
            }
            Err(e) => self.emit(CameraState::Failed(e.clone())),
        }
        result
    }

    async fn start_once(&self) -> Result<TrackInfo, CameraError> {
        self.emit(CameraState::Starting);
        let (facing, ua, device, video) = {
            let mut i = self.inner.borrow_mut();
            i.release();
            (i.facing, i.ua, i.device.clone(), i.video.clone())
        };
        precheck(&ua, media_devices().is_some(), policy_blocked())?;
        let md = media_devices().ok_or(CameraError::NoMediaDevices)?;
        let base = VideoConstraints::for_capture(ua.platform, facing);
        let remembered = remembered(facing);
        let first = match device
            .as_deref()
            .or(remembered.as_ref().map(|r| r.device_id.as_str()))
        {
            Some(id) => base.clone().with_device(id),
            None => base.clone(),
        };
        let mut stream = acquire(&md, &first, &ua).await?;
        // Labels are readable now: rank the lenses and move to the best one if it is not the
        // one the browser picked (typically an ultra-wide or a secondary rear camera).
        let devices = video_inputs(&md).await;
        let ranking = lens::rank(&devices, facing, remembered.as_ref());
        let current = video_track(&stream)
            .map(|t| track_info(&t))
            .unwrap_or_default();
        let wanted = match device {
            Some(d) => Some(d),
            None => ranking.best().map(|c| c.device_id.clone()),
        };
        if let Some(w) = wanted.filter(|w| *w != current.device_id && !current.device_id.is_empty())
        {
            stop_stream(&stream);
            match acquire(&md, &base.clone().with_device(&w), &ua).await {
                Ok(s) => stream = s,
                // The ranked lens would not start: fall back to what worked.
                Err(_) => stream = acquire(&md, &first, &ua).await?,
            }
        }
        let track = video_track(&stream).ok_or(CameraError::NotFound)?;
        let info = track_info(&track);
        remember(facing, &info);
        if self.inner.borrow().life == Life::Stopping {
            stop_stream(&stream);
            return Err(CameraError::Aborted);
        }
        video.set_src_object(Some(&stream));
        // `play()` may reject (AbortError when a new srcObject replaces this one): harmless.
        if let Ok(p) = video.play() {
            let _ = JsFuture::from(p).await;
        }
        let mut i = self.inner.borrow_mut();
        i.candidates = ranking.ids().into_iter().map(str::to_owned).collect();
        i.stream = Some(stream);
        i.starts += 1;
        drop(i);
        self.watch_track(&track);
        Ok(info)
    }

    /// Switches to the next usable lens (the choice is remembered).
    pub async fn switch_lens(&self) -> Result<TrackInfo, CameraError> {
        {
            let mut i = self.inner.borrow_mut();
            let current = i
                .stream
                .as_ref()
                .and_then(video_track)
                .map(|t| track_info(&t).device_id)
                .unwrap_or_default();
            let pos = i.candidates.iter().position(|c| *c == current);
            let next = match pos {
                Some(p) => i
                    .candidates
                    .get((p + 1) % i.candidates.len().max(1))
                    .cloned(),
                None => i.candidates.first().cloned(),
            };
            i.device = next;
        }
        self.start().await
    }

    /// Stops every track and forgets the stream (the `<video>` shows nothing).
    pub fn stop(&self) {
        let mut i = self.inner.borrow_mut();
        i.life = if i.life.running() {
            Life::Stopping
        } else {
            Life::Idle
        };
        i.release();
    }

    /// Stops the camera and removes the page listeners now (the last clone's drop does it too);
    /// call when the step ends.
    pub fn close(&self) {
        self.stop();
        self.inner.borrow_mut().remove_page_listeners();
    }

    /// The live stream, if any.
    pub fn stream(&self) -> Option<MediaStream> {
        self.inner.borrow().stream.clone()
    }

    /// How many streams were started (restarts included).
    pub fn starts(&self) -> u32 {
        self.inner.borrow().starts
    }

    fn restart_soon(weak: &Weak<RefCell<Inner>>) {
        if let Some(inner) = weak.upgrade() {
            if !inner.borrow().life.wanted() {
                return;
            }
            let cam = Camera { inner };
            wasm_bindgen_futures::spawn_local(async move {
                let _ = cam.start().await;
            });
        }
    }

    fn watch_track(&self, track: &MediaStreamTrack) {
        let weak = Rc::downgrade(&self.inner);
        let w1 = weak.clone();
        // `ended`: the system took the camera (call, other app, iOS background).
        let ended = Closure::<dyn FnMut()>::new(move || {
            if page_visible() {
                Camera::restart_soon(&w1);
            }
        });
        // `mute`: frames stopped; restart if they have not come back after a moment.
        let w2 = weak.clone();
        let t2 = track.clone();
        let mute = Closure::<dyn FnMut()>::new(move || {
            let w3 = w2.clone();
            let t3 = t2.clone();
            let check = Closure::once_into_js(move || {
                if t3.muted() && page_visible() {
                    Camera::restart_soon(&w3);
                }
            });
            if let Some(win) = web_sys::window() {
                let _ = win.set_timeout_with_callback_and_timeout_and_arguments_0(
                    check.unchecked_ref(),
                    1500,
                );
            }
        });
        let mut i = self.inner.borrow_mut();
        for (ev, cb) in [("ended", ended), ("mute", mute)] {
            let _ = track.add_event_listener_with_callback(ev, cb.as_ref().unchecked_ref());
            i.track_listeners.push((track.clone().into(), ev, cb));
        }
    }

    fn watch_page(&self) {
        let Some(win) = web_sys::window() else { return };
        let Some(doc) = win.document() else { return };
        let weak = Rc::downgrade(&self.inner);
        let w1 = weak.clone();
        let visibility = Closure::<dyn FnMut()>::new(move || {
            let Some(inner) = w1.upgrade() else { return };
            if page_visible() {
                // Back from another app or tab: the old stream is gone or frozen.
                let i = inner.borrow();
                let restart = i.life == Life::Live && i.stream.is_none();
                drop(i);
                if restart {
                    Camera::restart_soon(&w1);
                }
            } else {
                // Release the camera while nobody sees the page (iOS kills it anyway; other
                // apps may need it). The camera stays wanted, so showing the page restarts.
                let mut i = inner.borrow_mut();
                if i.life.wanted() && i.stream.is_some() {
                    i.release();
                    let f = i.on_state.clone();
                    drop(i);
                    f(CameraState::Paused);
                }
            }
        });
        let w2 = weak;
        let pageshow = Closure::<dyn FnMut()>::new(move || {
            // Restored from the back-forward cache: streams do not survive it.
            if let Some(inner) = w2.upgrade() {
                let dead = inner
                    .borrow()
                    .stream
                    .as_ref()
                    .and_then(video_track)
                    .is_none_or(|t| t.ready_state() == web_sys::MediaStreamTrackState::Ended);
                if dead && inner.borrow().life == Life::Live {
                    Camera::restart_soon(&w2);
                }
            }
        });
        let mut i = self.inner.borrow_mut();
        let doc_target: web_sys::EventTarget = doc.into();
        let win_target: web_sys::EventTarget = win.into();
        let _ = doc_target.add_event_listener_with_callback(
            "visibilitychange",
            visibility.as_ref().unchecked_ref(),
        );
        let _ = win_target
            .add_event_listener_with_callback("pageshow", pageshow.as_ref().unchecked_ref());
        i.doc_listeners
            .push((doc_target, "visibilitychange", visibility));
        i.doc_listeners.push((win_target, "pageshow", pageshow));
    }
}
