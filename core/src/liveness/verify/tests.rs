//! The server's check on synthetic detector output (the same posed faces as the device's tests),
//! each forged-client case with its reason.

use super::*;
use crate::face::{Face, FaceFrame};
use crate::liveness::{StepOutcome, StepRecord, TrackInfo};

use crate::liveness::tests::posed;

fn frame(faces: Vec<Face>) -> FaceFrame {
    FaceFrame {
        width: 640,
        height: 480,
        faces,
        brightness: 120.0,
        sharpness: 0.6,
    }
}

/// A frame of one face of height `h`, turned by `yaw`.
fn face(h: f32, yaw: f32) -> FaceFrame {
    frame(vec![posed(0.5, 0.45, h, yaw)])
}

/// The server's facts for a made-up attempt: frame `i` is `frames[i]`, received at `at[i]`.
struct World {
    frames: Vec<(String, FaceFrame, u64, i64)>,
}

impl World {
    fn new() -> World {
        World { frames: Vec::new() }
    }

    /// Adds a frame with a signature derived from its picture (different poses, different
    /// pictures) unless `sig` is given.
    fn add(&mut self, f: FaceFrame, received_ms: i64, sig: Option<u64>) -> String {
        let id = format!("f{}", self.frames.len());
        let s = sig.unwrap_or_else(|| {
            let b = f
                .faces
                .first()
                .map_or(0.0, |x| x.w * 1000.0 + x.keypoints[2].x * 100.0);
            // A distinct signature per distinct pose; equal poses get equal signatures.
            (b.to_bits() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        });
        self.frames.push((id.clone(), f, s, received_ms));
        id
    }

    fn check(&self, rec: &LivenessAttempt, opened: i64, recorded: i64) -> AttemptCheck {
        verify(
            rec,
            |id| {
                self.frames
                    .iter()
                    .find(|(i, ..)| i == id)
                    .map(|(i, f, s, r)| FrameFact {
                        capture_id: i,
                        faces: f,
                        signature: *s,
                        received_ms: *r,
                    })
            },
            opened,
            recorded,
        )
    }
}

fn record(steps: Vec<(Challenge, Vec<String>)>, passed: bool) -> LivenessAttempt {
    let challenges: Vec<Challenge> = steps.iter().map(|(c, _)| *c).collect();
    LivenessAttempt {
        attempt: 1,
        challenges,
        steps: steps
            .into_iter()
            .map(|(challenge, frames)| StepRecord {
                challenge,
                started_ms: 0,
                ended_ms: 1,
                outcome: if passed {
                    StepOutcome::Passed
                } else {
                    StepOutcome::TimedOut
                },
                extended: 0,
                frames,
            })
            .collect(),
        passed,
        hidden_during: false,
        track: TrackInfo::default(),
        attempt_id: "a1".into(),
    }
}

/// A step's frames: `base` twice then `hold` three times, received from `t0` every `dt` ms.
fn step(w: &mut World, base: FaceFrame, hold: FaceFrame, t0: i64, dt: i64) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..2 {
        ids.push(w.add(base.clone(), t0 + i * dt, None));
    }
    for i in 2..5 {
        ids.push(w.add(hold.clone(), t0 + i * dt, None));
    }
    ids
}

/// A genuine closer-then-back attempt, frames arriving over ~3 s.
fn genuine(w: &mut World) -> LivenessAttempt {
    let a = step(w, face(0.31, 0.0), face(0.43, 0.0), 200, 300);
    let b = step(w, face(0.43, 0.0), face(0.31, 0.0), 1_700, 300);
    record(vec![(Challenge::Closer, a), (Challenge::Back, b)], true)
}

#[test]
fn a_genuine_attempt_passes() {
    let mut w = World::new();
    let rec = genuine(&mut w);
    let c = w.check(&rec, 0, 3_500);
    assert!(c.passed, "{c:?}");
    assert!(c.device_passed);
    assert!(c.reasons.is_empty());
    assert_eq!(c.steps.len(), 2);
    assert_eq!(c.steps[0].duration_ms, Some(1_400));
    assert_eq!(c.steps[1].duration_ms, Some(1_500));
    assert_eq!(c.duration_ms, 3_500);
    // The JSON the integrator sees.
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["steps"][0]["challenge"], "closer");
    assert_eq!(json["steps"][0]["passed"], true);
}

