//! Luma frames and the RGBA → downscaled luma conversion the browser layer feeds us with.

use std::fmt;

/// The smallest frame side the analyser accepts, in pixels.
pub const MIN_FRAME_SIDE: usize = 32;

/// The long edge frames are analysed at: larger frames are area-averaged down to this size, so the
/// metrics (sharpness above all) mean the same thing at 640×480 and at 1920×1080.
pub const ANALYSIS_LONG_EDGE: usize = 320;

/// A borrowed 8-bit luma image, row-major, one byte per pixel, no row padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LumaFrame<'a> {
    pub width: usize,
    pub height: usize,
    pub data: &'a [u8],
}

impl<'a> LumaFrame<'a> {
    /// Checks that `data` holds exactly `width × height` bytes and that the frame is not tiny.
    pub fn new(width: usize, height: usize, data: &'a [u8]) -> Result<Self, FrameError> {
        check_dims(width, height, data.len(), 1)?;
        Ok(LumaFrame {
            width,
            height,
            data,
        })
    }
}

/// Why a frame cannot be analysed (a programming or browser-glue error, never a user hint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The buffer length is not `width × height × bytes_per_pixel`.
    WrongLength { expected: usize, actual: usize },
    /// A side is shorter than [`MIN_FRAME_SIDE`].
    TooSmall { width: usize, height: usize },
}

impl FrameError {
    /// A stable key for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            FrameError::WrongLength { .. } => "frame_wrong_length",
            FrameError::TooSmall { .. } => "frame_too_small",
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::WrongLength { expected, actual } => {
                write!(f, "frame buffer has {actual} bytes, expected {expected}")
            }
            FrameError::TooSmall { width, height } => write!(
                f,
                "frame {width}×{height} is smaller than {MIN_FRAME_SIDE} px on a side"
            ),
        }
    }
}

impl std::error::Error for FrameError {}

fn check_dims(width: usize, height: usize, len: usize, bpp: usize) -> Result<(), FrameError> {
    if width < MIN_FRAME_SIDE || height < MIN_FRAME_SIDE {
        return Err(FrameError::TooSmall { width, height });
    }
    let expected = width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(bpp))
        .unwrap_or(usize::MAX);
    if len != expected {
        return Err(FrameError::WrongLength {
            expected,
            actual: len,
        });
    }
    Ok(())
}

/// The size a `width × height` frame is reduced to so that its long edge is at most `max_long_edge`
/// (aspect ratio kept, sides rounded, never enlarged).
pub fn scaled_size(width: usize, height: usize, max_long_edge: usize) -> (usize, usize) {
    let long = width.max(height);
    let max_long_edge = max_long_edge.max(1);
    if long <= max_long_edge {
        return (width, height);
    }
    let w = (width * max_long_edge + long / 2) / long;
    let h = (height * max_long_edge + long / 2) / long;
    (w.max(1), h.max(1))
}

/// Integer BT.601 luma of an RGB triple: the definition [`luma_rgba`] computes faster.
#[cfg(test)]
fn luma(r: u8, g: u8, b: u8) -> u32 {
    (77 * r as u32 + 150 * g as u32 + 29 * b as u32 + 128) >> 8
}

/// [`luma`] of the RGBA pixel `bytes[0..4]`, bit-identical, with one load and two multiplies:
/// `p & 0x00ff00ff` is `r + b·2¹⁶`, and `(r + b·2¹⁶)·(29 + 77·2¹⁶)` is
/// `29r + (77r + 29b)·2¹⁶ + 77b·2³²`, whose `2³²` term wraps away in `u32` and whose low term
/// (`29r ≤ 7395`) cannot carry, so bits 16.. hold `77r + 29b` (≤ 27030).
#[inline(always)]
fn luma_rgba(bytes: &[u8]) -> u32 {
    let p = u32::from_le_bytes(<[u8; 4]>::try_from(&bytes[..4]).unwrap_or_default());
    let rb = ((p & 0x00ff_00ff).wrapping_mul(29 | 77 << 16)) >> 16;
    (rb + ((p >> 8) & 0xff) * 150 + 128) >> 8
}

/// The sum of [`luma`] of two adjacent RGBA pixels (`bytes[0..8]`), bit-identical, on one `u64`
/// with two multiplies: the same trick as [`luma_rgba`] in two lanes. Lane `k`'s
/// `77r + 150g + 29b + 128` (≤ 65408) sits in bits `32k+16 .. 32k+32`; below each lane lie at
/// most `29r₀ ≤ 7395` and `77b₀ + 29r₁ ≤ 27030`, so nothing carries into a lane, and the
/// lane's luma is its top byte.
#[inline(always)]
fn luma_rgba_pair(bytes: &[u8]) -> u32 {
    // One 8-byte load (the `try_from` of an 8-byte slice cannot fail).
    let p = u64::from_le_bytes(<[u8; 8]>::try_from(&bytes[..8]).unwrap_or_default());
    let rb = (p & 0x00ff_00ff_00ff_00ff).wrapping_mul(29 | 77 << 16);
    let g = ((p >> 8) & 0x0000_00ff_0000_00ff).wrapping_mul(150 << 16);
    let y = rb.wrapping_add(g).wrapping_add(128 << 16 | 128 << 48);
    (((y >> 24) & 0xff) + (y >> 56)) as u32
}

