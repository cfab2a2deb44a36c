//! The compute kernels of [`crate::net`]: f32, NCHW with batch 1, written so that LLVM
//! vectorises them (fixed-size accumulator arrays, contiguous slices, `chunks_exact`): to wasm
//! `simd128` in the worker, to SSE/NEON natively.

/// Output rows per GEMM block (weights are packed in groups of this many output channels).
pub(crate) const MR: usize = 4;
/// Output pixels per GEMM block.
const NR: usize = 8;

/// Geometry of a 2-D window operation (convolution or pooling) on a `c × h × w` input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Geom {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    /// Padding before (top, left); the padding after only shows in `oh`, `ow`.
    pub pt: usize,
    pub pl: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Geom {
    /// Output columns `lo..hi` whose input column `ox * sw + kx - pl` is inside the row, and
    /// `q`, `phase` such that that input column is `sw * (ox + q) + phase`.
    fn cols(&self, kx: usize) -> (usize, usize, isize, usize) {
        let d = kx as isize - self.pl as isize;
        let s = self.sw as isize;
        // ox * s + d >= 0  and  ox * s + d <= w - 1
        let lo = if d >= 0 { 0 } else { (-d + s - 1) / s };
        let hi = (self.w as isize - 1 - d).div_euclid(s) + 1;
        let (lo, hi) = (lo as usize, hi.clamp(0, self.ow as isize) as usize);
        (lo.min(hi), hi, d.div_euclid(s), d.rem_euclid(s) as usize)
    }

    /// Input row of output row `oy` and kernel row `ky`, if inside the image.
    fn row(&self, oy: usize, ky: usize) -> Option<usize> {
        (oy * self.sh + ky)
            .checked_sub(self.pt)
            .filter(|&iy| iy < self.h)
    }

    /// Width of one phase of a de-interleaved input row.
    fn phase_len(&self) -> usize {
        self.w.div_ceil(self.sw)
    }

    /// `row` split into `sw` phases (`out[p * phase_len + j] = row[sw * j + p]`, zero past the
    /// end), or the row itself when the stride is 1.
    fn phases<'a>(&self, row: &'a [f32], scratch: &'a mut [f32]) -> &'a [f32] {
        if self.sw == 1 {
            return row;
        }
        let pw = self.phase_len();
        for (p, dst) in scratch[..pw * self.sw].chunks_exact_mut(pw).enumerate() {
            dst.fill(0.0);
            for (d, s) in dst.iter_mut().zip(row[p..].iter().step_by(self.sw)) {
                *d = *s;
            }
        }
        &scratch[..pw * self.sw]
    }

    /// Scratch floats [`Geom::phases`] needs.
    pub fn phase_scratch(&self) -> usize {
        if self.sw == 1 {
            0
        } else {
            self.phase_len() * self.sw
        }
    }
}

/// What follows a convolution: `relu(conv + residual)`, the residual (`res_c × pixels`, its
/// first `res_c` channels added to the first output channels: ONNX's channel Pad + Add) being
/// optional.
#[derive(Clone, Copy)]
pub(crate) struct Epilogue<'a> {
    pub res: Option<(&'a [f32], usize)>,
    pub relu: bool,
}

impl Epilogue<'_> {
    fn apply(&self, out: &mut [f32], n: usize) {
        if let Some((res, rc)) = self.res {
            for (o, r) in out[..rc * n].iter_mut().zip(&res[..rc * n]) {
                *o += *r;
            }
        }
        if self.relu {
            for o in out.iter_mut() {
                *o = o.max(0.0);
            }
        }
    }
}

/// Packs a `cout × k` row-major weight matrix in blocks of [`MR`] rows, `k`-major within a
/// block (`packed[(b * k + kk) * MR + r] = w[(b * MR + r) * k + kk]`), zero rows past `cout`.
pub(crate) fn pack_gemm(w: &[f32], cout: usize, k: usize) -> Vec<f32> {
    let blocks = cout.div_ceil(MR);
    let mut packed = vec![0.0; blocks * k * MR];
    for (b, block) in packed.chunks_exact_mut(k * MR).enumerate() {
        for (kk, dst) in block.chunks_exact_mut(MR).enumerate() {
            for (r, d) in dst.iter_mut().enumerate() {
                let row = b * MR + r;
                if row < cout {
                    *d = w[row * k + kk];
                }
            }
        }
    }
    packed
}

/// `out (cout × n) = W (cout × k) · x (k × n) + bias`, then the epilogue. `packed` from
/// [`pack_gemm`].
pub(crate) fn gemm(
    packed: &[f32],
    bias: &[f32],
    k: usize,
    x: &[f32],
    n: usize,
    out: &mut [f32],
    ep: Epilogue<'_>,
) {
    let cout = bias.len();
    let x = &x[..k * n];
    let out = &mut out[..cout * n];
    let full = n - n % NR;
    for (b, wb) in packed.chunks_exact(k * MR).enumerate() {
        let co0 = b * MR;
        let rows = MR.min(cout - co0);
        let mut p = 0;
        while p < full {
            let mut acc = [[0.0f32; NR]; MR];
            for (xrow, w4) in x.chunks_exact(n).zip(wb.chunks_exact(MR)) {
                let xs: &[f32; NR] = xrow[p..p + NR].try_into().expect("NR floats");
                for (a, &wv) in acc.iter_mut().zip(w4) {
                    for (av, &xv) in a.iter_mut().zip(xs) {
                        *av += wv * xv;
                    }
                }
            }
            for (r, a) in acc.iter().enumerate().take(rows) {
                let co = co0 + r;
                for (o, &av) in out[co * n + p..co * n + p + NR].iter_mut().zip(a) {
                    *o = av + bias[co];
                }
            }
            p += NR;
        }
        for p in full..n {
            for r in 0..rows {
                let co = co0 + r;
                let mut s = 0.0;
                for (kk, xrow) in x.chunks_exact(n).enumerate() {
                    s += wb[kk * MR + r] * xrow[p];
                }
                out[co * n + p] = s + bias[co];
            }
        }
    }
    ep.apply(out, n);
}

