//! Benchmark (issue 6), not a timed test: the document quality gate compiled to wasm, per
//! 640×480 frame, and the JPEG encode of a 1920×1080 capture. Prints `BENCH …` lines; budgets
//! are checked by `scripts/bench.sh`, which runs this in headless Chromium only:
//!
//! ```sh
//! scripts/bench.sh                  # the shipped wasm-release profile; BENCH_PROFILE=release|dev
//! ```
//!
//! `#[ignore]`d so that `scripts/test-browsers.sh` (`--test '*'` in three engines) skips it;
//! run it by hand with
//! `CHROMEDRIVER=/usr/bin/chromedriver CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  cargo test --profile wasm-release --target wasm32-unknown-unknown -p liveform-app --test bench_vision -- --include-ignored --nocapture`.
//!
//! Frames are decoded by the browser (`createImageBitmap` on the embedded PNG), drawn to a
//! canvas and read back with `getImageData`, as the capture screen reads video frames.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Promise, Uint8Array};
use liveform_core::vision::{rgba_to_luma, Analyser, DocumentKind, LumaFrame, ANALYSIS_LONG_EDGE};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{
    Blob, BlobPropertyBag, CanvasRenderingContext2d, HtmlCanvasElement, ImageBitmap,
    ImageEncodeOptions, OffscreenCanvas, OffscreenCanvasRenderingContext2d,
};

wasm_bindgen_test_configure!(run_in_browser);

/// Analyses per frame, after [`WARM_UP`] rounds over all frames.
const ITERATIONS: usize = 200;
const WARM_UP: usize = 20;
/// Encodes per quality (the median is reported).
const ENCODES: usize = 5;
const QUALITIES: [f64; 4] = [0.80, 0.85, 0.90, 0.92];

const FRAMES: [(&str, &[u8], DocumentKind); 4] = [
    (
        "card_640x480",
        include_bytes!("../../core/tests/media/card_640x480.png"),
        DocumentKind::Id1,
    ),
    (
        "card_desk_640x480",
        include_bytes!("../../core/tests/media/card_desk_640x480.png"),
        DocumentKind::Id1,
    ),
    (
        "card_640x480_blur",
        include_bytes!("../../core/tests/media/card_640x480_blur.png"),
        DocumentKind::Id1,
    ),
    (
        "passport_scene_640x480",
        include_bytes!("../../core/tests/media/passport_scene_640x480.png"),
        DocumentKind::Td3,
    ),
];

const CAPTURE: &[u8] = include_bytes!("../../core/tests/media/card_1920x1080.png");
/// The MRZ band of `card_1920x1080.png` (x, y, w, h): its three lines with a little margin.
const MRZ_BAND: (u32, u32, u32, u32) = (350, 685, 1130, 180);

fn window() -> web_sys::Window {
    web_sys::window().expect("window")
}

fn now() -> f64 {
    window().performance().expect("performance").now()
}

async fn bitmap_from(blob: &Blob) -> ImageBitmap {
    let p = window()
        .create_image_bitmap_with_blob(blob)
        .expect("createImageBitmap");
    JsFuture::from(p)
        .await
        .expect("decoded image")
        .dyn_into()
        .expect("an ImageBitmap")
}

async fn png_bitmap(png: &[u8]) -> ImageBitmap {
    let parts = Array::of1(&Uint8Array::from(png));
    let opts = BlobPropertyBag::new();
    opts.set_type("image/png");
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &opts).expect("blob");
    bitmap_from(&blob).await
}

fn canvas(w: u32, h: u32) -> (HtmlCanvasElement, CanvasRenderingContext2d) {
    let c: HtmlCanvasElement = window()
        .document()
        .expect("document")
        .create_element("canvas")
        .expect("canvas")
        .dyn_into()
        .expect("HtmlCanvasElement");
    c.set_width(w);
    c.set_height(h);
    let opts = js_sys::Object::new();
    js_sys::Reflect::set(&opts, &"willReadFrequently".into(), &true.into()).expect("opts");
    let cx = c
        .get_context_with_context_options("2d", &opts)
        .expect("2d context")
        .expect("2d context")
        .dyn_into()
        .expect("CanvasRenderingContext2d");
    (c, cx)
}

/// RGBA bytes of `bmp`'s rectangle, as `getImageData` gives them.
fn pixels(bmp: &ImageBitmap, (x, y, w, h): (u32, u32, u32, u32)) -> Vec<u8> {
    let (_c, cx) = canvas(bmp.width(), bmp.height());
    cx.draw_image_with_image_bitmap(bmp, 0.0, 0.0)
        .expect("drawImage");
    cx.get_image_data(x as f64, y as f64, w as f64, h as f64)
        .expect("getImageData")
        .data()
        .0
}

