//! The selfie gate (issue 7, part 2): is the face in this camera frame good enough to take the
//! selfie, and if not, which one hint to show. Pure: [`assess`] reads one
//! [`FaceFrame`](crate::face::FaceFrame); [`SelfieAutoCapture`] fires after a run of ready frames
//! with a steady face box; the hint is kept on screen with the document gate's
//! [`HintHolder`](crate::vision::HintHolder) (generic over the hint type).
//!
//! Geometry is frame-normalised, never mirrored (see `crate::face`). The oval guide the UI draws
//! is [`OVAL`]; its horizontal radius depends on the frame's aspect ([`Oval::rx`]), so the oval
//! keeps its shape on landscape and portrait frames.
//!
//! What ARGOS asks of the photo (`argos-liveform.md` §3 step 8): the whole face outline visible
//! with a margin, a face of at least 25 % of the image, an image at least 480 px high, bright.
//! Here: the face box height is at least [`MIN_FACE_HEIGHT`] of the frame (above 25 %, so the
//! stored still still qualifies after the small movement between the last analysed frame and the
//! shutter) and at most [`MAX_FACE_HEIGHT`] (the outline keeps its margin); the capture's size is
//! checked with [`face_big_enough_px`] once the still is taken.
//!
//! Landscape on a phone (`kyc-capture-lessons.md` §3 pain point 13) is decided by the UI from
//! `matchMedia('(orientation: landscape)')`, which this crate cannot see; it shows
//! [`SelfieHint::RotatePhone`] and pauses.

use serde::{Deserialize, Serialize};

use crate::face::{Face, FaceFrame};

/// The oval guide, frame-normalised: centre `(cx, cy)`, vertical radius `ry` (a fraction of the
/// frame height) and the oval's height-to-width ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Oval {
    pub cx: f32,
    pub cy: f32,
    /// Vertical radius, as a fraction of the frame height.
    pub ry: f32,
    /// Height over width of the oval in pixels (a face is taller than wide).
    pub ratio: f32,
}

impl Oval {
    /// Horizontal radius as a fraction of the frame width, for a frame of `aspect` = width /
    /// height: the oval is `2·ry·H` pixels high and that divided by `ratio` wide.
    pub fn rx(&self, aspect: f32) -> f32 {
        let aspect = if aspect.is_finite() && aspect > 0.0 {
            aspect
        } else {
            1.0
        };
        self.ry / (self.ratio * aspect)
    }

    /// How far `(x, y)` is from the centre, in oval radii (1.0 = on the outline).
    pub fn distance(&self, x: f32, y: f32, aspect: f32) -> f32 {
        let dx = (x - self.cx) / self.rx(aspect);
        let dy = (y - self.cy) / self.ry;
        (dx * dx + dy * dy).sqrt()
    }
}

/// The oval the UI draws over the preview. Centred horizontally and a little above the middle
/// (a head and shoulders framed naturally puts the face there, and the hint text sits below);
/// 66 % of the frame height tall, so a face box of 30–55 % of the height ([`MIN_FACE_HEIGHT`],
/// [`MAX_FACE_HEIGHT`]: the detector's box runs from the brows to the chin, about three quarters
/// of the head) fits with the whole head inside; height : width = 1.3, a head's proportions
/// (Amplify uses the golden ratio, which is narrower than most faces with hair and ears).
pub const OVAL: Oval = Oval {
    cx: 0.5,
    cy: 0.45,
    ry: 0.33,
    ratio: 1.3,
};

/// The face box must be at least this fraction of the frame height, else "move closer". ARGOS
/// asks for a face of ≥ 25 % of the image; 30 % leaves room for the person drifting back a little
/// between the last analysed frame and the shutter.
pub const MIN_FACE_HEIGHT: f32 = 0.30;

/// At most this fraction of the frame height, else "move back": beyond it the forehead, chin or
/// ears leave the oval and ARGOS's "whole face outline visible with a margin" fails; lenses this
/// close also distort the face (a nose looks larger at 20 cm).
pub const MAX_FACE_HEIGHT: f32 = 0.55;

/// The face box centre must lie within this many oval radii of the oval's centre (0.35: the face
/// may sit off-centre by about a third of the oval, which keeps the whole face inside it at the
/// sizes allowed above), else "centre your face".
pub const CENTRE_TOLERANCE: f32 = 0.35;

