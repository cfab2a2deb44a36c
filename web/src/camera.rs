//! The camera engine: the only place that calls `getUserMedia`.
//!
//! What it guarantees (see `kyc-capture-lessons.md` §3 and `core::capture` for the pure rules):
//! * typed failures ([`CameraError`]) from the `DOMException` name, a looser retry once after
//!   `OverconstrainedError` (and the other [`should_retry_looser`] cases);
//! * constraints per platform and facing mode from [`VideoConstraints::for_capture`];
//! * after permission, the rear lens chosen by [`lens::rank`] (primary, not ultra-wide / IR /
//!   virtual), remembered per facing mode in `localStorage`, switchable by hand;
//! * the `<video>` gets `playsinline`, `muted` and `autoplay` *before* `srcObject` (iOS shows a
//!   black preview otherwise); one stream at a time; tracks stopped on [`Camera::stop`] and on drop;
//! * the stream is released when the page is hidden and re-acquired on `visibilitychange`,
//!   `pageshow` and a track's `ended` / lasting `mute`; restarts are serialized (a restart asked
//!   for while one runs is run once afterwards, never in parallel);
//! * frames for analysis are drawn into one small reused canvas ([`FrameGrabber`]).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Object, Promise, Reflect};
use liveform_core::capture::camera::{precheck, should_retry_looser, FailureContext};
use liveform_core::capture::lens::{self, CameraDevice, Remembered};
use liveform_core::capture::ua::{UaHints, UserAgent};
use liveform_core::capture::{CameraError, Facing, VideoConstraints};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaDevices, MediaStream,
    MediaStreamTrack,
};

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_string(target: &JsValue, key: &str) -> Option<String> {
    get(target, key).as_string()
}

/// The browser as `core::capture::ua` sees it (user agent plus the hints that unmask iPadOS and
/// Android desktop mode).
pub fn user_agent() -> UserAgent {
    let Some(w) = web_sys::window() else {
        return UserAgent::parse("");
    };
    let nav = w.navigator();
    let ua = nav.user_agent().unwrap_or_default();
    let platform = get_string(&get(&nav, "userAgentData"), "platform");
    let touch = get(&nav, "maxTouchPoints").as_f64().map(|n| n as u32);
    UserAgent::parse_with(
        &ua,
        UaHints {
            platform: platform.as_deref(),
            max_touch_points: touch,
        },
    )
}

/// `navigator.mediaDevices`, absent in insecure contexts and in some old WebViews.
fn media_devices() -> Option<MediaDevices> {
    let nav = web_sys::window()?.navigator();
    let md = get(&nav, "mediaDevices");
    (md.is_object() && get(&md, "getUserMedia").is_function()).then(|| md.unchecked_into())
}

/// Whether the page's permissions policy forbids the camera (an iframe without
/// `allow="camera"`): `document.permissionsPolicy` / `document.featurePolicy` where the browser
/// has them (Chromium); `false` where it cannot tell (then the `NotAllowedError` decides).
pub fn policy_blocked() -> bool {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    for api in ["permissionsPolicy", "featurePolicy"] {
        let p = get(&doc, api);
        let f = get(&p, "allowsFeature");
        if let Some(f) = f.dyn_ref::<Function>() {
            if let Ok(v) = f.call1(&p, &JsValue::from_str("camera")) {
                return v.as_bool() == Some(false);
            }
        }
    }
    false
}

/// Whether the page runs inside a frame.
pub fn in_frame() -> bool {
    web_sys::window()
        .map(|w| {
            let top = w.top().ok().flatten();
            top.is_none_or(|t| !Object::is(&t, &w))
        })
        .unwrap_or(false)
}

/// The camera permission as the Permissions API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Granted,
    Denied,
    Prompt,
    /// No Permissions API, or it does not know `camera` (older Firefox, Safari < 16).
    Unknown,
}

fn permission_of(status: &JsValue) -> Permission {
    match get_string(status, "state").as_deref() {
        Some("granted") => Permission::Granted,
        Some("denied") => Permission::Denied,
        Some("prompt") => Permission::Prompt,
        _ => Permission::Unknown,
    }
}

