//! The server's own verdict on a liveness attempt (issue 14): the frames the device uploaded, run
//! through the face detector on the server, judged with the same step checks as the device
//! ([`super::Attempt`]: a baseline, then [`HOLD_FRAMES`] frames holding the movement), plus what
//! only the server can see: when each frame arrived, whether one face stays in view, and whether
//! the frames are different pictures. The device's own verdict is only a claim: an attempt passes
//! when the device says so *and* the frames show it.
//!
//! What this cannot establish (docs/api.md says so too): BlazeFace finds faces, it does not tell
//! people apart, so "one face throughout" is a geometrically continuous track, not an identity;
//! and a virtual camera replaying a video of the real person making the moves passes.

use serde::{Deserialize, Serialize};

use super::{evaluate, yaw, Baseline, Challenge, LivenessAttempt, Verdict};
use super::{BASELINE_FRAMES, HOLD_FRAMES};
use crate::face::FaceFrame;
use crate::selfie::{self, SelfieHint};

/// The server's thresholds are the device's times this (a turn of 0.20 instead of 0.25, a size
/// change of 16 % instead of 20 %): the server sees the device's frames after JPEG compression,
/// and a frame the device judged just past a threshold must not fail on rounding. Still far above
/// the detector's jitter on a still face (2–4 % in size, ±0.05 in yaw).
pub const SERVER_SLACK: f32 = 0.8;

/// An attempt takes at least this long per step by the server's clock, from its opening to the
/// arrival of its last frame. Reading the instruction, moving and holding for [`HOLD_FRAMES`]
/// frames takes a person well over a second a step; 400 ms leaves room for frames that queue on
/// a slow network. Judged over the whole attempt, not per step: a retried upload can make one
/// step's frames arrive late and the next step's right after them. (Per-step times are reported.)
pub const MIN_STEP_MS: u64 = 400;

/// Within a step, between two consecutive frames the face box's centre may move at most this many
/// box widths, and its width change at most by this factor: a person leaning in or turning stays
/// well within it; a different face somewhere else in the frame does not. Not checked across
/// steps: a step resumed after a pause takes its baseline again wherever the person is now.
pub const TRACK_MAX_SHIFT: f32 = 1.0;
pub const TRACK_MAX_SCALE: f32 = 2.0;

/// Two frames are the same picture when their [`crate::face::picture_signature`]s differ in at
/// most this many of 64 bits (re-encoding, resizing or small brightness changes move 0–3 bits).
pub const SAME_PICTURE_BITS: u32 = 3;

/// Why the server did not pass an attempt or a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The device reported the attempt failed (a timeout or the wrong movement on the device).
    DeviceFailed,
    /// The record has fewer steps than the session's challenges.
    Incomplete,
    /// A step lists no frames.
    NoFrames,
    /// A step lists fewer than a baseline and a hold.
    TooFewFrames,
    /// A frame the record lists was not analysed (not a stored liveness frame of this session).
    UnknownFrame,
    /// A frame shows no face.
    NoFace,
    /// A frame shows more than one face.
    SeveralFaces,
    /// The frames do not show the movement asked for.
    NoMovement,
    /// The frames show the opposite movement.
    WrongDirection,
    /// A frame arrived before the attempt was opened or after it was recorded.
    OutsideAttempt,
    /// The frames arrived faster than a person can move: less than [`MIN_STEP_MS`] a step from
    /// the opening to the last frame, by the server's clock.
    TooFast,
    /// The face jumps between consecutive frames (another face, or frames of different scenes).
    Discontinuous,
    /// A centre step that starts frontal shows one picture throughout (re-encoded copies).
    SamePicture,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::DeviceFailed => "device_failed",
            Reason::Incomplete => "incomplete",
            Reason::NoFrames => "no_frames",
            Reason::TooFewFrames => "too_few_frames",
            Reason::UnknownFrame => "unknown_frame",
            Reason::NoFace => "no_face",
            Reason::SeveralFaces => "several_faces",
            Reason::NoMovement => "no_movement",
            Reason::WrongDirection => "wrong_direction",
            Reason::OutsideAttempt => "outside_attempt",
            Reason::TooFast => "too_fast",
            Reason::Discontinuous => "discontinuous",
            Reason::SamePicture => "same_picture",
        }
    }
}

