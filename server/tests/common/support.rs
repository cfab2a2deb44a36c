//! Helpers shared by the server's tests and its verification benchmark
//! (`examples/bench_verify.rs` includes this file by path): reading the repo's test PNGs and
//! encoding JPEGs and measuring peak memory. No dependency on the test server.
#![allow(dead_code)]

use std::path::Path;

/// Decodes the 8-bit RGB or RGBA PNG at `path` (relative to the server crate): (width, height,
/// RGB).
pub fn read_png_rgb(path: &str) -> (u32, u32, Vec<u8>) {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let dec = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display())),
    ));
    let mut r = dec.read_info().expect("png");
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).expect("png frame");
    let ch = match (info.color_type, info.bit_depth) {
        (png::ColorType::Rgb, png::BitDepth::Eight) => 3,
        (png::ColorType::Rgba, png::BitDepth::Eight) => 4,
        other => panic!("{}: colour type {other:?}", full.display()),
    };
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(ch)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, rgb)
}

/// Resets the process's resident high-water mark (Linux `clear_refs` 5) and returns the
/// resident size now (KiB).
pub fn reset_peak() -> i64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    status_kib("VmRSS:")
}

/// The resident high-water mark since [`reset_peak`] (KiB).
pub fn peak_kib() -> i64 {
    status_kib("VmHWM:")
}

fn status_kib(key: &str) -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// JPEG-encodes `rgb` (`w` × `h` × 3).
pub fn encode_jpeg(rgb: &[u8], w: u32, h: u32, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = jpeg_encoder::Encoder::new(&mut out, quality);
    enc.encode(rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .expect("encode");
    out
}
