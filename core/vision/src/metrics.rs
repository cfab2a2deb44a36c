//! Per-region image metrics: brightness, contrast, sharpness, clipped pixels and glare blobs.
//! All loops are integer; the region is a convex quad scanned row by row (or the whole frame).

use super::geometry::{row_span, Px};

/// Luma at or above which a pixel counts as clipped (saturated, after the 2×2 averaging of the
/// downscale). Printed paper white stays below it under a sane exposure (the reference card's
/// white MRZ band reads 245, the passport's 250–251).
pub const CLIPPED_LEVEL: u8 = 253;

/// A glare blob fades out: most pixels just outside it are still within this many levels of
/// [`CLIPPED_LEVEL`]. A clipped white area of the document itself ends at print (text, lines,
/// coloured areas) with a step, so its border is not soft.
pub const GLARE_SOFT_STEP: u8 = 12;

/// The fraction of a blob's border pixels that must be soft (see [`GLARE_SOFT_STEP`]).
pub const GLARE_MIN_SOFT_BORDER: f32 = 0.6;

/// A glare blob must contain pixels whose whole `(2r+1)²` neighbourhood is clipped, with this
/// `r` (in analysis pixels, long edge 320): thin strokes — white lettering, guilloche lines,
/// hologram glints one or two pixels wide — never qualify, however bright.
pub const GLARE_CORE_RADIUS: usize = 2;

/// The region scanned: a convex quad, or the whole frame.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Region {
    Frame,
    Quad([Px; 4]),
}

impl Region {
    /// Inclusive column span of row `y`, if any.
    fn span(&self, y: usize, w: usize) -> Option<(usize, usize)> {
        match self {
            Region::Frame => Some((0, w - 1)),
            Region::Quad(q) => row_span(q, y, w),
        }
    }
}

/// Raw metrics of a region.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RegionStats {
    pub mean: f32,
    pub std_dev: f32,
    pub clipped_fraction: f32,
    /// `1 − blur` per Crété-Roffet et al. (2007), `0..=1`, higher is sharper.
    pub sharpness: f32,
    /// Largest glare blob, as a fraction of the region's pixels.
    pub glare_fraction: f32,
}

/// Reusable scratch for [`stats`].
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// 0 = outside/not clipped, 1 = clipped, 2 = clipped and visited.
    mask: Vec<u8>,
    /// Integral image of the clipped mask, `(w+1) × (h+1)`.
    integral: Vec<u32>,
    stack: Vec<u32>,
}

pub(crate) fn stats(
    img: &[u8],
    w: usize,
    h: usize,
    region: Region,
    scratch: &mut Scratch,
) -> RegionStats {
    let mut n = 0u64;
    let mut sum = 0u64;
    let mut sum_sq = 0u64;
    let mut clipped = 0u64;
    // Crété-Roffet blur: for each direction, sF = Σ|ΔI|, sV = Σ max(0, |ΔI| − |ΔB|), where B is
    // I blurred by a 9-tap box along that direction; |ΔB| telescopes to |I(+4) − I(−5)| / 9, so
    // no blurred image is stored. Everything is kept ×9.
    let (mut sf_h, mut sv_h, mut sf_v, mut sv_v) = (0u64, 0u64, 0u64, 0u64);
    super::reset(&mut scratch.mask, w * h, 0);
    let mask = &mut scratch.mask[..];
    // Bounding box of the clipped pixels (x0, y0, x1, y1 inclusive): the glare search looks
    // only there.
    let mut clip_box = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..h {
        let Some((x0, x1)) = region.span(y, w) else {
            continue;
        };
        let row = y * w;
        let line = &img[row..row + w];
        // Index loops over slices cut to the same length: no bounds check or edge test per
        // pixel, and no iterator adaptor (a call per step at opt-level "z").
        let len = x1 + 1 - x0;
        n += len as u64;
        let (span, mrow) = (&line[x0..x0 + len], &mut mask[row + x0..row + x0 + len]);
        let (mut row_sum, mut row_sq, mut row_clipped) = (0u32, 0u32, 0u32);
        for i in 0..len {
            let v = span[i];
            row_sum += v as u32;
            row_sq += v as u32 * v as u32;
            if v >= CLIPPED_LEVEL {
                let x = x0 + i;
                row_clipped += 1;
                mrow[i] = 1;
                clip_box = (
                    clip_box.0.min(x),
                    clip_box.1.min(y),
                    clip_box.2.max(x),
                    clip_box.3.max(y),
                );
            }
        }
        // Per row in u32: at most 65025 · w, which fits for any w below 66 000.
        sum += row_sum as u64;
        sum_sq += row_sq as u64;
        clipped += row_clipped as u64;
        // Horizontal differences where x-5 and x+4 are inside the row.
        let (hx0, hx1) = (x0.max(5), x1.min(w.saturating_sub(5)));
        if w >= 10 && hx0 <= hx1 {
            let (sf, sv) = blur_sums(line, hx0, 1, hx1 + 1 - hx0);
            sf_h += sf;
            sv_h += sv;
        }
        // Vertical differences where rows y-5 and y+4 exist.
        if y >= 5 && y + 4 < h {
            let (sf, sv) = blur_sums(img, row + x0, w, len);
            sf_v += sf;
            sv_v += sv;
        }
    }
    if n == 0 {
        return RegionStats::default();
    }
    let mean = sum as f64 / n as f64;
    let var = (sum_sq as f64 / n as f64 - mean * mean).max(0.0);
    let blur = |sf: u64, sv: u64| {
        if sf == 0 {
            1.0
        } else {
            (sf - sv) as f64 / sf as f64
        }
    };
    let blur = blur(sf_h, sv_h).max(blur(sf_v, sv_v));
    let glare = if clipped == 0 {
        0
    } else {
        largest_glare_blob(img, w, h, clip_box, scratch)
    };
    RegionStats {
        mean: mean as f32,
        std_dev: var.sqrt() as f32,
        clipped_fraction: (clipped as f64 / n as f64) as f32,
        sharpness: (1.0 - blur) as f32,
        glare_fraction: (glare as f64 / n as f64) as f32,
    }
}

