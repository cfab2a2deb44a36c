//! Active liveness (issue 7, part 3): a short random sequence of head movements, checked on the
//! face detector's geometry (`crate::face`), with the records the server stores.
//!
//! * [`draw`] turns random bytes (the server's RNG, at session open) into 2–3 [`Challenge`]s; a
//!   project may fix the sequence instead (`liveness_challenges`, for test projects whose fake
//!   camera plays a fixed feed), checked by [`validate_sequence`].
//! * An [`Attempt`] runs the whole sequence once. The UI calls [`Attempt::push`] every 100–150 ms
//!   with the latest [`FaceFrame`] and the time (ms, any monotonic origin such as
//!   `performance.now()`); it answers what to show and when to grab a frame ([`FrameGrab`]).
//!   Each step compares the face with a baseline taken from its first frames: closer / back by the
//!   box width, turns by a yaw estimate ([`yaw`]) from the nose's offset from the eyes, centre by
//!   the [`crate::selfie::OVAL`] and a frontal pose. A step passes (or fails by turning / moving
//!   the wrong way) only after [`HOLD_FRAMES`] frames in a row, never on one noisy frame.
//! * A step has [`STEP_TIME_MS`]; the person may add [`STEP_EXTENSION_MS`] up to
//!   [`MAX_EXTENSIONS`] times ([`Attempt::extend`], WCAG 2.2.1). The clock stops while the page is
//!   hidden or the camera paused ([`Attempt::pause`] / [`Attempt::resume`]); the attempt records
//!   that it happened (`hidden_during`), and the step's baseline is taken again after it (a
//!   movement is only counted if it was seen).
//! * An attempt fails on a timeout or a wrong direction; after [`MAX_ATTEMPTS`] failed attempts
//!   the outcome is `SE-50021` ([`outcome_after`]).
//!
//! Still-photo property: a face that never moves fails every challenge but [`Challenge::Centre`]
//! by timeout, and every drawn sequence has at least two movement challenges.
//!
//! Direction: coordinates are never mirrored, so the person's *left* is the image's right. A
//! person turning to their left moves the nose tip towards larger `x` relative to the midpoint of
//! the eyes, and brings the left-ear keypoint closer to the nose.

use serde::{Deserialize, Serialize};

use crate::api::MAX_LIVENESS_CAPTURES;
use crate::errors::ErrorCode;
use crate::face::{Face, FaceFrame, Keypoint, Point};
use crate::selfie::{self, SelfieHint};

/// One movement the person is asked to make. Serialised as its [`Challenge::as_str`] name
/// (`"turn_left"`), by hand rather than derived: the first-screen module deserialises the session
/// view, which lists the challenges, and a derived enum visitor costs bytes there that a string
/// and a match do not (the first screen has a 180 KiB budget).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Challenge {
    /// Bring the face closer to the camera.
    Closer,
    /// Move the face away from the camera.
    Back,
    /// Turn the head to the person's own left.
    TurnLeft,
    /// Turn the head to the person's own right.
    TurnRight,
    /// Face the camera, centred in the oval.
    Centre,
}

impl Challenge {
    pub const ALL: [Challenge; 5] = [
        Challenge::Closer,
        Challenge::Back,
        Challenge::TurnLeft,
        Challenge::TurnRight,
        Challenge::Centre,
    ];

    /// The stable name (serde's, and the config's `liveness_challenges`).
    pub fn as_str(self) -> &'static str {
        match self {
            Challenge::Closer => "closer",
            Challenge::Back => "back",
            Challenge::TurnLeft => "turn_left",
            Challenge::TurnRight => "turn_right",
            Challenge::Centre => "centre",
        }
    }

    /// Parses [`Challenge::as_str`].
    pub fn parse(s: &str) -> Option<Challenge> {
        Challenge::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The translation key of the instruction: `liveness-challenge-closer`, `…-turn-left`, ….
    pub fn i18n_key(self) -> String {
        format!("liveness-challenge-{}", self.as_str().replace('_', "-"))
    }

    /// A movement (everything but [`Challenge::Centre`], which a still frontal face passes).
    pub fn is_movement(self) -> bool {
        self != Challenge::Centre
    }

    /// The movement that undoes this one.
    pub fn opposite(self) -> Option<Challenge> {
        match self {
            Challenge::Closer => Some(Challenge::Back),
            Challenge::Back => Some(Challenge::Closer),
            Challenge::TurnLeft => Some(Challenge::TurnRight),
            Challenge::TurnRight => Some(Challenge::TurnLeft),
            Challenge::Centre => None,
        }
    }

    fn is_turn(self) -> bool {
        matches!(self, Challenge::TurnLeft | Challenge::TurnRight)
    }
}