/// What the server knows of one uploaded frame: its analysis and when it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameFact<'a> {
    pub capture_id: &'a str,
    /// The detector's output on the stored image.
    pub faces: &'a FaceFrame,
    /// [`crate::face::picture_signature`] of the stored image.
    pub signature: u64,
    /// The server's clock when the upload was stored (ms).
    pub received_ms: i64,
}

/// The server's verdict on one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepCheck {
    pub challenge: Challenge,
    pub passed: bool,
    /// Frames listed for the step.
    pub frames: usize,
    /// The step's time by the server's clock (ms), when its frames arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
}

/// The server's verdict on an attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptCheck {
    /// The server's outcome: the attempt's outcome.
    pub passed: bool,
    /// What the device said.
    pub device_passed: bool,
    pub steps: Vec<StepCheck>,
    /// Every reason, attempt-wide and per step, without repeats, in order found.
    pub reasons: Vec<Reason>,
    /// Server time from the opening to the record (ms).
    pub duration_ms: i64,
}

fn push_reason(v: &mut Vec<Reason>, r: Reason) {
    if !v.contains(&r) {
        v.push(r);
    }
}

/// Judges `record` with the server's facts: `frame(id)` gives what the server knows of a listed
/// frame (`None` when it is not a stored, analysed liveness frame of this session); the attempt
/// was opened at `opened_ms` and recorded at `recorded_ms` (the server's clock). Pauses are not
/// special: a paused step simply takes longer, and its discarded baseline is not listed.
pub fn verify<'a>(
    record: &LivenessAttempt,
    frame: impl Fn(&str) -> Option<FrameFact<'a>>,
    opened_ms: i64,
    recorded_ms: i64,
) -> AttemptCheck {
    let mut reasons = Vec::new();
    if !record.passed {
        push_reason(&mut reasons, Reason::DeviceFailed);
    }
    if record.steps.len() < record.challenges.len() {
        push_reason(&mut reasons, Reason::Incomplete);
    }
    let duration_ms = recorded_ms - opened_ms;
    let mut steps = Vec::with_capacity(record.steps.len());
    // The previous step's end by the server's clock.
    let mut prev_end = opened_ms;
    for step in &record.steps {
        let mut r = Vec::new();
        // The previous frame's face in this step (the track).
        let mut prev_face: Option<crate::face::Face> = None;
        let facts: Vec<Option<FrameFact<'a>>> = step.frames.iter().map(|id| frame(id)).collect();
        if step.frames.is_empty() {
            push_reason(&mut r, Reason::NoFrames);
        } else if step.frames.len() < BASELINE_FRAMES as usize + HOLD_FRAMES as usize {
            push_reason(&mut r, Reason::TooFewFrames);
        }
        if facts.iter().any(Option::is_none) {
            push_reason(&mut r, Reason::UnknownFrame);
        }
        let known: Vec<&FrameFact<'a>> = facts.iter().flatten().collect();
        // Arrival: inside the attempt, and the step humanly long.
        if known
            .iter()
            .any(|f| f.received_ms < opened_ms || f.received_ms > recorded_ms)
        {
            push_reason(&mut r, Reason::OutsideAttempt);
        }
        let end = known.iter().map(|f| f.received_ms).max();
        let duration = end.map(|e| e - prev_end);
        if let Some(e) = end {
            prev_end = prev_end.max(e);
        }
        // One face in every frame, continuous from frame to frame.
        let mut single = Vec::with_capacity(known.len());
        for f in &known {
            match selfie::single_face(f.faces) {
                Ok(face) => {
                    if let Some(p) = prev_face {
                        if !continuous(&p, face, f.faces.aspect()) {
                            push_reason(&mut r, Reason::Discontinuous);
                        }
                    }
                    prev_face = Some(*face);
                    single.push((*face, f.faces.aspect()));
                }
                Err(SelfieHint::MultipleFaces) => push_reason(&mut r, Reason::SeveralFaces),
                Err(_) => push_reason(&mut r, Reason::NoFace),
            }
        }
        // Different pictures. Movements need none of this (a copy cannot move: the geometry
        // fails it), and a turning head changes few cells of a whole-frame signature, so it is
        // asked only where the geometry cannot tell: a centre step that starts frontal, whose
        // frames being all one picture (re-encoded copies) show nothing happening.
        let frontal_start = single.len() >= BASELINE_FRAMES as usize
            && single[..BASELINE_FRAMES as usize]
                .iter()
                .all(|(f, a)| yaw(f, *a).is_some_and(|y| y.abs() <= super::FRONTAL_MAX_YAW));
        if step.challenge == Challenge::Centre
            && frontal_start
            && known.len() >= 2
            && known
                .iter()
                .all(|f| (f.signature ^ known[0].signature).count_ones() <= SAME_PICTURE_BITS)
        {
            push_reason(&mut r, Reason::SamePicture);
        }
        // The movement, judged as the device judges it: baseline, then a hold.
        if !step.frames.is_empty()
            && single.len() == known.len()
            && known.len() == step.frames.len()
            && !r.contains(&Reason::TooFewFrames)
        {
            match judge(step.challenge, &single) {
                Verdict::Toward => {}
                Verdict::Away => push_reason(&mut r, Reason::WrongDirection),
                Verdict::Neither => push_reason(&mut r, Reason::NoMovement),
            }
        }
        for x in &r {
            push_reason(&mut reasons, *x);
        }
        steps.push(StepCheck {
            challenge: step.challenge,
            passed: r.is_empty(),
            frames: step.frames.len(),
            duration_ms: duration,
            reasons: r,
        });
    }
    // Humanly possible: the whole attempt, by the server's clock.
    let frames_listed = record.steps.iter().any(|s| !s.frames.is_empty());
    let min_ms = MIN_STEP_MS as i64 * record.challenges.len() as i64;
    if frames_listed && prev_end - opened_ms < min_ms {
        push_reason(&mut reasons, Reason::TooFast);
    }
    let passed = reasons.is_empty()
        && steps.len() == record.challenges.len()
        && steps.iter().all(|s| s.passed);
    AttemptCheck {
        passed,
        device_passed: record.passed,
        steps,
        reasons,
        duration_ms,
    }
}

