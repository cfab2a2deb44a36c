//! The hooks that need no camera (wasm-bindgen-test, all three engines): the frame loop and the
//! face feed. Apart from web/tests/camera.rs because a page that ran the frame loop's test made
//! later fake-camera starts in the same page hang now and then (Chromium), though the loop had
//! ended: each test binary gets a page of its own.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

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
async fn use_frame_loop_starts_when_asked_and_ends_on_unmount() {
    use leptos::prelude::*;
    use liveform_web::hooks::{use_frame_loop, Tick};
    use std::cell::Cell;
    use std::rc::Rc;
    let frames = Rc::new(Cell::new(0u32));
    let start = RwSignal::new(false);
    let f2 = frames.clone();
    let handle = mount(move || {
        use_frame_loop(start.into(), 10, move || {
            Some(move || {
                f2.set(f2.get() + 1);
                Tick::Next
            })
        });
    });
    sleep(100).await;
    assert_eq!(frames.get(), 0, "no frame before the signal");
    start.set(true);
    assert!(until(|| frames.get() >= 3).await, "frames run once started");
    drop(handle);
    sleep(30).await;
    let after = frames.get();
    sleep(100).await;
    assert_eq!(frames.get(), after, "no frame after unmounting");
}

#[wasm_bindgen_test]
async fn use_face_feed_reports_a_worker_that_cannot_load() {
    use leptos::prelude::*;
    use liveform_web::hooks::{use_face_feed, UseFaceFeed};
    // The test server has no face worker script: its `error` event is the failure.
    let out: std::rc::Rc<std::cell::Cell<Option<UseFaceFeed>>> = Default::default();
    let o2 = out.clone();
    let handle = mount(move || {
        o2.set(Some(use_face_feed(Signal::stored(true), false)));
    });
    let feed = out.take().expect("the hook ran");
    assert!(until(|| feed.has_failed()).await, "the failure is reported");
    assert!(!feed.ready.get_untracked());
    assert!(feed.take().is_none());
    drop(handle);
    assert!(feed.take().is_none(), "nothing is kept after unmounting");
}