/// A face box reaching this far (as a fraction of the frame) beyond an edge is cut by it. The
/// detector's box may poke out a little for a face that is whole, hence not 0.
pub const EDGE_TOLERANCE: f32 = 0.02;

/// Too dark when the face box's mean luma is below this. Lower than the document gate's 70
/// (white paper): skin is darker than paper, and dark skin under ordinary indoor light reads
/// 60–100; below 40 every skin tone is underexposed and features are lost in noise. The gate must
/// not turn away people with dark skin in a well-lit room.
pub const FACE_DARK_MAX_MEAN: f32 = 40.0;

/// Too bright when the face box's mean luma is at least this: even fair skin in strong light reads
/// 170–210; above 225 the face is washing out (a window or a lamp straight behind the camera).
pub const FACE_BRIGHT_MIN_MEAN: f32 = 225.0;

/// Blurred (moving, or the lens out of focus) when the face box's sharpness is below this. Lower
/// than the document gate's 0.70 because skin has little fine texture, so a sharp face scores
/// below sharp print. Measured on the detector's 256 px analysis frame (the face crate's
/// sharpness on the face box): the reference portrait 0.62, the same portrait as Chromium plays
/// it from the `selfie` feed (MJPEG, limited range) 0.57, blurred with σ = 2 px 0.40. 0.45 sits
/// between with room on both sides; tune with recorded phone frames.
pub const FACE_MIN_SHARPNESS: f32 = 0.45;

/// A second face counts ("only one person, please") when its box is at least this fraction of the
/// best face's height: someone looking over the shoulder, or a face held up on a phone or a photo
/// next to the person. Faces on posters or people far behind are smaller and ignored.
pub const SECOND_FACE_MIN_RATIO: f32 = 0.5;

/// ARGOS: "min 480 px height" for the selfie image (720 / 1800 recommended). The shorter side of
/// the captured still must reach it (a landscape webcam still's height is its shorter side).
pub const MIN_CAPTURE_SIDE_PX: u32 = 480;

/// ARGOS: "face ≥ 25 % of image", read as the face box's height over the image height.
pub const MIN_FACE_FRACTION: f32 = 0.25;

/// Ready frames in a row before the selfie is taken automatically (≈ 0.5–0.75 s at one analysed
/// frame every 100–150 ms): long enough to be deliberate, short enough not to feel stuck.
pub const SELFIE_AUTO_FRAMES: u32 = 5;

/// Largest movement of the face box centre between consecutive analysed frames, as a fraction of
/// the frame height, for the face to count as held still (2 %: ≈ 10 px at 480 px; the detector's
/// own jitter on a still face is about 1 %).
pub const MAX_FACE_SHIFT: f32 = 0.02;

/// Largest relative change of the face box height between consecutive frames for a steady face
/// (6 %: the box jitters by 2–3 %; more is the person moving towards or away from the camera).
pub const MAX_FACE_SCALE_CHANGE: f32 = 0.06;

/// After this long on the selfie screen without an automatic capture, offer the manual shutter
/// (the same delay as for documents, `crate::vision::MANUAL_SHUTTER_AFTER_MS`): nobody is kept
/// waiting on a gate that misjudges their face or their light.
pub const SELFIE_MANUAL_SHUTTER_AFTER_MS: u64 = crate::vision::MANUAL_SHUTTER_AFTER_MS;

/// Whether to show the selfie's manual shutter, `elapsed_ms` after the screen opened.
pub fn manual_shutter_available(elapsed_ms: u64) -> bool {
    elapsed_ms >= SELFIE_MANUAL_SHUTTER_AFTER_MS
}

/// One piece of guidance; [`assess`] gives the first that applies, in its order of checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SelfieHint {
    /// No face found.
    NoFace,
    /// Another face of meaningful size is in the frame.
    MultipleFaces,
    /// The face is too small.
    MoveCloser,
    /// The face is too large.
    MoveBack,
    /// The face is off the oval's centre, or cut by the frame's edge.
    Centre,
    /// The face is too dark.
    TooDark,
    /// The face is washed out.
    TooBright,
    /// The face is blurred or moving.
    HoldStill,
    /// A phone held in landscape (decided by the UI).
    RotatePhone,
}

