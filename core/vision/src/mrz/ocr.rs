//! The MRZ character classifier: a one-hidden-layer perceptron on a normalised 16 × 24 crop of
//! one character cell, 37 classes (`0-9`, `A-Z`, `<`).
//!
//! The crop geometry is defined relative to the line's cap height `H` (measured in the image):
//! one crop sample is `H / 16` image pixels in both directions, so the 16 × 24 crop spans
//! `1.0 H × 1.5 H` around the cell centre. An OCR-B glyph is ~0.6 H wide; its neighbours, one
//! pitch (≈ 1.05 H at the ICAO 2.54 mm pitch) away, start ~0.75 H from the centre and so only
//! graze the crop's edges. Intensities are stretched per crop (min → 0 ink, max → 1 ink … see
//! [`normalise`]), which makes the classifier indifferent to exposure and print darkness.
//!
//! Weights: `weights.bin` (format in [`Net::from_bytes`]), written by `src/bin/mrz_train.rs`
//! (`scripts/mrz-train.sh`), loaded with `include_bytes!` and dequantised once.

use std::sync::OnceLock;

/// The classes, in output order.
pub const CLASSES: &[u8; 37] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<";
/// Number of classes.
pub const N_CLASSES: usize = 37;
/// Crop width in samples.
pub const CROP_W: usize = 16;
/// Crop height in samples.
pub const CROP_H: usize = 24;
/// Input size of the network.
pub const INPUT: usize = CROP_W * CROP_H;
/// Crop samples per cap height (see the module doc).
pub const SAMPLES_PER_H: f32 = 16.0;

const MAGIC: &[u8; 4] = b"LFM1";

/// The committed weights.
static WEIGHTS: &[u8] = include_bytes!("weights.bin");

/// The dequantised network.
#[derive(Debug, Clone)]
pub struct Net {
    hidden: usize,
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
}

/// The committed network, parsed once; `None` if the weights file is missing or malformed (then
/// [`super::read`] reads nothing).
pub fn net() -> Option<&'static Net> {
    static NET: OnceLock<Option<Net>> = OnceLock::new();
    NET.get_or_init(|| Net::from_bytes(WEIGHTS)).as_ref()
}

/// A little-endian reader that never panics.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn u16(&mut self) -> Option<usize> {
        let s = self.take(2)?;
        Some(u16::from_le_bytes([*s.first()?, *s.get(1)?]) as usize)
    }
    fn f32s(&mut self, n: usize) -> Option<Vec<f32>> {
        let s = self.take(n.checked_mul(4)?)?;
        Some(
            s.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )
    }
    /// A layer: per-row scales, i8 weights (row-major, `rows × cols`), biases.
    fn layer(&mut self, rows: usize, cols: usize) -> Option<(Vec<f32>, Vec<f32>)> {
        let scales = self.f32s(rows)?;
        let q = self.take(rows.checked_mul(cols)?)?;
        let w = q
            .chunks_exact(cols)
            .zip(&scales)
            .flat_map(|(row, &s)| row.iter().map(move |&v| v as i8 as f32 * s))
            .collect();
        let b = self.f32s(rows)?;
        Some((w, b))
    }
}

