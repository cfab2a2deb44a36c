//! Streams: one `getUserMedia` call (with the looser retry) and its typed errors, the running
//! track's settings, the video inputs, and the lens remembered per facing mode.

use js_sys::{Array, Function};
use liveform_core::capture::camera::{should_retry_looser, FailureContext};
use liveform_core::capture::lens::{CameraDevice, Remembered};
use liveform_core::capture::ua::UserAgent;
use liveform_core::capture::{CameraError, Facing, VideoConstraints};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaDevices, MediaStream, MediaStreamTrack};

use super::env::policy_blocked;
use crate::js::{get, get_string};

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
pub(super) async fn acquire(
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

pub(super) fn video_track(stream: &MediaStream) -> Option<MediaStreamTrack> {
    stream
        .get_video_tracks()
        .iter()
        .next()
        .and_then(|t| t.dyn_into().ok())
}

pub(super) fn stop_stream(stream: &MediaStream) {
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

pub(super) fn track_info(track: &MediaStreamTrack) -> TrackInfo {
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
pub(super) async fn video_inputs(md: &MediaDevices) -> Vec<CameraDevice> {
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

pub(super) fn remembered(facing: Facing) -> Option<Remembered> {
    let raw = crate::storage::local_get(&remembered_key(facing))?;
    serde_json::from_str(&raw).ok()
}

pub(super) fn remember(facing: Facing, info: &TrackInfo) {
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