impl SelfieHint {
    /// Every hint.
    pub const ALL: [SelfieHint; 9] = [
        SelfieHint::NoFace,
        SelfieHint::MultipleFaces,
        SelfieHint::MoveCloser,
        SelfieHint::MoveBack,
        SelfieHint::Centre,
        SelfieHint::TooDark,
        SelfieHint::TooBright,
        SelfieHint::HoldStill,
        SelfieHint::RotatePhone,
    ];

    /// The stable code (kebab-case), also the tail of its translation key.
    pub fn as_str(self) -> &'static str {
        match self {
            SelfieHint::NoFace => "no-face",
            SelfieHint::MultipleFaces => "multiple-faces",
            SelfieHint::MoveCloser => "move-closer",
            SelfieHint::MoveBack => "move-back",
            SelfieHint::Centre => "centre",
            SelfieHint::TooDark => "too-dark",
            SelfieHint::TooBright => "too-bright",
            SelfieHint::HoldStill => "hold-still",
            SelfieHint::RotatePhone => "rotate-phone",
        }
    }

    /// The translation key: `selfie-hint-<code>`.
    pub fn i18n_key(self) -> String {
        format!("selfie-hint-{}", self.as_str())
    }
}

/// [`assess`]'s verdict on one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelfieCheck {
    /// The one hint to show (`None` when ready).
    pub hint: Option<SelfieHint>,
    /// Good enough to take the selfie.
    pub ready: bool,
}

/// The best face unless another face of meaningful size is present (`Err(MultipleFaces)`) or
/// there is none (`Err(NoFace)`).
pub fn single_face(frame: &FaceFrame) -> Result<&Face, SelfieHint> {
    let best = frame
        .faces
        .iter()
        .filter(|f| f.h.is_finite() && f.w.is_finite() && f.h > 0.0 && f.w > 0.0)
        .max_by(|a, b| a.h.total_cmp(&b.h))
        .ok_or(SelfieHint::NoFace)?;
    let others = frame
        .faces
        .iter()
        .filter(|f| !std::ptr::eq(*f, best) && f.h >= SECOND_FACE_MIN_RATIO * best.h)
        .count();
    if others > 0 {
        return Err(SelfieHint::MultipleFaces);
    }
    Ok(best)
}

/// Whether the face box is cut by the frame's edge.
pub fn cut_by_edge(face: &Face) -> bool {
    face.x < -EDGE_TOLERANCE
        || face.y < -EDGE_TOLERANCE
        || face.x + face.w > 1.0 + EDGE_TOLERANCE
        || face.y + face.h > 1.0 + EDGE_TOLERANCE
}

/// Whether the face box centre is within [`CENTRE_TOLERANCE`] of the [`OVAL`]'s centre.
pub fn centred(face: &Face, aspect: f32) -> bool {
    let c = face.centre();
    OVAL.distance(c.x, c.y, aspect) <= CENTRE_TOLERANCE
}

/// The gate for one frame. Checks in order, the first failing one is the hint: a face at all,
/// only one, its size (too big first), position (off-centre or cut by an edge), light, sharpness.
pub fn assess(frame: &FaceFrame) -> SelfieCheck {
    let hint = match single_face(frame) {
        Err(h) => Some(h),
        Ok(face) => {
            if face.h > MAX_FACE_HEIGHT {
                Some(SelfieHint::MoveBack)
            } else if face.h < MIN_FACE_HEIGHT {
                Some(SelfieHint::MoveCloser)
            } else if cut_by_edge(face) || !centred(face, frame.aspect()) {
                Some(SelfieHint::Centre)
            } else if frame.brightness < FACE_DARK_MAX_MEAN {
                Some(SelfieHint::TooDark)
            } else if frame.brightness >= FACE_BRIGHT_MIN_MEAN {
                Some(SelfieHint::TooBright)
            } else if frame.sharpness < FACE_MIN_SHARPNESS {
                Some(SelfieHint::HoldStill)
            } else {
                None
            }
        }
    };
    SelfieCheck {
        hint,
        ready: hint.is_none(),
    }
}

/// Whether the captured still (`capture_w` × `capture_h` pixels) meets ARGOS's size rules with
/// `face` (frame-normalised, from the frame the still was taken from): its shorter side at least
/// [`MIN_CAPTURE_SIDE_PX`], and the face box at least [`MIN_FACE_FRACTION`] of its height (so at
/// least 120 px high at 480 px).
pub fn face_big_enough_px(face: &Face, capture_w: u32, capture_h: u32) -> bool {
    let face_px = face.h * capture_h as f32;
    capture_w.min(capture_h) >= MIN_CAPTURE_SIDE_PX
        && face_px >= MIN_FACE_FRACTION * capture_h as f32
        && face_px >= MIN_FACE_FRACTION * MIN_CAPTURE_SIDE_PX as f32
}

