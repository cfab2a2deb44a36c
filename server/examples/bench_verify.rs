//! The server's cost per submission (issue 14): two 1920×1080 document sides (JPEG q 0.9, as the
//! form sends them), a 1280×960 selfie and the evidence frames of one three-step liveness attempt
//! (15 frames of 320×240), each decoded completely and checked (`verify::analyse`: document
//! analysis, face detection), one after another on one core, as one verification worker does.
//!
//! `cargo run -p liveform-server --example bench_verify [runs]` (scripts/bench.sh runs it);
//! prints the median and p95 per submission and the process's peak RSS, and exits non-zero above
//! the budget (`BENCH_VERIFY_BUDGET_MS`, default 250).

use std::time::Instant;

use liveform_core::flow::CaptureSlot;
use liveform_core::vision::DocumentKind;
use liveform_server::decode::Limits;
use liveform_server::media::Media;
use liveform_server::verify::{analyse, Analysis, Job};

/// `src` resampled (nearest) to `w`×`h` around `(cx, cy)` at `scale` source pixels per pixel.
fn reframe(src: &(u32, u32, Vec<u8>), w: u32, h: u32, cx: f32, cy: f32, scale: f32) -> Vec<u8> {
    let (sw, sh, px) = src;
    let mut out = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let sx =
                (cx + (x as f32 - w as f32 / 2.0) * scale).clamp(0.0, (*sw - 1) as f32) as usize;
            let sy =
                (cy + (y as f32 - h as f32 / 2.0) * scale).clamp(0.0, (*sh - 1) as f32) as usize;
            let i = (sy * *sw as usize + sx) * 3;
            out.extend_from_slice(&px[i..i + 3]);
        }
    }
    out
}

fn peak_rss_kib() -> i64 {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage fills the struct when it returns 0.
    #[allow(unsafe_code)]
    let ok = unsafe { libc::getrusage(libc::RUSAGE_SELF, u.as_mut_ptr()) } == 0;
    if !ok {
        return 0;
    }
    // SAFETY: initialised by the successful call.
    #[allow(unsafe_code)]
    let u = unsafe { u.assume_init() };
    u.ru_maxrss
}

#[path = "../tests/common/support.rs"]
mod support;

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(15);
    let budget: f64 = std::env::var("BENCH_VERIFY_BUDGET_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(250.0);
    let card = support::read_png_rgb("../core/tests/media/card_1920x1080.png");
    let front = support::encode_jpeg(&card.2, card.0, card.1, 90);
    let back = front.clone();
    let portrait = support::read_png_rgb("../face/tests/media/selfie_640x480.png");
    let selfie = support::encode_jpeg(
        &reframe(&portrait, 1280, 960, 283.0, 140.0, 0.25),
        1280,
        960,
        90,
    );
    // Three steps: a baseline pair and a hold of three each, the face at two sizes.
    let frames: Vec<Vec<u8>> = (0..15)
        .map(|i| {
            let scale = if i % 5 < 2 { 1.2 } else { 0.9 };
            support::encode_jpeg(
                &reframe(&portrait, 320, 240, 283.0, 120.0, scale),
                320,
                240,
                85,
            )
        })
        .collect();
    let bytes =
        front.len() + back.len() + selfie.len() + frames.iter().map(Vec::len).sum::<usize>();
    let limits = Limits::DEFAULT;
    // An identity card whose machine-readable zone is on the back (read there, as for the EU
    // cards `core::document::mrz_placement` lists).
    let job = |slot, document| Job {
        slot,
        media: Media::Jpeg,
        document,
        device_issues: None,
        mrz: (slot == CaptureSlot::DocumentBack).then_some(liveform_core::document::MrzLayout::Td1),
    };
    let one = || {
        let t = Instant::now();
        let f = analyse(
            &job(CaptureSlot::DocumentFront, Some(DocumentKind::Id1)),
            &front,
            &limits,
        );
        let b = analyse(
            &job(CaptureSlot::DocumentBack, Some(DocumentKind::Id1)),
            &back,
            &limits,
        );
        let s = analyse(&job(CaptureSlot::Selfie, None), &selfie, &limits);
        let mut faces = 0;
        for fr in &frames {
            if let Ok(Analysis::LivenessFrame(c)) =
                analyse(&job(CaptureSlot::Liveness, None), fr, &limits)
            {
                faces += c.faces.faces.len();
            }
        }
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        assert!(
            matches!(f, Ok(Analysis::Document(ref d)) if d.found),
            "front: {f:?}"
        );
        assert!(
            matches!(b, Ok(Analysis::Document(ref d)) if d.mrz.as_ref().is_some_and(|m| m.valid)),
            "back: {b:?}"
        );
        assert!(
            matches!(s, Ok(Analysis::Selfie(ref x)) if x.check.faces == 1),
            "selfie: {s:?}"
        );
        assert_eq!(faces, frames.len(), "a face in every frame");
        ms
    };
    // Per part, once (after a warm-up), to show where the time goes.
    one();
    // The peak from here on (Linux: reset the high-water mark; the setup above decoded PNGs and
    // encoded the test JPEGs, which is not the server's cost).
    let baseline_kib = support::reset_peak();
    let part = |name: &str, slot, doc, data: &[u8]| {
        let t = Instant::now();
        let _ = analyse(&job(slot, doc), data, &limits);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        let _ = liveform_server::decode::decode(Media::Jpeg, data, &limits);
        let dec = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "BENCH verify part {name}: {ms:.1} ms (decode {dec:.1} ms), {} bytes",
            data.len()
        );
    };
    part(
        "document 1920x1080",
        CaptureSlot::DocumentFront,
        Some(DocumentKind::Id1),
        &front,
    );
    part(
        "document back with its MRZ read 1920x1080",
        CaptureSlot::DocumentBack,
        Some(DocumentKind::Id1),
        &back,
    );
    part("selfie 1280x960", CaptureSlot::Selfie, None, &selfie);
    part(
        "liveness frame 320x240",
        CaptureSlot::Liveness,
        None,
        &frames[0],
    );
    let mut times: Vec<f64> = (0..runs).map(|_| one()).collect();
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let p95 = times[(times.len() * 95 / 100).min(times.len() - 1)];
    let (rss, hwm) = (peak_rss_kib(), support::peak_kib());
    println!(
        "BENCH verify per submission: median {median:.1} ms, p95 {p95:.1} ms of one core over {runs} runs \
         (2 documents 1920x1080, selfie 1280x960, 15 liveness frames 320x240; {bytes} bytes); \
         peak RSS while verifying {:.1} MiB ({:+.1} MiB over the {:.1} MiB before; process peak {:.1} MiB); budget {budget} ms",
        hwm as f64 / 1024.0,
        (hwm - baseline_kib) as f64 / 1024.0,
        baseline_kib as f64 / 1024.0,
        rss as f64 / 1024.0
    );
    if median > budget {
        eprintln!("BENCH verify: median {median:.1} ms is over the {budget} ms budget");
        std::process::exit(1);
    }
}