/// The step's frames in order: the first [`BASELINE_FRAMES`] are its baseline; after them
/// [`HOLD_FRAMES`] frames in a row must show the movement (`Toward`). `Away` when that many show
/// the opposite one instead.
fn judge(challenge: Challenge, frames: &[(crate::face::Face, f32)]) -> Verdict {
    let nb = BASELINE_FRAMES as usize;
    if frames.len() < nb {
        return Verdict::Neither;
    }
    let mut base = Baseline::default();
    for (face, aspect) in &frames[..nb] {
        let Some(y) = yaw(face, *aspect) else {
            return Verdict::Neither;
        };
        let n = f32::from(base.frames);
        base.width = (base.width * n + face.w) / (n + 1.0);
        base.yaw = (base.yaw * n + y) / (n + 1.0);
        base.frames += 1;
    }
    let (mut toward, mut away) = (0u8, 0u8);
    for (face, aspect) in &frames[nb..] {
        match evaluate(challenge, &base, face, *aspect, SERVER_SLACK) {
            Verdict::Toward => {
                toward += 1;
                away = 0;
            }
            Verdict::Away => {
                away += 1;
                toward = 0;
            }
            Verdict::Neither => {
                toward = 0;
                away = 0;
            }
        }
        if toward >= HOLD_FRAMES {
            return Verdict::Toward;
        }
        if away >= HOLD_FRAMES {
            return Verdict::Away;
        }
    }
    Verdict::Neither
}

/// Whether `b` can be the same face as `a` one evidence frame later.
fn continuous(a: &crate::face::Face, b: &crate::face::Face, aspect: f32) -> bool {
    let (ca, cb) = (a.centre(), b.centre());
    let w = a.w.max(b.w);
    if w <= 0.0 {
        return false;
    }
    // Distances in frame heights on both axes (x scaled by the aspect), widths likewise.
    let dx = (ca.x - cb.x) * aspect;
    let dy = ca.y - cb.y;
    let shift = (dx * dx + dy * dy).sqrt() / (w * aspect);
    let scale = (a.w / b.w).max(b.w / a.w);
    shift <= TRACK_MAX_SHIFT && scale.is_finite() && scale <= TRACK_MAX_SCALE
}

#[cfg(test)]
mod tests;
