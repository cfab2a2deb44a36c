//! Perspective rectification of the document's MRZ band.

/// A projective map from the document's unit square (`u` along the top side, `v` down the left
/// side) to frame pixels.
#[derive(Debug, Clone, Copy)]
pub struct Homography(pub(crate) [f64; 9]);

impl Homography {
    /// The unit square → quad map (Heckbert's closed form) for corners top-left, top-right,
    /// bottom-right, bottom-left. `None` for a degenerate quad (three corners in a line).
    pub fn square_to_quad(c: &[(f64, f64); 4]) -> Option<Homography> {
        let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = *c;
        let (dx1, dx2, dx3) = (x1 - x2, x3 - x2, x0 - x1 + x2 - x3);
        let (dy1, dy2, dy3) = (y1 - y2, y3 - y2, y0 - y1 + y2 - y3);
        let den = dx1 * dy2 - dx2 * dy1;
        if !den.is_finite() || den.abs() < 1e-9 {
            return None;
        }
        let g = (dx3 * dy2 - dx2 * dy3) / den;
        let h = (dx1 * dy3 - dx3 * dy1) / den;
        let m = [
            x1 - x0 + g * x1,
            x3 - x0 + h * x3,
            x0,
            y1 - y0 + g * y1,
            y3 - y0 + h * y3,
            y0,
            g,
            h,
            1.0,
        ];
        m.iter().all(|v| v.is_finite()).then_some(Homography(m))
    }

    /// The inverse map (frame pixels → the unit square): the adjugate over the determinant;
    /// `None` when the map is singular.
    #[cfg(any(feature = "corpus", feature = "mrz-eval"))]
    pub fn inverse(&self) -> Option<Homography> {
        let [a, b, c, d, e, f, g, h, i] = self.0;
        let (ca, cb, cc) = (e * i - f * h, -(d * i - f * g), d * h - e * g);
        let det = a * ca + b * cb + c * cc;
        if !det.is_finite() || det.abs() < 1e-12 {
            return None;
        }
        let k = 1.0 / det;
        Some(Homography([
            ca * k,
            -(b * i - c * h) * k,
            (b * f - c * e) * k,
            cb * k,
            (a * i - c * g) * k,
            -(a * f - c * d) * k,
            cc * k,
            -(a * h - b * g) * k,
            (a * e - b * d) * k,
        ]))
    }

    /// Maps `(u, v)` to frame pixels; `None` at or behind the horizon.
    pub fn map(&self, u: f64, v: f64) -> Option<(f64, f64)> {
        let m = &self.0;
        let w = m[6] * u + m[7] * v + m[8];
        if w.abs() < 1e-9 || !w.is_finite() {
            return None;
        }
        Some((
            (m[0] * u + m[1] * v + m[2]) / w,
            (m[3] * u + m[4] * v + m[5]) / w,
        ))
    }
}

/// The rectified band: `u0..u1` × `v0..v1` of the document sampled on a `bw × bh` grid, each
/// output pixel the mean of `k × k` bilinear samples, `k` chosen so that the sample spacing in
/// the frame stays at or below ~1 px (a still at 1920×1080 has ~15 px/mm on a card, the band
/// 8 px/mm: averaging keeps that downscale from aliasing the strokes). `None` if any corner of
/// the band maps outside the plane.
#[allow(clippy::too_many_arguments)]
pub fn band(
    luma: &[u8],
    w: usize,
    h: usize,
    hom: &Homography,
    (u0, u1): (f64, f64),
    (v0, v1): (f64, f64),
    bw: usize,
    bh: usize,
) -> Option<Vec<f32>> {
    if w == 0 || h == 0 || bw == 0 || bh == 0 || luma.len() < w.checked_mul(h)? {
        return None;
    }
    // Frame pixels per band pixel along the band's top and left edges (the larger one).
    let tl = hom.map(u0, v0)?;
    let tr = hom.map(u1, v0)?;
    let bl = hom.map(u0, v1)?;
    let br = hom.map(u1, v1)?;
    let d = |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let scale = (d(tl, tr).max(d(bl, br)) / bw as f64).max(d(tl, bl).max(d(tr, br)) / bh as f64);
    if !scale.is_finite() {
        return None;
    }
    let k = scale.ceil().clamp(1.0, 4.0) as usize;
    let (du, dv) = ((u1 - u0) / bw as f64, (v1 - v0) / bh as f64);
    let at = |x: usize, y: usize| luma.get(y * w + x).copied().unwrap_or(0) as f32;
    let sample = |x: f64, y: f64| -> f32 {
        let fx = (x - 0.5).clamp(0.0, (w - 1) as f64);
        let fy = (y - 0.5).clamp(0.0, (h - 1) as f64);
        let (x0, y0) = (fx as usize, fy as usize);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (ax, ay) = ((fx - x0 as f64) as f32, (fy - y0 as f64) as f32);
        let top = at(x0, y0) * (1.0 - ax) + at(x1, y0) * ax;
        let bot = at(x0, y1) * (1.0 - ax) + at(x1, y1) * ax;
        top * (1.0 - ay) + bot * ay
    };
    let mut out = vec![0f32; bw * bh];
    let kk = (k * k) as f32;
    for (by, row) in out.chunks_exact_mut(bw).enumerate() {
        for (bx, o) in row.iter_mut().enumerate() {
            let mut s = 0.0;
            for sy in 0..k {
                let v = v0 + (by as f64 + (sy as f64 + 0.5) / k as f64) * dv;
                for sx in 0..k {
                    let u = u0 + (bx as f64 + (sx as f64 + 0.5) / k as f64) * du;
                    s += match hom.map(u, v) {
                        Some((x, y)) => sample(x, y),
                        None => 0.0,
                    };
                }
            }
            *o = s / kk;
        }
    }
    Some(out)
}