/// The server's verdict on a stored selfie (issue 14): the detector's output on the stored image
/// (`frame`, whose `width` × `height` are the image's), judged by ARGOS's rules: exactly one face,
/// the face at least [`MIN_FACE_FRACTION`] of the image height, the image's shorter side at least
/// [`MIN_CAPTURE_SIDE_PX`], the whole face in the picture, light and sharpness as the gate asks.
/// Position in the oval is the gate's guidance, not a rule for the stored photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StillCheck {
    /// Faces found (any size).
    pub faces: usize,
    /// The best face's box height over the image height (0 without a face).
    pub face_ratio: f32,
    /// Issue names, in the order checked: `no_face`, `several_faces`, `image_too_small`,
    /// `face_too_small`, `cut_off`, `dark`, `bright`, `blur`.
    pub issues: Vec<String>,
    pub ok: bool,
}

/// Judges a stored selfie; see [`StillCheck`].
pub fn check_still(frame: &FaceFrame) -> StillCheck {
    let mut issues: Vec<&str> = Vec::new();
    let mut face_ratio = 0.0;
    if frame.width.min(frame.height) < MIN_CAPTURE_SIDE_PX {
        issues.push("image_too_small");
    }
    match single_face(frame) {
        Err(SelfieHint::MultipleFaces) => issues.insert(0, "several_faces"),
        Err(_) => issues.insert(0, "no_face"),
        Ok(face) => {
            face_ratio = face.h;
            if face.h < MIN_FACE_FRACTION {
                issues.push("face_too_small");
            }
            if cut_by_edge(face) {
                issues.push("cut_off");
            }
            if frame.brightness < FACE_DARK_MAX_MEAN {
                issues.push("dark");
            } else if frame.brightness >= FACE_BRIGHT_MIN_MEAN {
                issues.push("bright");
            }
            if frame.sharpness < FACE_MIN_SHARPNESS {
                issues.push("blur");
            }
        }
    }
    StillCheck {
        faces: frame.faces.len(),
        face_ratio,
        ok: issues.is_empty(),
        issues: issues.into_iter().map(str::to_owned).collect(),
    }
}

/// Tuning for [`SelfieAutoCapture`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelfieAutoConfig {
    pub frames_needed: u32,
    pub max_shift: f32,
    pub max_scale_change: f32,
}

impl Default for SelfieAutoConfig {
    fn default() -> Self {
        SelfieAutoConfig {
            frames_needed: SELFIE_AUTO_FRAMES,
            max_shift: MAX_FACE_SHIFT,
            max_scale_change: MAX_FACE_SCALE_CHANGE,
        }
    }
}

/// What [`SelfieAutoCapture::push`] decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelfieDecision {
    /// The hint for this frame: [`assess`]'s, or [`SelfieHint::HoldStill`] for a ready face that
    /// moved since the previous frame. Feed it to a [`crate::vision::HintHolder`].
    pub hint: Option<SelfieHint>,
    /// Ready, steady frames in a row so far (for a progress ring).
    pub good_frames: u32,
    /// Take this frame (once; `false` afterwards until [`SelfieAutoCapture::reset`]).
    pub capture: bool,
}

/// Fires once after `frames_needed` consecutive ready frames whose face box barely moves.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfieAutoCapture {
    config: SelfieAutoConfig,
    streak: u32,
    last: Option<Face>,
    fired: bool,
}

impl Default for SelfieAutoCapture {
    fn default() -> Self {
        SelfieAutoCapture::new(SelfieAutoConfig::default())
    }
}

impl SelfieAutoCapture {
    pub fn new(config: SelfieAutoConfig) -> Self {
        SelfieAutoCapture {
            config,
            streak: 0,
            last: None,
            fired: false,
        }
    }

