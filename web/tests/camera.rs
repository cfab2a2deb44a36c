//! The camera engine in real browsers (wasm-bindgen-test). Chromium and Firefox get fake cameras
//! through `web/webdriver.json`; the WebKit runner ignores that file, so scripts/test-browsers.sh runs
//! this target in Chromium and Firefox only (WebKit is covered by the e2e suite `camera`).
#![cfg(target_arch = "wasm32")]

use liveform_core::capture::{CameraError, Facing};
use liveform_web::camera::{self, Camera, CameraState, FrameGrabber};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn video() -> web_sys::HtmlVideoElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let v: web_sys::HtmlVideoElement = doc.create_element("video").unwrap().dyn_into().unwrap();
    doc.body().unwrap().append_child(&v).unwrap();
    v
}

fn tracks(stream: &web_sys::MediaStream) -> Vec<web_sys::MediaStreamTrack> {
    stream
        .get_tracks()
        .iter()
        .map(|t| t.dyn_into().unwrap())
        .collect()
}

async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

#[wasm_bindgen_test]
async fn open_then_stop_releases_the_tracks() {
    let v = video();
    let states = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let s2 = states.clone();
    let cam = Camera::new(v.clone(), Facing::Environment, move |s| {
        s2.borrow_mut().push(s)
    });
    let info = cam.start().await.expect("the fake camera starts");
    assert!(
        info.width > 0 && info.height > 0,
        "track settings: {info:?}"
    );
    for attr in ["playsinline", "muted", "autoplay"] {
        assert!(v.has_attribute(attr), "<video> has {attr}");
    }
    let stream = cam.stream().expect("a live stream");
    let live = tracks(&stream);
    assert_eq!(live.len(), 1, "one video track, no audio");
    assert_eq!(live[0].ready_state(), web_sys::MediaStreamTrackState::Live);
    assert!(v.src_object().is_some(), "the preview shows the stream");
    assert!(matches!(
        states.borrow().last(),
        Some(CameraState::Live { .. })
    ));
    cam.stop();
    for t in &live {
        assert_eq!(
            t.ready_state(),
            web_sys::MediaStreamTrackState::Ended,
            "stop() ends every track"
        );
    }
    assert!(v.src_object().is_none(), "the preview is detached");
    assert!(cam.stream().is_none());
}

#[wasm_bindgen_test]
async fn dropping_the_camera_releases_the_tracks() {
    let v = video();
    let live = {
        let cam = Camera::new(v.clone(), Facing::User, |_| {});
        cam.start().await.expect("the fake camera starts");
        tracks(&cam.stream().unwrap())
        // `cam` dropped here, as when the step's view is cleaned up.
    };
    assert!(live
        .iter()
        .all(|t| t.ready_state() == web_sys::MediaStreamTrackState::Ended));
}

#[wasm_bindgen_test]
async fn twenty_start_stop_cycles_keep_memory_flat() {
    let v = video();
    let cam = Camera::new(v.clone(), Facing::Environment, |_| {});
    let mut grabber = FrameGrabber::new().expect("a 2d canvas");
    let memory = || {
        wasm_bindgen::memory()
            .dyn_into::<js_sys::WebAssembly::Memory>()
            .unwrap()
            .buffer()
            .dyn_into::<js_sys::ArrayBuffer>()
            .unwrap()
            .byte_length()
    };
    let mut cycle = async |cam: &Camera| {
        cam.start().await.expect("starts");
        // Grab a few frames through the one reused canvas (the fake camera's first frame can take
        // over a second on a busy 2-core machine: wait up to 5 s for it).
        for _ in 0..250 {
            if grabber.grab(&v, 320).is_some() {
                break;
            }
            sleep(20).await;
        }
        let (w, h, rgba) = grabber.grab(&v, 320).expect("a frame arrives");
        assert!(w <= 320 && h <= 320 && rgba.len() == (w * h * 4) as usize);
        let ended = tracks(&cam.stream().unwrap());
        cam.stop();
        assert!(ended
            .iter()
            .all(|t| t.ready_state() == web_sys::MediaStreamTrackState::Ended));
    };
    cycle(&cam).await; // warm-up: first allocations
    let before = memory();
    for _ in 0..20 {
        cycle(&cam).await;
    }
    let after = memory();
    web_sys::console::log_1(&format!("wasm memory before {before} after {after} bytes").into());
    assert_eq!(cam.starts(), 21);
    assert!(
        after <= before + 64 * 1024,
        "wasm memory grew from {before} to {after} bytes over 20 start/stop cycles"
    );
}

#[wasm_bindgen_test]
async fn a_lens_that_is_gone_falls_back_to_a_looser_request() {
    // A remembered camera that no longer exists: `deviceId: {exact}` fails with
    // OverconstrainedError (or NotFoundError); the engine retries once with `ideal` and starts.
    web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .set_item(
            "liveform.camera.environment",
            r#"{"device_id":"no-such-camera","label":"gone"}"#,
        )
        .unwrap();
    let cam = Camera::new(video(), Facing::Environment, |_| {});
    let info = cam.start().await.expect("the looser retry starts a camera");
    assert_ne!(info.device_id, "no-such-camera");
    cam.stop();
}

