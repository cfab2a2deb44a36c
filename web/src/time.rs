//! Clocks, timers and randomness (one copy each; they were in three modules).

use js_sys::Promise;
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
