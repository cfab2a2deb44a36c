//! Finding the MRZ's text lines in the rectified band and the character cells along each line.

/// Ink: a band pixel darker than its neighbourhood's mean by this fraction of that mean (and by
/// at least [`INK_MIN_DROP`] levels). Printed OCR-B on a light document is 40–70 % darker than
/// the paper; guilloche and security tints a few per cent; JPEG ringing ~3–5 levels.
const INK_REL_DROP: f32 = 0.14;
/// See [`INK_REL_DROP`].
const INK_MIN_DROP: f32 = 10.0;

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
    /// Local-mean binarisation in a `(2r+1)²` window (`r` ≈ 1.5 cap heights: wider than a
    /// glyph, so the window's mean is mostly paper).
    pub fn new(band: &[f32], w: usize, h: usize, r: usize) -> Option<InkMap> {
        let n = w.checked_mul(h)?;
        if n == 0 || band.len() < n {
            return None;
        }
        // Integral image, (w+1) × (h+1).
        let iw = w + 1;
        let mut ii = vec![0f64; iw * (h + 1)];
        for y in 0..h {
            let mut rs = 0f64;
            for x in 0..w {
                rs += band.get(y * w + x).copied().unwrap_or(0.0) as f64;
                let above = ii.get(y * iw + x + 1).copied().unwrap_or(0.0);
                if let Some(c) = ii.get_mut((y + 1) * iw + x + 1) {
                    *c = above + rs;
                }
            }
        }
        let get = |x: usize, y: usize| ii.get(y * iw + x).copied().unwrap_or(0.0);
        let mut ink = vec![false; n];
        for y in 0..h {
            let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
            for x in 0..w {
                let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
                let area = ((x1 - x0) * (y1 - y0)) as f64;
                let sum = get(x1, y1) - get(x0, y1) - get(x1, y0) + get(x0, y0);
                let mean = (sum / area) as f32;
                let v = band.get(y * w + x).copied().unwrap_or(0.0);
                if let Some(c) = ink.get_mut(y * w + x) {
                    *c = v < mean - (mean * INK_REL_DROP).max(INK_MIN_DROP);
                }
            }
        }
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
    // Horizontal extent: runs of inked columns, clustered across gaps below 1.2 cap heights
    // (the widest cluster is the MRZ line, which spans most of the document).
    let prof = map.column_profile(yc0, 0.0, 0.5 * h0);
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
    let edge = |c0: usize, c1: usize| -> Option<(f32, f32)> {
        let p = map.row_profile(win, (c0, c1));
        let peak = p.iter().fold(0f32, |a, &b| a.max(b));
        if peak <= 0.0 {
            return None;
        }
        let top = p.iter().position(|&v| v >= 0.25 * peak)?;
        let bot = p.iter().rposition(|&v| v >= 0.25 * peak)?;
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
    // Per cell: centre on the ink's horizontal extent within the cell (as the classifier was
    // trained), by at most 0.2 pitch.
    let cells = (0..n)
        .map(|i| {
            let cx = c0 + i as f32 * p;
            let a = (cx - 0.5 * p).max(0.0) as usize;
            let b = ((cx + 0.5 * p) as usize).min(prof.len());
            let seg = prof.get(a..b).unwrap_or(&[]);
            let peak = seg.iter().fold(0f32, |m, &v| m.max(v));
            let shift = match (
                seg.iter().position(|&v| v > 0.15 * peak),
                seg.iter().rposition(|&v| v > 0.15 * peak),
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