impl Serialize for Challenge {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Challenge {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Challenge::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format_args!("unknown liveness challenge {name:?}"))
        })
    }
}

impl std::fmt::Display for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Thresholds
// ---------------------------------------------------------------------------------------------

/// Steps in a sequence, at least: one movement can be faked by chance (someone shifting in their
/// chair); two in a random order cannot.
pub const MIN_STEPS: usize = 2;

/// Steps in a sequence, at most (a configured one; [`draw`] makes 2 or 3). Four keeps an attempt
/// under a minute and its frames within [`FRAMES_PER_ATTEMPT`] (a start frame plus one per step).
pub const MAX_STEPS: usize = 4;

/// Attempts before the person is sent to the coded page (`SE-50021`), as ARGOS does after three
/// consecutive failures of its face checks.
pub const MAX_ATTEMPTS: u8 = 3;

/// Time for one step (active time: not while hidden or paused). 15 s is generous: a turn or a lean
/// takes 1–3 s once understood; the rest is for reading the instruction, a screen reader, or a
/// person who needs longer to move. The UI offers more time throughout (see
/// [`OFFER_EXTENSION_WITHIN_MS`]).
pub const STEP_TIME_MS: u64 = 15_000;

/// What one "more time" adds to the current step.
pub const STEP_EXTENSION_MS: u64 = 15_000;

/// How many times a step may be extended: WCAG 2.2.1 (Timing Adjustable, "Extend") asks for at
/// least ten extensions with a simple action.
pub const MAX_EXTENSIONS: u8 = 10;

/// WCAG 2.2.1 asks to warn at least 20 s before a time limit ends; a step is shorter than that,
/// so [`Attempt::offer_extension`] is true for the whole step (while extensions remain).
pub const OFFER_EXTENSION_WITHIN_MS: u64 = 20_000;

/// Consecutive frames (≈ 0.3–0.45 s at one frame every 100–150 ms) that must meet a step's
/// condition before it passes, or show the wrong direction before it fails: one noisy detection
/// (a keypoint jumping for a frame) never decides.
pub const HOLD_FRAMES: u8 = 3;

/// Frames with one face averaged into a step's baseline before it is judged against it.
pub const BASELINE_FRAMES: u8 = 2;

/// Closer: the face box width grows by at least this fraction of its baseline; back: shrinks to at
/// most `1 / (1 + SIZE_CHANGE)` of it (−16.7 %, the same distance ratio the other way). The box
/// width is inversely proportional to the distance, so 20 % is moving about a sixth of the way to
/// the camera (≈ 7 cm at arm's length): deliberate, and well beyond the detector's frame-to-frame
/// jitter (2–4 %) and the drift of breathing or a hand holding the phone.
pub const SIZE_CHANGE: f32 = 0.20;

/// A turn counts when the yaw estimate ([`yaw`]: nose offset from the eye midpoint along the eye
/// axis, in inter-ocular distances) is at least this in the asked direction. The nose tip sits
/// about half an inter-ocular distance in front of the eyes, so the estimate is ≈ 0.5·tan(θ):
/// 0.25 ≈ 27°, a clear turn that a nod, a tilt or detector noise (±0.05 on a frontal face) does
/// not produce, and small enough that both eyes stay visible to the detector.
pub const TURN_MIN_YAW: f32 = 0.25;

/// …and the yaw must also have changed by at least this since the step's baseline, so a face
/// already turned when the step starts (or a photo of a turned head) does not pass by standing
/// still.
pub const TURN_MIN_CHANGE: f32 = 0.15;

/// Frontal: |yaw| at most this (≈ 13°). Centre needs it; closer / back ignore frames turned more
/// than [`TURN_MIN_YAW`], because turning narrows the box like moving back does.
pub const FRONTAL_MAX_YAW: f32 = 0.12;

/// Frames of evidence per step, the server's check needs exactly these (issue 14): the
/// [`BASELINE_FRAMES`] the step's baseline was taken from, then the [`HOLD_FRAMES`] that held the
/// movement (or the wrong one). The device uploads the baseline as soon as it is taken and the hold
/// when the step ends, so little is left to send when the attempt ends.
pub const FRAMES_PER_STEP: usize = BASELINE_FRAMES as usize + HOLD_FRAMES as usize;

