//! The compute kernels of [`crate::net`]: f32, NCHW with batch 1, the hot loops on four-lane
//! vectors ([`F4`]: wasm `simd128` in the worker, portable arrays natively).

use crate::simd::F4;

/// Output rows per GEMM block (weights are packed in groups of this many output channels). 4 × 8
/// pixels = 8 vector accumulators; 6 rows were slower in Chromium (10.1 vs 8.4 ms median per
/// frame, register spills).
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
    /// Rows of the padded input the windows cover.
    pub fn padded_rows(&self) -> usize {
        (self.oh - 1) * self.sh + self.kh
    }

    /// Length of one column phase of a padded row (the padded row is stored as `sw` phases,
    /// phase `p` holding padded columns `p, p + sw, p + 2·sw, …`).
    pub fn phase_len(&self) -> usize {
        ((self.ow - 1) * self.sw + self.kw).div_ceil(self.sw)
    }

    /// Floats of one padded, phase-split channel ([`Geom::pad_plane`]).
    pub fn padded_len(&self) -> usize {
        self.padded_rows() * self.sw * self.phase_len()
    }

    /// Offset in a padded, phase-split channel of the input under output pixel (0, 0) for
    /// kernel tap (`ky`, `kx`); output pixel (`oy`, `ox`) reads offset `+ oy · row_step() + ox`.
    pub fn tap(&self, ky: usize, kx: usize) -> usize {
        (ky * self.sw + kx % self.sw) * self.phase_len() + kx / self.sw
    }

    /// Offset between output rows in a padded, phase-split channel.
    pub fn row_step(&self) -> usize {
        self.sh * self.sw * self.phase_len()
    }

    /// Copies one `h × w` channel into `dst` (`padded_len()` floats): zero padding around it,
    /// each row split into its `sw` column phases, so that every kernel tap reads a contiguous
    /// run of `ow` floats per output row.
    pub fn pad_plane(&self, plane: &[f32], dst: &mut [f32]) {
        let (s, qw) = (self.sw, self.phase_len());
        for (r, drow) in dst[..self.padded_len()]
            .chunks_exact_mut(s * qw)
            .enumerate()
        {
            drow.fill(0.0);
            let Some(iy) = r.checked_sub(self.pt).filter(|&iy| iy < self.h) else {
                continue;
            };
            let src = &plane[iy * self.w..(iy + 1) * self.w];
            if s == 1 {
                let end = (self.pl + self.w).min(qw);
                if self.pl < end {
                    drow[self.pl..end].copy_from_slice(&src[..end - self.pl]);
                }
                continue;
            }
            for (p, dphase) in drow.chunks_exact_mut(qw).enumerate() {
                // First input column in phase p: (ix + pl) % s == p.
                let ix0 = (p + s - self.pl % s) % s;
                let Some(src) = src.get(ix0..) else { continue };
                let start = (ix0 + self.pl) / s;
                let Some(d) = dphase.get_mut(start..) else {
                    continue;
                };
                for (d, v) in d.iter_mut().zip(src.iter().step_by(s)) {
                    *d = *v;
                }
            }
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
    pub fn apply(&self, out: &mut [f32], n: usize) {
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

/// Pixels per packed panel of [`gemm_rows`]'s right-hand side.
pub(crate) const NC: usize = 64;

/// `out[co · ostride + ocol + p] = ep(bias[co] + Σ_kk W[co, kk] · x[offs[kk] + p])` for `p` in
/// `0..n`: a GEMM whose reduction rows start anywhere in `x` (`packed` from [`pack_gemm`]),
/// the epilogue's residual read at the same index as the output. A 1×1 convolution is
/// `offs[kk] = kk · n`, `ostride = n`, `ocol = 0`. `x` is copied in panels of [`NC`] pixels
/// (`panel`: `offs.len() · NC` floats) so that the rows of one block sit together in cache.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_rows(
    packed: &[f32],
    bias: &[f32],
    offs: &[usize],
    x: &[f32],
    n: usize,
    out: &mut [f32],
    ostride: usize,
    ocol: usize,
    ep: Epilogue<'_>,
    panel: &mut [f32],
) {
    let (k, cout) = (offs.len(), bias.len());
    let panel = &mut panel[..k * NC];
    let (res, rc) = ep.res.unwrap_or((&[], 0));
    let store = |out: &mut [f32], co: usize, at: usize, v: f32| {
        let mut v = v + bias[co];
        if co < rc {
            v += res[at];
        }
        out[at] = if ep.relu { v.max(0.0) } else { v };
    };
    for p0 in (0..n).step_by(NC) {
        let pc = NC.min(n - p0);
        for (dst, &o) in panel.chunks_exact_mut(NC).zip(offs) {
            dst[..pc].copy_from_slice(&x[o + p0..o + p0 + pc]);
        }
        let full = pc - pc % NR;
        for (b, wb) in packed.chunks_exact(k * MR).enumerate() {
            let co0 = b * MR;
            let rows = MR.min(cout - co0);
            for p in (0..full).step_by(NR) {
                let mut acc = [[F4::splat(0.0); 2]; MR];
                for (xrow, w4) in panel.chunks_exact(NC).zip(wb.chunks_exact(MR)) {
                    let xs = &xrow[p..p + NR];
                    let (x0, x1) = (F4::load(xs), F4::load(&xs[4..]));
                    for (a, &wv) in acc.iter_mut().zip(w4) {
                        let wv = F4::splat(wv);
                        a[0] = a[0].mul_add(wv, x0);
                        a[1] = a[1].mul_add(wv, x1);
                    }
                }
                for (r, a) in acc.iter().enumerate().take(rows) {
                    let co = co0 + r;
                    let at = co * ostride + ocol + p0 + p;
                    let b = F4::splat(bias[co]);
                    for (h, &av) in a.iter().enumerate() {
                        let at = at + 4 * h;
                        let mut v = av.add(b);
                        if co < rc {
                            v = v.add(F4::load(&res[at..]));
                        }
                        if ep.relu {
                            v = v.max(F4::splat(0.0));
                        }
                        v.store(&mut out[at..]);
                    }
                }
            }
            for p in full..pc {
                for r in 0..rows {
                    let co = co0 + r;
                    let mut s = 0.0;
                    for (kk, xrow) in panel.chunks_exact(NC).enumerate() {
                        s += wb[kk * MR + r] * xrow[p];
                    }
                    store(out, co, co * ostride + ocol + p0 + p, s);
                }
            }
        }
    }
}

/// A full convolution (`group = 1`) as a GEMM over padded, phase-split input channels: `pad`
/// holds `c · padded_len()` floats, `offs[kk]` the offset of reduction index `kk = (ci, ky, kx)`
/// (see [`conv_offsets`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv(
    packed: &[f32],
    bias: &[f32],
    offs: &[usize],
    g: &Geom,
    x: &[f32],
    out: &mut [f32],
    pad: &mut [f32],
    panel: &mut [f32],
    ep: Epilogue<'_>,
) {
    let len = g.padded_len();
    for (ci, dst) in pad[..g.c * len].chunks_exact_mut(len).enumerate() {
        g.pad_plane(&x[ci * g.h * g.w..(ci + 1) * g.h * g.w], dst);
    }
    let n = g.oh * g.ow;
    for oy in 0..g.oh {
        gemm_rows(
            packed,
            bias,
            offs,
            &pad[oy * g.row_step()..g.c * len],
            g.ow,
            out,
            n,
            oy * g.ow,
            ep,
            panel,
        );
    }
}

/// Offsets of the reduction rows of [`conv`].
pub(crate) fn conv_offsets(g: &Geom) -> Vec<usize> {
    let mut offs = Vec::with_capacity(g.c * g.kh * g.kw);
    for ci in 0..g.c {
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                offs.push(ci * g.padded_len() + g.tap(ky, kx));
            }
        }
    }
    offs
}