fn percentile(sorted: &[f64], p: usize) -> f64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// Luma PSNR (dB) between two RGBA buffers.
fn luma_psnr(a: &[u8], b: &[u8]) -> f64 {
    let luma = |p: &[u8]| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64;
    let (mut se, mut n) = (0.0, 0.0);
    for (pa, pb) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        let d = luma(pa) - luma(pb);
        se += d * d;
        n += 1.0;
    }
    let mse = (se / n).max(1e-9);
    10.0 * (255.0 * 255.0 / mse).log10()
}

#[wasm_bindgen_test]
#[ignore = "benchmark: run by scripts/bench.sh (Chromium, --include-ignored --nocapture)"]
async fn bench_vision_analysis_640x480() {
    console_log!(
        "BENCH build debug_assertions={} iterations={ITERATIONS} ua={:?}",
        cfg!(debug_assertions),
        window().navigator().user_agent().unwrap_or_default()
    );
    let mut analyser = Analyser::new();
    let mut frames = Vec::new();
    for (name, png, kind) in FRAMES {
        let bmp = png_bitmap(png).await;
        let (w, h) = (bmp.width(), bmp.height());
        frames.push((
            name,
            pixels(&bmp, (0, 0, w, h)),
            w as usize,
            h as usize,
            kind,
        ));
    }
    // Warm-up on every frame first: V8 compiles hot wasm functions again, optimised (tier-up),
    // after a while; the first frame measured would otherwise pay for it.
    for _ in 0..WARM_UP {
        for (_, rgba, w, h, kind) in &frames {
            analyser
                .analyse_rgba(rgba, *w, *h, *kind)
                .expect("valid frame");
        }
    }
    let mut all = Vec::new();
    for (name, rgba, w, h, kind) in frames.iter().cloned() {
        let primary = analyser
            .analyse_rgba(&rgba, w, h, kind)
            .expect("valid frame")
            .primary;
        let mut times = Vec::with_capacity(ITERATIONS);
        for _ in 0..ITERATIONS {
            let t = now();
            let r = analyser
                .analyse_rgba(&rgba, w, h, kind)
                .expect("valid frame");
            times.push(now() - t);
            assert_eq!(
                r.primary, primary,
                "{name}: the verdict changed between runs"
            );
        }
        times.sort_by(f64::total_cmp);
        console_log!(
            "BENCH analyse {name} {w}x{h} median_ms={:.3} p95_ms={:.3} min_ms={:.3} n={ITERATIONS} verdict={}",
            percentile(&times, 50),
            percentile(&times, 95),
            times[0],
            primary.map_or("ok", |i| i.as_str())
        );
        all.extend(times);
    }
    all.sort_by(f64::total_cmp);
    console_log!(
        "BENCH analyse all median_ms={:.3} p95_ms={:.3} n={}",
        percentile(&all, 50),
        percentile(&all, 95),
        all.len()
    );
    // Where the time goes (informational): the RGBA → 320 px luma step alone, then the rest
    // (outline detection and region metrics) on that luma frame.
    let (mut to_luma, mut rest) = (Vec::new(), Vec::new());
    let mut luma = Vec::new();
    for (_, rgba, w, h, kind) in &frames {
        for _ in 0..ITERATIONS / 4 {
            let t = now();
            let (lw, lh) =
                rgba_to_luma(rgba, *w, *h, ANALYSIS_LONG_EDGE, &mut luma).expect("valid frame");
            let t1 = now();
            analyser.analyse(LumaFrame::new(lw, lh, &luma).expect("valid frame"), *kind);
            let t2 = now();
            to_luma.push(t1 - t);
            rest.push(t2 - t1);
        }
    }
    to_luma.sort_by(f64::total_cmp);
    rest.sort_by(f64::total_cmp);
    console_log!(
        "BENCH analyse stages rgba_to_luma_median_ms={:.3} detect_and_metrics_median_ms={:.3} n={}",
        percentile(&to_luma, 50),
        percentile(&rest, 50),
        to_luma.len()
    );
}

async fn to_blob(c: &HtmlCanvasElement, quality: f64) -> Blob {
    let promise = Promise::new(&mut |resolve, reject| {
        let cb = Closure::once_into_js(move |blob: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &blob);
        });
        if let Err(e) = c.to_blob_with_type_and_encoder_options(
            cb.unchecked_ref(),
            "image/jpeg",
            &JsValue::from_f64(quality),
        ) {
            let _ = reject.call1(&JsValue::NULL, &e);
        }
    });
    JsFuture::from(promise)
        .await
        .expect("toBlob")
        .dyn_into()
        .expect("a Blob (toBlob gave null)")
}