/// Evidence frames listed in one attempt's record, at most.
pub const FRAMES_PER_ATTEMPT: usize = MAX_STEPS * FRAMES_PER_STEP;

// Three attempts' evidence, and the baselines a pause discards (a resumed step takes its baseline
// again), fit the server's liveness slot.
const _: () = assert!(FRAMES_PER_ATTEMPT * MAX_ATTEMPTS as usize <= MAX_LIVENESS_CAPTURES);

// ---------------------------------------------------------------------------------------------
// Drawing and validating sequences
// ---------------------------------------------------------------------------------------------

/// Whether `next` may follow `prev` in a sequence of `len` steps: no immediate repeat, no
/// self-cancelling pair (closer then back, left then right: a single lean or swing would pass
/// both, and a recording of anyone shifting about is likelier to contain it), and centre only
/// right after a turn (where returning to face the camera is a real movement) in a three-step
/// sequence (so at least two steps are movements).
fn may_follow(prev: Option<Challenge>, next: Challenge, len: usize) -> bool {
    if Some(next) == prev || prev.and_then(Challenge::opposite) == Some(next) {
        return false;
    }
    if next == Challenge::Centre {
        return len >= 3 && prev.is_some_and(Challenge::is_turn);
    }
    true
}

/// A random sequence of 2 or 3 challenges from `random` (e.g. 16 bytes from the server's RNG;
/// fewer bytes are reused cyclically, none give a fixed sequence). Rules: see the private
/// `may_follow`; every sequence has at least two movements. The choice takes a byte modulo at
/// most 5 candidates: the bias (< 2 %) does not matter here, the order is not a secret key.
pub fn draw(random: &[u8]) -> Vec<Challenge> {
    let mut i = 0usize;
    let mut next = || {
        let b = if random.is_empty() {
            0
        } else {
            random[i % random.len()]
        };
        i += 1;
        usize::from(b)
    };
    let len = MIN_STEPS + next() % 2;
    let mut seq: Vec<Challenge> = Vec::with_capacity(len);
    for _ in 0..len {
        let prev = seq.last().copied();
        let candidates: Vec<Challenge> = Challenge::ALL
            .into_iter()
            .filter(|c| may_follow(prev, *c, len))
            .collect();
        // Never empty: after any challenge at least two movements remain allowed.
        let pick = candidates[next() % candidates.len()];
        seq.push(pick);
    }
    seq
}

