//! Clocks, timers and randomness (one copy each; they were in three modules).

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Milliseconds since the page started (`performance.now()`), 0 where it is missing.
pub fn perf_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// [`perf_now`] in whole milliseconds.
pub fn now_ms() -> u64 {
    perf_now() as u64
}

/// Wall-clock milliseconds since the epoch (`Date.now()`).
pub fn date_now() -> f64 {
    js_sys::Date::now()
}

/// Waits `ms` milliseconds (`setTimeout`).
pub async fn sleep(ms: u32) {
    let p = Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                ms.min(i32::MAX as u32) as i32,
            );
        }
    });
    let _ = JsFuture::from(p).await;
}

/// `N` random bytes from `crypto.getRandomValues`, `None` without it.
pub fn random_bytes<const N: usize>() -> Option<[u8; N]> {
    let mut b = [0u8; N];
    web_sys::window()?
        .crypto()
        .ok()?
        .get_random_values_with_u8_array(&mut b)
        .ok()?;
    Some(b)
}

/// Waits until the page has painted once more (the next animation frame, then a task of its
/// own), or `max_ms` at most (a tab in the background paints nothing): the first screen starts
/// loading the app module only after its welcome is on screen, so the two never compete.
pub async fn after_paint(max_ms: u32) {
    let p = Promise::new(&mut |resolve, _| {
        let Some(w) = web_sys::window() else {
            let _ = resolve.call0(&JsValue::NULL);
            return;
        };
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
            &resolve,
            max_ms.min(i32::MAX as u32) as i32,
        );
        let w2 = w.clone();
        let then = Closure::once_into_js(move || {
            let _ = w2.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        });
        let _ = w.request_animation_frame(then.unchecked_ref());
    });
    let _ = JsFuture::from(p).await;
}
