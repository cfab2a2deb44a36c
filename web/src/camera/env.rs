//! Environment probes: the browser as `core::capture::ua` sees it, whether a camera can work here
//! at all (before any prompt), the page's framing and visibility.

use js_sys::{Function, Object};
use liveform_core::capture::camera::precheck;
use liveform_core::capture::ua::{UaHints, UserAgent};
use liveform_core::capture::CameraError;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MediaDevices;

use crate::js::{get, get_string};

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
pub(super) fn media_devices() -> Option<MediaDevices> {
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

/// Fails fast where no camera can work (in-app browser, no `mediaDevices`, blocked by the
/// frame's permissions policy), before any prompt.
pub fn check() -> Result<(), CameraError> {
    precheck(&user_agent(), media_devices().is_some(), policy_blocked())
}

/// Whether the page is shown (`document.visibilityState == "visible"`).
pub fn page_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .map(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
        .unwrap_or(true)
}