/// Checks a configured sequence: [`MIN_STEPS`]..=[`MAX_STEPS`] challenges, no immediate repeat,
/// at least one movement. (Looser than [`draw`]: a test project may want closer then back.)
pub fn validate_sequence(seq: &[Challenge]) -> Result<(), String> {
    if seq.len() < MIN_STEPS || seq.len() > MAX_STEPS {
        return Err(format!(
            "{MIN_STEPS} to {MAX_STEPS} challenges, got {}",
            seq.len()
        ));
    }
    if seq.windows(2).any(|w| w[0] == w[1]) {
        return Err("the same challenge twice in a row".into());
    }
    if !seq.iter().any(|c| c.is_movement()) {
        return Err("at least one challenge must be a movement".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Geometry
// ---------------------------------------------------------------------------------------------

/// A keypoint in units of the frame height on both axes (so distances are true to pixels).
fn px(p: Point, aspect: f32) -> (f32, f32) {
    (p.x * aspect, p.y)
}

fn dist(a: (f32, f32), b: (f32, f32)) -> f32 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

/// The yaw estimate of `face` on a frame of `aspect` (width / height): the nose tip's offset from
/// the eye midpoint, projected on the eye axis (so a tilted head does not read as turned), in
/// inter-ocular distances. Positive: turned to the person's left (nose towards the image's
/// right); ≈ 0 frontal; ≈ 0.5·tan(yaw angle). `None` when the eyes coincide.
pub fn yaw(face: &Face, aspect: f32) -> Option<f32> {
    let re = px(face.keypoint(Keypoint::RightEye), aspect);
    let le = px(face.keypoint(Keypoint::LeftEye), aspect);
    let n = px(face.keypoint(Keypoint::Nose), aspect);
    let iod = dist(re, le);
    if !iod.is_finite() || iod < 1e-4 {
        return None;
    }
    let axis = ((le.0 - re.0) / iod, (le.1 - re.1) / iod);
    let mid = ((re.0 + le.0) / 2.0, (re.1 + le.1) / 2.0);
    let v = ((n.0 - mid.0) * axis.0 + (n.1 - mid.1) * axis.1) / iod;
    v.is_finite().then_some(v)
}

/// The ears' vote on the turn: `(d(nose, right ear) − d(nose, left ear)) / (sum)`, positive when
/// the left ear is the closer one (turned to the person's left). Used only to veto a nose-based
/// turn it contradicts (the detector guesses a hidden ear, so it is the weaker signal).
pub fn ear_turn(face: &Face, aspect: f32) -> Option<f32> {
    let n = px(face.keypoint(Keypoint::Nose), aspect);
    let dr = dist(n, px(face.keypoint(Keypoint::RightEar), aspect));
    let dl = dist(n, px(face.keypoint(Keypoint::LeftEar), aspect));
    let sum = dr + dl;
    (sum.is_finite() && sum > 1e-4).then(|| (dr - dl) / sum)
}

/// What a step compares against.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Baseline {
    frames: u8,
    width: f32,
    yaw: f32,
}

/// One frame's verdict on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Toward,
    Away,
    Neither,
}

/// One frame's verdict on `challenge` against `base`. `slack` scales the thresholds: 1 on the
/// device; [`SERVER_SLACK`] on the server, which judges re-encoded frames that the device already
/// judged, so a frame just past a threshold on the device is not refused for a JPEG's rounding.
fn evaluate(
    challenge: Challenge,
    base: &Baseline,
    face: &Face,
    aspect: f32,
    slack: f32,
) -> Verdict {
    let Some(y) = yaw(face, aspect) else {
        return Verdict::Neither;
    };
    match challenge {
        Challenge::Closer | Challenge::Back => {
            if y.abs() >= TURN_MIN_YAW || base.width <= 0.0 {
                return Verdict::Neither;
            }
            let change = SIZE_CHANGE * slack;
            let ratio = face.w / base.width;
            let grew = ratio >= 1.0 + change;
            let shrank = ratio <= 1.0 / (1.0 + change);
            match (challenge, grew, shrank) {
                (Challenge::Closer, true, _) | (Challenge::Back, _, true) => Verdict::Toward,
                (Challenge::Closer, _, true) | (Challenge::Back, true, _) => Verdict::Away,
                _ => Verdict::Neither,
            }
        }
        Challenge::TurnLeft | Challenge::TurnRight => {
            // +1 when the asked direction is the person's left (positive yaw).
            let sign = if challenge == Challenge::TurnLeft {
                1.0
            } else {
                -1.0
            };
            let (min_yaw, min_change) = (TURN_MIN_YAW * slack, TURN_MIN_CHANGE * slack);
            let (s, change) = (y * sign, (y - base.yaw) * sign);
            let ears = ear_turn(face, aspect).map(|e| e * sign);
            if s >= min_yaw && change >= min_change && ears.is_none_or(|e| e >= 0.0) {
                Verdict::Toward
            } else if s <= -min_yaw && change <= -min_change && ears.is_none_or(|e| e <= 0.0) {
                Verdict::Away
            } else {
                Verdict::Neither
            }
        }
        Challenge::Centre => {
            if y.abs() <= FRONTAL_MAX_YAW / slack
                && selfie::centred(face, aspect)
                && !selfie::cut_by_edge(face)
            {
                Verdict::Toward
            } else {
                Verdict::Neither
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Records (stored by the server, shown by the results API)
// ---------------------------------------------------------------------------------------------

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Passed,
    /// The opposite movement was held (e.g. turning right when asked to turn left).
    WrongDirection,
    /// The step's time (with its extensions) ran out.
    TimedOut,
}

/// The camera track the attempt ran on (`MediaStreamTrack.label` and `getSettings()`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackInfo {
    pub label: String,
    pub width: u32,
    pub height: u32,
    /// `getSettings().frameRate` (0 when the browser does not say).
    #[serde(default)]
    pub frame_rate: f32,
    /// `getSettings().facingMode` (`user`, `environment`, …) when the browser says.
    #[serde(default)]
    pub facing_mode: Option<String>,
    /// The label names a virtual camera ([`crate::capture::is_virtual_label`]).
    #[serde(default)]
    pub virtual_label: bool,
}

/// One step of an attempt, as it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub challenge: Challenge,
    /// The caller's clock (ms, e.g. `performance.now()`), at the step's start and end.
    pub started_ms: u64,
    pub ended_ms: u64,
    pub outcome: StepOutcome,
    /// How many times the person asked for more time.
    pub extended: u8,
    /// Capture ids (slot `liveness`) of the frames grabbed during this step.
    #[serde(default)]
    pub frames: Vec<String>,
}

/// One attempt at the whole sequence: `POST /api/session/liveness`'s body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivenessAttempt {
    /// 1..=[`MAX_ATTEMPTS`].
    pub attempt: u8,
    /// The session's whole sequence.
    pub challenges: Vec<Challenge>,
    /// The steps reached, in order (all passed but maybe the last).
    pub steps: Vec<StepRecord>,
    /// Every step passed.
    pub passed: bool,
    /// The page was hidden or the camera paused during the attempt.
    pub hidden_during: bool,
    pub track: TrackInfo,
    /// The id the server gave the attempt when it was opened (`POST /api/session/liveness/open`);
    /// the server refuses a record without it.
    #[serde(default)]
    pub attempt_id: String,
}

impl LivenessAttempt {
    /// The records' own consistency (the server also checks them against the session): the
    /// steps follow `challenges`, every step but the last passed, `passed` exactly when every
    /// challenge has a passed step, times in order, extensions and frames bounded.
    pub fn check_consistent(&self) -> Result<(), String> {
        if !(1..=MAX_ATTEMPTS).contains(&self.attempt) {
            return Err(format!("attempt must be 1 to {MAX_ATTEMPTS}"));
        }
        if self.steps.len() > self.challenges.len() {
            return Err("more steps than challenges".into());
        }
        for (i, s) in self.steps.iter().enumerate() {
            if s.challenge != self.challenges[i] {
                return Err(format!(
                    "step {i} is not the challenge {}",
                    self.challenges[i]
                ));
            }
            if s.ended_ms < s.started_ms {
                return Err(format!("step {i} ends before it starts"));
            }
            if i + 1 < self.steps.len() && s.outcome != StepOutcome::Passed {
                return Err(format!("step {i} failed but later steps follow"));
            }
            if s.extended > MAX_EXTENSIONS {
                return Err(format!("step {i}: more than {MAX_EXTENSIONS} extensions"));
            }
        }
        let all_passed = self.steps.len() == self.challenges.len()
            && self.steps.iter().all(|s| s.outcome == StepOutcome::Passed);
        if self.passed != all_passed {
            return Err("passed does not match the steps".into());
        }
        if !self.passed && self.steps.is_empty() {
            return Err("a failed attempt ends with a failed step".into());
        }
        let frames: usize = self.steps.iter().map(|s| s.frames.len()).sum();
        if frames > FRAMES_PER_ATTEMPT {
            return Err(format!("more than {FRAMES_PER_ATTEMPT} frames"));
        }
        Ok(())
    }

    /// Every frame's capture id, in step order.
    pub fn frame_ids(&self) -> impl Iterator<Item = &str> {
        self.steps
            .iter()
            .flat_map(|s| s.frames.iter().map(String::as_str))
    }
}

/// The answer to `POST /api/session/liveness/open`: the attempt to run and its id, which the
/// record carries ([`LivenessAttempt::attempt_id`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenedAttempt {
    pub attempt_id: String,
    /// The attempt's number (1..=[`MAX_ATTEMPTS`]).
    pub attempt: u8,
}

