//! Document capture: the on-device quality gate and auto-capture (issue 6).
//!
//! The browser layer grabs a video frame (`getImageData`), converts it with [`rgba_to_luma`] into
//! a small luma image (long edge [`ANALYSIS_LONG_EDGE`]), and hands it to an [`Analyser`], which
//! keeps its scratch buffers between frames (no allocation per frame once warmed up). The
//! [`FrameReport`] carries the metrics, the document outline ([`Quad`], normalised coordinates for
//! the overlay), the [`Issue`]s found and the primary one to show as a hint. [`AutoCapture`] fires
//! after a run of good, steady frames; [`HintHolder`] keeps a hint up long enough to read;
//! [`manual_shutter_available`] says when to offer the shutter button.
//!
//! Pipeline per frame (all at ≤ 320 px on the long edge):
//! 1. document outline ([`detect`]): Sobel edges thinned by non-maximum suppression, an
//!    orientation-gated Hough transform, and the largest quadrilateral of two near-parallel line
//!    pairs with the document kind's aspect ratio whose four sides are each backed by edges;
//! 2. region metrics on the outline, inset by [`REGION_INSET`] (the whole frame if none):
//!    brightness (mean luma), contrast (standard deviation), sharpness (Crété-Roffet no-reference
//!    blur, a ratio and so independent of content contrast), glare (the largest blob of clipped
//!    pixels that is thicker than print strokes);
//! 3. geometry: coverage of the frame, corners near the border, in-plane rotation, uneven
//!    opposite sides (the card tilted away from the camera).
//!
//! Thresholds are the `pub const`s below, each with its rationale and the margin measured on the
//! reference images (see `core/tests/vision_media.rs`).

pub mod auto;
#[cfg(feature = "corpus")]
pub mod corpus;
pub mod detect;
pub mod frame;
pub mod geometry;
mod metrics;
pub mod mrz;
#[cfg(feature = "mrz-eval")]
pub mod mrz_eval;
#[cfg(any(feature = "corpus", feature = "mrz-eval"))]
mod synth;

pub use auto::{
    manual_shutter_available, AutoCapture, AutoCaptureConfig, CaptureDecision, HintHolder,
    AUTO_CAPTURE_FRAMES, HINT_MIN_HOLD_MS, MANUAL_SHUTTER_AFTER_MS, MAX_CORNER_SHIFT,
};
pub use frame::{
    downscale_luma, luma_of_rgba, rgba_to_luma, scaled_size, FrameError, LumaFrame,
    ANALYSIS_LONG_EDGE, MIN_FRAME_SIDE,
};
pub use geometry::{DocumentKind, Point, Quad};
pub use metrics::{CLIPPED_LEVEL, GLARE_CORE_RADIUS, GLARE_MIN_SOFT_BORDER, GLARE_SOFT_STEP};

use geometry::{inset, signed_area, Px};
use metrics::Region;

/// The outline is looked for at this long edge (half the analysis resolution): averaging 2×2
/// pixels steadies edge directions along borders next to coarse texture (gravel, carpet) and
/// quarters the cost; corners are refined to sub-pixel precision anyway.
pub const DETECT_LONG_EDGE: usize = 200;

/// The outline found at [`DETECT_LONG_EDGE`] is moved onto the document's edges at the analysis
/// resolution this many times (each round starts from the last, so a side found a few degrees
/// off comes within reach of its whole length).
pub const REFINE_ROUNDS: usize = 3;

/// The document region is too dark when its mean luma is below this. A light document under
/// ordinary light reads 150–220 (reference frames 187–218); the quarter-brightness card reads 48.
pub const DARK_MAX_MEAN: f32 = 70.0;

/// With no document found, the frame is "too dark" only below this mean luma (a dark table reads
/// 30–60; a card in a room too dark to see it, under 25)…
pub const NO_DOCUMENT_DARK_MAX_MEAN: f32 = 25.0;
/// …and "too bright" only when at least this fraction of it is clipped…
pub const NO_DOCUMENT_BRIGHT_MIN_CLIPPED: f32 = 0.6;
/// …or its mean luma is at least this.
pub const NO_DOCUMENT_BRIGHT_MIN_MEAN: f32 = 245.0;

