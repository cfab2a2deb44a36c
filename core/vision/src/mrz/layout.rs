//! Finding the MRZ's text lines in the rectified band and the character cells along each line.

/// Ink: a band pixel darker than the midpoint between its neighbourhood's lightest and darkest
/// levels shifted by this fraction of that range toward the light (Bernsen's rule, with the
/// midpoint moved up a little so that blurred thin strokes at 640×480 still count)…
const INK_LEVEL: f32 = 0.45;
/// …in a neighbourhood with at least this luma range. Printed OCR-B on a document spans 100+
/// levels even blurred; the steps between a document's tinted areas (a lighter MRZ zone, a
/// header bar's shadow, guilloche) 10–35 levels, and they must not become ink (a step read as
/// ink along a line shifted that line's measured centre).
const INK_MIN_RANGE: f32 = 45.0;

/// A text row has at least this fraction of the band's busiest row's ink starts (white → ink
/// transitions). MRZ rows are the busiest rows of the band (a glyph every 2.54 mm across the
/// document); photo edges and short field lines fall below.
const ROW_REL_TRANSITIONS: f32 = 0.4;

/// A text line found in the band, with its cells.
#[derive(Debug, Clone)]
pub struct Line {
    /// Cell centres in band pixels.
    pub cells: Vec<(f32, f32)>,
    /// Cap height in band pixels.
    pub height: f32,
    /// Slope of the line (dy/dx), for the crop's rotation.
    pub slope: f32,
}

/// The band as ink/no-ink plus its size.
pub struct InkMap {
    ink: Vec<bool>,
    w: usize,
    h: usize,
}

impl InkMap {
    /// Local-contrast binarisation ([`INK_LEVEL`], [`INK_MIN_RANGE`]) in a `(2r+1)²` window
    /// (`r` ≈ one cap height: the window around any stroke holds paper).
    pub fn new(band: &[f32], w: usize, h: usize, r: usize) -> Option<InkMap> {
        let n = w.checked_mul(h)?;
        if n == 0 || band.len() < n {
            return None;
        }
        let band = band.get(..n)?;
        let lo = filter(band, w, h, r, f32::min);
        let hi = filter(band, w, h, r, f32::max);
        let ink = band
            .iter()
            .zip(lo.iter().zip(&hi))
            .map(|(&v, (&l, &m))| m - l >= INK_MIN_RANGE && v < m - INK_LEVEL * (m - l))
            .collect();
        Some(InkMap { ink, w, h })
    }

    fn at(&self, x: usize, y: usize) -> bool {
        x < self.w && self.ink.get(y * self.w + x).copied().unwrap_or(false)
    }