/// Where a person stands after their attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptsOutcome {
    /// An attempt passed: on to the next step.
    Passed,
    /// Failed; another attempt is allowed.
    Retry,
    /// [`MAX_ATTEMPTS`] failed: the person leaves through the coded page (`SE-50021`).
    Failed,
}

/// The answer to `POST /api/session/liveness`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivenessAnswer {
    pub attempts_left: u8,
    pub outcome: AttemptsOutcome,
    /// The server's reasons when it failed the attempt (`verify::Reason` names), for the person's
    /// guidance; empty when it passed or the server has no reasons to give.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// `SE-50021` with [`AttemptsOutcome::Failed`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

/// The outcome after `failed` failed attempts, `passed` telling whether one passed.
pub fn outcome_after(failed: u8, passed: bool) -> LivenessAnswer {
    let attempts_left = MAX_ATTEMPTS.saturating_sub(failed);
    let outcome = if passed {
        AttemptsOutcome::Passed
    } else if attempts_left == 0 {
        AttemptsOutcome::Failed
    } else {
        AttemptsOutcome::Retry
    };
    LivenessAnswer {
        attempts_left: if passed { 0 } else { attempts_left },
        outcome,
        reasons: Vec::new(),
        error_code: (outcome == AttemptsOutcome::Failed)
            .then(|| ErrorCode::LivenessFailed.id().to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// Running an attempt
// ---------------------------------------------------------------------------------------------

/// Frames the UI must upload (slot `liveness`) as evidence for the server's check of `step`, by
/// their sequence numbers ([`Tick::seq`]); once each is stored, report its capture id with
/// [`Attempt::add_frame`]`(step, seq, id)`.
///
/// The plan (issue 14): when a step's baseline is taken, its [`BASELINE_FRAMES`] frames; when the
/// step passes (or fails by the wrong movement), the [`HOLD_FRAMES`] frames that held it. A step
/// that times out has no hold to show. Every frame named here was marked [`Tick::keep`] when it was
/// pushed, and is among the last [`KEEP_FRAMES`] kept frames when it is named, so the UI needs to
/// hold on to the pixels of only that many frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub step: usize,
    pub seqs: Vec<u32>,
}

/// How many kept frames ([`Tick::keep`]) the UI must hold on to, at most.
pub const KEEP_FRAMES: usize = if BASELINE_FRAMES > HOLD_FRAMES {
    BASELINE_FRAMES as usize
} else {
    HOLD_FRAMES as usize
};

/// What the attempt says after a frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttemptState {
    /// Step `step` (`challenge`) is running.
    Running {
        step: usize,
        challenge: Challenge,
        /// Consecutive frames meeting the condition so far (of [`HOLD_FRAMES`]).
        held: u8,
        /// The person is moving the wrong way (not yet held long enough to fail).
        wrong_way: bool,
        /// A face problem to show: no face, or more than one.
        hint: Option<SelfieHint>,
        /// Active time left in the step.
        remaining_ms: u64,
    },
    /// Paused (page hidden / camera paused): frames are ignored until [`Attempt::resume`].
    Paused,
    /// Every step passed.
    Passed,
    /// Step `step` failed.
    Failed { step: usize, outcome: StepOutcome },
}

/// The answer to [`Attempt::push`].
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub state: AttemptState,
    /// The pushed frame's sequence number in this attempt (0, 1, 2, … per [`Attempt::push`]).
    pub seq: u32,
    /// Keep this frame's pixels: it may be named by a later [`Evidence`].
    pub keep: bool,
    /// Upload these frames now.
    pub upload: Option<Evidence>,
}