async fn permission_status() -> Option<JsValue> {
    let nav = web_sys::window()?.navigator();
    let perms = get(&nav, "permissions");
    let query = get(&perms, "query");
    let query = query.dyn_ref::<Function>()?;
    let desc = Object::new();
    Reflect::set(&desc, &"name".into(), &"camera".into()).ok()?;
    let promise = query
        .call1(&perms, &desc)
        .ok()?
        .dyn_into::<Promise>()
        .ok()?;
    JsFuture::from(promise).await.ok()
}

/// The current camera permission (never prompts).
pub async fn permission() -> Permission {
    match permission_status().await {
        Some(s) => permission_of(&s),
        None => Permission::Unknown,
    }
}

/// Calls `on_change` whenever the camera permission changes (e.g. the person allowed the camera
/// in the site settings while the recovery screen was open). Dropping the handle stops watching.
pub struct PermissionWatch {
    status: Option<JsValue>,
    _cb: Option<Closure<dyn FnMut()>>,
}

impl Drop for PermissionWatch {
    fn drop(&mut self) {
        if let Some(s) = &self.status {
            let _ = Reflect::set(s, &"onchange".into(), &JsValue::NULL);
        }
    }
}

pub async fn watch_permission(on_change: impl Fn(Permission) + 'static) -> PermissionWatch {
    let Some(status) = permission_status().await else {
        return PermissionWatch {
            status: None,
            _cb: None,
        };
    };
    let s2 = status.clone();
    let cb = Closure::<dyn FnMut()>::new(move || on_change(permission_of(&s2)));
    let _ = Reflect::set(&status, &"onchange".into(), cb.as_ref());
    PermissionWatch {
        status: Some(status),
        _cb: Some(cb),
    }
}

/// The typed error for a rejected `getUserMedia` (a `DOMException`, or a `TypeError` for bad
/// constraints), in context (policy, in-app browser).
pub fn error_from_js(err: &JsValue, ua: &UserAgent, policy_blocked: bool) -> CameraError {
    let name = get_string(err, "name").unwrap_or_default();
    let message = get_string(err, "message").unwrap_or_default();
    let constraint = get_string(err, "constraint");
    CameraError::from_dom(
        &name,
        &FailureContext {
            message: &message,
            constraint: constraint.as_deref(),
            policy_blocked,
            in_app: ua.in_app,
        },
    )
}

/// One `getUserMedia` call with exactly these constraints.
async fn get_user_media(
    md: &MediaDevices,
    c: &VideoConstraints,
    ua: &UserAgent,
) -> Result<MediaStream, CameraError> {
    let json = serde_json::to_string(&c.clone().stream()).map_err(|_| {
        CameraError::InvalidConstraints // cannot happen: plain data
    })?;
    let constraints = js_sys::JSON::parse(&json).map_err(|_| CameraError::InvalidConstraints)?;
    let promise = md
        .get_user_media_with_constraints(constraints.unchecked_ref())
        .map_err(|e| error_from_js(&e, ua, policy_blocked()))?;
    match JsFuture::from(promise).await {
        Ok(s) => s
            .dyn_into::<MediaStream>()
            .map_err(|_| CameraError::Unknown {
                name: "NotAStream".into(),
            }),
        Err(e) => Err(error_from_js(&e, ua, policy_blocked())),
    }
}

/// `getUserMedia` with the one looser retry.
async fn acquire(
    md: &MediaDevices,
    c: &VideoConstraints,
    ua: &UserAgent,
) -> Result<MediaStream, CameraError> {
    match get_user_media(md, c, ua).await {
        Err(e) if should_retry_looser(&e) && !c.is_loosest() => {
            get_user_media(md, &c.looser(), ua).await
        }
        r => r,
    }
}

fn video_track(stream: &MediaStream) -> Option<MediaStreamTrack> {
    stream
        .get_video_tracks()
        .iter()
        .next()
        .and_then(|t| t.dyn_into().ok())
}

fn stop_stream(stream: &MediaStream) {
    for t in stream.get_tracks().iter() {
        if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
            t.stop();
        }
    }
}

/// The settings of the running track (`deviceId`, `width`, `height`, `frameRate`, `label`) —
/// also recorded as anti-spoofing signals by the capture steps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackInfo {
    pub device_id: String,
    pub label: String,
    pub width: u32,
    pub height: u32,
    pub frame_rate: f64,
}

