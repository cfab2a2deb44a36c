//! Far-face test frames (`far.rs`, the benchmarks): the reference portrait shrunk and pasted on a
//! plain or textured backdrop. Not every test binary uses every helper.
#![allow(dead_code)]

use crate::common::decode;

/// The detector's box height on the reference portrait, as a fraction of its 480 rows (README).
const PORTRAIT_FACE: f32 = 0.249;
/// The portrait's face box centre in its own pixels (README: x 223–343, y 49–169).
const PORTRAIT_CENTRE: (f32, f32) = (283.0, 109.0);

/// Area-average downscale of an RGBA image.
pub fn downscale(src: &[u8], sw: usize, sh: usize, dw: usize, dh: usize) -> Vec<u8> {
    let mut out = vec![0u8; dw * dh * 4];
    for j in 0..dh {
        let y0 = j * sh / dh;
        let y1 = ((j + 1) * sh / dh).max(y0 + 1);
        for i in 0..dw {
            let x0 = i * sw / dw;
            let x1 = ((i + 1) * sw / dw).max(x0 + 1);
            let mut acc = [0u32; 4];
            for y in y0..y1 {
                for p in src[(y * sw + x0) * 4..(y * sw + x1) * 4].chunks_exact(4) {
                    for (a, v) in acc.iter_mut().zip(p) {
                        *a += u32::from(*v);
                    }
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u32;
            for (c, a) in acc.iter().enumerate() {
                out[(j * dw + i) * 4 + c] = ((a + n / 2) / n) as u8;
            }
        }
    }
    out
}

#[derive(Clone, Copy, Debug)]
pub enum Backdrop {
    /// A flat grey wall.
    Plain,
    /// A busy pattern of blocks (shelves, tiles): edges everywhere, nothing face-like.
    Textured,
}

pub fn backdrop(kind: Backdrop, w: usize, h: usize) -> Vec<u8> {
    let mut frame = vec![0u8; w * h * 4];
    for (k, p) in frame.chunks_exact_mut(4).enumerate() {
        let (x, y) = (k % w, k / w);
        let v = match kind {
            Backdrop::Plain => 170,
            Backdrop::Textured => (((x / 7) ^ (y / 5)) % 5 * 30 + 60) as u8,
        };
        p.copy_from_slice(&[v, v.saturating_add(10), v / 2 + 40, 255]);
    }
    frame
}

/// A 640×480 frame with the portrait shrunk so its face box is `face` of the frame height, the
/// shrunk portrait's top-left corner at (`left`, `top`) as fractions of the room left around
/// it (0.5, 0.5: centred). Returns the frame and where the face's centre is (pixels).
pub fn far_scene(face: f32, left: f32, top: f32, kind: Backdrop) -> (Vec<u8>, (f32, f32)) {
    let (portrait, pw, ph) = decode(include_bytes!("../media/selfie_640x480.png"));
    let (pw, ph) = (pw as usize, ph as usize);
    let s = face / PORTRAIT_FACE;
    let (sw, sh) = (
        (pw as f32 * s).round() as usize,
        (ph as f32 * s).round() as usize,
    );
    let small = downscale(&portrait, pw, ph, sw, sh);
    let mut frame = backdrop(kind, 640, 480);
    let ox = ((640 - sw) as f32 * left).round() as usize;
    let oy = ((480 - sh) as f32 * top).round() as usize;
    for y in 0..sh {
        let dst = ((oy + y) * 640 + ox) * 4;
        frame[dst..dst + sw * 4].copy_from_slice(&small[y * sw * 4..(y + 1) * sw * 4]);
    }
    let centre = (
        ox as f32 + PORTRAIT_CENTRE.0 * s,
        oy as f32 + PORTRAIT_CENTRE.1 * s,
    );
    (frame, centre)
}