/// One attempt at a sequence. Pure: time comes in with every call.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    number: u8,
    challenges: Vec<Challenge>,
    /// Ended steps.
    steps: Vec<StepRecord>,
    /// The running step: index is `steps.len()`.
    started_ms: u64,
    limit_ms: u64,
    extended: u8,
    paused_ms: u64,
    paused_at: Option<u64>,
    base: Baseline,
    toward: u8,
    away: u8,
    /// The next pushed frame's sequence number.
    seq: u32,
    /// Sequence numbers of the running step's baseline frames, and of its current run of frames
    /// moving one way (toward or away).
    base_seqs: Vec<u32>,
    run_seqs: Vec<u32>,
    /// `(step, seq)` of every frame named by an [`Evidence`] that still counts (a resumed step's
    /// discarded baseline does not), and the capture ids reported for them.
    evidence: Vec<(usize, u32)>,
    frames: Vec<(usize, u32, String)>,
    hidden_during: bool,
    done: Option<AttemptState>,
}

impl Attempt {
    /// Attempt number `number` (1-based) at `challenges`, starting at `now_ms`. An empty sequence
    /// passes at once (the server never sends one).
    pub fn new(number: u8, challenges: Vec<Challenge>, now_ms: u64) -> Attempt {
        let done = challenges.is_empty().then_some(AttemptState::Passed);
        Attempt {
            number,
            challenges,
            steps: Vec::new(),
            started_ms: now_ms,
            limit_ms: STEP_TIME_MS,
            extended: 0,
            paused_ms: 0,
            paused_at: None,
            base: Baseline::default(),
            toward: 0,
            away: 0,
            seq: 0,
            base_seqs: Vec::new(),
            run_seqs: Vec::new(),
            evidence: Vec::new(),
            frames: Vec::new(),
            hidden_during: false,
            done,
        }
    }

    /// The step running (or the last one reached).
    pub fn step(&self) -> usize {
        self.steps
            .len()
            .min(self.challenges.len().saturating_sub(1))
    }

    pub fn challenges(&self) -> &[Challenge] {
        &self.challenges
    }

    /// Active milliseconds spent in the running step at `now_ms`.
    fn active_ms(&self, now_ms: u64) -> u64 {
        let until = self.paused_at.unwrap_or(now_ms).max(self.started_ms);
        until
            .saturating_sub(self.started_ms)
            .saturating_sub(self.paused_ms)
    }