fn track_info(track: &MediaStreamTrack) -> TrackInfo {
    let settings = get(track, "getSettings")
        .dyn_ref::<Function>()
        .and_then(|f| f.call0(track).ok())
        .unwrap_or(JsValue::UNDEFINED);
    let num = |k| get(&settings, k).as_f64().unwrap_or(0.0);
    TrackInfo {
        device_id: get_string(&settings, "deviceId").unwrap_or_default(),
        label: track.label(),
        width: num("width") as u32,
        height: num("height") as u32,
        frame_rate: num("frameRate"),
    }
}

/// The video inputs, with facing mode and focus capabilities where the browser reports them
/// (`getCapabilities`, Chromium).
async fn video_inputs(md: &MediaDevices) -> Vec<CameraDevice> {
    let Ok(promise) = md.enumerate_devices() else {
        return Vec::new();
    };
    let Ok(list) = JsFuture::from(promise).await else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for d in Array::from(&list).iter() {
        if get_string(&d, "kind").as_deref() != Some("videoinput") {
            continue;
        }
        let caps = get(&d, "getCapabilities")
            .dyn_ref::<Function>()
            .and_then(|f| f.call0(&d).ok())
            .unwrap_or(JsValue::UNDEFINED);
        let modes = get(&caps, "facingMode");
        let facing = if Array::is_array(&modes) {
            Array::from(&modes)
                .iter()
                .find_map(|f| f.as_string().as_deref().and_then(Facing::parse))
        } else {
            None
        };
        let focus = get(&caps, "focusMode");
        let focus_modes = Array::is_array(&focus).then(|| {
            Array::from(&focus)
                .iter()
                .filter_map(|m| m.as_string())
                .collect()
        });
        out.push(CameraDevice {
            device_id: get_string(&d, "deviceId").unwrap_or_default(),
            label: get_string(&d, "label").unwrap_or_default(),
            facing,
            focus_modes,
            torch: get(&caps, "torch").as_bool(),
        });
    }
    out
}

fn remembered_key(facing: Facing) -> String {
    format!("{}{}", crate::keys::CAMERA_KEY_PREFIX, facing.as_str())
}

fn remembered(facing: Facing) -> Option<Remembered> {
    let raw = crate::storage::local_get(&remembered_key(facing))?;
    serde_json::from_str(&raw).ok()
}

fn remember(facing: Facing, info: &TrackInfo) {
    if info.device_id.is_empty() {
        return;
    }
    let r = Remembered {
        device_id: info.device_id.clone(),
        label: info.label.clone(),
    };
    if let Ok(s) = serde_json::to_string(&r) {
        crate::storage::local_set(&remembered_key(facing), &s);
    }
}

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
    running: bool,
    again: bool,
    closed: bool,
    /// The last start succeeded and nobody stopped the camera since: only then do page and
    /// track events release or re-acquire it (a camera that failed stays on its problem screen).
    wanted: bool,
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

