//! Auto-capture, hint hold and the manual shutter: pure state over frame reports and caller-given
//! timestamps (milliseconds from any monotonic origin, e.g. `performance.now()`); no clock here.

use super::{FrameReport, Issue};

/// Good frames in a row needed before auto-capture fires (≈ 1/3 s at 15 analysed frames/s).
pub const AUTO_CAPTURE_FRAMES: u32 = 5;

/// Largest corner movement between consecutive frames, as a fraction of the frame's width or
/// height, for the document to count as held still (2 % ≈ 13 px at 640×480).
pub const MAX_CORNER_SHIFT: f32 = 0.02;

/// How long a guidance hint stays on screen at least, so that it does not flicker between frames.
pub const HINT_MIN_HOLD_MS: u64 = 1000;

/// After this long on a capture screen without an automatic capture, offer the manual shutter.
pub const MANUAL_SHUTTER_AFTER_MS: u64 = 4000;

/// Whether to show the manual shutter button, `elapsed_ms` after the capture screen opened.
pub fn manual_shutter_available(elapsed_ms: u64) -> bool {
    elapsed_ms >= MANUAL_SHUTTER_AFTER_MS
}

/// Tuning for [`AutoCapture`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoCaptureConfig {
    /// Consecutive good, steady frames needed.
    pub frames_needed: u32,
    /// Largest corner movement between frames (normalised units).
    pub max_corner_shift: f32,
}

impl Default for AutoCaptureConfig {
    fn default() -> Self {
        AutoCaptureConfig {
            frames_needed: AUTO_CAPTURE_FRAMES,
            max_corner_shift: MAX_CORNER_SHIFT,
        }
    }
}

/// What [`AutoCapture::push`] decided for a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureDecision {
    /// Keep going: `good_frames` good, steady frames in a row so far (0 after a bad frame).
    Wait { good_frames: u32 },
    /// Take this frame (returned once; later frames get `Done` until [`AutoCapture::reset`]).
    Capture,
    /// Already captured.
    Done,
}

/// Fires once after `frames_needed` consecutive frames that pass the quality gate with a document
/// outline that barely moves from one frame to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoCapture {
    config: AutoCaptureConfig,
    streak: u32,
    last: Option<super::Quad>,
    fired: bool,
}

impl Default for AutoCapture {
    fn default() -> Self {
        AutoCapture::new(AutoCaptureConfig::default())
    }
}

impl AutoCapture {
    pub fn new(config: AutoCaptureConfig) -> Self {
        AutoCapture {
            config,
            streak: 0,
            last: None,
            fired: false,
        }
    }

    /// Feeds one analysed frame.
    pub fn push(&mut self, report: &FrameReport) -> CaptureDecision {
        if self.fired {
            return CaptureDecision::Done;
        }
        let quad = match (report.ok, report.quad) {
            (true, Some(q)) => q,
            _ => {
                self.streak = 0;
                self.last = None;
                return CaptureDecision::Wait { good_frames: 0 };
            }
        };
        let steady = self
            .last
            .is_none_or(|prev| quad.max_corner_shift(&prev) <= self.config.max_corner_shift);
        self.streak = if steady { self.streak + 1 } else { 1 };
        self.last = Some(quad);
        if self.streak >= self.config.frames_needed.max(1) {
            self.fired = true;
            CaptureDecision::Capture
        } else {
            CaptureDecision::Wait {
                good_frames: self.streak,
            }
        }
    }

    /// Good, steady frames in a row so far (for a progress ring).
    pub fn good_frames(&self) -> u32 {
        self.streak
    }

    /// Whether it has fired.
    pub fn fired(&self) -> bool {
        self.fired
    }

    /// Starts over (retake, or the other side of the document).
    pub fn reset(&mut self) {
        self.streak = 0;
        self.last = None;
        self.fired = false;
    }
}

/// Keeps a guidance hint on screen for at least `min_hold_ms` before it changes to another hint
/// or disappears, so that a verdict alternating between frames does not flicker.
///
/// Generic over the hint type: document [`Issue`]s (the default) or the selfie gate's
/// `liveform_core::selfie::SelfieHint`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintHolder<H = Issue> {
    min_hold_ms: u64,
    shown: Option<H>,
    since_ms: u64,
}

impl<H: Copy + PartialEq> Default for HintHolder<H> {
    fn default() -> Self {
        HintHolder::new(HINT_MIN_HOLD_MS)
    }
}

impl<H: Copy + PartialEq> HintHolder<H> {
    pub fn new(min_hold_ms: u64) -> Self {
        HintHolder {
            min_hold_ms,
            shown: None,
            since_ms: 0,
        }
    }

    /// Offers the latest frame's hint (`None`: nothing to say) at `now_ms`; returns the hint to
    /// display. A first hint shows at once; after that the shown hint only changes (or clears)
    /// once it has been up for `min_hold_ms`. A clock that goes backwards counts as no time
    /// passed.
    pub fn update(&mut self, now_ms: u64, candidate: Option<H>) -> Option<H> {
        if candidate == self.shown {
            return self.shown;
        }
        let held = now_ms.saturating_sub(self.since_ms);
        if self.shown.is_none() || held >= self.min_hold_ms {
            self.shown = candidate;
            self.since_ms = now_ms;
        }
        self.shown
    }

    /// The hint currently displayed.
    pub fn shown(&self) -> Option<H> {
        self.shown
    }

    /// Clears the hint at once (a new capture screen).
    pub fn reset(&mut self) {
        self.shown = None;
        self.since_ms = 0;
    }
}
