//! Points, quadrilaterals and document kinds.

/// A point in frame coordinates normalised to `0.0..=1.0` on each axis (x right, y down), so
/// that the page can draw it over a video element of any size.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

/// A document outline: corners in the order top-left, top-right, bottom-right, bottom-left (as
/// seen in the frame, clockwise on screen), in normalised frame coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Quad {
    pub corners: [Point; 4],
}

impl Quad {
    /// The largest distance any corner moved from `other`'s matching corner, in normalised units
    /// (a fraction of the frame's width or height).
    pub fn max_corner_shift(&self, other: &Quad) -> f32 {
        self.corners
            .iter()
            .zip(other.corners.iter())
            .map(|(a, b)| (a.x - b.x).abs().max((a.y - b.y).abs()))
            .fold(0.0, f32::max)
    }

    /// The centre of the corners.
    pub fn centre(&self) -> Point {
        let (sx, sy) = self
            .corners
            .iter()
            .fold((0.0, 0.0), |(sx, sy), p| (sx + p.x, sy + p.y));
        Point {
            x: sx / 4.0,
            y: sy / 4.0,
        }
    }
}

/// Which document is being captured: it sets the expected aspect ratio of the outline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// ID-1 / TD1 cards (identity cards, driving licences, residence permits): 85.6 × 54 mm.
    Id1,
    /// TD3 passport data pages: 125 × 88 mm.
    Td3,
}

impl DocumentKind {
    /// Long side over short side of the physical document.
    pub fn aspect(self) -> f32 {
        match self {
            DocumentKind::Id1 => 85.6 / 54.0,
            DocumentKind::Td3 => 125.0 / 88.0,
        }
    }

    /// The range of apparent aspect ratios (long over short side, averaged over opposite sides)
    /// accepted as this document: perspective shortens one side, and rounding at low resolution
    /// adds a few per cent, so the range is wider than the physical ratio.
    pub fn aspect_range(self) -> (f32, f32) {
        let a = self.aspect();
        (a * ASPECT_TOLERANCE_LOW, a * ASPECT_TOLERANCE_HIGH)
    }

    /// A stable key.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Id1 => "id1",
            DocumentKind::Td3 => "td3",
        }
    }
}

/// Lower bound of the accepted apparent aspect ratio, as a factor of the physical ratio
/// (Id1: 1.35, Td3: 1.21): a card tilted ~30° away about its long axis still passes detection
/// (and is then flagged `tilted` if its sides are too uneven).
pub const ASPECT_TOLERANCE_LOW: f32 = 0.85;
/// Upper bound of the accepted apparent aspect ratio, as a factor of the physical ratio
/// (Id1: 2.22, Td3: 1.99): a card tipped back ~40° about its long axis looks 1/cos 40° ≈ 1.3×
/// wider than tall, and frames stretched anamorphically (a 4:3 sensor mode delivered as 16:9,
/// as in the `card_1920x1080` reference, apparent ratio 2.1) even more.
pub const ASPECT_TOLERANCE_HIGH: f32 = 1.40;

/// A point in analysis-pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Px {
    pub x: f32,
    pub y: f32,
}

impl Px {
    pub fn dist(self, o: Px) -> f32 {
        ((self.x - o.x).powi(2) + (self.y - o.y).powi(2)).sqrt()
    }
}

/// Shoelace area of a polygon (positive when clockwise on screen, y down).
pub(crate) fn signed_area(p: &[Px; 4]) -> f32 {
    let mut a = 0.0;
    for i in 0..4 {
        let j = (i + 1) % 4;
        a += p[i].x * p[j].y - p[j].x * p[i].y;
    }
    a / 2.0
}

/// Reorders a convex quad to clockwise-on-screen, top-left first.
pub(crate) fn order_corners(mut p: [Px; 4]) -> [Px; 4] {
    if signed_area(&p) < 0.0 {
        p.reverse();
    }
    let mut first = 0;
    for i in 1..4 {
        if p[i].x + p[i].y < p[first].x + p[first].y {
            first = i;
        }
    }
    p.rotate_left(first);
    p
}

/// The horizontal extent of a convex quad at pixel row `y` (its centre line), as an inclusive
/// pixel range clamped to `0..width`, or `None` when the row misses it.
pub(crate) fn row_span(p: &[Px; 4], y: usize, width: usize) -> Option<(usize, usize)> {
    let yc = y as f32 + 0.5;
    let mut lo = f32::INFINITY;
    let mut hi = f32::NEG_INFINITY;
    for i in 0..4 {
        let a = p[i];
        let b = p[(i + 1) % 4];
        let (y0, y1) = if a.y <= b.y { (a.y, b.y) } else { (b.y, a.y) };
        if yc < y0 || yc > y1 || y1 - y0 < 1e-6 {
            continue;
        }
        let t = (yc - a.y) / (b.y - a.y);
        let x = a.x + t * (b.x - a.x);
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if lo > hi {
        return None;
    }
    let x0 = lo.ceil().max(0.0) as usize;
    let x1f = (hi - 1.0).floor();
    if x1f < 0.0 {
        return None;
    }
    let x1 = (x1f as usize).min(width.saturating_sub(1));
    if x0 > x1 {
        None
    } else {
        Some((x0, x1))
    }
}

/// Moves each corner `f` of the way toward the centroid.
pub(crate) fn inset(p: &[Px; 4], f: f32) -> [Px; 4] {
    let cx = p.iter().map(|q| q.x).sum::<f32>() / 4.0;
    let cy = p.iter().map(|q| q.y).sum::<f32>() / 4.0;
    p.map(|q| Px {
        x: q.x + (cx - q.x) * f,
        y: q.y + (cy - q.y) * f,
    })
}