/// `dst[x] = b + Σ_t wk[t] · r[t][x]` (one output run of a 3×3 depthwise convolution).
fn taps9(r: &[&[f32]; 9], wk: &[f32], b: f32, dst: &mut [f32]) {
    let m = dst.len();
    let full = m - m % 4;
    let wv: [F4; 9] = std::array::from_fn(|t| F4::splat(wk[t]));
    let bv = F4::splat(b);
    for x in (0..full).step_by(4) {
        let mut acc = bv;
        for (w, row) in wv.iter().zip(r) {
            acc = acc.mul_add(*w, F4::load(&row[x..]));
        }
        acc.store(&mut dst[x..]);
    }
    for x in full..m {
        let mut acc = b;
        for (w, row) in wk.iter().zip(r) {
            acc += w * row[x];
        }
        dst[x] = acc;
    }
}

/// Scratch floats [`depthwise`] needs.
pub(crate) fn depthwise_scratch(g: &Geom) -> usize {
    g.padded_len() + g.oh * g.phase_len()
}

/// Depthwise convolution (`group = c`, one `kh × kw` filter per channel, `w` channel-major),
/// then the epilogue. `pad`: [`depthwise_scratch`] floats.
pub(crate) fn depthwise(
    w: &[f32],
    bias: &[f32],
    g: &Geom,
    x: &[f32],
    out: &mut [f32],
    pad: &mut [f32],
    ep: Epilogue<'_>,
) {
    let (ksize, n, ow) = (g.kh * g.kw, g.oh * g.ow, g.ow);
    let (pad, flat) = pad.split_at_mut(g.padded_len());
    let out = &mut out[..g.c * n];
    for (ch, o) in out.chunks_exact_mut(n).enumerate() {
        g.pad_plane(&x[ch * g.h * g.w..(ch + 1) * g.h * g.w], pad);
        let wk = &w[ch * ksize..(ch + 1) * ksize];
        let b = bias[ch];
        if g.kh == 3 && g.kw == 3 && g.sw == 1 && g.sh == 1 {
            // Stride 1: the whole plane as one run over the padded rows (`qw` apart), the two
            // columns past each row's end computed and dropped.
            let qw = g.phase_len();
            let m = (g.oh - 1) * qw + ow;
            let r: [&[f32]; 9] = std::array::from_fn(|k| {
                let (ky, kx) = (k / 3, k % 3);
                &pad[ky * qw + kx..ky * qw + kx + m]
            });
            let flat = &mut flat[..m];
            taps9(&r, wk, b, flat);
            for (oy, orow) in o.chunks_exact_mut(ow).enumerate() {
                orow.copy_from_slice(&flat[oy * qw..oy * qw + ow]);
            }
        } else if g.kh == 3 && g.kw == 3 {
            let offs: [usize; 9] = std::array::from_fn(|k| g.tap(k / 3, k % 3));
            for (oy, orow) in o.chunks_exact_mut(ow).enumerate() {
                let base = &pad[oy * g.row_step()..];
                let r = offs.map(|o| &base[o..o + ow]);
                taps9(&r, wk, b, orow);
            }
        } else {
            o.fill(b);
            for (oy, orow) in o.chunks_exact_mut(ow).enumerate() {
                let base = &pad[oy * g.row_step()..];
                for ky in 0..g.kh {
                    for kx in 0..g.kw {
                        let wt = wk[ky * g.kw + kx];
                        let src = &base[g.tap(ky, kx)..g.tap(ky, kx) + ow];
                        for (d, s) in orow.iter_mut().zip(src) {
                            *d += wt * s;
                        }
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
            let row = |ky: usize| &plane[(oy * g.sh + ky) * g.w..(oy * g.sh + ky + 1) * g.w];
            if (g.kh, g.kw, g.sw) == (2, 2, 2) {
                let (r0, r1) = (row(0), row(1));
                for ((d, a), b) in orow
                    .iter_mut()
                    .zip(r0.chunks_exact(2))
                    .zip(r1.chunks_exact(2))
                {
                    *d = a[0].max(a[1]).max(b[0].max(b[1]));
                }
                continue;
            }
            orow.fill(f32::NEG_INFINITY);
            for ky in 0..g.kh {
                let r = row(ky);
                for kx in 0..g.kw {
                    for (d, s) in orow.iter_mut().zip(r[kx..].iter().step_by(g.sw)) {
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