    /// Active time left in the running step (0 once the attempt is over).
    pub fn remaining_ms(&self, now_ms: u64) -> u64 {
        if self.done.is_some() {
            return 0;
        }
        self.limit_ms.saturating_sub(self.active_ms(now_ms))
    }

    /// Whether to show "more time" now (WCAG 2.2.1): the step is running and may still be
    /// extended, and fewer than [`OFFER_EXTENSION_WITHIN_MS`] are left.
    pub fn offer_extension(&self, now_ms: u64) -> bool {
        self.done.is_none()
            && self.extended < MAX_EXTENSIONS
            && self.remaining_ms(now_ms) <= OFFER_EXTENSION_WITHIN_MS
    }

    /// Adds [`STEP_EXTENSION_MS`] to the running step; `false` when over or at
    /// [`MAX_EXTENSIONS`].
    pub fn extend(&mut self) -> bool {
        if self.done.is_some() || self.extended >= MAX_EXTENSIONS {
            return false;
        }
        self.extended += 1;
        self.limit_ms += STEP_EXTENSION_MS;
        true
    }

    /// The page was hidden or the camera paused at `now_ms`: the step's clock stops.
    pub fn pause(&mut self, now_ms: u64) {
        if self.done.is_none() && self.paused_at.is_none() {
            self.paused_at = Some(now_ms.max(self.started_ms));
            self.hidden_during = true;
        }
    }