/// Quantises one layer to the file format: per output row a scale (max |w| / 127) and i8 weights.
fn push_layer(out: &mut Vec<u8>, w: &[f32], b: &[f32], cols: usize) {
    let rows: Vec<&[f32]> = w.chunks_exact(cols).collect();
    let scales: Vec<f32> = rows
        .iter()
        .map(|r| r.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-8) / 127.0)
        .collect();
    for s in &scales {
        out.extend_from_slice(&s.to_le_bytes());
    }
    for (r, s) in rows.iter().zip(&scales) {
        out.extend(
            r.iter()
                .map(|v| (v / s).round().clamp(-127.0, 127.0) as i8 as u8),
        );
    }
    for v in b {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

impl Net {
    /// Parses the weights file: `LFM1`, `u16` input, hidden and output sizes, then layer 1
    /// (`hidden` f32 scales, `hidden × input` i8, `hidden` f32 biases) and layer 2 (the same with
    /// `output × hidden`). Little-endian. `None` unless the sizes are this module's.
    pub fn from_bytes(b: &[u8]) -> Option<Net> {
        let mut r = Reader { b, at: 0 };
        if r.take(4)? != MAGIC {
            return None;
        }
        let (input, hidden, output) = (r.u16()?, r.u16()?, r.u16()?);
        if input != INPUT || output != N_CLASSES || hidden == 0 {
            return None;
        }
        let (w1, b1) = r.layer(hidden, input)?;
        let (w2, b2) = r.layer(output, hidden)?;
        Some(Net {
            hidden,
            w1,
            b1,
            w2,
            b2,
        })
    }

    /// Encodes float weights (`w1`: `hidden × INPUT`, `w2`: `N_CLASSES × hidden`, row-major) in
    /// the file format (quantised). Used by the trainer.
    pub fn encode(hidden: usize, w1: &[f32], b1: &[f32], w2: &[f32], b2: &[f32]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        for v in [INPUT, hidden, N_CLASSES] {
            out.extend_from_slice(&(v as u16).to_le_bytes());
        }
        push_layer(&mut out, w1, b1, INPUT);
        push_layer(&mut out, w2, b2, hidden);
        out
    }

    /// Class probabilities (softmax) for one normalised crop.
    pub fn probs(&self, x: &[f32; INPUT], out: &mut [f32; N_CLASSES]) {
        let mut h = vec![0f32; self.hidden];
        for ((hv, row), b) in h.iter_mut().zip(self.w1.chunks_exact(INPUT)).zip(&self.b1) {
            let s: f32 = row.iter().zip(x.iter()).map(|(w, v)| w * v).sum();
            *hv = (s + b).max(0.0);
        }
        for ((o, row), b) in out
            .iter_mut()
            .zip(self.w2.chunks_exact(self.hidden))
            .zip(&self.b2)
        {
            *o = row.iter().zip(&h).map(|(w, v)| w * v).sum::<f32>() + b;
        }
        softmax(out);
    }
}

/// In-place softmax.
pub fn softmax(v: &mut [f32]) {
    let m = v.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let mut s = 0.0;
    for x in v.iter_mut() {
        *x = (*x - m).exp();
        s += *x;
    }
    if s > 0.0 {
        for x in v.iter_mut() {
            *x /= s;
        }
    }
}

/// A grey image in `f32` (any range), row-major.
#[derive(Debug, Clone, Copy)]
pub struct Gray<'a> {
    pub px: &'a [f32],
    pub w: usize,
    pub h: usize,
}

impl Gray<'_> {
    /// Bilinear sample at `(x, y)` (pixel centres at `i + 0.5`), clamped to the border.
    pub fn bilinear(&self, x: f32, y: f32) -> f32 {
        if self.w == 0 || self.h == 0 {
            return 0.0;
        }
        let fx = (x - 0.5).clamp(0.0, (self.w - 1) as f32);
        let fy = (y - 0.5).clamp(0.0, (self.h - 1) as f32);
        let (x0, y0) = (fx as usize, fy as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
        let at = |x: usize, y: usize| self.px.get(y * self.w + x).copied().unwrap_or(0.0);
        let top = at(x0, y0) * (1.0 - ax) + at(x1, y0) * ax;
        let bot = at(x0, y1) * (1.0 - ax) + at(x1, y1) * ax;
        top * (1.0 - ay) + bot * ay
    }
}

/// Samples the crop around `(cx, cy)`: sample spacing `sx` × `sy` image pixels, the crop's axes
/// rotated by the angle whose cosine and sine are `cos`, `sin` (the text line's slope).
#[allow(clippy::too_many_arguments)]
pub fn crop(
    img: &Gray,
    cx: f32,
    cy: f32,
    sx: f32,
    sy: f32,
    cos: f32,
    sin: f32,
    out: &mut [f32; INPUT],
) {
    for (j, row) in out.chunks_exact_mut(CROP_W).enumerate() {
        let dy = (j as f32 + 0.5 - CROP_H as f32 / 2.0) * sy;
        for (i, o) in row.iter_mut().enumerate() {
            let dx = (i as f32 + 0.5 - CROP_W as f32 / 2.0) * sx;
            *o = img.bilinear(cx + dx * cos - dy * sin, cy + dx * sin + dy * cos);
        }
    }
}

/// Stretches a crop of luma values to ink in `0..1` (darkest sample 1, lightest 0) and returns
/// the crop's luma range. Every MRZ cell holds a printed character (fillers included), so the
/// darkest sample is ink and the lightest is paper.
pub fn normalise(v: &mut [f32; INPUT]) -> f32 {
    let (lo, hi) = v
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &x| {
            (l.min(x), h.max(x))
        });
    let range = hi - lo;
    if range.is_finite() && range > 1e-3 {
        for x in v.iter_mut() {
            *x = (hi - *x) / range;
        }
        range
    } else {
        v.fill(0.0);
        0.0
    }
}
