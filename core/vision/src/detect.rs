//! Finding the document outline: thin oriented edges (Sobel + non-maximum suppression), an
//! orientation-gated Hough transform for straight lines, then the largest quadrilateral made of
//! two roughly parallel pairs of lines whose aspect ratio fits the document kind and whose four
//! sides are each backed by edge pixels along their length.
//!
//! Why Hough with orientation gating: each edge pixel only votes for lines within
//! [`VOTE_WINDOW_DEG`] of its own gradient direction, so textured backgrounds (gravel, wood, carpet)
//! whose edges point every which way spread their votes thinly, while a document border, straight
//! and consistently oriented over its whole length, stands out even when small in the frame.

use super::geometry::{order_corners, signed_area, DocumentKind, Px};

/// Marks a pixel that is not an edge in the orientation map.
const NO_EDGE: u8 = 255;

/// Minimum Sobel L1 gradient magnitude (`|gx| + |gy|`, i.e. about 4× a luma step across the edge)
/// for an edge pixel: 24 ≈ a 6-level step. Low on purpose: a light card on a light table has
/// borders only a few levels deep; texture noise this lets in is handled by orientation gating.
pub const EDGE_MIN_MAGNITUDE: u16 = 24;

/// Hough angle resolution: one bin per degree over 0..180.
const ANGLE_BINS: usize = 180;

/// An edge pixel votes for line angles within ± this many degrees of its gradient direction
/// (Sobel directions along a border with texture on one side scatter by ±5°).
pub const VOTE_WINDOW_DEG: i32 = 6;

/// At most this many lines (strongest Hough peaks) enter the quadrilateral search…
pub const MAX_LINES: usize = 56;
/// …and at most this many from any 10° sector of directions, so that the many parallel edges of
/// text lines cannot crowd out a weaker document border of the other direction.
pub const MAX_LINES_PER_SECTOR: usize = 10;

/// A line needs at least this many votes, as a fraction of the analysis frame's short side.
pub const MIN_LINE_VOTES_FRACTION: f32 = 0.12;

/// Two lines are opposite sides of a document if their directions differ by at most this much
/// (perspective makes opposite sides converge).
pub const MAX_OPPOSITE_SIDE_ANGLE_DEG: i32 = 16;

/// Adjacent sides must meet at 90° ± this much.
pub const MAX_CORNER_DEVIATION_DEG: i32 = 20;

/// The document's short side must be at least this fraction of the frame's short side for the
/// outline to be looked for at all (smaller is noise: letters, icons).
pub const MIN_SHORT_SIDE_FRACTION: f32 = 0.08;

/// Each side needs edge pixels (oriented along it, within ±[`SUPPORT_ANGLE_TOL_DEG`]) on at
/// least this fraction of its length (the middle 80 %, corners may be rounded).
pub const MIN_SIDE_SUPPORT: f32 = 0.45;
/// …and the four sides together at least this fraction.
pub const MIN_MEAN_SUPPORT: f32 = 0.58;
/// Orientation tolerance of an edge pixel supporting a side.
pub const SUPPORT_ANGLE_TOL_DEG: i32 = 12;

/// Line refinement: edge pixels within this many pixels of the Hough line take part…
const REFINE_BAND: i32 = 2;
/// …in this many successive fits.
const REFINE_PASSES: usize = 1;

/// Corners may lie at most this fraction of the frame outside it (a document slightly cut off is
/// still found, and reported `cut_off`).
const OUTSIDE_TOLERANCE: f32 = 0.04;

/// Candidates at least this fraction of the largest one's area count as the same border drawn by
/// slightly different lines; the best supported of them wins (see `find_quad`).
pub const NEAR_DUPLICATE_AREA: f32 = 0.95;

/// Each side of a document must step consistently (see `Detector::side_step`) on at least this
/// fraction of its points.
pub const MIN_SIDE_STEP: f32 = 0.6;
/// Points sampled along a side for its step…
const STEP_SAMPLES: usize = 16;
/// …this many pixels inside and outside it (at the detection resolution)…
const STEP_OFFSET: f32 = 2.5;
/// …and a step counts when at least this many levels deep.
const STEP_MIN_LEVELS: i32 = 4;
/// A side whose outside samples vary by at most this standard deviation (levels) lies on a plain
/// surface, and needs no step when its inside samples vary at least twice as much (print).
const FLAT_OUTSIDE_STD: f32 = 4.0;

/// Candidates smaller than this fraction of the largest found so far are not checked further.
pub const MIN_AREA_OF_LARGEST: f32 = 0.3;
/// Only candidates whose weakest side steps at least this fraction as deep as the strongest
/// candidate's weakest side compete for the outline (see `find_quad`).
pub const MIN_STRENGTH_FRACTION: f32 = 0.5;

/// The outline of the previous frame stays if a candidate near it steps at least this fraction
/// as deep as the strongest (a looser bar than [`MIN_STRENGTH_FRACTION`]: a frame's noise can
/// weaken a side for a frame).
pub const STAY_STRENGTH_FRACTION: f32 = 0.25;

/// A corner has evidence when at least this fraction of each adjacent side near it is backed by
/// edge pixels…
pub const CORNER_MIN_INNER: f32 = 0.5;
/// …and at most this fraction of the line beyond it.
pub const CORNER_MAX_BEYOND: f32 = 0.4;

/// A candidate whose corners are all within this fraction of the frame's long side of the
/// previous frame's outline…
pub const STAY_TOLERANCE: f32 = 0.02;
/// …and at least this fraction of the largest candidate's area keeps the outline in place.
pub const STAY_MIN_AREA: f32 = 0.85;

/// Opposite sides' length ratio below which a candidate is not a flat rectangle seen in
/// perspective but something else.
const MIN_DETECT_SIDE_RATIO: f32 = 0.55;

#[derive(Debug, Clone, Copy, Default)]
struct Line {
    /// Normal angle in degrees, `0..180`.
    theta: i32,
    /// Signed distance from the frame centre along the normal.
    rho: f32,
    cos: f32,
    sin: f32,
}

/// The first check a candidate quad failed (see `Detector::check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reject {
    /// A corner lies too far outside the frame.
    Outside,
    /// Smaller than a candidate already found.
    Smaller,
    /// Not convex, too small, or opposite sides too unlike.
    Shape,
    /// Not the document kind's aspect ratio.
    Aspect,
    /// A side not backed by edge pixels along its length.
    Support,
    /// A side across which the image does not step consistently.
    Step,
}

/// A quad that passed every check of `Detector::check`.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    area: f32,
    /// Centred coordinates; side k from corner k to k+1…
    c: [Px; 4],
    /// …stepping by `step[k]` levels (median), signed so that the quad's majority is positive.
    step: [f32; 4],
    /// Mean edge support of the sides.
    support: f32,
    /// The lines of the sides.
    lines: [usize; 4],
    /// Corners where both sides' edges run up to the corner and stop there (see
    /// `Detector::corner_evidence`).
    corners: u8,
}

#[derive(Debug, Clone, Copy)]
struct Pair {
    a: usize,
    b: usize,
}

/// What the detector found, in analysis pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Found {
    /// Top-left, top-right, bottom-right, bottom-left.
    pub corners: [Px; 4],
    pub support: f32,
}