/// Converts RGBA bytes (as `CanvasRenderingContext2D.getImageData` returns them) into a luma
/// image whose long edge is at most `max_long_edge` (area average: every source pixel counts
/// once), written into `out`, which is cleared and reused so that a capture loop does not allocate
/// once `out` has grown to size. Returns the output `(width, height)`; alpha is ignored.
pub fn rgba_to_luma(
    rgba: &[u8],
    width: usize,
    height: usize,
    max_long_edge: usize,
    out: &mut Vec<u8>,
) -> Result<(usize, usize), FrameError> {
    check_dims(width, height, rgba.len(), 4)?;
    let (ow, oh) = scaled_size(width, height, max_long_edge);
    super::reset(out, ow * oh, 0);
    if width % ow == 0 && height % oh == 0 {
        // Camera sizes (640×480, 1280×720, 1920×1080 → 320 px) shrink by a whole factor: the
        // same box filter without per-pixel index arithmetic (a third of the frame's cost).
        rgba_to_luma_whole_factor(rgba, width, ow, width / ow, height / oh, out);
    } else {
        downscale_with(width, height, ow, oh, out, |i| {
            luma_rgba(&rgba[i * 4..i * 4 + 4])
        });
    }
    Ok((ow, oh))
}

/// [`downscale_with`] over RGBA luma for `w = ow·fx`, `h = oh·fy`: bit-identical results (the
/// sum of per-pixel rounded lumas, rounded to nearest).
fn rgba_to_luma_whole_factor(
    rgba: &[u8],
    w: usize,
    ow: usize,
    fx: usize,
    fy: usize,
    out: &mut [u8],
) {
    let row_bytes = w * 4;
    let block_bytes = fx * 4;
    let n = (fx * fy) as u32;
    let shift = n.is_power_of_two().then(|| n.trailing_zeros());
    if (fx, fy) == (2, 2) {
        // 640×480 → 320×240, the usual case: two rows at a time, 2×2 pixels per output.
        // Plain index loops: iterator adaptors are not inlined at opt-level "z".
        let oh = out.len() / ow;
        for oy in 0..oh {
            let a = &rgba[2 * oy * row_bytes..(2 * oy + 1) * row_bytes];
            let b = &rgba[(2 * oy + 1) * row_bytes..(2 * oy + 2) * row_bytes];
            let o = &mut out[oy * ow..(oy + 1) * ow];
            for ox in 0..ow {
                // One bounds check per 8-byte block instead of one per byte.
                let (a, b) = (&a[ox * 8..ox * 8 + 8], &b[ox * 8..ox * 8 + 8]);
                let sum = luma_rgba_pair(a) + luma_rgba_pair(b);
                o[ox] = ((sum + 2) >> 2) as u8;
            }
        }
        return;
    }
    for (out_row, band) in out
        .chunks_exact_mut(ow)
        .zip(rgba.chunks_exact(row_bytes * fy))
    {
        for (ox, o) in out_row.iter_mut().enumerate() {
            let mut sum = 0u32;
            for row in band.chunks_exact(row_bytes) {
                for p in row[ox * block_bytes..(ox + 1) * block_bytes].chunks_exact(4) {
                    sum += luma_rgba(p);
                }
            }
            *o = match shift {
                Some(s) => ((sum + n / 2) >> s) as u8,
                None => ((sum + n / 2) / n) as u8,
            };
        }
    }
}

/// Area-averages a luma frame down to at most `max_long_edge` on its long side, into `out`
/// (cleared and reused). Returns the output `(width, height)`.
pub fn downscale_luma(
    frame: LumaFrame<'_>,
    max_long_edge: usize,
    out: &mut Vec<u8>,
) -> (usize, usize) {
    let (ow, oh) = scaled_size(frame.width, frame.height, max_long_edge);
    super::reset(out, ow * oh, 0);
    downscale_rows(frame.data, frame.width, frame.height, ow, oh, out);
    (ow, oh)
}

