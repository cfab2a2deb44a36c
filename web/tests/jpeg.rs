//! The liveness evidence encoder (`browser::camera::JpegCanvas`) in a real browser. Its own test
//! file (its own wasm instance): wasm-bindgen-test runs a file's async tests interleaved, and its
//! frame buffers would land in `web/tests/camera.rs`'s memory-flatness measurement.

use liveform_web::camera;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The liveness evidence encoder: JPEGs from RGBA pixels through one canvas, two encodings
/// started back to back keep their own pictures (`toBlob` copies the canvas when called).
#[wasm_bindgen_test]
async fn jpeg_canvas_encodes_each_frame_it_was_given() {
    let (w, h) = (320u32, 240u32);
    let flat = vec![128u8; (w * h * 4) as usize];
    let mut busy = vec![255u8; (w * h * 4) as usize];
    let mut x = 0x1234_5678u32;
    for px in busy.chunks_mut(4) {
        // xorshift noise: hard to compress.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        px[..3].copy_from_slice(&x.to_le_bytes()[..3]);
    }
    let jpeg = camera::JpegCanvas::new().expect("a 2d canvas");
    assert!(jpeg.encode(w, h, &flat[4..], 0.85).is_none(), "wrong size");
    let a = jpeg.encode(w, h, &flat, 0.85).expect("encoding starts");
    let b = jpeg.encode(w, h, &busy, 0.85).expect("encoding starts");
    let (a, b) = (a.await.expect("a JPEG"), b.await.expect("a JPEG"));
    assert_eq!(a.type_(), "image/jpeg");
    assert_eq!(b.type_(), "image/jpeg");
    web_sys::console::log_1(
        &format!(
            "320x240 JPEG 0.85: flat {} bytes, noise {} bytes",
            a.size(),
            b.size()
        )
        .into(),
    );
    assert!(
        a.size() * 4.0 < b.size(),
        "each encoding keeps its own frame: {} vs {} bytes",
        a.size(),
        b.size()
    );
}