/// Reusable scratch buffers for edge detection and the Hough transform.
#[derive(Debug, Default)]
pub(crate) struct Detector {
    width: usize,
    height: usize,
    mag: Vec<u16>,
    gx: Vec<i16>,
    gy: Vec<i16>,
    /// Per pixel: gradient direction in degrees `0..180` for thin edge pixels, else [`NO_EDGE`].
    pub ori: Vec<u8>,
    acc: Vec<u16>,
    acc3: Vec<u16>,
    rho_max: i32,
    cos_tab: Vec<i32>,
    sin_tab: Vec<i32>,
    lines: Vec<Line>,
    peaks: Vec<(u16, u16, u16)>,
    pairs: Vec<Pair>,
    /// Per line, prefix sums over the line parameter `t` (`-rho_max..=rho_max`, one per pixel
    /// of length) of "an edge pixel oriented like the line lies within one pixel across it":
    /// the support of any segment of the line is then two lookups.
    profile: Vec<u16>,
    /// Intersections of every pair of lines (centred coordinates).
    inter: Vec<Option<Px>>,
    /// Quadrilaterals that passed every check: (area, corners, mean support).
    candidates: Vec<Candidate>,
    /// The outline found in the previous frame (centred coordinates, frame size): a candidate
    /// that stays where it was is preferred (see `find_quad`).
    prev: Option<([Px; 4], usize, usize)>,
}

impl Detector {
    fn prepare(&mut self, w: usize, h: usize) {
        let n = w * h;
        self.width = w;
        self.height = h;
        super::reset(&mut self.mag, n, 0);
        super::reset(&mut self.gx, n, 0);
        super::reset(&mut self.gy, n, 0);
        super::reset(&mut self.ori, n, NO_EDGE);
        let half_diag = (((w * w + h * h) as f32).sqrt() / 2.0).ceil() as i32 + 1;
        self.rho_max = half_diag;
        let rho_bins = (2 * half_diag + 1) as usize;
        super::reset(&mut self.acc, ANGLE_BINS * rho_bins, 0);
        if self.cos_tab.len() != ANGLE_BINS {
            self.cos_tab.clear();
            self.sin_tab.clear();
            for t in 0..ANGLE_BINS {
                let r = (t as f32).to_radians();
                self.cos_tab.push((r.cos() * 1024.0).round() as i32);
                self.sin_tab.push((r.sin() * 1024.0).round() as i32);
            }
        }
    }

    /// Sobel gradients, then non-maximum suppression to one-pixel-wide edges with their
    /// direction.
    fn edges(&mut self, img: &[u8]) {
        let (w, h) = (self.width, self.height);
        for y in 1..h - 1 {
            let r0 = &img[(y - 1) * w..y * w];
            let r1 = &img[y * w..(y + 1) * w];
            let r2 = &img[(y + 1) * w..(y + 2) * w];
            let gxs = &mut self.gx[y * w..(y + 1) * w];
            let gys = &mut self.gy[y * w..(y + 1) * w];
            let mags = &mut self.mag[y * w..(y + 1) * w];
            for x in 1..w - 1 {
                let (a, b, c) = (r0[x - 1] as i32, r0[x] as i32, r0[x + 1] as i32);
                let (d, f) = (r1[x - 1] as i32, r1[x + 1] as i32);
                let (g, hh, i) = (r2[x - 1] as i32, r2[x] as i32, r2[x + 1] as i32);
                let gx = (c + 2 * f + i) - (a + 2 * d + g);
                let gy = (g + 2 * hh + i) - (a + 2 * b + c);
                gxs[x] = gx as i16;
                gys[x] = gy as i16;
                mags[x] = (gx.abs() + gy.abs()) as u16;
            }
        }
        // Slices, not `Vec` indexing (a call per access at opt-level "z").
        let (mag, gxs, gys, ori) = (&self.mag[..], &self.gx[..], &self.gy[..], &mut self.ori[..]);
        for y in 2..h - 2 {
            for x in 2..w - 2 {
                let i = y * w + x;
                let m = mag[i];
                if m < EDGE_MIN_MAGNITUDE {
                    continue;
                }
                let gx = gxs[i] as i32;
                let gy = gys[i] as i32;
                let (ax, ay) = (gx.abs(), gy.abs());
                // tan(22.5°) ≈ 106/256
                let (n1, n2) = if ay * 256 <= ax * 106 {
                    (i - 1, i + 1)
                } else if ax * 256 <= ay * 106 {
                    (i - w, i + w)
                } else if (gx > 0) == (gy > 0) {
                    (i - w - 1, i + w + 1)
                } else {
                    (i - w + 1, i + w - 1)
                };
                let (m1, m2) = (mag[n1], mag[n2]);
                if m > m1 && m >= m2 {
                    let deg = atan2_deg(gy as f32, gx as f32);
                    let d = round(deg).rem_euclid(180);
                    ori[i] = d as u8;
                }
            }
        }
    }

