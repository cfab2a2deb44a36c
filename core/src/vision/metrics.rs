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
        // Slices zipped rather than indexed: no bounds check or edge test per pixel.
        n += (x1 + 1 - x0) as u64;
        let mut row_clipped = 0u64;
        for ((x, &v), m) in (x0..)
            .zip(&line[x0..=x1])
            .zip(&mut mask[row + x0..=row + x1])
        {
            let vu = v as u64;
            sum += vu;
            sum_sq += vu * vu;
            if v >= CLIPPED_LEVEL {
                row_clipped += 1;
                *m = 1;
                clip_box = (
                    clip_box.0.min(x),
                    clip_box.1.min(y),
                    clip_box.2.max(x),
                    clip_box.3.max(y),
                );
            }
        }
        clipped += row_clipped;
        // Horizontal differences where x-5 and x+4 are inside the row.
        let (hx0, hx1) = (x0.max(5), x1.min(w.saturating_sub(5)));
        if w >= 10 && hx0 <= hx1 {
            let cur = &line[hx0..=hx1];
            let prev = &line[hx0 - 1..hx1];
            let ahead = &line[hx0 + 4..=hx1 + 4];
            let behind = &line[hx0 - 5..=hx1 - 5];
            let (mut sf, mut sv) = (0u64, 0u64);
            for (((&v, &p), &a), &b) in cur.iter().zip(prev).zip(ahead).zip(behind) {
                let d = (v as i32 - p as i32).unsigned_abs() * 9;
                let db = (a as i32 - b as i32).unsigned_abs();
                sf += d as u64;
                sv += d.saturating_sub(db) as u64;
            }
            sf_h += sf;
            sv_h += sv;
        }
        // Vertical differences where rows y-5 and y+4 exist.
        if y >= 5 && y + 4 < h {
            let cur = &line[x0..=x1];
            let prev = &img[row - w + x0..=row - w + x1];
            let ahead = &img[row + 4 * w + x0..=row + 4 * w + x1];
            let behind = &img[row - 5 * w + x0..=row - 5 * w + x1];
            let (mut sf, mut sv) = (0u64, 0u64);
            for (((&v, &p), &a), &b) in cur.iter().zip(prev).zip(ahead).zip(behind) {
                let d = (v as i32 - p as i32).unsigned_abs() * 9;
                let db = (a as i32 - b as i32).unsigned_abs();
                sf += d as u64;
                sv += d.saturating_sub(db) as u64;
            }
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
        for ((out, &up), &m) in below[1..iw].iter_mut().zip(above).zip(mrow) {
            row_sum += (m != 0) as u32;
            *out = up + row_sum;
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