/// Bytes, median ms and MRZ-band PSNR of one encoder at one quality.
async fn report_encode<F, Fut>(api: &str, quality: f64, original_mrz: &[u8], mut encode: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Blob>,
{
    let mut times = Vec::with_capacity(ENCODES);
    let mut last = None;
    for _ in 0..ENCODES {
        let t = now();
        let blob = encode().await;
        times.push(now() - t);
        last = Some(blob);
    }
    let blob = last.expect("ENCODES > 0");
    times.sort_by(f64::total_cmp);
    let decoded = bitmap_from(&blob).await;
    let psnr = luma_psnr(original_mrz, &pixels(&decoded, MRZ_BAND));
    console_log!(
        "BENCH jpeg {api} 1920x1080 q={quality:.2} median_ms={:.1} max_ms={:.1} bytes={} mrz_psnr_db={psnr:.1}",
        percentile(&times, 50),
        times[times.len() - 1],
        blob.size() as u64
    );
}

#[wasm_bindgen_test]
#[ignore = "benchmark: run by scripts/bench.sh (Chromium, --include-ignored --nocapture)"]
async fn bench_jpeg_encode_1920x1080() {
    let bmp = png_bitmap(CAPTURE).await;
    let (w, h) = (bmp.width(), bmp.height());
    assert_eq!((w, h), (1920, 1080));
    let original_mrz = pixels(&bmp, MRZ_BAND);
    let (c, cx) = canvas(w, h);
    cx.draw_image_with_image_bitmap(&bmp, 0.0, 0.0)
        .expect("drawImage");
    // Warm-up (the first encode initialises the encoder).
    let _ = to_blob(&c, 0.9).await;
    for q in QUALITIES {
        report_encode("toBlob", q, &original_mrz, || to_blob(&c, q)).await;
    }
    let has_offscreen =
        js_sys::Reflect::has(&js_sys::global(), &"OffscreenCanvas".into()).unwrap_or(false);
    if !has_offscreen {
        console_log!("BENCH jpeg convertToBlob unavailable");
        return;
    }
    let oc = OffscreenCanvas::new(w, h).expect("OffscreenCanvas");
    let ocx: OffscreenCanvasRenderingContext2d = oc
        .get_context("2d")
        .expect("2d context")
        .expect("2d context")
        .dyn_into()
        .expect("OffscreenCanvasRenderingContext2d");
    ocx.draw_image_with_image_bitmap(&bmp, 0.0, 0.0)
        .expect("drawImage");
    for q in QUALITIES {
        let oc = &oc;
        report_encode("convertToBlob", q, &original_mrz, || async move {
            let opts = ImageEncodeOptions::new();
            opts.set_type("image/jpeg");
            opts.set_quality(q);
            let p = oc
                .convert_to_blob_with_options(&opts)
                .expect("convertToBlob");
            JsFuture::from(p)
                .await
                .expect("convertToBlob")
                .dyn_into()
                .expect("a Blob")
        })
        .await;
    }
}

/// The read of the document's machine-readable zone the capture step runs on a photo before
/// sending it (`core::document::read_still`: the gate's outline on the whole still, then the
/// zone), per still, in the shipped profile. Reported, not budgeted: it runs once per photo, with
/// "Checking the lines…" on screen.
#[wasm_bindgen_test]
#[ignore = "benchmark: run by scripts/bench.sh (Chromium, --include-ignored --nocapture)"]
async fn bench_mrz_read_still() {
    use liveform_core::document::{read_still, MrzLayout};
    const STILLS: [(&str, &[u8], MrzLayout); 3] = [
        ("card_1920x1080", CAPTURE, MrzLayout::Td1),
        (
            "card_back_640x480",
            include_bytes!("../../core/tests/media/card_back_640x480.png"),
            MrzLayout::Td1,
        ),
        (
            "passport_scene_640x480",
            include_bytes!("../../core/tests/media/passport_scene_640x480.png"),
            MrzLayout::Td3,
        ),
    ];
    const RUNS: usize = 9;
    for (name, png, layout) in STILLS {
        let bmp = png_bitmap(png).await;
        let (w, h) = (bmp.width(), bmp.height());
        let rgba = pixels(&bmp, (0, 0, w, h));
        // Warm-up (tier-up), and the read must hold.
        let d = read_still(&rgba, w as usize, h as usize, layout);
        assert!(d.is_some_and(|d| d.mrz_valid), "{name}: no valid read");
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t = now();
            let d = read_still(&rgba, w as usize, h as usize, layout);
            times.push(now() - t);
            assert!(d.is_some_and(|d| d.mrz_valid), "{name}");
        }
        times.sort_by(f64::total_cmp);
        console_log!(
            "BENCH mrz read_still {name} {w}x{h} median_ms={:.1} max_ms={:.1} n={RUNS}",
            times[RUNS / 2],
            times[RUNS - 1]
        );
    }
}
