//! The upload queue in a real browser (wasm-bindgen-test): a real `XMLHttpRequest` against the
//! test runner's own server, which has no capture API, so the answer is a plain 4xx: the
//! upload must end `Failed` with a catalogue code (never retry a 4xx), drop its kept copy, and
//! never report a capture. A capture kept from before a reload is sent again with its own id.
#![cfg(target_arch = "wasm32")]
// A browser test drives the DOM like a person: the boundary lints (clippy.toml) are for shipped code.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use liveform_capture::upload::sleep;
use liveform_capture::{CaptureConfig, CaptureCtx, CaptureEvent};
use liveform_core::flow::{CaptureSlot, Step};
use liveform_core::upload::UploadState;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn ctx(events: Rc<RefCell<Vec<CaptureEvent>>>) -> (Owner, CaptureCtx) {
    // Mounting (here: nothing) sets up the executor, as in the app.
    let host: web_sys::HtmlElement = wasm_bindgen::JsCast::unchecked_into(
        web_sys::window()
            .unwrap()
            .document()
            .unwrap()
            .create_element("div")
            .unwrap(),
    );
    leptos::mount::mount_to(host, || ()).forget();
    let owner = Owner::new();
    let config = CaptureConfig {
        step: Step::DocumentFront,
        lang: "en".into(),
        token: "test-token".into(),
        allow_file_upload: false,
        flow: None,
    };
    let c = owner.with(|| CaptureCtx::new(config, move |e| events.borrow_mut().push(e)));
    (owner, c)
}

fn jpeg_like() -> web_sys::Blob {
    let bytes: Vec<u8> = [0xff, 0xd8, 0xff, 0xe0]
        .iter()
        .copied()
        .chain(0..200)
        .collect();
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("image/jpeg");
    web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).unwrap()
}

fn storage() -> web_sys::Storage {
    web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap()
}

async fn until_final(state: RwSignal<UploadState>) -> UploadState {
    for _ in 0..100 {
        let s = state.get_untracked();
        if s.is_final() {
            return s;
        }
        sleep(50).await;
    }
    state.get_untracked()
}

#[wasm_bindgen_test]
async fn a_refused_upload_fails_with_a_code_and_is_not_retried() {
    let events = Rc::new(RefCell::new(Vec::new()));
    let (_owner, c) = ctx(events.clone());
    let h = c
        .uploads
        .send(CaptureSlot::DocumentFront, jpeg_like(), "image/jpeg", None);
    assert_eq!(h.capture_id.len(), 22, "base64url of 16 random bytes");
    assert!(
        c.uploads.current().get_untracked().is_some(),
        "the screen sees the handle"
    );
    let end = until_final(h.state).await;
    match end {
        UploadState::Failed { code } => {
            assert!(code.starts_with("LF-"), "{code}")
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(events.borrow().is_empty(), "nothing reported to the flow");
    assert_eq!(
        storage()
            .get_item("liveform.upload.document_front")
            .unwrap(),
        None,
        "the kept copy is dropped once the server has answered for good"
    );
}

#[wasm_bindgen_test]
async fn a_kept_capture_is_sent_again_with_its_id() {
    let events = Rc::new(RefCell::new(Vec::new()));
    let (_owner, c) = ctx(events);
    let kept = r#"{"capture_id":"kept-id-1","content_type":"image/jpeg","data":"/9j/4AAQ"}"#;
    storage().set_item("liveform.upload.selfie", kept).unwrap();
    let h = c
        .uploads
        .resume(CaptureSlot::Selfie)
        .expect("a kept capture is resumed");
    assert_eq!(h.capture_id, "kept-id-1");
    let _ = until_final(h.state).await;
    // Without bytes there is nothing to send again: the entry is dropped.
    storage()
        .set_item(
            "liveform.upload.liveness",
            r#"{"capture_id":"x","content_type":"image/jpeg"}"#,
        )
        .unwrap();
    assert!(c.uploads.resume(CaptureSlot::Liveness).is_none());
    assert_eq!(
        storage().get_item("liveform.upload.liveness").unwrap(),
        None
    );
}

/// The hook's cleanup: once the screens that own the queue are gone, an upload stops before its
/// next request (its copy stays kept for the next visit to the step, nothing is reported).
#[wasm_bindgen_test]
async fn an_unmounted_queue_sends_nothing_more() {
    let events = Rc::new(RefCell::new(Vec::new()));
    let (owner, c) = ctx(events.clone());
    storage()
        .remove_item("liveform.upload.document_back")
        .unwrap();
    let _h = c
        .uploads
        .send(CaptureSlot::DocumentBack, jpeg_like(), "image/jpeg", None);
    // The screens unmount while the capture is being kept (before the first request).
    owner.cleanup();
    sleep(500).await;
    assert!(events.borrow().is_empty(), "nothing reported after unmount");
    assert!(
        storage()
            .get_item("liveform.upload.document_back")
            .unwrap()
            .is_some(),
        "no request was answered (a refused one would have dropped the kept copy); the copy stays for a reload"
    );
    storage()
        .remove_item("liveform.upload.document_back")
        .unwrap();
}