/// Overexposed when at least this fraction of the document region is clipped
/// (≥ [`CLIPPED_LEVEL`]): the print is washing out.
pub const BRIGHT_MIN_CLIPPED_FRACTION: f32 = 0.35;
/// …or when the region's mean luma is at least this.
pub const BRIGHT_MIN_MEAN: f32 = 235.0;

/// Low contrast when the document region's luma standard deviation is below this (a document's
/// print normally gives 35–60; haze, a dirty lens or a washed-out frame much less).
pub const LOW_CONTRAST_MAX_STD: f32 = 18.0;

/// Blurred when sharpness (`1 − blur` of Crété-Roffet, measured at the analysis resolution on the
/// document region) is below this. Reference frames: sharp cards and passport 0.845–0.867, the
/// σ = 3 px (at 640×480) blurred card 0.570; the threshold sits half-way.
pub const MIN_SHARPNESS: f32 = 0.70;

/// Glare when the largest glare blob covers at least this fraction of the document region (0.4 %,
/// a blob ≈ 14×14 px on a card filling 320×240 halfway). Reference: the glare card 0.033, every
/// other frame 0.
pub const MIN_GLARE_FRACTION: f32 = 0.004;

/// The document must cover at least this fraction of the frame (an ID-1 card ≈ 45 % of a 4:3
/// frame's width); below, "move closer". Reference: passing frames 0.33–0.45, the far card 0.046.
pub const MIN_COVERAGE: f32 = 0.18;
/// …and at most this (a card edge to edge across a 4:3 frame covers ~84 %); above, "move back".
pub const MAX_COVERAGE: f32 = 0.85;

/// A corner closer than this to the frame border (fraction of the frame side) or outside it means
/// the document is cut off.
pub const CUT_OFF_MARGIN: f32 = 0.01;

/// Tilted when the document's long sides deviate from the frame's axes by more than this, in
/// degrees…
pub const MAX_ROTATION_DEG: f32 = 15.0;
/// …or when opposite sides differ in length by more than this ratio (held at an angle to the
/// camera: the far side looks shorter).
pub const MIN_SIDE_RATIO: f32 = 0.82;

/// The outline is shrunk by this fraction toward its centre before measuring the region, so that
/// the background just outside a slightly misplaced outline does not count.
pub const REGION_INSET: f32 = 0.06;

/// `*v = vec![val; n]`, reusing the allocation. The SPA's wasm is built at opt-level "z", where
/// `clear()` + `resize()` fills element by element through a non-inlined `extend_with` (~8 % of a
/// frame); a length-preserving `fill` of a byte-sized or zero value becomes a memset.
#[inline]
pub(crate) fn reset<T: Copy>(v: &mut Vec<T>, n: usize, val: T) {
    if v.len() != n {
        v.clear();
        v.resize(n, val);
    } else {
        v.fill(val);
    }
}

/// A reason a frame is not good enough, in the order the gate reports them: the first found is the
/// primary hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Issue {
    /// Too dark: more light.
    Dark,
    /// Overexposed.
    Bright,
    /// No document outline found.
    NoDocument,
    /// The document region is washed out or hazy.
    LowContrast,
    /// Part of the document is outside the frame.
    CutOff,
    /// The document is too small in the frame: move closer.
    TooSmall,
    /// The document overfills the frame: move back.
    TooClose,
    /// Held at an angle (rotated in the frame or tilted away).
    Tilted,
    /// Out of focus or moving.
    Blur,
    /// A reflection hides part of the document.
    Glare,
}

impl Issue {
    /// All issues in priority order.
    pub const ALL: [Issue; 10] = [
        Issue::Dark,
        Issue::Bright,
        Issue::NoDocument,
        Issue::LowContrast,
        Issue::CutOff,
        Issue::TooSmall,
        Issue::TooClose,
        Issue::Tilted,
        Issue::Blur,
        Issue::Glare,
    ];

