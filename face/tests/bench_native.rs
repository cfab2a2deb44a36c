//! Native benchmark (issue 19 item 5), not a timed test: the detector per frame on this machine,
//! single thread, with the zoomed second pass (`detect`) and without it
//! (`detect_full_frame_only`, the detector before), on the normal frames and the worst case (a
//! far face or an empty room: the full pass finds nothing, so the model runs twice). Prints
//! `BENCH face-native …` lines. `#[ignore]`d; run it optimised:
//! `cargo test --release -p liveform-face --test bench_native -- --ignored --nocapture`.
//! The browser's numbers (wasm SIMD, Chromium) come from `bench_face.rs` (`scripts/bench.sh`).
#![cfg(not(target_arch = "wasm32"))]

use std::time::Instant;

use liveform_face::Detector;

mod common;
use common::decode;
mod scene;
use scene::{backdrop, downscale, far_scene, Backdrop};

const ITERATIONS: usize = 300;
const WARM_UP: usize = 20;

fn percentile(sorted: &[f64], p: usize) -> f64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// The benchmark's frames: name, RGBA, width, height.
fn frames() -> Vec<(String, Vec<u8>, u32, u32)> {
    let mut out = Vec::new();
    for (name, png) in [
        (
            "selfie_640x480",
            &include_bytes!("media/selfie_640x480.png")[..],
        ),
        (
            "selfie_320x240",
            &include_bytes!("media/selfie_320x240.png")[..],
        ),
        ("group_640x436", &include_bytes!("media/group_640.png")[..]),
    ] {
        let (rgba, w, h) = decode(png);
        out.push((name.to_owned(), rgba, w, h));
    }
    let (far, _) = far_scene(0.12, 0.5, 0.5, Backdrop::Textured);
    out.push((
        "far12_320x240".into(),
        downscale(&far, 640, 480, 320, 240),
        320,
        240,
    ));
    out.push(("far12_640x480".into(), far, 640, 480));
    // No face, and enough face-like texture for the zoomed pass to run (and find nothing).
    let (gravel, w, h) = decode(include_bytes!("../../core/tests/media/gravel_640x480.png"));
    out.push(("gravel_640x480".into(), gravel, w, h));
    let empty = backdrop(Backdrop::Textured, 640, 480);
    out.push((
        "empty_320x240".into(),
        downscale(&empty, 640, 480, 320, 240),
        320,
        240,
    ));
    out
}

#[test]
#[ignore = "benchmark: cargo test --release -p liveform-face --test bench_native -- --ignored --nocapture"]
fn bench_face_native() {
    let mut d = Detector::new().expect("model loads");
    let frames = frames();
    for zoom in [false, true] {
        let mode = if zoom { "two-pass" } else { "full-only" };
        let run = |d: &mut Detector, rgba: &[u8], w: u32, h: u32| {
            if zoom {
                d.detect(rgba, w, h)
            } else {
                d.detect_full_frame_only(rgba, w, h)
            }
            .expect("runs")
        };
        for (_, rgba, w, h) in &frames {
            for _ in 0..WARM_UP {
                run(&mut d, rgba, *w, *h);
            }
        }
        for (name, rgba, w, h) in &frames {
            let mut times = Vec::with_capacity(ITERATIONS);
            let mut faces = Vec::new();
            for _ in 0..ITERATIONS {
                let t = Instant::now();
                let f = run(&mut d, rgba, *w, *h);
                times.push(t.elapsed().as_secs_f64() * 1e3);
                faces = f
                    .faces
                    .iter()
                    .map(|f| (f.h * 1000.0).round() / 1000.0)
                    .collect();
            }
            times.sort_by(f64::total_cmp);
            println!(
                "BENCH face-native {mode} {name} median_ms={:.3} p95_ms={:.3} min_ms={:.3} n={ITERATIONS} face_heights={faces:?}",
                percentile(&times, 50),
                percentile(&times, 95),
                times[0]
            );
        }
    }
}