#[test]
fn turns_are_judged_on_keypoints() {
    let mut w = World::new();
    let a = step(&mut w, face(0.42, 0.0), face(0.42, 0.35), 200, 300);
    let b = step(&mut w, face(0.42, 0.35), face(0.42, 0.02), 1_700, 300);
    let rec = record(vec![(Challenge::TurnLeft, a), (Challenge::Centre, b)], true);
    assert!(w.check(&rec, 0, 3_500).passed);
    // The same frames claimed as a turn to the right: the opposite movement.
    let mut wrong = rec.clone();
    wrong.challenges[0] = Challenge::TurnRight;
    wrong.steps[0].challenge = Challenge::TurnRight;
    let c = w.check(&wrong, 0, 3_500);
    assert!(!c.passed);
    assert_eq!(c.steps[0].reasons, vec![Reason::WrongDirection]);
}

#[test]
fn a_claimed_pass_without_frames_fails() {
    let w = World::new();
    let rec = record(
        vec![(Challenge::Closer, vec![]), (Challenge::Back, vec![])],
        true,
    );
    let c = w.check(&rec, 0, 10);
    assert!(!c.passed);
    assert_eq!(c.reasons, vec![Reason::NoFrames]);
}

#[test]
fn too_few_frames_fail() {
    let mut w = World::new();
    let mut rec = genuine(&mut w);
    rec.steps[1].frames.truncate(3);
    let c = w.check(&rec, 0, 3_500);
    assert!(!c.passed);
    assert!(c.steps[0].passed);
    assert_eq!(c.steps[1].reasons, vec![Reason::TooFewFrames]);
}

#[test]
fn frames_not_stored_for_the_session_fail() {
    let mut w = World::new();
    let mut rec = genuine(&mut w);
    rec.steps[0].frames[4] = "someone-elses".into();
    let c = w.check(&rec, 0, 3_500);
    assert!(!c.passed);
    assert!(c.steps[0].reasons.contains(&Reason::UnknownFrame));
}

#[test]
fn frames_uploaded_all_at_once_are_too_fast() {
    // Plausible device times (the record's started/ended), but every frame within 200 ms.
    let mut w = World::new();
    let a = step(&mut w, face(0.31, 0.0), face(0.43, 0.0), 10, 20);
    let b = step(&mut w, face(0.43, 0.0), face(0.31, 0.0), 110, 20);
    let mut rec = record(vec![(Challenge::Closer, a), (Challenge::Back, b)], true);
    for (i, s) in rec.steps.iter_mut().enumerate() {
        s.started_ms = 1_000 + 2_000 * i as u64;
        s.ended_ms = s.started_ms + 1_800;
    }
    let c = w.check(&rec, 0, 300);
    assert!(!c.passed);
    assert_eq!(c.reasons, vec![Reason::TooFast]);
}

#[test]
fn frames_received_outside_the_attempt_fail() {
    let mut w = World::new();
    let rec = genuine(&mut w);
    // Opened after the first frames arrived (uploaded for an earlier attempt, or before opening).
    let c = w.check(&rec, 500, 3_500);
    assert!(!c.passed);
    assert!(c.reasons.contains(&Reason::OutsideAttempt));
    // Recorded before the last frames arrived.
    let c = w.check(&rec, 0, 2_000);
    assert!(c.reasons.contains(&Reason::OutsideAttempt));
}

#[test]
fn a_still_face_does_not_pass_closer_or_back() {
    let mut w = World::new();
    let a = step(&mut w, face(0.38, 0.0), face(0.385, 0.0), 200, 300);
    let b = step(&mut w, face(0.385, 0.0), face(0.38, 0.0), 1_700, 300);
    let rec = record(vec![(Challenge::Closer, a), (Challenge::Back, b)], true);
    let c = w.check(&rec, 0, 3_500);
    assert!(!c.passed);
    assert_eq!(c.steps[0].reasons, vec![Reason::NoMovement]);
    assert_eq!(c.steps[1].reasons, vec![Reason::NoMovement]);
}

#[test]
fn real_frames_in_the_wrong_order_fail() {
    // A growing-then-shrinking sequence, reversed: closer sees the face shrink, back sees it grow.
    let mut w = World::new();
    let a = step(&mut w, face(0.43, 0.0), face(0.31, 0.0), 200, 300);
    let b = step(&mut w, face(0.31, 0.0), face(0.43, 0.0), 1_700, 300);
    let rec = record(vec![(Challenge::Closer, a), (Challenge::Back, b)], true);
    let c = w.check(&rec, 0, 3_500);
    assert!(!c.passed);
    assert_eq!(c.steps[0].reasons, vec![Reason::WrongDirection]);
    assert_eq!(c.steps[1].reasons, vec![Reason::WrongDirection]);
}