/// Crété-Roffet sums (×9) of `len` consecutive pixels from `img[start]` along a direction whose
/// neighbour is `step` away (1: along the row, `w`: down the column): `(Σ|ΔI|, Σ max(0, |ΔI| −
/// |ΔB|))` with `ΔI = I(0) − I(−1)` and `ΔB` the 9-tap box blur's difference, which telescopes to
/// `I(+4) − I(−5)`. The caller guarantees `start ≥ 5·step` and `start + (len−1) + 4·step` in
/// bounds (the four slices below are then cut once).
#[inline(always)]
fn blur_sums(img: &[u8], start: usize, step: usize, len: usize) -> (u64, u64) {
    let span = |from: usize| &img[from..from + len];
    let (cur, prev, ahead, behind) = (
        span(start),
        span(start - step),
        span(start + 4 * step),
        span(start - 5 * step),
    );
    let (mut sf, mut sv) = (0u32, 0u32);
    for i in 0..len {
        let d = (cur[i] as i32 - prev[i] as i32).unsigned_abs() * 9;
        let db = (ahead[i] as i32 - behind[i] as i32).unsigned_abs();
        sf += d;
        sv += d.saturating_sub(db);
    }
    // ≤ 2295 per pixel: a row of up to 1.8 million pixels fits in u32.
    (sf as u64, sv as u64)
}

/// Pixel count of the largest 4-connected clipped component that contains at least one "core"
/// pixel (one whose `(2r+1)²` neighbourhood is entirely clipped) and has a soft border.
fn largest_glare_blob(
    img: &[u8],
    w: usize,
    h: usize,
    (bx0, by0, bx1, by1): (usize, usize, usize, usize),
    s: &mut Scratch,
) -> u32 {
    let soft_level = CLIPPED_LEVEL.saturating_sub(GLARE_SOFT_STEP);
    let r = GLARE_CORE_RADIUS;
    // A core pixel's whole neighbourhood is clipped, so it lies at least `r` inside the clipped
    // pixels' bounding box: the integral image covers only that box (`bw × bh`, local
    // coordinates), and the scan only its interior.
    if bx1 < bx0 + 2 * r || by1 < by0 + 2 * r {
        return 0;
    }
    let (bw, bh) = (bx1 + 1 - bx0, by1 + 1 - by0);
    let iw = bw + 1;
    super::reset(&mut s.integral, iw * (bh + 1), 0);
    let (mask, integral) = (&mut s.mask[..], &mut s.integral[..]);
    for ly in 0..bh {
        let mut row_sum = 0u32;
        let mrow = &mask[(by0 + ly) * w + bx0..(by0 + ly) * w + bx1 + 1];
        let (above, below) = integral.split_at_mut((ly + 1) * iw);
        let above = &above[ly * iw + 1..ly * iw + iw];
        let out = &mut below[1..iw];
        for i in 0..bw {
            row_sum += (mrow[i] != 0) as u32;
            out[i] = above[i] + row_sum;
        }
    }
    let full = ((2 * r + 1) * (2 * r + 1)) as u32;
    let mut best = 0u32;
    for y in (by0 + r)..=(by1 - r) {
        for x in (bx0 + r)..=(bx1 - r) {
            if mask[y * w + x] != 1 {
                continue;
            }
            let (x0, y0, x1, y1) = (x - r - bx0, y - r - by0, x + r + 1 - bx0, y + r + 1 - by0);
            let box_sum = integral[y1 * iw + x1] + integral[y0 * iw + x0]
                - integral[y0 * iw + x1]
                - integral[y1 * iw + x0];
            if box_sum != full {
                continue;
            }
            // A core pixel of an unvisited blob: flood fill it.
            let mut area = 0u32;
            let (mut border, mut soft) = (0u32, 0u32);
            s.stack.clear();
            s.stack.push((y * w + x) as u32);
            mask[y * w + x] = 2;
            while let Some(i) = s.stack.pop() {
                let i = i as usize;
                area += 1;
                let (px, py) = (i % w, i / w);
                let neighbours = [
                    (px > 0).then(|| i - 1),
                    (px + 1 < w).then(|| i + 1),
                    (py > 0).then(|| i - w),
                    (py + 1 < h).then(|| i + w),
                ];
                for j in neighbours.into_iter().flatten() {
                    match mask[j] {
                        1 => {
                            mask[j] = 2;
                            s.stack.push(j as u32);
                        }
                        0 => {
                            border += 1;
                            soft += (img[j] >= soft_level) as u32;
                        }
                        _ => {}
                    }
                }
            }
            if border == 0 || soft as f32 >= GLARE_MIN_SOFT_BORDER * border as f32 {
                best = best.max(area);
            }
        }
    }
    best
}