/// Lays out the convolution windows of `x` as a `(c·kh·kw) × (oh·ow)` matrix (zeros for the
/// padding), so that a full convolution is a [`gemm`].
pub(crate) fn im2col(g: &Geom, x: &[f32], col: &mut [f32], scratch: &mut [f32]) {
    let n = g.oh * g.ow;
    let pw = g.phase_len();
    let col = &mut col[..g.c * g.kh * g.kw * n];
    col.fill(0.0);
    for ci in 0..g.c {
        let plane = &x[ci * g.h * g.w..(ci + 1) * g.h * g.w];
        for ky in 0..g.kh {
            for oy in 0..g.oh {
                let Some(iy) = g.row(oy, ky) else { continue };
                let src = g.phases(&plane[iy * g.w..(iy + 1) * g.w], scratch);
                for kx in 0..g.kw {
                    let (lo, hi, q, phase) = g.cols(kx);
                    let r = (ci * g.kh + ky) * g.kw + kx;
                    let dst = &mut col[r * n + oy * g.ow..r * n + (oy + 1) * g.ow];
                    let start = (phase * pw) as isize + lo as isize + q;
                    let start = start as usize;
                    dst[lo..hi].copy_from_slice(&src[start..start + hi - lo]);
                }
            }
        }
    }
}

/// Depthwise convolution (`group = c`, one `kh × kw` filter per channel, `w` channel-major),
/// then the epilogue.
pub(crate) fn depthwise(
    w: &[f32],
    bias: &[f32],
    g: &Geom,
    x: &[f32],
    out: &mut [f32],
    scratch: &mut [f32],
    ep: Epilogue<'_>,
) {
    let (ksize, n) = (g.kh * g.kw, g.oh * g.ow);
    let pw = g.phase_len();
    let out = &mut out[..g.c * n];
    for (ch, o) in out.chunks_exact_mut(n).enumerate() {
        let plane = &x[ch * g.h * g.w..(ch + 1) * g.h * g.w];
        let wk = &w[ch * ksize..(ch + 1) * ksize];
        o.fill(bias[ch]);
        for (oy, orow) in o.chunks_exact_mut(g.ow).enumerate() {
            for ky in 0..g.kh {
                let Some(iy) = g.row(oy, ky) else { continue };
                let src = g.phases(&plane[iy * g.w..(iy + 1) * g.w], scratch);
                for kx in 0..g.kw {
                    let wt = wk[ky * g.kw + kx];
                    let (lo, hi, q, phase) = g.cols(kx);
                    let start = ((phase * pw) as isize + lo as isize + q) as usize;
                    for (d, &s) in orow[lo..hi].iter_mut().zip(&src[start..start + hi - lo]) {
                        *d += wt * s;
                    }
                }
            }
        }
    }
    ep.apply(out, n);
}

/// Max pooling without padding (the planner refuses padded pooling).
pub(crate) fn max_pool(g: &Geom, x: &[f32], out: &mut [f32]) {
    let n = g.oh * g.ow;
    for (ch, o) in out[..g.c * n].chunks_exact_mut(n).enumerate() {
        let plane = &x[ch * g.h * g.w..(ch + 1) * g.h * g.w];
        for (oy, orow) in o.chunks_exact_mut(g.ow).enumerate() {
            orow.fill(f32::NEG_INFINITY);
            for ky in 0..g.kh {
                let row = &plane[(oy * g.sh + ky) * g.w..(oy * g.sh + ky + 1) * g.w];
                for kx in 0..g.kw {
                    for (d, s) in orow.iter_mut().zip(row[kx..].iter().step_by(g.sw)) {
                        *d = d.max(*s);
                    }
                }
            }
        }
    }
}

/// Transposes a rank-4 tensor (`dims` of the input): `out[i0,i1,i2,i3]` (in `perm` order) =
/// `x[...]`.
pub(crate) fn transpose4(x: &[f32], dims: [usize; 4], perm: [usize; 4], out: &mut [f32]) {
    let mut strides = [0; 4];
    let mut s = 1;
    for a in (0..4).rev() {
        strides[a] = s;
        s *= dims[a];
    }
    let od = perm.map(|p| dims[p]);
    let os = perm.map(|p| strides[p]);
    let mut i = 0;
    for a in 0..od[0] {
        for b in 0..od[1] {
            for c in 0..od[2] {
                let base = a * os[0] + b * os[1] + c * os[2];
                for d in 0..od[3] {
                    out[i] = x[base + d * os[3]];
                    i += 1;
                }
            }
        }
    }
}