#[test]
fn copies_of_one_picture_are_not_frames() {
    // A frontal face re-encoded five times for a centre step: one picture.
    let mut w = World::new();
    let a = step(&mut w, face(0.42, 0.0), face(0.42, 0.35), 200, 300);
    let b: Vec<String> = (0..5)
        .map(|i| {
            w.add(
                face(0.42, 0.0),
                1_700 + i * 300,
                Some(0xDEAD_BEEF ^ (i as u64 & 1)),
            )
        })
        .collect();
    let rec = record(vec![(Challenge::TurnLeft, a), (Challenge::Centre, b)], true);
    let c = w.check(&rec, 0, 3_500);
    assert!(!c.passed);
    assert!(c.steps[1].reasons.contains(&Reason::SamePicture), "{c:?}");
}

#[test]
fn a_face_that_jumps_or_a_second_face_fails() {
    let mut w = World::new();
    let mut rec = genuine(&mut w);
    // Another face, far off to the side, in one hold frame.
    let id = w.add(frame(vec![posed(0.85, 0.3, 0.43, 0.0)]), 1_400, None);
    rec.steps[0].frames[3] = id;
    let c = w.check(&rec, 0, 3_500);
    assert!(c.steps[0].reasons.contains(&Reason::Discontinuous), "{c:?}");
    let mut rec = genuine(&mut w);
    let id = w.add(
        frame(vec![posed(0.5, 0.45, 0.43, 0.0), posed(0.2, 0.4, 0.4, 0.0)]),
        1_400,
        None,
    );
    rec.steps[0].frames[3] = id;
    assert!(w
        .check(&rec, 0, 3_500)
        .reasons
        .contains(&Reason::SeveralFaces));
    let mut rec = genuine(&mut w);
    let id = w.add(frame(vec![]), 1_400, None);
    rec.steps[0].frames[3] = id;
    assert!(w.check(&rec, 0, 3_500).reasons.contains(&Reason::NoFace));
}

#[test]
fn the_device_verdict_is_kept_but_never_enough() {
    let mut w = World::new();
    let mut rec = genuine(&mut w);
    rec.passed = false;
    rec.steps.truncate(1);
    let c = w.check(&rec, 0, 3_500);
    assert!(!c.passed && !c.device_passed);
    assert_eq!(c.reasons, vec![Reason::DeviceFailed, Reason::Incomplete]);
}

#[test]
fn a_late_step_does_not_make_the_next_one_too_fast() {
    // Step 0's hold was retried and arrived late, right before step 1's: genuine, not too fast.
    let mut w = World::new();
    let a = step(&mut w, face(0.31, 0.0), face(0.43, 0.0), 200, 600);
    let b = step(&mut w, face(0.43, 0.0), face(0.31, 0.0), 2_500, 50);
    let rec = record(vec![(Challenge::Closer, a), (Challenge::Back, b)], true);
    let c = w.check(&rec, 0, 3_000);
    assert!(c.passed, "{c:?}");
    assert_eq!(c.steps[1].duration_ms, Some(2_700 - 2_600));
}

#[test]
fn picture_signatures_tell_copies_from_other_frames() {
    use crate::face::picture_signature;
    // A gradient with a dark blob; the blob moved is another picture; noise is the same one.
    let (w, h) = (96usize, 72usize);
    let img = |bx: usize, noise: u8| -> Vec<u8> {
        let mut v = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let mut p = (x * 2 + y) as i32;
                if x >= bx && x < bx + 20 && (20..50).contains(&y) {
                    p -= 90;
                }
                let n = ((x * 7 + y * 13) % 3) as i32 * i32::from(noise);
                v[y * w + x] = (p + 60 + n).clamp(0, 255) as u8;
            }
        }
        v
    };
    let a = picture_signature(&img(20, 0), w, h);
    let noisy = picture_signature(&img(20, 1), w, h);
    let moved = picture_signature(&img(50, 0), w, h);
    assert!((a ^ noisy).count_ones() <= SAME_PICTURE_BITS);
    assert!((a ^ moved).count_ones() > SAME_PICTURE_BITS * 2);
    assert_eq!(picture_signature(&[], 0, 0), 0);
}