    /// The stable key the SPA maps to a translated hint.
    pub fn as_str(self) -> &'static str {
        match self {
            Issue::Dark => "dark",
            Issue::Bright => "bright",
            Issue::NoDocument => "no_document",
            Issue::LowContrast => "low_contrast",
            Issue::CutOff => "cut_off",
            Issue::TooSmall => "too_small",
            Issue::TooClose => "too_close",
            Issue::Tilted => "tilted",
            Issue::Blur => "blur",
            Issue::Glare => "glare",
        }
    }

    /// The inverse of [`Issue::as_str`].
    pub fn parse(s: &str) -> Option<Issue> {
        Issue::ALL.into_iter().find(|i| i.as_str() == s)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of [`Issue`]s (a bit set: `Copy`, no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IssueSet(u16);

impl IssueSet {
    pub fn insert(&mut self, i: Issue) {
        self.0 |= i.bit();
    }
    pub fn contains(self, i: Issue) -> bool {
        self.0 & i.bit() != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
    /// The highest-priority issue.
    pub fn primary(self) -> Option<Issue> {
        self.iter().next()
    }
    /// Issues in priority order.
    pub fn iter(self) -> impl Iterator<Item = Issue> {
        Issue::ALL.into_iter().filter(move |i| self.contains(*i))
    }
}

impl FromIterator<Issue> for IssueSet {
    fn from_iter<T: IntoIterator<Item = Issue>>(iter: T) -> Self {
        let mut s = IssueSet::default();
        for i in iter {
            s.insert(i);
        }
        s
    }
}

/// Measurements of one frame. Region metrics are taken on the document (inset) when one was
/// found, else on the whole frame; geometry fields are 0 without a document.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Metrics {
    /// Analysis resolution.
    pub width: u32,
    pub height: u32,
    /// Mean luma of the whole frame, 0–255.
    pub frame_brightness: f32,
    /// Mean luma of the region, 0–255.
    pub brightness: f32,
    /// Luma standard deviation of the region.
    pub contrast: f32,
    /// Fraction of the region's pixels at or above [`CLIPPED_LEVEL`].
    pub clipped: f32,
    /// `0..=1`, higher is sharper (`1 −` Crété-Roffet blur).
    pub sharpness: f32,
    /// Largest glare blob as a fraction of the region.
    pub glare: f32,
    /// Document area over frame area.
    pub coverage: f32,
    /// Apparent long-over-short side ratio of the outline.
    pub aspect: f32,
    /// Deviation of the long sides from the nearest frame axis, degrees.
    pub rotation_deg: f32,
    /// Shorter over longer of each pair of opposite sides, the smaller of the two.
    pub side_ratio: f32,
    /// Fraction of the outline backed by edge pixels.
    pub edge_support: f32,
}

/// The verdict on one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameReport {
    pub kind: DocumentKind,
    pub metrics: Metrics,
    /// The document outline, normalised to the frame.
    pub quad: Option<Quad>,
    pub issues: IssueSet,
    /// The issue to show as a hint (`issues.primary()`).
    pub primary: Option<Issue>,
    /// No issues: the frame may be captured.
    pub ok: bool,
}

/// The per-frame analyser: holds scratch buffers reused across frames. One per capture screen.
#[derive(Debug, Default)]
pub struct Analyser {
    small: Vec<u8>,
    detect_img: Vec<u8>,
    rgba_luma: Vec<u8>,
    detector: detect::Detector,
    scratch: metrics::Scratch,
}

impl Analyser {
    pub fn new() -> Self {
        Analyser::default()
    }

    /// Starts a new sequence of frames: the outline of the frame analysed last no longer
    /// steadies the next one's (frames of one camera preview keep it; an image checked on its
    /// own, as the server checks an upload, must not depend on the image before).
    pub fn new_sequence(&mut self) {
        self.detector.forget();
    }

    /// Analyses RGBA bytes (as `getImageData` returns them): converts to luma at the analysis
    /// resolution into an internal buffer, then [`Analyser::analyse`].
    pub fn analyse_rgba(
        &mut self,
        rgba: &[u8],
        width: usize,
        height: usize,
        kind: DocumentKind,
    ) -> Result<FrameReport, FrameError> {
        let mut buf = std::mem::take(&mut self.rgba_luma);
        let res =
            rgba_to_luma(rgba, width, height, ANALYSIS_LONG_EDGE, &mut buf).and_then(|(w, h)| {
                let frame = LumaFrame::new(w, h, &buf)?;
                Ok(self.analyse(frame, kind))
            });
        self.rgba_luma = buf;
        res
    }

    /// Analyses one luma frame (downscaled to [`ANALYSIS_LONG_EDGE`] first if larger).
    pub fn analyse(&mut self, frame: LumaFrame<'_>, kind: DocumentKind) -> FrameReport {
        let Analyser {
            small,
            detect_img,
            detector,
            scratch,
            ..
        } = self;
        let (img, w, h): (&[u8], usize, usize) =
            if frame.width.max(frame.height) > ANALYSIS_LONG_EDGE {
                let (w, h) = downscale_luma(frame, ANALYSIS_LONG_EDGE, small);
                (small.as_slice(), w, h)
            } else {
                (frame.data, frame.width, frame.height)
            };
        analyse_small(img, w, h, kind, detect_img, detector, scratch)
    }
}

#[cfg(feature = "corpus")]
impl Analyser {
    /// Where the outline detector lost the document whose true outline is `truth`
    /// (normalised), on this frame (the corpus's `--diagnose`).
    pub fn diagnose(
        &mut self,
        frame: LumaFrame<'_>,
        kind: DocumentKind,
        truth: Quad,
    ) -> detect::Diagnosis {
        let (w, h) = scaled_size(frame.width, frame.height, ANALYSIS_LONG_EDGE);
        let small = if (w, h) != (frame.width, frame.height) {
            downscale_luma(frame, ANALYSIS_LONG_EDGE, &mut self.small);
            self.small.as_slice()
        } else {
            frame.data
        };
        let (dw, dh) = scaled_size(w, h, DETECT_LONG_EDGE);
        let img = if (dw, dh) != (w, h) {
            let f = LumaFrame {
                width: w,
                height: h,
                data: small,
            };
            downscale_luma(f, DETECT_LONG_EDGE, &mut self.detect_img);
            self.detect_img.as_slice()
        } else {
            small
        };
        let t = truth.corners.map(|p| Px {
            x: p.x * dw as f32,
            y: p.y * dh as f32,
        });
        self.detector.diagnose(img, dw, dh, kind, t)
    }
}

/// One-shot convenience: [`Analyser::analyse`] with fresh buffers (allocates; use an
/// [`Analyser`] in a capture loop).
pub fn analyse(frame: LumaFrame<'_>, kind: DocumentKind) -> FrameReport {
    Analyser::new().analyse(frame, kind)
}

fn analyse_small(
    img: &[u8],
    w: usize,
    h: usize,
    kind: DocumentKind,
    detect_img: &mut Vec<u8>,
    detector: &mut detect::Detector,
    scratch: &mut metrics::Scratch,
) -> FrameReport {
    let mut frame_sum = 0u64;
    for &v in img {
        frame_sum += v as u64;
    }
    let frame_brightness = frame_sum as f32 / (w * h) as f32;
    let (dw, dh) = scaled_size(w, h, DETECT_LONG_EDGE);
    let found = if (dw, dh) == (w, h) {
        detector.detect(img, w, h, kind)
    } else {
        let frame = LumaFrame {
            width: w,
            height: h,
            data: img,
        };
        downscale_luma(frame, DETECT_LONG_EDGE, detect_img);
        let (sx, sy) = (w as f32 / dw as f32, h as f32 / dh as f32);
        detector
            .detect(detect_img, dw, dh, kind)
            .map(|f| detect::Found {
                corners: f.corners.map(|p| Px {
                    x: p.x * sx,
                    y: p.y * sy,
                }),
                ..f
            })
    };
    let found = found.map(|f| detect::Found {
        corners: (0..REFINE_ROUNDS).fold(f.corners, |c, _| detect::refine_outline(img, w, h, c)),
        ..f
    });
    let region = match &found {
        Some(f) => Region::Quad(inset(&f.corners, REGION_INSET)),
        None => Region::Frame,
    };
    let st = metrics::stats(img, w, h, region, scratch);
    let mut m = Metrics {
        width: w as u32,
        height: h as u32,
        frame_brightness,
        brightness: st.mean,
        contrast: st.std_dev,
        clipped: st.clipped_fraction,
        sharpness: st.sharpness,
        glare: st.glare_fraction,
        ..Metrics::default()
    };
    let mut issues = IssueSet::default();
    // Light is judged on the document; with none found, on the whole frame, and only when it
    // is so dark or bright that no document could be seen in it: a dark table or a white sheet
    // without a document on it needs "show your document", not "more light".
    let (dark_max, bright_clipped, bright_mean) = if found.is_some() {
        (DARK_MAX_MEAN, BRIGHT_MIN_CLIPPED_FRACTION, BRIGHT_MIN_MEAN)
    } else {
        (
            NO_DOCUMENT_DARK_MAX_MEAN,
            NO_DOCUMENT_BRIGHT_MIN_CLIPPED,
            NO_DOCUMENT_BRIGHT_MIN_MEAN,
        )
    };
    if m.brightness < dark_max {
        issues.insert(Issue::Dark);
    }
    if m.clipped >= bright_clipped || m.brightness >= bright_mean {
        issues.insert(Issue::Bright);
    }
    let quad = found.map(|f| {
        let c = f.corners;
        let (wf, hf) = (w as f32, h as f32);
        m.edge_support = f.support;
        m.coverage = signed_area(&c).abs() / (wf * hf);
        let s = [
            c[0].dist(c[1]),
            c[1].dist(c[2]),
            c[2].dist(c[3]),
            c[3].dist(c[0]),
        ];
        let (a, b) = ((s[0] + s[2]) / 2.0, (s[1] + s[3]) / 2.0);
        m.aspect = a.max(b) / a.min(b).max(1e-3);
        m.side_ratio = (s[0].min(s[2]) / s[0].max(s[2])).min(s[1].min(s[3]) / s[1].max(s[3]));
        // The long sides: top and bottom (0→1, 3→2) or right and left (1→2, 0→3).
        let (p, q) = if a >= b {
            ((c[0], c[1]), (c[3], c[2]))
        } else {
            ((c[0], c[3]), (c[1], c[2]))
        };
        m.rotation_deg = (axis_deviation(p.0, p.1) + axis_deviation(q.0, q.1)) / 2.0;
        let mx = CUT_OFF_MARGIN * wf;
        let my = CUT_OFF_MARGIN * hf;
        if c.iter()
            .any(|p| p.x < mx || p.y < my || p.x > wf - mx || p.y > hf - my)
        {
            issues.insert(Issue::CutOff);
        }
        Quad {
            corners: c.map(|p| Point {
                x: p.x / wf,
                y: p.y / hf,
            }),
        }
    });
    match quad {
        None => issues.insert(Issue::NoDocument),
        Some(_) => {
            if m.contrast < LOW_CONTRAST_MAX_STD {
                issues.insert(Issue::LowContrast);
            }
            if m.coverage < MIN_COVERAGE {
                issues.insert(Issue::TooSmall);
            }
            if m.coverage > MAX_COVERAGE {
                issues.insert(Issue::TooClose);
            }
            if m.rotation_deg > MAX_ROTATION_DEG || m.side_ratio < MIN_SIDE_RATIO {
                issues.insert(Issue::Tilted);
            }
            if m.sharpness < MIN_SHARPNESS {
                issues.insert(Issue::Blur);
            }
            if m.glare >= MIN_GLARE_FRACTION {
                issues.insert(Issue::Glare);
            }
        }
    }
    FrameReport {
        kind,
        metrics: m,
        quad,
        issues,
        primary: issues.primary(),
        ok: issues.is_empty(),
    }
}

/// Angle between segment `a → b` and the nearest frame axis, degrees `0..=45`.
fn axis_deviation(a: Px, b: Px) -> f32 {
    let deg = detect::atan2_deg(b.y - a.y, b.x - a.x).abs() % 90.0;
    deg.min(90.0 - deg)
}