/// Fails fast where no camera can work (in-app browser, no `mediaDevices`, blocked by the
/// frame's permissions policy), before any prompt.
pub fn check() -> Result<(), CameraError> {
    precheck(&user_agent(), media_devices().is_some(), policy_blocked())
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
                running: false,
                again: false,
                closed: false,
                wanted: false,
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
            if i.running {
                i.again = true;
                return Err(CameraError::Aborted);
            }
            i.running = true;
            i.closed = false;
        }
        let mut result;
        loop {
            result = self.start_once().await;
            let mut i = self.inner.borrow_mut();
            if i.again && !i.closed {
                i.again = false;
                continue;
            }
            i.running = false;
            i.wanted = result.is_ok() && !i.closed;
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
        if self.inner.borrow().closed {
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
        i.closed = true;
        i.again = false;
        i.wanted = false;
        i.release();
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
            if inner.borrow().closed || !inner.borrow().wanted {
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
                let restart = i.wanted && i.stream.is_none() && !i.running;
                drop(i);
                if restart {
                    Camera::restart_soon(&w1);
                }
            } else {
                // Release the camera while nobody sees the page (iOS kills it anyway; other
                // apps may need it). `wanted` stays set, so showing the page restarts.
                let mut i = inner.borrow_mut();
                if i.wanted && i.stream.is_some() {
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
                if dead && inner.borrow().wanted && !inner.borrow().running {
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

impl Drop for Inner {
    fn drop(&mut self) {
        self.release();
        for (t, ev, cb) in self.doc_listeners.drain(..) {
            let _ = t.remove_event_listener_with_callback(ev, cb.as_ref().unchecked_ref());
        }
    }
}

/// Removes the page listeners now (the last clone's drop does it too); call when the step ends.
impl Camera {
    pub fn close(&self) {
        self.stop();
        let mut i = self.inner.borrow_mut();
        for (t, ev, cb) in i.doc_listeners.drain(..) {
            let _ = t.remove_event_listener_with_callback(ev, cb.as_ref().unchecked_ref());
        }
    }
}

/// Whether the page is shown (`document.visibilityState == "visible"`).
pub fn page_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .map(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
        .unwrap_or(true)
}

/// Draws video frames, downscaled, into one reused canvas and copies the RGBA pixels into one
/// reused buffer: memory stays flat however many frames are analysed.
pub struct FrameGrabber {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    rgba: Vec<u8>,
}

impl FrameGrabber {
    pub fn new() -> Option<FrameGrabber> {
        let doc = web_sys::window()?.document()?;
        let canvas: HtmlCanvasElement = doc.create_element("canvas").ok()?.dyn_into().ok()?;
        let opts = Object::new();
        let _ = Reflect::set(&opts, &"willReadFrequently".into(), &JsValue::TRUE);
        let ctx = canvas
            .get_context_with_context_options("2d", &opts)
            .ok()??
            .dyn_into()
            .ok()?;
        Some(FrameGrabber {
            canvas,
            ctx,
            rgba: Vec::new(),
        })
    }

    /// The current frame scaled to fit `max_long_edge`: `(width, height, rgba)`, or `None`
    /// while the video has no frame yet.
    pub fn grab(
        &mut self,
        video: &HtmlVideoElement,
        max_long_edge: u32,
    ) -> Option<(u32, u32, &[u8])> {
        let (vw, vh) = (video.video_width(), video.video_height());
        if vw == 0 || vh == 0 {
            return None;
        }
        let scale = (max_long_edge as f64 / vw.max(vh) as f64).min(1.0);
        let w = ((vw as f64 * scale).round() as u32).max(1);
        let h = ((vh as f64 * scale).round() as u32).max(1);
        if self.canvas.width() != w || self.canvas.height() != h {
            self.canvas.set_width(w);
            self.canvas.set_height(h);
        }
        self.ctx
            .draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, w as f64, h as f64)
            .ok()?;
        let data = self.ctx.get_image_data(0.0, 0.0, w as f64, h as f64).ok()?;
        let pixels: js_sys::Uint8ClampedArray = get(&data, "data").dyn_into().ok()?;
        let len = pixels.length() as usize;
        // Room for any frame within `max_long_edge` at once: a camera whose size changes (a
        // first frame at another resolution, a rotation) never makes the buffer grow again.
        let room = (max_long_edge as usize).pow(2) * 4;
        if self.rgba.capacity() < room.max(len) {
            self.rgba.reserve_exact(room.max(len) - self.rgba.len());
        }
        self.rgba.resize(len, 0);
        pixels.copy_to(&mut self.rgba);
        Some((w, h, &self.rgba))
    }
}

/// Takes the current video frame at full resolution (downscaled so that its long edge is at most
/// `max_long_edge`) as a JPEG `Blob`. `canvas.toBlob` encodes off the main thread in the engines
/// that can.
pub async fn still_jpeg(
    video: &HtmlVideoElement,
    max_long_edge: u32,
    quality: f64,
) -> Option<web_sys::Blob> {
    let (vw, vh) = (video.video_width(), video.video_height());
    if vw == 0 || vh == 0 {
        return None;
    }
    let scale = (f64::from(max_long_edge) / f64::from(vw.max(vh))).min(1.0);
    let w = ((f64::from(vw) * scale).round() as u32).max(1);
    let h = ((f64::from(vh) * scale).round() as u32).max(1);
    let doc = web_sys::window()?.document()?;
    let canvas: HtmlCanvasElement = doc.create_element("canvas").ok()?.dyn_into().ok()?;
    canvas.set_width(w);
    canvas.set_height(h);
    let ctx: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    ctx.set_image_smoothing_enabled(true);
    ctx.draw_image_with_html_video_element_and_dw_and_dh(
        video,
        0.0,
        0.0,
        f64::from(w),
        f64::from(h),
    )
    .ok()?;
    canvas_jpeg(&canvas, quality).await
}

/// Encodes RGBA frames (`getImageData` layout) as JPEG through one reused canvas: the liveness
/// evidence, encoded from the very pixels the face detector analysed.
pub struct JpegCanvas {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
}

impl JpegCanvas {
    pub fn new() -> Option<JpegCanvas> {
        let doc = web_sys::window()?.document()?;
        let canvas: HtmlCanvasElement = doc.create_element("canvas").ok()?.dyn_into().ok()?;
        let ctx = canvas.get_context("2d").ok()??.dyn_into().ok()?;
        Some(JpegCanvas { canvas, ctx })
    }

    /// Starts encoding a `width × height` frame. The canvas is free again when this returns
    /// (`toBlob` copies its bitmap when called), so several encodings may be under way at once;
    /// `None` when the pixels do not fit the size or the canvas refuses them.
    pub fn encode(
        &self,
        width: u32,
        height: u32,
        rgba: &[u8],
        quality: f64,
    ) -> Option<impl std::future::Future<Output = Option<web_sys::Blob>>> {
        if width == 0 || height == 0 || rgba.len() != width as usize * height as usize * 4 {
            return None;
        }
        if self.canvas.width() != width || self.canvas.height() != height {
            self.canvas.set_width(width);
            self.canvas.set_height(height);
        }
        let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
            wasm_bindgen::Clamped(rgba),
            width,
            height,
        )
        .ok()?;
        self.ctx.put_image_data(&data, 0.0, 0.0).ok()?;
        let promise = to_blob(&self.canvas, quality)?;
        Some(async move { JsFuture::from(promise).await.ok()?.dyn_into().ok() })
    }
}

/// `canvas.toBlob(…, "image/jpeg", quality)` started now: its promise.
fn to_blob(canvas: &HtmlCanvasElement, quality: f64) -> Option<Promise> {
    let mut cb = None;
    let promise = Promise::new(&mut |resolve, _reject| {
        cb = Some(resolve);
    });
    let resolve = cb?;
    let done = Closure::once_into_js(move |blob: JsValue| {
        let _ = resolve.call1(&JsValue::NULL, &blob);
    });
    canvas
        .to_blob_with_type_and_encoder_options(done.unchecked_ref(), "image/jpeg", &quality.into())
        .ok()?;
    Some(promise)
}

/// `canvas.toBlob(…, "image/jpeg", quality)` as a future.
pub async fn canvas_jpeg(canvas: &HtmlCanvasElement, quality: f64) -> Option<web_sys::Blob> {
    let promise = to_blob(canvas, quality)?;
    JsFuture::from(promise).await.ok()?.dyn_into().ok()
}

/// A photo chosen from the device (file picker), upright by its EXIF orientation
/// (`createImageBitmap` with `imageOrientation: "from-image"`) and downscaled to at most
/// `max_long_edge`, as a JPEG. `None` when the browser cannot decode the file as an image.
pub async fn photo_from_file(
    file: &web_sys::File,
    max_long_edge: u32,
    quality: f64,
) -> Option<web_sys::Blob> {
    let window = web_sys::window()?;
    let opts = Object::new();
    let _ = Reflect::set(&opts, &"imageOrientation".into(), &"from-image".into());
    let create = get(&window, "createImageBitmap")
        .dyn_into::<Function>()
        .ok()?;
    let promise: Promise = create.call2(&window, file, &opts).ok()?.dyn_into().ok()?;
    let bitmap = JsFuture::from(promise).await.ok()?;
    let bw = get(&bitmap, "width").as_f64()?;
    let bh = get(&bitmap, "height").as_f64()?;
    if bw < 1.0 || bh < 1.0 {
        return None;
    }
    let scale = (f64::from(max_long_edge) / bw.max(bh)).min(1.0);
    let (w, h) = ((bw * scale).round().max(1.0), (bh * scale).round().max(1.0));
    let canvas: HtmlCanvasElement = window
        .document()?
        .create_element("canvas")
        .ok()?
        .dyn_into()
        .ok()?;
    canvas.set_width(w as u32);
    canvas.set_height(h as u32);
    let ctx: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    let draw = get(&ctx, "drawImage").dyn_into::<Function>().ok()?;
    let args = Array::new();
    for v in [bitmap.clone(), 0.into(), 0.into(), w.into(), h.into()] {
        args.push(&v);
    }
    draw.apply(&ctx, &args).ok()?;
    if let Ok(close) = get(&bitmap, "close").dyn_into::<Function>() {
        let _ = close.call0(&bitmap);
    }
    canvas_jpeg(&canvas, quality).await
}
