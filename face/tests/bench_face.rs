//! Benchmark (issue 7), not a timed test: the face detector compiled to wasm, per frame, in
//! headless Chromium, on the selfie and group images and a far face (two model runs: the worst
//! case since issue 19; `all` is over all four frames). Prints `BENCH face …` lines; the budget (median ≤ 15 ms) is checked by
//! `scripts/bench.sh`. `#[ignore]`d: run it with `--include-ignored --nocapture`, e.g.
//! `CHROMEDRIVER=/usr/bin/chromedriver CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  cargo test --profile wasm-release --target wasm32-unknown-unknown -p liveform-face --test bench_face -- --include-ignored --nocapture`.
//!
//! The detector runs on the page's thread here (in the product it runs in a Web Worker: the
//! same wasm code, the same speed).
#![cfg(target_arch = "wasm32")]

use liveform_face::Detector;
use wasm_bindgen_test::*;

mod common;
use common::decode;
mod scene;
use scene::{downscale, far_scene, Backdrop};

wasm_bindgen_test_configure!(run_in_browser);

const ITERATIONS: usize = 200;
const WARM_UP: usize = 20;

const FRAMES: [(&str, &[u8]); 3] = [
    ("selfie_640x480", include_bytes!("media/selfie_640x480.png")),
    ("selfie_320x240", include_bytes!("media/selfie_320x240.png")),
    ("group_640x436", include_bytes!("media/group_640.png")),
];

fn now() -> f64 {
    web_sys::window()
        .expect("window")
        .performance()
        .expect("performance")
        .now()
}

/// Lets the page breathe (a macrotask): a long synchronous run starves the test runner's
/// WebDriver polls and Chromium gives up on the renderer after 30 s.
async fn yield_now() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window()
            .expect("window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

fn percentile(sorted: &[f64], p: usize) -> f64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

#[wasm_bindgen_test]
#[ignore = "benchmark: run by scripts/bench.sh (Chromium, --include-ignored --nocapture)"]
async fn bench_face_detection() {
    let t = now();
    let mut detector = Detector::new().expect("model loads");
    let init_ms = now() - t;
    console_log!(
        "BENCH face build debug_assertions={} simd128={} init_ms={init_ms:.1} iterations={ITERATIONS}",
        cfg!(debug_assertions),
        cfg!(target_feature = "simd128")
    );
    let mut frames: Vec<_> = FRAMES.iter().map(|(n, p)| (*n, decode(p))).collect();
    // The worst case (issue 19 item 5): a far face (12 % of the height) in the worker's
    // 320×240 frame. The full pass misses it (or finds it weak), so `detect` runs the model a
    // second time on the zoomed crop.
    let (far, _) = far_scene(0.12, 0.5, 0.5, Backdrop::Textured);
    frames.push((
        "far12_320x240",
        (downscale(&far, 640, 480, 320, 240), 320, 240),
    ));
    for _ in 0..WARM_UP {
        for (_, (rgba, w, h)) in &frames {
            detector.detect(rgba, *w, *h).expect("runs");
        }
        yield_now().await;
    }
    let mut all = Vec::new();
    for (name, (rgba, w, h)) in &frames {
        let mut times = Vec::with_capacity(ITERATIONS);
        let mut faces = 0;
        for _ in 0..ITERATIONS {
            let t = now();
            let f = detector.detect(rgba, *w, *h).expect("runs");
            times.push(now() - t);
            faces = f.faces.len();
            yield_now().await;
        }
        times.sort_by(f64::total_cmp);
        console_log!(
            "BENCH face {name} median_ms={:.3} p95_ms={:.3} min_ms={:.3} n={ITERATIONS} faces={faces}",
            percentile(&times, 50),
            percentile(&times, 95),
            times[0]
        );
        all.extend(times);
    }
    all.sort_by(f64::total_cmp);
    console_log!(
        "BENCH face all median_ms={:.3} p95_ms={:.3} n={}",
        percentile(&all, 50),
        percentile(&all, 95),
        all.len()
    );
}
