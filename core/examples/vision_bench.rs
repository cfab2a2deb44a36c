//! Per-frame cost of the document quality gate on 640×480 RGBA input (the conversion to luma
//! included), natively: `cargo run --release -p liveform-core --example vision_bench`.
//! Prints median and p95 per reference image; it is not a timed test.

use liveform_core::vision::{Analyser, DocumentKind};
use std::time::Instant;

const MEDIA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/media");
const ITERATIONS: usize = 300;

fn load_rgba(name: &str) -> Result<(Vec<u8>, usize, usize), Box<dyn std::error::Error>> {
    let file = std::fs::File::open(format!("{MEDIA}/{name}"))?;
    let mut reader = png::Decoder::new(file).read_info()?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf)?;
    let (w, h) = (info.width as usize, info.height as usize);
    let ch = info.color_type.samples();
    let mut rgba = Vec::with_capacity(w * h * 4);
    for px in buf[..w * h * ch].chunks(ch) {
        let (r, g, b) = if ch >= 3 {
            (px[0], px[1], px[2])
        } else {
            (px[0], px[0], px[0])
        };
        rgba.extend_from_slice(&[r, g, b, 255]);
    }
    Ok((rgba, w, h))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let images = [
        ("card_640x480.png", DocumentKind::Id1),
        ("card_desk_640x480.png", DocumentKind::Id1),
        ("card_white_640x480.png", DocumentKind::Id1),
        ("card_desk_small_640x480.png", DocumentKind::Id1),
        ("passport_scene_640x480.png", DocumentKind::Td3),
        ("selfie_640x480.png", DocumentKind::Id1),
    ];
    let mut analyser = Analyser::new();
    let mut all = Vec::new();
    for (name, kind) in images {
        let (rgba, w, h) = load_rgba(name)?;
        let mut times = Vec::with_capacity(ITERATIONS);
        let mut primary = None;
        for _ in 0..ITERATIONS {
            let t = Instant::now();
            let report = analyser.analyse_rgba(&rgba, w, h, kind)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            primary = report.primary;
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name:32} {w}x{h}  median {:.3} ms  p95 {:.3} ms  ({})",
            times[times.len() / 2],
            times[times.len() * 95 / 100],
            primary.map_or("ok", |i| i.as_str())
        );
        all.extend(times);
    }
    all.sort_by(f64::total_cmp);
    println!(
        "all frames: median {:.3} ms  p95 {:.3} ms",
        all[all.len() / 2],
        all[all.len() * 95 / 100]
    );
    Ok(())
}