    fn hough(&mut self) {
        let (w, h) = (self.width, self.height);
        let cx = (w / 2) as i32;
        let cy = (h / 2) as i32;
        let rho_bins = (2 * self.rho_max + 1) as usize;
        // Votes go to angles `o - VOTE_WINDOW_DEG ..= o + VOTE_WINDOW_DEG` taken mod 180: the
        // tables are indexed by `o + d + VOTE_WINDOW_DEG` (0..ANGLE_BINS + 2 * window) and
        // already hold the wrapped angle's cosine, sine and accumulator row, so the vote loop
        // has no branch.
        const WIN: usize = VOTE_WINDOW_DEG as usize;
        const EXT: usize = ANGLE_BINS + 2 * WIN;
        let mut cos_ext = [0i32; EXT];
        let mut sin_ext = [0i32; EXT];
        let mut row_ext = [0usize; EXT];
        for (k, ((c, s), row)) in cos_ext
            .iter_mut()
            .zip(sin_ext.iter_mut())
            .zip(row_ext.iter_mut())
            .enumerate()
        {
            let t = (k + ANGLE_BINS - WIN) % ANGLE_BINS;
            *c = self.cos_tab[t];
            *s = self.sin_tab[t];
            *row = t * rho_bins + self.rho_max as usize;
        }
        let (ori, acc) = (&self.ori[..], &mut self.acc[..]);
        for y in 0..h {
            let dy = y as i32 - cy;
            let row = &ori[y * w..(y + 1) * w];
            // Index loops over slices of known length (no bounds check inside): iterator
            // adaptors are calls at opt-level "z".
            #[allow(clippy::needless_range_loop)]
            for x in 0..w {
                let o = row[x];
                if o == NO_EDGE {
                    continue;
                }
                let dx = x as i32 - cx;
                let o = o as usize;
                // Fixed-size windows (references, no copy): the indexing below needs no bounds
                // check. The conversions cannot fail (the slices are 2·WIN+1 long).
                const N: usize = 2 * WIN + 1;
                let (Ok(cs), Ok(ss), Ok(rows)) = (
                    <&[i32; N]>::try_from(&cos_ext[o..o + N]),
                    <&[i32; N]>::try_from(&sin_ext[o..o + N]),
                    <&[usize; N]>::try_from(&row_ext[o..o + N]),
                ) else {
                    continue;
                };
                for k in 0..N {
                    let rho = (dx * cs[k] + dy * ss[k] + 512) >> 10;
                    let cell = &mut acc[(rows[k] as isize + rho as isize) as usize];
                    *cell = cell.saturating_add(1);
                }
            }
        }
        // Pixels of a straight border straddle two rho bins: peaks are taken on the sum of three
        // neighbouring rho bins.
        super::reset(&mut self.acc3, self.acc.len(), 0);
        for t in 0..ANGLE_BINS {
            let row = &self.acc[t * rho_bins..(t + 1) * rho_bins];
            let out = &mut self.acc3[t * rho_bins..(t + 1) * rho_bins];
            for r in 1..rho_bins - 1 {
                out[r] = row[r - 1].saturating_add(row[r]).saturating_add(row[r + 1]);
            }
        }
        // Peaks: local maxima over the 3×3 neighbourhood, strongest first.
        let min_votes = ((w.min(h) as f32) * MIN_LINE_VOTES_FRACTION).max(8.0) as u16;
        self.peaks.clear();
        let acc3 = &self.acc3[..];
        for t in 0..ANGLE_BINS {
            let tp = (t + ANGLE_BINS - 1) % ANGLE_BINS;
            let tn = (t + 1) % ANGLE_BINS;
            for r in 1..rho_bins - 1 {
                let v = acc3[t * rho_bins + r];
                if v < min_votes {
                    continue;
                }
                let mut is_max = true;
                'n: for tt in [tp, t, tn] {
                    for rr in [r - 1, r, r + 1] {
                        if (tt, rr) == (t, r) {
                            continue;
                        }
                        let u = acc3[tt * rho_bins + rr];
                        // Ties: keep the first in scan order.
                        if u > v || (u == v && (tt * rho_bins + rr) < (t * rho_bins + r)) {
                            is_max = false;
                            break 'n;
                        }
                    }
                }
                if is_max {
                    self.peaks.push((v, t as u16, r as u16));
                }
            }
        }
        self.peaks
            .sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        self.lines.clear();
        let mut sector_count = [0usize; ANGLE_BINS / 10];
        for &(_, t, r) in &self.peaks {
            if self.lines.len() >= MAX_LINES {
                break;
            }
            let theta = t as i32;
            let rho = r as f32 - self.rho_max as f32;
            if sector_count[(theta / 10) as usize] >= MAX_LINES_PER_SECTOR {
                continue;
            }
            let dup = self.lines.iter().any(|l| {
                let (dt, flipped) = angle_diff(l.theta, theta);
                let lr = if flipped { -l.rho } else { l.rho };
                dt <= 3 && (lr - rho).abs() <= 3.0
            });
            if dup {
                continue;
            }
            let rad = (theta as f32).to_radians();
            let mut line = Line {
                theta,
                rho,
                cos: rad.cos(),
                sin: rad.sin(),
            };
            for _ in 0..REFINE_PASSES {
                match self.refine(&line) {
                    Some(l) => line = l,
                    None => break,
                }
            }
            // Two peaks may refine onto the same border.
            let same = self.lines.iter().any(|l| {
                let (dt, flipped) = angle_diff(l.theta, line.theta);
                let lr = if flipped { -l.rho } else { l.rho };
                dt <= 2 && (lr - line.rho).abs() <= 1.5
            });
            if same {
                continue;
            }
            sector_count[(theta / 10) as usize] += 1;
            self.lines.push(line);
        }
    }

    /// Least-squares fit (principal axis) of the edge pixels within [`REFINE_BAND`] px of a Hough
    /// line and oriented like it: the Hough grid (1°, 1 px) is too coarse for corners and for
    /// checking sides pixel by pixel.
    fn refine(&self, l: &Line) -> Option<Line> {
        let (w, h) = (self.width as i32, self.height as i32);
        let (cx, cy) = ((self.width / 2) as f32, (self.height / 2) as f32);
        let (dx, dy) = (-l.sin, l.cos);
        let (px, py) = (l.rho * l.cos, l.rho * l.sin);
        let (t0, t1) = self.t_range(l);
        let (mut n, mut sx, mut sy, mut sxx, mut sxy, mut syy) =
            (0f32, 0f32, 0f32, 0f32, 0f32, 0f32);
        let ori = &self.ori[..];
        for t in t0..t1 + 1 {
            let (bx, by) = (px + dx * t as f32 + cx, py + dy * t as f32 + cy);
            for o in -REFINE_BAND..REFINE_BAND + 1 {
                let x = round(bx + l.cos * o as f32);
                let y = round(by + l.sin * o as f32);
                if x < 0 || y < 0 || x >= w || y >= h {
                    continue;
                }
                let e = ori[(y * w + x) as usize];
                if e == NO_EDGE || angle_diff(e as i32, l.theta).0 > SUPPORT_ANGLE_TOL_DEG {
                    continue;
                }
                let (fx, fy) = (x as f32 - cx, y as f32 - cy);
                n += 1.0;
                sx += fx;
                sy += fy;
                sxx += fx * fx;
                sxy += fx * fy;
                syy += fy * fy;
            }
        }
        if n < 10.0 {
            return None;
        }
        let (mx, my) = (sx / n, sy / n);
        let (cxx, cxy, cyy) = (sxx / n - mx * mx, sxy / n - mx * my, syy / n - my * my);
        // Direction of the principal axis; the normal is perpendicular to it.
        let phi = 0.5 * (2.0 * cxy).atan2(cxx - cyy);
        let mut theta = phi + std::f32::consts::FRAC_PI_2;
        let (mut sin, mut cos) = theta.sin_cos();
        if cos * l.cos + sin * l.sin < 0.0 {
            theta += std::f32::consts::PI;
            sin = -sin;
            cos = -cos;
        }
        let deg = (theta.to_degrees().round() as i32).rem_euclid(360);
        let rho = mx * cos + my * sin;
        // Keep the representation of the Hough line (theta in 0..180 with the same rho sign).
        let (theta_deg, rho, cos, sin) = if deg >= 180 {
            (deg - 180, -rho, -cos, -sin)
        } else {
            (deg, rho, cos, sin)
        };
        if angle_diff(theta_deg, l.theta).0 > 3 || (rho - l.rho).abs() > 3.0 {
            return None;
        }
        Some(Line {
            theta: theta_deg,
            rho,
            cos,
            sin,
        })
    }

    /// Forgets the previous frame's outline: the next frame starts a new sequence.
    pub fn forget(&mut self) {
        self.prev = None;
    }

    /// Runs edge detection and the quadrilateral search on a `w × h` luma image.
    pub fn detect(&mut self, img: &[u8], w: usize, h: usize, kind: DocumentKind) -> Option<Found> {
        self.prepare(w, h);
        self.edges(img);
        self.hough();
        self.find_quad(kind, img)
    }

    /// The range of the line parameter `t` (centred coordinates, base point `rho·n`, direction
    /// `(-sin, cos)`) over which the line crosses the frame, clamped to `±rho_max`.
    fn t_range(&self, l: &Line) -> (i32, i32) {
        let (cx, cy) = ((self.width / 2) as f32, (self.height / 2) as f32);
        let (dx, dy) = (-l.sin, l.cos);
        let (px, py) = (l.rho * l.cos, l.rho * l.sin);
        let (mut lo, mut hi) = (f32::NEG_INFINITY, f32::INFINITY);
        for (p, d, min, max) in [
            (px, dx, -cx - 0.5, self.width as f32 - cx - 0.5),
            (py, dy, -cy - 0.5, self.height as f32 - cy - 0.5),
        ] {
            if d.abs() < 1e-6 {
                continue;
            }
            let (a, b) = ((min - p) / d, (max - p) / d);
            lo = lo.max(a.min(b));
            hi = hi.min(a.max(b));
        }
        let r = self.rho_max;
        let lo = (lo.max(-(r as f32)) as i32).clamp(-r, r);
        let hi = (hi.min(r as f32) as i32).clamp(-r, r);
        (lo, hi.max(lo))
    }

    /// Fills [`Detector::profile`] and [`Detector::inter`].
    fn profiles(&mut self) {
        let (w, h) = (self.width as i32, self.height as i32);
        let (cx, cy) = ((self.width / 2) as f32, (self.height / 2) as f32);
        let r = self.rho_max;
        let stride = (2 * r + 2) as usize;
        let n = self.lines.len();
        super::reset(&mut self.profile, n * stride, 0);
        let ori = &self.ori[..];
        for (i, l) in self.lines.iter().enumerate() {
            let (t0, t1) = self.t_range(l);
            let (dx, dy) = (-l.sin, l.cos);
            let (px, py) = (l.rho * l.cos, l.rho * l.sin);
            // Look across the line along the axis closer to its normal.
            let (ox, oy) = if l.cos.abs() >= l.sin.abs() {
                (1, 0)
            } else {
                (0, 1)
            };
            let prof = &mut self.profile[i * stride..(i + 1) * stride];
            let mut acc = 0u16;
            for t in -r..r + 1 {
                if t >= t0 && t <= t1 {
                    let x = round(px + dx * t as f32 + cx);
                    let y = round(py + dy * t as f32 + cy);
                    // An edge pixel oriented like the line at (xx, yy)? (A fn, not a closure: it
                    // must be inlined, also at opt-level "z".)
                    #[inline(always)]
                    fn supports(ori: &[u8], w: i32, h: i32, xx: i32, yy: i32, theta: i32) -> bool {
                        if xx < 0 || yy < 0 || xx >= w || yy >= h {
                            return false;
                        }
                        let e = ori[(yy * w + xx) as usize];
                        e != NO_EDGE && angle_diff(e as i32, theta).0 <= SUPPORT_ANGLE_TOL_DEG
                    }
                    let hit = supports(ori, w, h, x - ox, y - oy, l.theta)
                        || supports(ori, w, h, x, y, l.theta)
                        || supports(ori, w, h, x + ox, y + oy, l.theta);
                    acc += hit as u16;
                }
                prof[(t + r + 1) as usize] = acc;
            }
        }
        self.inter.clear();
        self.inter.resize(n * n, None);
        for i in 0..n {
            for j in i + 1..n {
                let p = intersect(&self.lines[i], &self.lines[j]);
                self.inter[i * n + j] = p;
                self.inter[j * n + i] = p;
            }
        }
    }

    /// The fraction of the middle 80 % of segment `a → b` (centred coordinates, on line `i`)
    /// backed by edge pixels.
    fn side_support(&self, i: usize, a: Px, b: Px) -> f32 {
        self.segment_support(i, a, b, 0.1)
    }

    /// The fraction of segment `a → b` on line `i`, less `trim` of its length at each end,
    /// backed by edge pixels.
    fn segment_support(&self, i: usize, a: Px, b: Px, trim: f32) -> f32 {
        let l = &self.lines[i];
        let (dx, dy) = (-l.sin, l.cos);
        let (px, py) = (l.rho * l.cos, l.rho * l.sin);
        let ta = (a.x - px) * dx + (a.y - py) * dy;
        let tb = (b.x - px) * dx + (b.y - py) * dy;
        let (t0, t1) = if ta <= tb { (ta, tb) } else { (tb, ta) };
        let len = t1 - t0;
        let r = self.rho_max;
        let k = |t: f32| (round(t).clamp(-r - 1, r) + r + 1) as usize;
        let (k0, k1) = (k(t0 + trim * len), k(t1 - trim * len));
        if k1 <= k0 {
            return 0.0;
        }
        let stride = (2 * r + 2) as usize;
        let prof = &self.profile[i * stride..(i + 1) * stride];
        (prof[k1] - prof[k0]) as f32 / (k1 - k0) as f32
    }

    /// How many of quad `c`'s corners (side k on line `lines[k]`, from corner k to k+1) both
    /// adjacent sides' edges run up to (5–25 % of the side from the corner backed by edge
    /// pixels) and stop at (the line's next 10 % beyond the corner not). A document's outline
    /// has such corners even where one side steps faintly (a dark title band on a dark table);
    /// a quad cut short by a line of the print has corners its sides' edges run past, and one
    /// reaching past the document to a line of the background corners its sides' edges do not
    /// reach.
    fn corner_evidence(&self, c: &[Px; 4], lines: [usize; 4]) -> u8 {
        let lerp = |a: Px, b: Px, t: f32| Px {
            x: a.x + (b.x - a.x) * t,
            y: a.y + (b.y - a.y) * t,
        };
        let mut good = 0;
        for k in 0..4 {
            let corner = c[k];
            // The sides meeting here: side k-1 (towards corner k-1) and side k (towards k+1).
            let ok = [
                (lines[(k + 3) % 4], c[(k + 3) % 4]),
                (lines[k], c[(k + 1) % 4]),
            ]
            .iter()
            .all(|&(line, other)| {
                let inner = self.segment_support(
                    line,
                    lerp(corner, other, 0.05),
                    lerp(corner, other, 0.25),
                    0.0,
                );
                let beyond = self.segment_support(
                    line,
                    lerp(corner, other, -0.02),
                    lerp(corner, other, -0.12),
                    0.0,
                );
                inner >= CORNER_MIN_INNER && beyond <= CORNER_MAX_BEYOND
            });
            good += u8::from(ok);
        }
        good
    }

    /// Luma [`STEP_OFFSET`] pixels inside and as far outside side `a → b` (centred
    /// coordinates) of a quad whose centre is `mid`, at [`STEP_SAMPLES`] points of the side's
    /// middle 80 %; the first `n` pairs are the points with both inside the frame.
    fn side_samples(
        &self,
        img: &[u8],
        a: Px,
        b: Px,
        mid: Px,
    ) -> ([(i32, i32); STEP_SAMPLES], usize) {
        let (w, h) = (self.width as i32, self.height as i32);
        let (cx, cy) = ((self.width / 2) as f32, (self.height / 2) as f32);
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let Px { x: nx, y: ny } = inward_normal(a, b, mid);
        let px = |x: f32, y: f32| -> Option<i32> {
            let (xi, yi) = (round(x + cx), round(y + cy));
            (xi >= 0 && yi >= 0 && xi < w && yi < h).then(|| i32::from(img[(yi * w + xi) as usize]))
        };
        let mut out = [(0, 0); STEP_SAMPLES];
        let mut n = 0;
        for k in 0..STEP_SAMPLES {
            let t = 0.1 + 0.8 * (k as f32 + 0.5) / STEP_SAMPLES as f32;
            let (x, y) = (a.x + dx * t, a.y + dy * t);
            if let (Some(i), Some(o)) = (
                px(x + nx * STEP_OFFSET, y + ny * STEP_OFFSET),
                px(x - nx * STEP_OFFSET, y - ny * STEP_OFFSET),
            ) {
                out[n] = (i, o);
                n += 1;
            }
        }
        (out, n)
    }

    /// How consistently the image steps across side `a → b` (centred coordinates) of a quad
    /// whose centre is `mid`: over [`STEP_SAMPLES`] points of the side's middle 80 %, the luma
    /// [`STEP_OFFSET`] pixels inside against as far outside; the fraction of points whose step
    /// has the majority's sign and is at least [`STEP_MIN_LEVELS`] deep. A document's border
    /// steps the same way all along (the card is lighter, or darker, than what it lies on); a
    /// line of the background's own pattern (a mortar joint, a tile seam, a keyboard row) has
    /// the same texture on both sides, so its steps are small and their signs random.
    fn side_step(samples: &[(i32, i32)]) -> f32 {
        let n = samples.len();
        let (mut pos, mut neg) = (0u32, 0u32);
        let (mut sum, mut sq, mut isum, mut isq) = (0i32, 0i32, 0i32, 0i32);
        // A side along the frame's edge has no outside: its points count as stepping.
        for &(i, o) in samples {
            sum += o;
            sq += o * o;
            isum += i;
            isq += i * i;
            let d = i - o;
            if d >= STEP_MIN_LEVELS {
                pos += 1;
            } else if d <= -STEP_MIN_LEVELS {
                neg += 1;
            }
        }
        if n == 0 {
            return 1.0;
        }
        // Print just inside a plain surface (a white card's text on a white table): the border
        // is faint but no pattern of the surface can have drawn it, so the side counts. (A tile
        // seam has plain tile on both sides.)
        let nf = n as f32;
        let var = |s: i32, q: i32| {
            let m = s as f32 / nf;
            (q as f32 / nf - m * m).max(0.0)
        };
        if var(sum, sq) <= FLAT_OUTSIDE_STD * FLAT_OUTSIDE_STD
            && var(isum, isq) >= 4.0 * FLAT_OUTSIDE_STD * FLAT_OUTSIDE_STD
        {
            return 1.0;
        }
        pos.max(neg) as f32 / nf
    }

    /// Whether quad `c` (centred coordinates; side k from corner k to k+1 on line
    /// `side_lines[k]`) could be the document: inside the frame, convex, at least `min_area`,
    /// the kind's aspect, opposite sides alike, every side backed by edges and stepping
    /// consistently. `Ok((area, mean support, each side's step by `side_contrast`))`, or the
    /// first check it fails.
    fn check(
        &self,
        c: &[Px; 4],
        side_lines: [usize; 4],
        kind: DocumentKind,
        img: &[u8],
        min_area: f32,
    ) -> Result<(f32, f32, [f32; 4]), Reject> {
        let (w, h) = (self.width as f32, self.height as f32);
        let (cx, cy) = ((self.width / 2) as f32, (self.height / 2) as f32);
        // Frame bounds in centred coordinates (pixel centres at integers).
        let (lo_x, hi_x) = (
            -OUTSIDE_TOLERANCE * w - cx - 0.5,
            (1.0 + OUTSIDE_TOLERANCE) * w - cx - 0.5,
        );
        let (lo_y, hi_y) = (
            -OUTSIDE_TOLERANCE * h - cy - 0.5,
            (1.0 + OUTSIDE_TOLERANCE) * h - cy - 0.5,
        );
        if c.iter()
            .any(|c| c.x < lo_x || c.x > hi_x || c.y < lo_y || c.y > hi_y)
        {
            return Err(Reject::Outside);
        }
        let area = signed_area(c).abs();
        if area < min_area {
            return Err(Reject::Smaller);
        }
        if !is_convex(c) {
            return Err(Reject::Shape);
        }
        let s = [
            c[0].dist(c[1]),
            c[1].dist(c[2]),
            c[2].dist(c[3]),
            c[3].dist(c[0]),
        ];
        let a = (s[0] + s[2]) / 2.0;
        let b = (s[1] + s[3]) / 2.0;
        let (long, shorter) = if a >= b { (a, b) } else { (b, a) };
        if shorter < w.min(h) * MIN_SHORT_SIDE_FRACTION {
            return Err(Reject::Shape);
        }
        let aspect = long / shorter;
        let (amin, amax) = kind.aspect_range();
        if aspect < amin || aspect > amax {
            return Err(Reject::Aspect);
        }
        if s[0].min(s[2]) / s[0].max(s[2]) < MIN_DETECT_SIDE_RATIO
            || s[1].min(s[3]) / s[1].max(s[3]) < MIN_DETECT_SIDE_RATIO
        {
            return Err(Reject::Shape);
        }
        let mut total = 0.0;
        for k in 0..4 {
            let sup = self.side_support(side_lines[k], c[k], c[(k + 1) % 4]);
            if sup < MIN_SIDE_SUPPORT {
                return Err(Reject::Support);
            }
            total += sup;
        }
        let support = total / 4.0;
        if support < MIN_MEAN_SUPPORT {
            return Err(Reject::Support);
        }
        let mid = Px {
            x: (c[0].x + c[1].x + c[2].x + c[3].x) / 4.0,
            y: (c[0].y + c[1].y + c[2].y + c[3].y) / 4.0,
        };
        let mut contrast = [0.0f32; 4];
        for (k, ct) in contrast.iter_mut().enumerate() {
            let (samples, n) = self.side_samples(img, c[k], c[(k + 1) % 4], mid);
            if Self::side_step(&samples[..n]) < MIN_SIDE_STEP {
                return Err(Reject::Step);
            }
            *ct = Self::side_contrast(&samples[..n]);
        }
        Ok((area, support, contrast))
    }

    /// The luma step (inside minus outside, levels) across a side, from its
    /// `Detector::side_samples`, that 35 % of its points reach, in the direction of its median.
    fn side_contrast(samples: &[(i32, i32)]) -> f32 {
        let n = samples.len();
        let mut steps = [0i32; STEP_SAMPLES];
        for (d, &(i, o)) in steps.iter_mut().zip(samples) {
            *d = i - o;
        }
        if n == 0 {
            return 0.0;
        }
        // The side's own direction (the median's sign), then the step that 35 % of its
        // points reach: fingers over part of a side do not hide the step of the rest, while a
        // line of the background's pattern steps weakly along all its length.
        let steps = &mut steps[..n];
        steps.sort_unstable();
        let sign = if steps[n / 2] >= 0 { 1 } else { -1 };
        for v in steps.iter_mut() {
            *v *= sign;
        }
        steps.sort_unstable();
        (steps[(n * 65 / 100).min(n - 1)] * sign) as f32
    }

    fn find_quad(&mut self, kind: DocumentKind, img: &[u8]) -> Option<Found> {
        self.profiles();
        let (w, h) = (self.width as f32, self.height as f32);
        let (cx, cy) = ((self.width / 2) as f32, (self.height / 2) as f32);
        let short = w.min(h);
        let min_side = short * MIN_SHORT_SIDE_FRACTION;
        self.pairs.clear();
        for i in 0..self.lines.len() {
            for j in i + 1..self.lines.len() {
                let (a, b) = (self.lines[i], self.lines[j]);
                let (dt, flipped) = angle_diff(a.theta, b.theta);
                if dt > MAX_OPPOSITE_SIDE_ANGLE_DEG {
                    continue;
                }
                let br = if flipped { -b.rho } else { b.rho };
                if (a.rho - br).abs() < min_side {
                    continue;
                }
                self.pairs.push(Pair { a: i, b: j });
            }
        }
        let n = self.lines.len();
        // The largest candidate wins; but a border's edge pixels also back slightly different
        // lines (one at the border's true angle, one a degree or two off through its middle),
        // whose quads differ in area by a few per cent: among the candidates within
        // `NEAR_DUPLICATE_AREA` of the largest, the best-supported one wins. (Area alone made
        // the pick flip between such twins from one frame to the next, and auto-capture, which
        // needs a steady outline, rarely fired.)
        let mut best_area = 0f32;
        let mut candidates = std::mem::take(&mut self.candidates);
        candidates.clear();
        // Slices, not `Vec` indexing, and no closures in this O(pairs²) loop: at opt-level "z"
        // each `Vec` index and `any` step was a call.
        let (pairs, inter) = (&self.pairs[..], &self.inter[..]);
        let mut theta = [0i32; MAX_LINES];
        for (t, l) in theta.iter_mut().zip(&self.lines) {
            *t = l.theta;
        }
        let min_corner = 90 - MAX_CORNER_DEVIATION_DEG;
        for pi in 0..pairs.len() {
            for pj in pi + 1..pairs.len() {
                let (p, q) = (pairs[pi], pairs[pj]);
                let square = |i: usize, j: usize| angle_diff(theta[i], theta[j]).0 >= min_corner;
                if !(square(p.a, q.a) && square(p.a, q.b) && square(p.b, q.b) && square(p.b, q.a)) {
                    continue;
                }
                let corners = [
                    inter[p.a * n + q.a],
                    inter[p.a * n + q.b],
                    inter[p.b * n + q.b],
                    inter[p.b * n + q.a],
                ];
                let [Some(c0), Some(c1), Some(c2), Some(c3)] = corners else {
                    continue;
                };
                let c = [c0, c1, c2, c3];
                // Side k runs from corner k to corner k+1, on these lines:
                let side_lines = [p.a, q.b, p.b, q.a];
                let Ok((area, support, contrast)) =
                    self.check(&c, side_lines, kind, img, MIN_AREA_OF_LARGEST * best_area)
                else {
                    continue;
                };
                best_area = best_area.max(area);
                candidates.push(Candidate {
                    area,
                    c,
                    step: contrast,
                    support,
                    lines: side_lines,
                    corners: 0,
                });
            }
        }
        for cand in candidates.iter_mut() {
            // Signed so that the quad's majority steps up.
            if cand.step.iter().sum::<f32>() < 0.0 {
                cand.step = cand.step.map(|v| -v);
            }
            cand.corners = self.corner_evidence(&cand.c, cand.lines);
        }
        // A quad that reaches past the document to a line of the background's pattern (wood
        // grain, a mortar joint) has a side that barely steps, or one that runs inside the card
        // along its print and steps the other way, where the document's own sides step as
        // deeply as the rest. Only candidates whose weakest side steps (either way) at least
        // `MIN_STRENGTH_FRACTION` as deep as the weakest side of the strongest candidate that
        // steps one way all round compete (all of them when none does: a white card on a white
        // table), and those with edge evidence at all four corners.
        let signed = |c: &Candidate| c.step.iter().copied().fold(f32::INFINITY, f32::min);
        let strength = |c: &Candidate| c.step.iter().map(|s| s.abs()).fold(f32::INFINITY, f32::min);
        let strongest = candidates
            .iter()
            .map(signed)
            .fold(f32::NEG_INFINITY, f32::max);
        let stepping =
            |c: &&Candidate| strongest <= 0.0 || strength(c) >= MIN_STRENGTH_FRACTION * strongest;
        // A candidate with evidence at all four corners competes however faintly a side steps.
        let eligible = |c: &&Candidate| stepping(c) || c.corners == 4;
        let best_area = candidates
            .iter()
            .filter(eligible)
            .map(|c| c.area)
            .fold(0.0f32, f32::max);
        let largest = candidates
            .iter()
            .filter(eligible)
            .filter(|c| c.area >= NEAR_DUPLICATE_AREA * best_area)
            .max_by(|a, b| a.support.total_cmp(&b.support))
            .copied();
        // A document held still stays where it was: a candidate within a few pixels of the
        // previous frame's outline, nearly as large as the largest, keeps it (the largest can
        // flip between the border and a line of the background's pattern from frame to frame).
        let stay = self
            .prev
            .filter(|&(_, pw, ph)| (pw, ph) == (self.width, self.height))
            .and_then(|(p, _, _)| {
                let tol = STAY_TOLERANCE * w.max(h);
                candidates
                    .iter()
                    .filter(|c| {
                        strongest <= 0.0 || strength(c) >= STAY_STRENGTH_FRACTION * strongest
                    })
                    .filter(|c| c.area >= STAY_MIN_AREA * best_area)
                    .map(|c| (corner_distance(&c.c, &p), c))
                    .filter(|(d, _)| *d <= tol)
                    .min_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, c)| *c)
            });
        let best = stay.or(largest);
        self.prev = best.map(|b| (b.c, self.width, self.height));
        self.candidates = candidates;
        best.map(|Candidate { c, support, .. }| Found {
            corners: order_corners(c.map(|p| Px {
                x: p.x + cx + 0.5,
                y: p.y + cy + 0.5,
            })),
            support,
        })
    }
}