    /// Candidate text lines: maximal runs of rows whose ink-start count is at least
    /// [`ROW_REL_TRANSITIONS`] of the busiest row's and at least `min_starts`, as `(top, bottom)`
    /// row ranges (inclusive).
    pub fn text_rows(&self, min_starts: f32) -> Vec<(usize, usize)> {
        let starts: Vec<f32> = (0..self.h)
            .map(|y| {
                (1..self.w)
                    .filter(|&x| self.at(x, y) && !self.at(x - 1, y))
                    .count() as f32
            })
            .collect();
        // Smoothed over three rows.
        let sm: Vec<f32> = (0..self.h)
            .map(|y| {
                let lo = y.saturating_sub(1);
                let hi = (y + 2).min(self.h);
                starts.get(lo..hi).map_or(0.0, |s| s.iter().sum::<f32>()) / (hi - lo) as f32
            })
            .collect();
        let max = sm.iter().fold(0f32, |a, &b| a.max(b));
        let thr = (max * ROW_REL_TRANSITIONS).max(min_starts);
        let mut out = Vec::new();
        let mut start = None;
        for (y, &v) in sm.iter().enumerate() {
            match (v >= thr, start) {
                (true, None) => start = Some(y),
                (false, Some(s)) => {
                    out.push((s, y - 1));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            out.push((s, self.h.saturating_sub(1)));
        }
        out
    }

    /// Ink count per column over rows `yc(x) ± half` where `yc(x) = y0 + slope · x`.
    fn column_profile(&self, y0: f32, slope: f32, half: f32) -> Vec<f32> {
        (0..self.w)
            .map(|x| {
                let c = y0 + slope * x as f32;
                let lo = (c - half).round().max(0.0) as usize;
                let hi = ((c + half).round().max(0.0) as usize).min(self.h.saturating_sub(1));
                (lo..=hi).filter(|&y| self.at(x, y)).count() as f32
            })
            .collect()
    }

    /// Ink count per row in `rows`, columns `cols`.
    fn row_profile(&self, rows: (usize, usize), cols: (usize, usize)) -> Vec<f32> {
        (rows.0..=rows.1)
            .map(|y| (cols.0..cols.1).filter(|&x| self.at(x, y)).count() as f32)
            .collect()
    }
}

/// Running min or max (`f`) over a window of `2r+1` along `line` (clamped at the ends), in O(1)
/// per element (van Herk / Gil–Werman: block prefix and suffix extrema).
fn running(line: &[f32], r: usize, f: fn(f32, f32) -> f32, out: &mut [f32]) {
    let n = line.len();
    let k = 2 * r + 1;
    if n == 0 {
        return;
    }
    // Pad with the end values so that windows never leave the data.
    let first = line.first().copied().unwrap_or(0.0);
    let last = line.last().copied().unwrap_or(0.0);
    let padded: Vec<f32> = std::iter::repeat_n(first, r)
        .chain(line.iter().copied())
        .chain(std::iter::repeat_n(last, r + k))
        .collect();
    let mut g = padded.clone();
    let mut hh = padded.clone();
    for blk in g.chunks_mut(k) {
        for i in 1..blk.len() {
            blk[i] = f(blk[i - 1], blk[i]);
        }
    }
    for blk in hh.chunks_mut(k) {
        for i in (0..blk.len().saturating_sub(1)).rev() {
            blk[i] = f(blk[i], blk[i + 1]);
        }
    }
    for (i, o) in out.iter_mut().enumerate().take(n) {
        // Window [i, i + k) in padded coordinates.
        if let (Some(&a), Some(&b)) = (hh.get(i), g.get(i + k - 1)) {
            *o = f(a, b);
        }
    }
}

/// Separable running min or max over a `(2r+1)²` window (clamped at the borders).
fn filter(img: &[f32], w: usize, h: usize, r: usize, f: fn(f32, f32) -> f32) -> Vec<f32> {
    let mut tmp = vec![0f32; img.len()];
    for (src, dst) in img.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
        running(src, r, f, dst);
    }
    let mut out = vec![0f32; img.len()];
    let mut col = vec![0f32; h];
    let mut res = vec![0f32; h];
    for x in 0..w {
        for (y, c) in col.iter_mut().enumerate() {
            *c = tmp.get(y * w + x).copied().unwrap_or(0.0);
        }
        running(&col, r, f, &mut res);
        for (y, &v) in res.iter().enumerate() {
            if let Some(o) = out.get_mut(y * w + x) {
                *o = v;
            }
        }
    }
    out
}

/// Picks `k` lines among the candidate row ranges: the bottom-most run of `k` consecutive
/// candidates with similar heights (within 0.6–1.6× their median) and regular spacing (centre
/// gaps within 25 % of each other, 1.2–3.2 cap heights: ICAO's line pitch is ~1.7–2.4 cap
/// heights). Candidate heights must be 0.4–2× `expect_h`, the cap height the band's scale
/// implies for a document that fills the outline.
pub fn pick_lines(
    cands: &[(usize, usize)],
    k: usize,
    expect_h: f32,
) -> Option<Vec<(usize, usize)>> {
    let ok: Vec<(usize, usize)> = cands
        .iter()
        .copied()
        .filter(|&(a, b)| {
            let h = (b + 1 - a) as f32;
            h >= 0.4 * expect_h && h <= 2.0 * expect_h
        })
        .collect();
    if k == 0 || ok.len() < k {
        return None;
    }
    for start in (0..=ok.len() - k).rev() {
        let win = ok.get(start..start + k)?;
        let mut hs: Vec<f32> = win.iter().map(|&(a, b)| (b + 1 - a) as f32).collect();
        hs.sort_by(f32::total_cmp);
        let med = *hs.get(k / 2)?;
        if hs.iter().any(|&h| h < 0.6 * med || h > 1.6 * med) {
            continue;
        }
        let centres: Vec<f32> = win.iter().map(|&(a, b)| (a + b) as f32 / 2.0).collect();
        let gaps: Vec<f32> = centres.windows(2).map(|p| p[1] - p[0]).collect();
        let regular = gaps.iter().all(|&g| g >= 1.2 * med && g <= 3.2 * med)
            && match (
                gaps.iter().copied().reduce(f32::min),
                gaps.iter().copied().reduce(f32::max),
            ) {
                (Some(lo), Some(hi)) => hi <= 1.25 * lo,
                _ => true,
            };
        if regular {
            return Some(win.to_vec());
        }
    }
    None
}

/// Measures one line (cap height, slope, horizontal extent) around the candidate rows and lays
/// out its `n` cells.
pub fn segment(map: &InkMap, rows: (usize, usize), n: usize) -> Option<Line> {
    if n < 2 || map.w < n || map.h == 0 {
        return None;
    }
    let h0 = (rows.1 + 1 - rows.0) as f32;
    let yc0 = (rows.0 + rows.1) as f32 / 2.0;
    // Horizontal extent: runs of inked columns over ±0.8 candidate heights (the candidate rows
    // can miss the bars on the cap line and the baseline: an L is then a stem and a gap),
    // clustered across gaps below 1.2 candidate heights (every MRZ position is printed, so the
    // line has no gap wider than a glyph's side bearings; wider would join the background's
    // texture just past the document's edge; the widest cluster is the MRZ line, which spans
    // most of the document).
    let prof = map.column_profile(yc0, 0.0, 0.8 * h0);
    let (l, r) = widest_cluster(&prof, 1.2 * h0)?;
    if ((r - l) as f32) < 0.3 * map.w as f32 {
        return None;
    }
    // Cap top and baseline in the left and right thirds (rows whose ink is ≥ 25 % of the peak),
    // within ±1 candidate height: the slope and the height.
    let third = (r - l) / 3;
    let win = (
        (yc0 - h0).max(0.0) as usize,
        ((yc0 + h0) as usize).min(map.h - 1),
    );
    // The cap band is the run of rows around the candidate's centre whose ink stays at or above
    // 25 % of the candidate rows' peak: a photo or a field printed just above the MRZ (in the
    // window, but past a gap of paper rows) does not widen it.
    let edge = |c0: usize, c1: usize| -> Option<(f32, f32)> {
        let p = map.row_profile(win, (c0, c1));
        let (a, b) = (rows.0.saturating_sub(win.0), rows.1.saturating_sub(win.0));
        let peak = p.get(a..=b)?.iter().fold(0f32, |m, &v| m.max(v));
        if peak <= 0.0 {
            return None;
        }
        let thr = 0.25 * peak;
        let start = (a..=b).find(|&i| p.get(i).is_some_and(|&v| v >= thr))?;
        let mut top = start;
        while top > 0 && p.get(top - 1).is_some_and(|&v| v >= thr) {
            top -= 1;
        }
        let mut bot = start;
        while p.get(bot + 1).is_some_and(|&v| v >= thr) {
            bot += 1;
        }
        Some((
            win.0 as f32 + (top + bot + 1) as f32 / 2.0,
            (bot + 1 - top) as f32,
        ))
    };
    let (yl, hl) = edge(l, l + third)?;
    let (yr, hr) = edge(r - third, r)?;
    let (xl, xr) = ((l + third / 2) as f32, (r - third / 2) as f32);
    let slope = if xr > xl { (yr - yl) / (xr - xl) } else { 0.0 };
    let slope = slope.clamp(-0.1, 0.1);
    let height = (hl + hr) / 2.0;
    if height < 3.0 {
        return None;
    }
    let y_at = |x: f32| yl + slope * (x - xl);
    // Pitch: the ink extent spans n − 1 pitches plus about 0.6 of a glyph box.
    let prof = map.column_profile(y_at(0.0), slope, 0.6 * height);
    let ext = (r + 1 - l) as f32;
    let p0 = ext / (n as f32 - 0.4);
    // Comb refinement: the pitch (±3 %) and offset (±0.3 pitch) whose cell boundaries fall on
    // the least ink (the gaps between glyphs); a small penalty keeps the estimate when the gaps
    // are blurred away.
    let interp = |x: f32| -> f32 {
        if x < 0.0 {
            return 0.0;
        }
        let i = x as usize;
        let a = x - i as f32;
        let v0 = prof.get(i).copied().unwrap_or(0.0);
        let v1 = prof.get(i + 1).copied().unwrap_or(0.0);
        v0 * (1.0 - a) + v1 * a
    };
    let mut best = (f32::INFINITY, p0, 0.0f32);
    for pi in -12i32..=12 {
        let p = p0 * (1.0 + pi as f32 * 0.0025);
        for oi in -6i32..=6 {
            let o = oi as f32 * p / 20.0;
            let c0 = l as f32 + 0.3 * p + o;
            let s: f32 = (0..=n).map(|i| interp(c0 + (i as f32 - 0.5) * p)).sum();
            let pen = 0.02 * height * (pi.abs() + oi.abs()) as f32;
            if s + pen < best.0 {
                best = (s + pen, p, o);
            }
        }
    }
    let (_, p, o) = best;
    let c0 = l as f32 + 0.3 * p + o;
    // Per cell: centre on the ink's horizontal extent within ±0.45 pitch (as the classifier was
    // trained), by at most 0.2 pitch. A column counts as ink from a single pixel (at least 5 %
    // of the cell's densest column): the thin bar of an L or the arms of a < weigh little
    // against a stem, and dropping them shifted the crop toward the stem (L read as I).
    let cells = (0..n)
        .map(|i| {
            let cx = c0 + i as f32 * p;
            let a = (cx - 0.45 * p).max(0.0) as usize;
            let b = ((cx + 0.45 * p) as usize).min(prof.len());
            let seg = prof.get(a..b).unwrap_or(&[]);
            let peak = seg.iter().fold(0f32, |m, &v| m.max(v));
            let shift = match (
                seg.iter().position(|&v| v >= (0.05 * peak).max(1.0)),
                seg.iter().rposition(|&v| v >= (0.05 * peak).max(1.0)),
            ) {
                (Some(s), Some(e)) if peak > 0.0 => {
                    (a as f32 + (s + e + 1) as f32 / 2.0 - cx).clamp(-0.2 * p, 0.2 * p)
                }
                _ => 0.0,
            };
            let x = cx + shift;
            (x, y_at(x))
        })
        .collect();
    Some(Line {
        cells,
        height,
        slope,
    })
}

/// The widest cluster of non-zero entries whose internal gaps are below `max_gap`, as an
/// inclusive range.
fn widest_cluster(prof: &[f32], max_gap: f32) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    let mut cur: Option<(usize, usize)> = None;
    for (x, &v) in prof.iter().enumerate() {
        if v <= 0.0 {
            continue;
        }
        cur = match cur {
            Some((s, e)) if ((x - e) as f32) <= max_gap => Some((s, x)),
            _ => {
                if let Some(c) = cur {
                    if best.is_none_or(|b| c.1 - c.0 > b.1 - b.0) {
                        best = Some(c);
                    }
                }
                Some((x, x))
            }
        };
    }
    if let Some(c) = cur {
        if best.is_none_or(|b| c.1 - c.0 > b.1 - b.0) {
            best = Some(c);
        }
    }
    best
}