    /// Visible again at `now_ms`: the clock runs on, and the step's baseline is taken afresh
    /// (what happened unseen does not count).
    pub fn resume(&mut self, now_ms: u64) {
        if let Some(at) = self.paused_at.take() {
            self.paused_ms += now_ms.saturating_sub(at);
            self.base = Baseline::default();
            self.toward = 0;
            self.away = 0;
            // What was seen before the pause is no longer the step's evidence.
            let step = self.steps.len();
            self.evidence.retain(|(s, _)| *s != step);
            self.frames.retain(|(s, _, _)| *s != step);
            self.base_seqs.clear();
            self.run_seqs.clear();
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused_at.is_some()
    }

    /// The final state, once passed or failed.
    pub fn result(&self) -> Option<AttemptState> {
        self.done
    }

    fn name(&mut self, step: usize, seqs: &[u32]) -> Option<Evidence> {
        if seqs.is_empty() {
            return None;
        }
        self.evidence.extend(seqs.iter().map(|q| (step, *q)));
        Some(Evidence {
            step,
            seqs: seqs.to_vec(),
        })
    }

    fn end_step(&mut self, now_ms: u64, outcome: StepOutcome) -> Option<Evidence> {
        let step = self.steps.len();
        self.steps.push(StepRecord {
            challenge: self.challenges[step],
            started_ms: self.started_ms,
            ended_ms: now_ms.max(self.started_ms),
            outcome,
            extended: self.extended,
            frames: Vec::new(),
        });
        // The hold (or the wrong movement held); a timeout shows nothing more.
        let held = if outcome == StepOutcome::TimedOut {
            Vec::new()
        } else {
            let n = self.run_seqs.len();
            self.run_seqs[n.saturating_sub(usize::from(HOLD_FRAMES))..].to_vec()
        };
        let upload = self.name(step, &held);
        if outcome != StepOutcome::Passed {
            self.done = Some(AttemptState::Failed { step, outcome });
        } else if self.steps.len() == self.challenges.len() {
            self.done = Some(AttemptState::Passed);
        } else {
            self.started_ms = now_ms;
            self.limit_ms = STEP_TIME_MS;
            self.extended = 0;
            self.paused_ms = 0;
            self.base = Baseline::default();
            self.toward = 0;
            self.away = 0;
        }
        self.base_seqs.clear();
        self.run_seqs.clear();
        upload
    }

    fn running(&self, now_ms: u64, hint: Option<SelfieHint>) -> AttemptState {
        let step = self.steps.len();
        AttemptState::Running {
            step,
            challenge: self.challenges[step],
            held: self.toward,
            wrong_way: self.away > 0,
            hint,
            remaining_ms: self.remaining_ms(now_ms),
        }
    }

    /// Feeds the latest frame at `now_ms` (every 100–150 ms, also without a face: the clock is
    /// checked on every call).
    pub fn push(&mut self, frame: &FaceFrame, now_ms: u64) -> Tick {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        let tick = |state, keep, upload| Tick {
            state,
            seq,
            keep,
            upload,
        };
        if let Some(state) = self.done {
            return tick(state, false, None);
        }
        if self.paused_at.is_some() {
            return tick(AttemptState::Paused, false, None);
        }
        let step = self.steps.len();
        let active = self.active_ms(now_ms);
        if active >= self.limit_ms {
            let upload = self.end_step(now_ms, StepOutcome::TimedOut);
            let state = self.done.unwrap_or_else(|| self.running(now_ms, None));
            return tick(state, false, upload);
        }
        // No face or several: wait (the clock runs), nothing counts.
        let face = match selfie::single_face(frame) {
            Ok(f) => *f,
            Err(hint) => {
                self.toward = 0;
                self.away = 0;
                self.run_seqs.clear();
                return tick(self.running(now_ms, Some(hint)), false, None);
            }
        };
        let aspect = frame.aspect();
        if self.base.frames < BASELINE_FRAMES {
            let Some(y) = yaw(&face, aspect) else {
                return tick(self.running(now_ms, None), false, None);
            };
            let n = f32::from(self.base.frames);
            self.base.width = (self.base.width * n + face.w) / (n + 1.0);
            self.base.yaw = (self.base.yaw * n + y) / (n + 1.0);
            self.base.frames += 1;
            self.base_seqs.push(seq);
            let upload = if self.base.frames == BASELINE_FRAMES {
                let seqs = std::mem::take(&mut self.base_seqs);
                self.name(step, &seqs)
            } else {
                None
            };
            return tick(self.running(now_ms, None), true, upload);
        }
        let verdict = evaluate(self.challenges[step], &self.base, &face, aspect, 1.0);
        match verdict {
            Verdict::Toward => {
                if self.toward == 0 {
                    self.run_seqs.clear();
                }
                self.toward = self.toward.saturating_add(1);
                self.away = 0;
                self.run_seqs.push(seq);
            }
            Verdict::Away => {
                if self.away == 0 {
                    self.run_seqs.clear();
                }
                self.away = self.away.saturating_add(1);
                self.toward = 0;
                self.run_seqs.push(seq);
            }
            Verdict::Neither => {
                self.toward = 0;
                self.away = 0;
                self.run_seqs.clear();
            }
        }
        if self.run_seqs.len() > usize::from(HOLD_FRAMES) {
            self.run_seqs.remove(0);
        }
        let keep = verdict != Verdict::Neither;
        if self.toward >= HOLD_FRAMES || self.away >= HOLD_FRAMES {
            let outcome = if self.toward >= HOLD_FRAMES {
                StepOutcome::Passed
            } else {
                StepOutcome::WrongDirection
            };
            let upload = self.end_step(now_ms, outcome);
            let state = match self.done {
                Some(s) => s,
                None => self.running(now_ms, None),
            };
            return tick(state, keep, upload);
        }
        tick(self.running(now_ms, None), keep, None)
    }

    /// Records the capture id of evidence frame `seq` of `step` once it is stored; `false`
    /// (ignored) for a frame no [`Evidence`] names (any more: a pause discards the running step's
    /// baseline).
    pub fn add_frame(&mut self, step: usize, seq: u32, capture_id: impl Into<String>) -> bool {
        if !self.evidence.contains(&(step, seq))
            || self.frames.iter().any(|(s, q, _)| *s == step && *q == seq)
        {
            return false;
        }
        self.frames.push((step, seq, capture_id.into()));
        true
    }

    /// Evidence frames named but not yet reported stored ([`Attempt::add_frame`]).
    pub fn frames_pending(&self) -> usize {
        self.evidence.len() - self.frames.len()
    }

    /// The record to send once the attempt is over (`None` while it runs).
    pub fn record(&self, track: TrackInfo) -> Option<LivenessAttempt> {
        let state = self.done?;
        let mut steps = self.steps.clone();
        let mut frames: Vec<&(usize, u32, String)> = self.frames.iter().collect();
        frames.sort_by_key(|(step, seq, _)| (*step, *seq));
        for (i, _, id) in frames {
            if let Some(s) = steps.get_mut(*i) {
                s.frames.push(id.clone());
            }
        }
        let track = TrackInfo {
            virtual_label: track.virtual_label || crate::capture::is_virtual_label(&track.label),
            ..track
        };
        Some(LivenessAttempt {
            attempt: self.number,
            challenges: self.challenges.clone(),
            steps,
            passed: state == AttemptState::Passed,
            hidden_during: self.hidden_during,
            track,
            attempt_id: String::new(),
        })
    }
}

pub mod verify;

#[cfg(test)]
mod tests;