/// Where the detector lost a document whose true outline is known (the corpus's diagnosis,
/// `scripts/corpus.sh --diagnose`).
#[cfg(feature = "corpus")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Diagnosis {
    /// This many of the true sides are not among the Hough lines.
    SidesMissing(u8),
    /// Every side is a line, but the quad they make fails a check.
    Rejected(Reject),
    /// The true quad is a candidate, but another one was chosen.
    NotChosen,
    /// The true quad was chosen.
    Found,
}

#[cfg(feature = "corpus")]
impl Detector {
    /// Runs [`Detector::detect`] on a `w × h` image whose document's true corners (pixels of
    /// this image, in order around it) are `truth`, and says where the true outline was lost.
    pub fn diagnose(
        &mut self,
        img: &[u8],
        w: usize,
        h: usize,
        kind: DocumentKind,
        truth: [Px; 4],
    ) -> Diagnosis {
        let found = self.detect(img, w, h, kind);
        let (cx, cy) = ((w / 2) as f32, (h / 2) as f32);
        let t = truth.map(|p| Px {
            x: p.x - cx - 0.5,
            y: p.y - cy - 0.5,
        });
        let mut side_lines = [0usize; 4];
        let mut missing = 0u8;
        for k in 0..4 {
            let (a, b) = (t[k], t[(k + 1) % 4]);
            let len = a.dist(b).max(1e-3);
            let (nx, ny) = (-(b.y - a.y) / len, (b.x - a.x) / len);
            let mut deg = atan2_deg(ny, nx);
            let mut rho = nx * a.x + ny * a.y;
            if deg < 0.0 {
                deg += 180.0;
                rho = -rho;
            }
            let theta = round(deg).rem_euclid(180);
            let m = self.lines.iter().position(|l| {
                let (dt, flipped) = angle_diff(l.theta, theta);
                let lr = if flipped { -l.rho } else { l.rho };
                dt <= 3 && (lr - rho).abs() <= 2.5
            });
            match m {
                Some(i) => side_lines[k] = i,
                None => {
                    missing += 1;
                    if std::env::var_os("DIAG_SIDES").is_some() {
                        let mut near: Vec<(i32, f32)> = self
                            .lines
                            .iter()
                            .map(|l| {
                                let (dt, flipped) = angle_diff(l.theta, theta);
                                let lr = if flipped { -l.rho } else { l.rho };
                                (dt, lr - rho)
                            })
                            .filter(|(dt, dr)| *dt <= 8 && dr.abs() <= 12.0)
                            .collect();
                        near.sort_by(|a, b| {
                            (a.0 as f32 + a.1.abs()).total_cmp(&(b.0 as f32 + b.1.abs()))
                        });
                        eprintln!(
                            "  side {k} theta {theta} rho {rho:.1} missing; lines {} near {:?}",
                            self.lines.len(),
                            near
                        );
                    }
                }
            }
        }
        if missing > 0 {
            return Diagnosis::SidesMissing(missing);
        }
        let n = self.lines.len();
        let mut c = [Px { x: 0.0, y: 0.0 }; 4];
        for k in 0..4 {
            // Corner k joins side k-1 and side k.
            match self.inter[side_lines[(k + 3) % 4] * n + side_lines[k]] {
                Some(p) => c[k] = p,
                None => return Diagnosis::Rejected(Reject::Shape),
            }
        }
        if let Err(r) = self.check(&c, side_lines, kind, img, 0.0) {
            return Diagnosis::Rejected(r);
        }
        let truth_q = c.map(|p| Px {
            x: p.x + cx + 0.5,
            y: p.y + cy + 0.5,
        });
        match found {
            Some(f) if corner_distance(&f.corners, &truth_q) <= 0.02 * w.max(h) as f32 => {
                Diagnosis::Found
            }
            Some(f) => {
                if std::env::var_os("DIAG_SIDES").is_some() {
                    let show = |q: [Px; 4]| {
                        let q = q.map(|p| Px {
                            x: p.x - cx - 0.5,
                            y: p.y - cy - 0.5,
                        });
                        let mid = Px {
                            x: (q[0].x + q[1].x + q[2].x + q[3].x) / 4.0,
                            y: (q[0].y + q[1].y + q[2].y + q[3].y) / 4.0,
                        };
                        let v: Vec<String> = (0..4)
                            .map(|k| {
                                let (sm, n) = self.side_samples(img, q[k], q[(k + 1) % 4], mid);
                                format!(
                                    "st {:.2} ct {:5.1}",
                                    Self::side_step(&sm[..n]),
                                    Self::side_contrast(&sm[..n])
                                )
                            })
                            .collect();
                        format!("area {:6.0} {}", signed_area(&q).abs(), v.join(" | "))
                    };
                    eprintln!("  truth  {}", show(truth_q));
                    eprintln!("  chosen {}", show(f.corners));
                }
                Diagnosis::NotChosen
            }
            None => Diagnosis::NotChosen,
        }
    }
}