    /// Feeds one frame.
    pub fn push(&mut self, frame: &FaceFrame) -> SelfieDecision {
        let check = assess(frame);
        let face = single_face(frame).ok().copied();
        let (Some(face), true, false) = (face, check.ready, self.fired) else {
            if !self.fired {
                self.streak = 0;
                self.last = None;
            }
            return SelfieDecision {
                hint: check.hint,
                good_frames: self.streak,
                capture: false,
            };
        };
        let steady = self
            .last
            .is_none_or(|prev| self.steady(&prev, &face, frame));
        self.streak = if steady { self.streak + 1 } else { 1 };
        self.last = Some(face);
        let capture = self.streak >= self.config.frames_needed.max(1);
        self.fired = capture;
        SelfieDecision {
            hint: (!steady).then_some(SelfieHint::HoldStill),
            good_frames: self.streak,
            capture,
        }
    }

    fn steady(&self, prev: &Face, face: &Face, frame: &FaceFrame) -> bool {
        let (a, b) = (prev.centre(), face.centre());
        // Both axes in frame heights, so the tolerance means the same distance either way.
        let dx = (a.x - b.x) * frame.aspect();
        let dy = a.y - b.y;
        let shift = (dx * dx + dy * dy).sqrt();
        let scale = (face.h - prev.h).abs() / prev.h.max(f32::EPSILON);
        shift <= self.config.max_shift && scale <= self.config.max_scale_change
    }

    /// Ready, steady frames in a row so far.
    pub fn good_frames(&self) -> u32 {
        self.streak
    }

    pub fn fired(&self) -> bool {
        self.fired
    }

    /// Starts over (a retake).
    pub fn reset(&mut self) {
        self.streak = 0;
        self.last = None;
        self.fired = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::Point;
    use crate::vision::HintHolder;

    /// A frontal face whose box is `h` of the frame height, centred at `(cx, cy)`, on a 640×480
    /// frame.
    pub(crate) fn face_at(cx: f32, cy: f32, h: f32) -> Face {
        let aspect = 640.0 / 480.0;
        let w = h / aspect; // square in pixels
        let (x, y) = (cx - w / 2.0, cy - h / 2.0);
        let p = |fx: f32, fy: f32| Point {
            x: x + fx * w,
            y: y + fy * h,
        };
        Face {
            x,
            y,
            w,
            h,
            score: 0.9,
            keypoints: [
                p(0.32, 0.38), // right eye (image left)
                p(0.68, 0.38),
                p(0.5, 0.58),
                p(0.5, 0.78),
                p(0.02, 0.45),
                p(0.98, 0.45),
            ],
        }
    }

    fn frame(faces: Vec<Face>) -> FaceFrame {
        FaceFrame {
            width: 640,
            height: 480,
            faces,
            brightness: 130.0,
            sharpness: 0.8,
        }
    }

    fn good() -> FaceFrame {
        frame(vec![face_at(OVAL.cx, OVAL.cy, 0.42)])
    }

    #[test]
    fn the_server_judges_a_stored_selfie_by_argos_rules() {
        let c = check_still(&good());
        assert!(c.ok && c.issues.is_empty() && c.faces == 1, "{c:?}");
        assert!((c.face_ratio - 0.42).abs() < 1e-6);
        let issues = |f: FaceFrame| check_still(&f).issues;
        assert_eq!(issues(frame(vec![])), ["no_face"]);
        assert_eq!(
            issues(frame(vec![
                face_at(0.5, 0.45, 0.42),
                face_at(0.2, 0.4, 0.3)
            ])),
            ["several_faces"]
        );
        // A face of 20 % of the image, off-centre: too small (position is not a rule here).
        assert_eq!(
            issues(frame(vec![face_at(0.2, 0.3, 0.2)])),
            ["face_too_small"]
        );
        let mut small = good();
        small.width = 400;
        small.height = 300;
        assert_eq!(issues(small), ["image_too_small"]);
        let mut dark = good();
        dark.brightness = 20.0;
        dark.sharpness = 0.1;
        assert_eq!(issues(dark), ["dark", "blur"]);
        let mut empty_small = frame(vec![]);
        empty_small.height = 240;
        assert_eq!(issues(empty_small), ["no_face", "image_too_small"]);
    }

    #[test]
    fn a_centred_face_of_the_right_size_is_ready() {
        assert_eq!(
            assess(&good()),
            SelfieCheck {
                hint: None,
                ready: true
            }
        );
    }

    #[test]
    fn each_problem_gives_its_hint() {
        let hint = |f: FaceFrame| assess(&f).hint;
        assert_eq!(hint(frame(vec![])), Some(SelfieHint::NoFace));
        assert_eq!(
            hint(frame(vec![
                face_at(0.5, 0.45, 0.42),
                face_at(0.85, 0.4, 0.25)
            ])),
            Some(SelfieHint::MultipleFaces)
        );
        assert_eq!(
            hint(frame(vec![
                face_at(0.5, 0.45, 0.42),
                face_at(0.9, 0.2, 0.08)
            ])),
            None,
            "a small face far behind is ignored"
        );
        assert_eq!(
            hint(frame(vec![face_at(0.5, 0.45, 0.2)])),
            Some(SelfieHint::MoveCloser)
        );
        assert_eq!(
            hint(frame(vec![face_at(0.5, 0.45, 0.7)])),
            Some(SelfieHint::MoveBack)
        );
        assert_eq!(
            hint(frame(vec![face_at(0.5, 0.1, 0.4)])),
            Some(SelfieHint::Centre),
            "cut by the top edge"
        );
        assert_eq!(
            hint(frame(vec![face_at(0.25, 0.45, 0.4)])),
            Some(SelfieHint::Centre)
        );
        let mut f = good();
        f.brightness = 30.0;
        assert_eq!(hint(f.clone()), Some(SelfieHint::TooDark));
        f.brightness = 65.0;
        assert_eq!(hint(f.clone()), None, "dark skin in ordinary light passes");
        f.brightness = 240.0;
        assert_eq!(hint(f.clone()), Some(SelfieHint::TooBright));
        f.brightness = 130.0;
        f.sharpness = 0.3;
        assert_eq!(hint(f), Some(SelfieHint::HoldStill));
    }

    #[test]
    fn the_oval_keeps_its_shape() {
        let landscape = OVAL.rx(640.0 / 480.0) * 640.0;
        let portrait = OVAL.rx(480.0 / 640.0) * 480.0;
        assert!((landscape / (OVAL.ry * 480.0) - 1.0 / 1.3).abs() < 1e-4);
        assert!((portrait / (OVAL.ry * 640.0) - 1.0 / 1.3).abs() < 1e-4);
        assert!(OVAL.rx(f32::NAN).is_finite());
    }

    #[test]
    fn codes_are_stable_and_unique() {
        let mut codes: Vec<&str> = SelfieHint::ALL.iter().map(|h| h.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), SelfieHint::ALL.len());
        assert_eq!(SelfieHint::NoFace.i18n_key(), "selfie-hint-no-face");
        assert_eq!(
            serde_json::to_string(&SelfieHint::RotatePhone).unwrap(),
            "\"rotate-phone\""
        );
    }