#[wasm_bindgen_test]
fn every_dom_exception_name_maps_to_its_typed_error() {
    let ua = camera::user_agent();
    let cases = [
        ("NotAllowedError", "Permission denied", CameraError::Denied),
        (
            "NotAllowedError",
            "Permission denied by system",
            CameraError::DeniedBySystem,
        ),
        (
            "NotFoundError",
            "Requested device not found",
            CameraError::NotFound,
        ),
        (
            "NotReadableError",
            "Could not start video source",
            CameraError::InUse,
        ),
        ("SecurityError", "insecure", CameraError::Security),
        ("AbortError", "aborted", CameraError::Aborted),
        ("NotSupportedError", "no", CameraError::NoMediaDevices),
    ];
    for (name, message, expected) in cases {
        let e = web_sys::DomException::new_with_message_and_name(message, name).unwrap();
        assert_eq!(
            camera::error_from_js(&e.into(), &ua, false),
            expected,
            "{name}: {message}"
        );
    }
    // OverconstrainedError is its own class (not constructible everywhere): name + constraint.
    let e = js_sys::Object::new();
    js_sys::Reflect::set(&e, &"name".into(), &"OverconstrainedError".into()).unwrap();
    js_sys::Reflect::set(&e, &"constraint".into(), &"width".into()).unwrap();
    assert_eq!(
        camera::error_from_js(&e.into(), &ua, false),
        CameraError::Overconstrained {
            constraint: Some("width".into())
        }
    );
    // Bad constraints reject with a plain TypeError.
    let e: JsValue = js_sys::TypeError::new("bad constraints").into();
    assert_eq!(
        camera::error_from_js(&e, &ua, false),
        CameraError::InvalidConstraints
    );
    // Denied inside a frame whose permissions policy blocks the camera: the integrator's fault.
    let e = web_sys::DomException::new_with_message_and_name("denied", "NotAllowedError").unwrap();
    assert_eq!(
        camera::error_from_js(&e.into(), &ua, true),
        CameraError::BlockedByPolicy
    );
}

#[wasm_bindgen_test]
async fn a_real_rejection_is_typed() {
    // An impossible exact constraint, straight to getUserMedia: the browser's own rejection
    // must come out typed (OverconstrainedError in Chromium and Firefox).
    let md = web_sys::window()
        .unwrap()
        .navigator()
        .media_devices()
        .unwrap();
    let c: web_sys::MediaStreamConstraints =
        js_sys::JSON::parse(r#"{"audio":false,"video":{"width":{"exact":99999}}}"#)
            .unwrap()
            .unchecked_into();
    let err = wasm_bindgen_futures::JsFuture::from(md.get_user_media_with_constraints(&c).unwrap())
        .await
        .expect_err("no camera is 99999 px wide");
    let typed = camera::error_from_js(&err, &camera::user_agent(), false);
    assert!(
        matches!(typed, CameraError::Overconstrained { .. }),
        "got {typed:?}"
    );
}

/// Mounts `app` in a fresh `<div>`; dropping the handle unmounts it (its owner's cleanups run).
fn mount<N: leptos::prelude::IntoView + 'static>(
    app: impl FnOnce() -> N + 'static,
) -> leptos::mount::UnmountHandle<N::State> {
    let doc = web_sys::window().unwrap().document().unwrap();
    let parent: web_sys::HtmlElement = doc.create_element("div").unwrap().dyn_into().unwrap();
    doc.body().unwrap().append_child(&parent).unwrap();
    leptos::mount::mount_to(parent, app)
}

/// Waits up to 5 s for `done`.
async fn until(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..250 {
        if done() {
            return true;
        }
        sleep(20).await;
    }
    done()
}

#[wasm_bindgen_test]
async fn use_camera_reports_its_states_and_unmounting_stops_the_tracks() {
    use leptos::prelude::*;
    use liveform_web::hooks::{use_camera, UseCamera};
    type Out = Option<(UseCamera, NodeRef<leptos::html::Video>)>;
    let out: std::rc::Rc<std::cell::RefCell<Out>> = Default::default();
    let o2 = out.clone();
    let handle = mount(move || {
        let video = NodeRef::<leptos::html::Video>::new();
        *o2.borrow_mut() = Some((use_camera(video, Facing::User), video));
        view! { <video node_ref=video></video> }
    });
    let (cam, video) = out.borrow_mut().take().expect("the hook ran");
    assert!(
        until(|| video.get_untracked().is_some()).await,
        "the <video> is mounted"
    );
    assert!(cam.start(), "the camera starts once the <video> is mounted");
    assert!(
        until(|| matches!(cam.state.get_untracked(), Some(CameraState::Live { .. }))).await,
        "state: {:?}",
        cam.state.get_untracked()
    );
    let v = video.get_untracked().unwrap();
    assert!(v.has_attribute("playsinline"), "the <video> was prepared");
    assert!(cam.track.get_untracked().is_some_and(|t| t.width > 0));
    let stream: web_sys::MediaStream = v.src_object().expect("a stream").dyn_into().unwrap();
    let live = tracks(&stream);
    assert!(!live.is_empty());
    drop(handle);
    assert!(
        live.iter()
            .all(|t| t.ready_state() == web_sys::MediaStreamTrackState::Ended),
        "unmounting stops every track"
    );
    assert!(v.src_object().is_none(), "the preview is detached");
}