/// The unit normal of side `a → b` pointing toward `mid` (the quad's centre).
fn inward_normal(a: Px, b: Px, mid: Px) -> Px {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len = (dx * dx + dy * dy).sqrt().max(1e-3);
    let (nx, ny) = (-dy / len, dx / len);
    let (mx, my) = ((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
    if nx * (mid.x - mx) + ny * (mid.y - my) < 0.0 {
        Px { x: -nx, y: -ny }
    } else {
        Px { x: nx, y: ny }
    }
}

/// Samples along each side for [`refine_outline`]…
const EDGE_SAMPLES: usize = 24;
/// …searching this many pixels either side of it (analysis resolution: a line found at the
/// detection resolution is within about a detection pixel, 1.6 analysis pixels)…
const EDGE_SEARCH: i32 = 4;
/// …for a luma step of at least this many levels over two pixels, of the side's polarity.
const EDGE_MIN_STEP: f32 = 6.0;
/// A side keeps its line unless at least this fraction of its samples found the edge.
const EDGE_MIN_FOUND: f32 = 0.4;

/// Luma at continuous coordinates (pixel `i` spans `i..i + 1`), bilinear; `None` outside.
#[inline]
fn sample(img: &[u8], w: usize, h: usize, x: f32, y: f32) -> Option<f32> {
    let (fx, fy) = (x - 0.5, y - 0.5);
    if fx < 0.0 || fy < 0.0 || fx > (w - 1) as f32 || fy > (h - 1) as f32 {
        return None;
    }
    let (x0, y0) = (fx as usize, fy as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
    let p = |xx: usize, yy: usize| f32::from(img[yy * w + xx]);
    let top = p(x0, y0) * (1.0 - ax) + p(x1, y0) * ax;
    let bottom = p(x0, y1) * (1.0 - ax) + p(x1, y1) * ax;
    Some(top * (1.0 - ay) + bottom * ay)
}

/// Moves each side of outline `c` (continuous pixel coordinates of the `w × h` image, in order
/// around it) onto the document's edge at this image's resolution: along the side, the
/// strongest step of the side's polarity within [`EDGE_SEARCH`] pixels across it, to a
/// fraction of a pixel; a line through those points (outliers, e.g. fingers over the edge,
/// dropped); corners where adjacent lines meet. The Hough lines are found on a coarser image
/// and fitted to every edge pixel along the whole frame, so a side drifted by a pixel or two
/// from frame to frame, and auto-capture, which needs a steady outline, waited.
pub(crate) fn refine_outline(img: &[u8], w: usize, h: usize, c: [Px; 4]) -> [Px; 4] {
    if w < 3 || h < 3 {
        return c;
    }
    let mid = Px {
        x: (c[0].x + c[1].x + c[2].x + c[3].x) / 4.0,
        y: (c[0].y + c[1].y + c[2].y + c[3].y) / 4.0,
    };
    // Each side as a point and a unit normal pointing inward (as found, until refined).
    let mut lines: [(Px, Px); 4] = [(Px::default(), Px::default()); 4];
    for k in 0..4 {
        let (a, b) = (c[k], c[(k + 1) % 4]);
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let len = (dx * dx + dy * dy).sqrt().max(1e-3);
        let n = inward_normal(a, b, mid);
        let (nx, ny) = (n.x, n.y);
        lines[k] = (a, n);
        // Offsets of the edge across the side at each sample (positive: inward).
        let mut found = [(0.0f32, 0.0f32, 0.0f32); EDGE_SAMPLES];
        let mut count = 0;
        let mut polarity = 0.0f32;
        for i in 0..EDGE_SAMPLES {
            let t = 0.08 + 0.84 * (i as f32 + 0.5) / EDGE_SAMPLES as f32;
            let (px, py) = (a.x + dx * t, a.y + dy * t);
            let mut prof = [0.0f32; (2 * EDGE_SEARCH + 3) as usize];
            let mut ok = true;
            for (j, v) in prof.iter_mut().enumerate() {
                let o = j as f32 - (EDGE_SEARCH + 1) as f32;
                match sample(img, w, h, px + nx * o, py + ny * o) {
                    Some(s) => *v = s,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok {
                continue;
            }
            // Step across each offset (inside minus outside), the largest in magnitude.
            let (mut best, mut best_o) = (0.0f32, 0usize);
            for j in 1..prof.len() - 1 {
                let d = prof[j + 1] - prof[j - 1];
                if d.abs() > best.abs() {
                    best = d;
                    best_o = j;
                }
            }
            if best.abs() < EDGE_MIN_STEP || best_o == 0 {
                continue;
            }
            // Sub-pixel peak of |step| through its neighbours.
            let at = |j: usize| (prof[j + 1] - prof[j - 1]).abs();
            let mut off = 0.0;
            if best_o >= 2 && best_o + 2 < prof.len() {
                let (l, m, r) = (at(best_o - 1), at(best_o), at(best_o + 1));
                let den = l - 2.0 * m + r;
                if den.abs() > 1e-3 {
                    off = (0.5 * (l - r) / den).clamp(-0.5, 0.5);
                }
            }
            let o = best_o as f32 - (EDGE_SEARCH + 1) as f32 + off;
            found[count] = (t * len, o, best);
            count += 1;
            polarity += best.signum();
        }
        // Only steps of the side's majority polarity.
        let sign = if polarity >= 0.0 { 1.0 } else { -1.0 };
        let mut pts = [(0.0f32, 0.0f32); EDGE_SAMPLES];
        let mut m = 0;
        for &(t, o, d) in &found[..count] {
            if d * sign > 0.0 {
                pts[m] = (t, o);
                m += 1;
            }
        }
        if (m as f32) < EDGE_MIN_FOUND * EDGE_SAMPLES as f32 {
            continue;
        }
        // A robust line o = p + q·t through the points (Theil–Sen: the median of the pairwise
        // slopes, then the median intercept), then least squares on the points near it.
        let pts = &pts[..m];
        let mut slopes = [0.0f32; EDGE_SAMPLES * (EDGE_SAMPLES - 1) / 2];
        let mut ns = 0;
        for i in 0..m {
            for j in i + 1..m {
                let dt = pts[j].0 - pts[i].0;
                if dt.abs() > 1e-3 {
                    slopes[ns] = (pts[j].1 - pts[i].1) / dt;
                    ns += 1;
                }
            }
        }
        if ns == 0 {
            continue;
        }
        let slopes = &mut slopes[..ns];
        slopes.sort_unstable_by(f32::total_cmp);
        let q0 = slopes[ns / 2];
        let mut icpt = [0.0f32; EDGE_SAMPLES];
        for (d, s) in icpt.iter_mut().zip(pts) {
            *d = s.1 - q0 * s.0;
        }
        let icpt = &mut icpt[..m];
        icpt.sort_unstable_by(f32::total_cmp);
        let p0 = icpt[m / 2];
        let (mut n, mut st, mut so, mut stt, mut sto) = (0f32, 0f32, 0f32, 0f32, 0f32);
        for &(t, o) in pts {
            if (o - (p0 + q0 * t)).abs() > 1.0 {
                continue;
            }
            n += 1.0;
            st += t;
            so += o;
            stt += t * t;
            sto += t * o;
        }
        let den = n * stt - st * st;
        if n < EDGE_MIN_FOUND * EDGE_SAMPLES as f32 || den.abs() < 1e-6 {
            continue;
        }
        let q = (n * sto - st * so) / den;
        let p = (so - q * st) / n;
        // The line through (t = 0, o = p) with slope q across the side, back in the image.
        let (ux, uy) = (dx / len, dy / len);
        let base = Px {
            x: a.x + nx * p,
            y: a.y + ny * p,
        };
        // Direction along the new line: u + q·n, normalised; its normal stays inward.
        let (vx, vy) = (ux + q * nx, uy + q * ny);
        let vl = (vx * vx + vy * vy).sqrt().max(1e-6);
        let (vx, vy) = (vx / vl, vy / vl);
        let (mut mx2, mut my2) = (-vy, vx);
        if mx2 * nx + my2 * ny < 0.0 {
            mx2 = -mx2;
            my2 = -my2;
        }
        lines[k] = (base, Px { x: mx2, y: my2 });
    }
    // Corner k joins side k-1 and side k.
    let mut out = c;
    for k in 0..4 {
        let (p1, n1) = lines[(k + 3) % 4];
        let (p2, n2) = lines[k];
        // n·x = n·p for each line.
        let (r1, r2) = (n1.x * p1.x + n1.y * p1.y, n2.x * p2.x + n2.y * p2.y);
        let det = n1.x * n2.y - n1.y * n2.x;
        if det.abs() < 1e-3 {
            return c;
        }
        let p = Px {
            x: (r1 * n2.y - r2 * n1.y) / det,
            y: (n1.x * r2 - n2.x * r1) / det,
        };
        // A refinement moves a corner by a few pixels, never more.
        if p.dist(c[k]) > 3.0 * EDGE_SEARCH as f32 {
            return c;
        }
        out[k] = p;
    }
    out
}

/// Nearest integer for |v| < 2²⁰ without the libm call (`f32::round` is one outside wasm).
#[inline(always)]
fn round(v: f32) -> i32 {
    (v + 1_048_576.5) as i32 - 1_048_576
}

/// Difference between two undirected angles in degrees (`0..180`): `(difference 0..=90, whether
/// the shortest way crosses 0/180`, in which case one line's rho flips sign).
#[inline(always)]
fn angle_diff(a: i32, b: i32) -> (i32, bool) {
    // Both in 0..180, so |a − b| < 180.
    let d = (a - b).abs();
    if d > 90 {
        (180 - d, true)
    } else {
        (d, false)
    }
}

fn intersect(a: &Line, b: &Line) -> Option<Px> {
    let det = a.cos * b.sin - a.sin * b.cos;
    if det.abs() < 1e-3 {
        return None;
    }
    Some(Px {
        x: (a.rho * b.sin - b.rho * a.sin) / det,
        y: (a.cos * b.rho - b.cos * a.rho) / det,
    })
}

/// The largest distance between corresponding corners of two quads, over the four rotations
/// of the corner order (intersections come in any order).
fn corner_distance(a: &[Px; 4], b: &[Px; 4]) -> f32 {
    (0..4)
        .map(|r| {
            (0..4)
                .map(|k| a[k].dist(b[(k + r) % 4]))
                .fold(0.0, f32::max)
        })
        .fold(f32::INFINITY, f32::min)
}

fn is_convex(p: &[Px; 4]) -> bool {
    let mut sign = 0.0f32;
    for i in 0..4 {
        let (a, b, c) = (p[i], p[(i + 1) % 4], p[(i + 2) % 4]);
        let cross = (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x);
        if cross.abs() < 1e-6 {
            return false;
        }
        if sign == 0.0 {
            sign = cross.signum();
        } else if cross.signum() != sign {
            return false;
        }
    }
    true
}

/// `atan2(y, x)` in degrees, `-180..=180`, to within ~0.01°, without the libm call (slow in wasm).
#[inline]
pub(crate) fn atan2_deg(y: f32, x: f32) -> f32 {
    let (ax, ay) = (x.abs(), y.abs());
    let (mn, mx) = if ax > ay { (ay, ax) } else { (ax, ay) };
    if mx == 0.0 {
        return 0.0;
    }
    let a = mn / mx;
    let s = a * a;
    let mut r = ((-0.046_496_473 * s + 0.159_314_22) * s - 0.327_622_77) * s * a + a;
    if ay > ax {
        r = std::f32::consts::FRAC_PI_2 - r;
    }
    if x < 0.0 {
        r = std::f32::consts::PI - r;
    }
    if y < 0.0 {
        r = -r;
    }
    r.to_degrees()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atan2_matches_libm() {
        for i in 0..360 {
            let r = (i as f32 + 0.3).to_radians();
            let (y, x) = (r.sin() * 50.0, r.cos() * 50.0);
            let want = y.atan2(x).to_degrees();
            assert!((atan2_deg(y, x) - want).abs() < 0.05, "{i}");
        }
    }

    #[test]
    fn angle_diff_wraps() {
        assert_eq!(angle_diff(10, 20), (10, false));
        assert_eq!(angle_diff(178, 2), (4, true));
        assert_eq!(angle_diff(0, 90), (90, false));
    }
}