    #[test]
    fn capture_size() {
        let f = face_at(0.5, 0.45, 0.3);
        assert!(face_big_enough_px(&f, 1280, 720));
        assert!(face_big_enough_px(&f, 480, 640));
        assert!(!face_big_enough_px(&f, 640, 360), "shorter side < 480");
        let small = face_at(0.5, 0.45, 0.2);
        assert!(!face_big_enough_px(&small, 1920, 1080));
    }

    #[test]
    fn auto_capture_needs_a_steady_run_and_fires_once() {
        let mut auto = SelfieAutoCapture::default();
        for i in 1..SELFIE_AUTO_FRAMES {
            let d = auto.push(&good());
            assert_eq!((d.capture, d.good_frames), (false, i));
        }
        assert!(auto.push(&good()).capture);
        assert!(!auto.push(&good()).capture, "once");
        auto.reset();
        // A moving face restarts the run and asks to hold still.
        auto.push(&good());
        let moved = frame(vec![face_at(OVAL.cx + 0.05, OVAL.cy, 0.42)]);
        let d = auto.push(&moved);
        assert_eq!((d.good_frames, d.hint), (1, Some(SelfieHint::HoldStill)));
        // A bad frame resets it.
        let d = auto.push(&frame(vec![]));
        assert_eq!((d.good_frames, d.hint), (0, Some(SelfieHint::NoFace)));
    }

    #[test]
    fn hints_are_held_with_the_generic_holder() {
        let mut h: HintHolder<SelfieHint> = HintHolder::default();
        assert_eq!(
            h.update(0, Some(SelfieHint::MoveCloser)),
            Some(SelfieHint::MoveCloser)
        );
        assert_eq!(h.update(300, None), Some(SelfieHint::MoveCloser));
        assert_eq!(h.update(1000, None), None);
        assert!(!manual_shutter_available(3999));
        assert!(manual_shutter_available(4000));
    }
}