/// [`downscale_with`] for a luma slice, bit-identical, summing row slices (no per-pixel index
/// arithmetic): the 320 → 200 px step before outline detection.
fn downscale_rows(data: &[u8], w: usize, h: usize, ow: usize, oh: usize, out: &mut [u8]) {
    // Row and column bounds `k·w / ow` stepped without a division per pixel: `(q, r)` is
    // `w / ow` with remainder, `rem` the running remainder of `k·w` by `ow`.
    let (qx, rx) = (w / ow, w % ow);
    let (qy, ry) = (h / oh, h % oh);
    let (mut y0, mut rem_y) = (0, 0);
    for oy in 0..oh {
        let out_row = &mut out[oy * ow..(oy + 1) * ow];
        let mut next_y = y0 + qy;
        rem_y += ry;
        if rem_y >= oh {
            rem_y -= oh;
            next_y += 1;
        }
        let y1 = next_y.max(y0 + 1);
        let rows = &data[y0 * w..y1 * w];
        let (mut x0, mut rem_x) = (0, 0);
        for o in out_row.iter_mut() {
            let mut next_x = x0 + qx;
            rem_x += rx;
            if rem_x >= ow {
                rem_x -= ow;
                next_x += 1;
            }
            let x1 = next_x.max(x0 + 1);
            let mut sum = 0u32;
            for y in 0..y1 - y0 {
                for &v in &rows[y * w + x0..y * w + x1] {
                    sum += v as u32;
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u32;
            // Blocks are 1–2 pixels a side at the usual 320 → 200 step: a shift, not a division.
            *o = if n.is_power_of_two() {
                ((sum + n / 2) >> n.trailing_zeros()) as u8
            } else {
                ((sum + n / 2) / n) as u8
            };
            x0 = next_x;
        }
        y0 = next_y;
    }
}

/// Box-filters a `w × h` source (read through `px(index)`) into `ow × oh` (`ow ≤ w`, `oh ≤ h`):
/// output pixel `(ox, oy)` is the mean of source columns `ox·w/ow .. (ox+1)·w/ow` and the
/// matching rows.
fn downscale_with(
    w: usize,
    h: usize,
    ow: usize,
    oh: usize,
    out: &mut [u8],
    px: impl Fn(usize) -> u32,
) {
    for oy in 0..oh {
        let y0 = oy * h / oh;
        let y1 = ((oy + 1) * h / oh).max(y0 + 1);
        for ox in 0..ow {
            let x0 = ox * w / ow;
            let x1 = ((ox + 1) * w / ow).max(x0 + 1);
            let mut sum = 0u32;
            for y in y0..y1 {
                let row = y * w;
                for x in x0..x1 {
                    sum += px(row + x);
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u32;
            out[oy * ow + ox] = ((sum + n / 2) / n) as u8;
        }
    }
}

/// Integer BT.601 luma of every pixel of RGBA bytes, at full resolution (a whole still, for
/// reading its machine-readable zone; the server's checks of an upload).
pub fn luma_of_rgba(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .map(|p| ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2])) >> 8) as u8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_luma_is_the_integer_luma_for_every_colour() {
        for r in 0..=255u8 {
            for g in 0..=255u8 {
                for b in (0..=255u8).step_by(if cfg!(debug_assertions) { 5 } else { 1 }) {
                    assert_eq!(luma_rgba(&[r, g, b, 255 - r]), luma(r, g, b), "{r} {g} {b}");
                }
            }
        }
        assert_eq!(luma_rgba(&[255, 255, 255, 0]), 255);
    }

    #[test]
    fn packed_pair_luma_is_the_sum_of_the_integer_lumas() {
        let step = if cfg!(debug_assertions) { 5 } else { 1 };
        for r in 0..=255u8 {
            for g in 0..=255u8 {
                for b in (0..=255u8).step_by(step) {
                    let y = luma(r, g, b);
                    for other in [[0, 0, 0], [255, 255, 255], [b, r, g]] {
                        let o = luma(other[0], other[1], other[2]);
                        let [p, q, s] = other;
                        assert_eq!(luma_rgba_pair(&[r, g, b, 7, p, q, s, 200]), y + o);
                        assert_eq!(luma_rgba_pair(&[p, q, s, 255, r, g, b, 0]), o + y);
                    }
                }
            }
        }
    }

    #[test]
    fn whole_factor_path_matches_the_general_box_filter() {
        let mut seed = 0x2545_f491_u32;
        for (w, h, long) in [
            (640, 480, 320),
            (96, 54, 16),
            (90, 60, 30),
            (64, 48, 64),
            (128, 96, 32),
        ] {
            let rgba: Vec<u8> = (0..w * h * 4)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 24) as u8
                })
                .collect();
            let mut fast = Vec::new();
            let (ow, oh) = rgba_to_luma(&rgba, w, h, long, &mut fast).expect("valid frame");
            assert_eq!(
                (w % ow, h % oh),
                (0, 0),
                "{w}x{h} -> {ow}x{oh}: a whole factor"
            );
            let mut general = vec![0; ow * oh];
            downscale_with(w, h, ow, oh, &mut general, |i| {
                luma(rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2])
            });
            assert_eq!(fast, general, "{w}x{h} -> {ow}x{oh}");
        }
    }

    #[test]
    fn luma_row_path_matches_the_general_box_filter() {
        let mut seed = 0x9e37_79b9_u32;
        for (w, h, long) in [(320, 240, 200), (320, 180, 200), (97, 61, 40), (50, 70, 33)] {
            let data: Vec<u8> = (0..w * h)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 24) as u8
                })
                .collect();
            let frame = LumaFrame::new(w, h, &data).expect("valid frame");
            let mut rows = Vec::new();
            let (ow, oh) = downscale_luma(frame, long, &mut rows);
            let mut general = vec![0; ow * oh];
            downscale_with(w, h, ow, oh, &mut general, |i| data[i] as u32);
            assert_eq!(rows, general, "{w}x{h} -> {ow}x{oh}");
        }
    }
}
