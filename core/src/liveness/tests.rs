//! Liveness on synthetic keypoint sequences (a 640×480 frame, one frame every 120 ms).

use super::*;
use crate::face::{Face, FaceFrame, Point};

const DT: u64 = 120;
const ASPECT: f32 = 640.0 / 480.0;

/// A face centred at `(cx, cy)`, its box `h` of the frame height (square in pixels), turned by
/// `yaw` (the [`yaw`] estimate it will read: positive = the person's left). Shared with the
/// server check's tests (`verify/tests.rs`).
pub(crate) fn posed(cx: f32, cy: f32, h: f32, yaw_ratio: f32) -> Face {
    let w = h / ASPECT;
    let (x, y) = (cx - w / 2.0, cy - h / 2.0);
    let eye = 0.18 * w;
    let iod = 2.0 * eye;
    let nose_x = cx + yaw_ratio * iod;
    let pt = |x: f32, fy: f32| Point { x, y: y + fy * h };
    Face {
        x,
        y,
        w,
        h,
        score: 0.9,
        keypoints: [
            pt(cx - eye, 0.38),
            pt(cx + eye, 0.38),
            pt(nose_x, 0.58),
            pt(cx, 0.78),
            pt(cx - 0.48 * w, 0.45),
            pt(cx + 0.48 * w, 0.45),
        ],
    }
}

fn frame_of(faces: Vec<Face>) -> FaceFrame {
    FaceFrame {
        width: 640,
        height: 480,
        faces,
        brightness: 120.0,
        sharpness: 0.8,
    }
}

fn face(h: f32, yaw: f32) -> FaceFrame {
    frame_of(vec![posed(0.5, 0.45, h, yaw)])
}

fn frontal() -> FaceFrame {
    face(0.42, 0.0)
}

/// Feeds `frames` from `*t`, one every [`DT`]; returns the last tick and every evidence named.
fn feed(
    a: &mut Attempt,
    t: &mut u64,
    frames: impl IntoIterator<Item = FaceFrame>,
) -> (Tick, Vec<Evidence>) {
    let mut last = None;
    let mut named = Vec::new();
    for f in frames {
        let tick = a.push(&f, *t);
        named.extend(tick.upload.clone());
        last = Some(tick);
        *t += DT;
    }
    (last.expect("at least one frame"), named)
}

fn repeat(f: FaceFrame, n: usize) -> Vec<FaceFrame> {
    vec![f; n]
}

/// Baseline frames, then `n` frames of `moved`.
fn perform(a: &mut Attempt, t: &mut u64, moved: FaceFrame, n: usize) -> Tick {
    feed(a, t, repeat(frontal(), BASELINE_FRAMES as usize));
    feed(a, t, repeat(moved, n)).0
}

#[test]
fn the_yaw_estimate_reads_the_synthetic_pose() {
    let f = posed(0.5, 0.45, 0.42, 0.3);
    assert!((yaw(&f, ASPECT).unwrap() - 0.3).abs() < 1e-4);
    assert!(ear_turn(&f, ASPECT).unwrap() > 0.0, "left ear closer");
    assert!(ear_turn(&posed(0.5, 0.45, 0.42, -0.3), ASPECT).unwrap() < 0.0);
    let mut same = f;
    same.keypoints = [Point::default(); 6];
    assert_eq!(yaw(&same, ASPECT), None);
}

#[test]
fn each_challenge_passes_with_its_movement() {
    let cases = [
        (Challenge::Closer, face(0.52, 0.0)),
        (Challenge::Back, face(0.33, 0.0)),
        (Challenge::TurnLeft, face(0.42, 0.35)),
        (Challenge::TurnRight, face(0.42, -0.35)),
        (Challenge::Centre, frontal()),
    ];
    for (c, moved) in cases {
        let mut a = Attempt::new(1, vec![c], 0);
        let mut t = 0;
        feed(&mut a, &mut t, repeat(frontal(), BASELINE_FRAMES as usize));
        let (tick, _) = feed(&mut a, &mut t, repeat(moved.clone(), 2));
        assert!(
            matches!(tick.state, AttemptState::Running { held: 2, .. }),
            "{c}: not after {} frames: {tick:?}",
            HOLD_FRAMES - 1
        );
        let (tick, _) = feed(&mut a, &mut t, [moved]);
        assert_eq!(tick.state, AttemptState::Passed, "{c}");
        // The hold: the last three frames (seqs 2, 3, 4 after the baseline's 0 and 1).
        assert_eq!(
            tick.upload,
            Some(Evidence {
                step: 0,
                seqs: vec![2, 3, 4]
            }),
            "{c}"
        );
    }
}

#[test]
fn a_whole_sequence_passes_and_its_record_is_consistent() {
    let seq = vec![Challenge::Closer, Challenge::TurnLeft, Challenge::Centre];
    let mut a = Attempt::new(1, seq.clone(), 1_000);
    let mut t = 1_000;
    let mut grabs = Vec::new();
    // Closer, from 0.42 to 0.52.
    let (_, g) = feed(&mut a, &mut t, repeat(frontal(), 2));
    grabs.extend(g);
    let (tick, g) = feed(&mut a, &mut t, repeat(face(0.52, 0.0), 3));
    grabs.extend(g);
    assert!(matches!(
        tick.state,
        AttemptState::Running {
            step: 1,
            challenge: Challenge::TurnLeft,
            ..
        }
    ));
    // Turn left from where they are now (close).
    let (_, g) = feed(&mut a, &mut t, repeat(face(0.52, 0.0), 2));
    grabs.extend(g);
    let (_, g) = feed(&mut a, &mut t, repeat(face(0.52, 0.35), 3));
    grabs.extend(g);
    // Back to the centre.
    let (_, g) = feed(&mut a, &mut t, repeat(face(0.52, 0.3), 2));
    grabs.extend(g);
    let (tick, g) = feed(&mut a, &mut t, repeat(face(0.45, 0.02), 3));
    grabs.extend(g);
    assert_eq!(tick.state, AttemptState::Passed);
    // Per step: the baseline (2 frames) when it is taken, the hold (3) when the step passes.
    let ev = |step, seqs: &[u32]| Evidence {
        step,
        seqs: seqs.to_vec(),
    };
    assert_eq!(
        grabs,
        vec![
            ev(0, &[0, 1]),
            ev(0, &[2, 3, 4]),
            ev(1, &[5, 6]),
            ev(1, &[7, 8, 9]),
            ev(2, &[10, 11]),
            ev(2, &[12, 13, 14]),
        ]
    );
    assert_eq!(a.frames_pending(), 15);
    // Stored out of order (parallel uploads): the record lists them in the order taken.
    for g in grabs.iter().rev() {
        for q in g.seqs.iter().rev() {
            assert!(a.add_frame(g.step, *q, format!("f{q}")));
        }
    }
    assert!(!a.add_frame(0, 0, "again"), "a frame is reported once");
    assert!(!a.add_frame(0, 99, "never named"));
    assert_eq!(a.frames_pending(), 0);
    let r = a
        .record(TrackInfo {
            label: "FaceTime HD Camera".into(),
            width: 1280,
            height: 720,
            frame_rate: 30.0,
            facing_mode: Some("user".into()),
            virtual_label: false,
        })
        .unwrap();
    assert!(r.passed && !r.hidden_during && !r.track.virtual_label);
    assert_eq!(r.challenges, seq);
    assert_eq!(r.steps.len(), 3);
    assert_eq!(r.steps[0].frames, vec!["f0", "f1", "f2", "f3", "f4"]);
    assert_eq!(r.steps[2].frames, vec!["f10", "f11", "f12", "f13", "f14"]);
    assert_eq!(r.steps[0].started_ms, 1_000);
    assert_eq!(r.steps[1].started_ms, r.steps[0].ended_ms);
    assert!(r
        .steps
        .iter()
        .all(|s| s.outcome == StepOutcome::Passed && s.extended == 0));
    r.check_consistent().unwrap();
    // The JSON the server receives.
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["challenges"][1], "turn_left");
    assert_eq!(json["steps"][2]["outcome"], "passed");
    let back: LivenessAttempt = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn the_wrong_direction_fails_the_attempt() {
    let mut a = Attempt::new(1, vec![Challenge::TurnLeft, Challenge::Closer], 0);
    let mut t = 0;
    let tick = perform(&mut a, &mut t, face(0.42, -0.35), 2);
    assert!(matches!(
        tick.state,
        AttemptState::Running {
            wrong_way: true,
            ..
        }
    ));
    let (tick, _) = feed(&mut a, &mut t, [face(0.42, -0.35)]);
    assert_eq!(
        tick.state,
        AttemptState::Failed {
            step: 0,
            outcome: StepOutcome::WrongDirection
        }
    );
    // The wrong movement held is the step's evidence.
    assert_eq!(
        tick.upload.map(|e| e.seqs.len()),
        Some(HOLD_FRAMES as usize)
    );
    let r = a.record(TrackInfo::default()).unwrap();
    assert!(!r.passed);
    assert_eq!(r.steps.len(), 1);
    r.check_consistent().unwrap();
    // Frames after the end change nothing.
    assert_eq!(a.push(&face(0.42, 0.35), t).state, tick.state);

    let mut a = Attempt::new(1, vec![Challenge::Closer], 0);
    let mut t = 0;
    let tick = perform(&mut a, &mut t, face(0.33, 0.0), 3);
    assert_eq!(
        tick.state,
        AttemptState::Failed {
            step: 0,
            outcome: StepOutcome::WrongDirection
        },
        "moving back when asked to come closer"
    );
}

#[test]
fn a_step_times_out() {
    let mut a = Attempt::new(2, vec![Challenge::TurnRight, Challenge::Back], 0);
    let mut t = 0;
    while t < STEP_TIME_MS {
        let tick = a.push(&frontal(), t);
        assert!(matches!(tick.state, AttemptState::Running { .. }), "{t}");
        t += DT;
    }
    let tick = a.push(&frontal(), STEP_TIME_MS);
    assert_eq!(
        tick.state,
        AttemptState::Failed {
            step: 0,
            outcome: StepOutcome::TimedOut
        }
    );
    let r = a.record(TrackInfo::default()).unwrap();
    assert_eq!(r.attempt, 2);
    assert_eq!(r.steps[0].outcome, StepOutcome::TimedOut);
    assert_eq!(r.steps[0].ended_ms, STEP_TIME_MS);
}

#[test]
fn more_time_extends_the_step() {
    let mut a = Attempt::new(1, vec![Challenge::Closer, Challenge::TurnLeft], 0);
    assert!(
        a.offer_extension(0),
        "a step is shorter than the warning time"
    );
    assert_eq!(a.remaining_ms(5_000), STEP_TIME_MS - 5_000);
    assert!(a.extend());
    assert_eq!(
        a.remaining_ms(5_000),
        STEP_TIME_MS + STEP_EXTENSION_MS - 5_000
    );
    let tick = a.push(&frontal(), STEP_TIME_MS + 1_000);
    assert!(matches!(tick.state, AttemptState::Running { .. }));
    for _ in 1..MAX_EXTENSIONS {
        assert!(a.extend());
    }
    assert!(!a.extend(), "at most {MAX_EXTENSIONS}");
    assert!(!a.offer_extension(0));
    let end = STEP_TIME_MS + u64::from(MAX_EXTENSIONS) * STEP_EXTENSION_MS;
    assert!(matches!(
        a.push(&frontal(), end - 1).state,
        AttemptState::Running { .. }
    ));
    assert!(matches!(
        a.push(&frontal(), end).state,
        AttemptState::Failed {
            outcome: StepOutcome::TimedOut,
            ..
        }
    ));
    let r = a.record(TrackInfo::default()).unwrap();
    assert_eq!(r.steps[0].extended, MAX_EXTENSIONS);
    r.check_consistent().unwrap();
}

#[test]
fn hidden_time_does_not_count_and_the_baseline_is_taken_again() {
    let mut a = Attempt::new(1, vec![Challenge::Closer, Challenge::TurnLeft], 0);
    let mut t = 0;
    feed(&mut a, &mut t, repeat(frontal(), 2)); // baseline 0.42
    a.pause(5_000);
    assert!(a.is_paused());
    assert_eq!(a.push(&frontal(), 6_000).state, AttemptState::Paused);
    a.resume(65_000);
    // 5 s used before the pause, 60 s hidden: 10 s left.
    assert_eq!(a.remaining_ms(65_000), STEP_TIME_MS - 5_000);
    // The person came closer while hidden: that alone does not pass, the new baseline is close.
    let mut t = 65_000;
    let (tick, _) = feed(&mut a, &mut t, repeat(face(0.52, 0.0), 6));
    assert!(
        matches!(tick.state, AttemptState::Running { step: 0, .. }),
        "{tick:?}"
    );
    let (tick, _) = feed(&mut a, &mut t, repeat(face(0.64, 0.0), 3));
    assert!(matches!(tick.state, AttemptState::Running { step: 1, .. }));
    // The second step times out 15 active seconds after it started, pauses excluded.
    let started = t - DT;
    a.pause(started + 1_000);
    a.resume(started + 31_000);
    assert!(matches!(
        a.push(&frontal(), started + STEP_TIME_MS + 30_000 - 1)
            .state,
        AttemptState::Running { .. }
    ));
    assert!(matches!(
        a.push(&frontal(), started + STEP_TIME_MS + 30_000).state,
        AttemptState::Failed {
            step: 1,
            outcome: StepOutcome::TimedOut
        }
    ));
    let r = a.record(TrackInfo::default()).unwrap();
    assert!(r.hidden_during);
}

#[test]
fn a_still_face_fails_every_movement_and_passes_only_centre() {
    for c in Challenge::ALL {
        let mut a = Attempt::new(1, vec![c], 0);
        let mut t = 0;
        let mut last = None;
        while t <= STEP_TIME_MS && a.result().is_none() {
            last = Some(a.push(&frontal(), t).state);
            t += DT;
        }
        let expect = if c.is_movement() {
            AttemptState::Failed {
                step: 0,
                outcome: StepOutcome::TimedOut,
            }
        } else {
            AttemptState::Passed
        };
        assert_eq!(last, Some(expect), "{c}");
    }
    // A still photo of a turned head does not pass the turn either: no change from the baseline.
    let mut a = Attempt::new(1, vec![Challenge::TurnLeft], 0);
    let turned = face(0.42, 0.4);
    let mut t = 0;
    while t <= STEP_TIME_MS && a.result().is_none() {
        a.push(&turned, t);
        t += DT;
    }
    assert!(matches!(
        a.result(),
        Some(AttemptState::Failed {
            outcome: StepOutcome::TimedOut,
            ..
        })
    ));
}

#[test]
fn one_noisy_frame_neither_passes_nor_fails() {
    let mut a = Attempt::new(1, vec![Challenge::TurnLeft, Challenge::Closer], 0);
    let mut t = 0;
    feed(&mut a, &mut t, repeat(frontal(), 2));
    for _ in 0..15 {
        // A keypoint glitch every other frame, in either direction.
        feed(
            &mut a,
            &mut t,
            [face(0.42, 0.5), frontal(), face(0.42, -0.5)],
        );
        feed(
            &mut a,
            &mut t,
            [face(0.42, 0.5), face(0.42, 0.5), frontal()],
        );
    }
    let tick = a.push(&frontal(), t);
    assert!(
        matches!(tick.state, AttemptState::Running { step: 0, .. }),
        "{tick:?}"
    );
}

#[test]
fn no_face_or_two_faces_during_a_step_only_wait() {
    let mut a = Attempt::new(1, vec![Challenge::TurnLeft, Challenge::Closer], 0);
    let mut t = 0;
    feed(&mut a, &mut t, repeat(frontal(), 2));
    let (tick, _) = feed(&mut a, &mut t, repeat(frame_of(vec![]), 40));
    assert!(matches!(
        tick.state,
        AttemptState::Running {
            hint: Some(SelfieHint::NoFace),
            ..
        }
    ));
    let two = frame_of(vec![
        posed(0.5, 0.45, 0.42, 0.35),
        posed(0.8, 0.4, 0.4, 0.0),
    ]);
    let (tick, _) = feed(&mut a, &mut t, repeat(two, 5));
    assert!(matches!(
        tick.state,
        AttemptState::Running {
            hint: Some(SelfieHint::MultipleFaces),
            held: 0,
            ..
        }
    ));
    let (tick, _) = feed(&mut a, &mut t, repeat(face(0.42, 0.35), 3));
    assert!(matches!(tick.state, AttemptState::Running { step: 1, .. }));
}

#[test]
fn frames_stay_within_the_budget() {
    // A slow three-step attempt with a pause and noise: still at most a baseline and a hold per
    // step are named, and only kept frames are ever named.
    let seq = vec![Challenge::Closer, Challenge::TurnLeft, Challenge::Back];
    let mut a = Attempt::new(1, seq, 0);
    let mut t = 0;
    let mut named = Vec::new();
    let mut kept = Vec::new();
    let mut run = |a: &mut Attempt, t: &mut u64, frames: Vec<FaceFrame>| {
        for f in frames {
            let tick = a.push(&f, *t);
            if tick.keep {
                kept.push(tick.seq);
            }
            if let Some(e) = tick.upload {
                // Named frames are among the last KEEP_FRAMES kept ones.
                let recent = &kept[kept.len().saturating_sub(KEEP_FRAMES)..];
                assert!(
                    e.seqs.iter().all(|q| recent.contains(q)),
                    "{e:?} {recent:?}"
                );
                named.push(e);
            }
            *t += DT;
        }
    };
    run(&mut a, &mut t, repeat(frontal(), 30));
    a.pause(t);
    t += 5_000;
    a.resume(t);
    run(&mut a, &mut t, repeat(frontal(), 30));
    run(
        &mut a,
        &mut t,
        vec![face(0.52, 0.0), frontal(), face(0.52, 0.0)],
    );
    run(&mut a, &mut t, repeat(face(0.52, 0.0), 3));
    run(&mut a, &mut t, repeat(face(0.52, 0.0), 60));
    run(&mut a, &mut t, repeat(face(0.52, 0.35), 3));
    run(&mut a, &mut t, repeat(face(0.42, 0.35), 40));
    assert!(matches!(
        a.push(&face(0.42, 0.0), t).state,
        AttemptState::Running { step: 2, .. }
    ));
    t += DT;
    run(&mut a, &mut t, repeat(face(0.33, 0.0), 3));
    assert_eq!(a.result(), Some(AttemptState::Passed));
    // The baseline before the pause was named, then discarded by the resume.
    let per_step = |s| {
        named
            .iter()
            .filter(|e| e.step == s)
            .map(|e| e.seqs.len())
            .sum::<usize>()
    };
    assert_eq!(per_step(0), 2 + FRAMES_PER_STEP);
    assert_eq!(per_step(1), FRAMES_PER_STEP);
    assert_eq!(per_step(2), FRAMES_PER_STEP);
    assert_eq!(a.frames_pending(), 3 * FRAMES_PER_STEP);
    for e in &named {
        for q in &e.seqs {
            a.add_frame(e.step, *q, format!("x{q}"));
        }
    }
    let r = a.record(TrackInfo::default()).unwrap();
    assert!(r.steps.iter().all(|s| s.frames.len() == FRAMES_PER_STEP));
    assert!(r.frame_ids().count() <= FRAMES_PER_ATTEMPT);
    assert_eq!(FRAMES_PER_ATTEMPT * usize::from(MAX_ATTEMPTS), 60);
}

#[test]
fn three_failed_attempts_end_in_se_50021() {
    let r = outcome_after(1, false);
    assert_eq!((r.outcome, r.attempts_left), (AttemptsOutcome::Retry, 2));
    assert_eq!(r.error_code, None);
    assert_eq!(outcome_after(2, false).attempts_left, 1);
    let r = outcome_after(MAX_ATTEMPTS, false);
    assert_eq!((r.outcome, r.attempts_left), (AttemptsOutcome::Failed, 0));
    assert_eq!(r.error_code.as_deref(), Some("SE-50021"));
    assert_eq!(
        ErrorCode::from_id("SE-50021"),
        Some(ErrorCode::LivenessFailed)
    );
    assert_eq!(outcome_after(2, true).outcome, AttemptsOutcome::Passed);
    // Three attempts run to a timeout each.
    let mut failed = 0;
    for n in 1..=MAX_ATTEMPTS {
        let mut a = Attempt::new(n, vec![Challenge::Closer, Challenge::TurnLeft], 0);
        a.push(&frontal(), STEP_TIME_MS);
        let rec = a.record(TrackInfo::default()).unwrap();
        failed += u8::from(!rec.passed);
    }
    assert_eq!(
        serde_json::to_value(outcome_after(failed, false)).unwrap(),
        serde_json::json!({"attempts_left": 0, "outcome": "failed", "error_code": "SE-50021"})
    );
}

#[test]
fn drawn_sequences_follow_the_rules() {
    let mut lengths = std::collections::BTreeSet::new();
    let mut seen = std::collections::HashSet::new();
    for a in 0..=255u8 {
        for b in [0u8, 1, 2, 3, 7, 100, 255] {
            for c in [0u8, 1, 2, 5, 200] {
                let seq = draw(&[a, b, c, a ^ b]);
                lengths.insert(seq.len());
                assert!((MIN_STEPS..=3).contains(&seq.len()), "{seq:?}");
                assert!(
                    seq.iter().filter(|c| c.is_movement()).count() >= 2,
                    "{seq:?}"
                );
                for w in seq.windows(2) {
                    assert_ne!(w[0], w[1], "{seq:?}");
                    assert_ne!(w[0].opposite(), Some(w[1]), "{seq:?}");
                    if w[1] == Challenge::Centre {
                        assert!(w[0].is_turn(), "{seq:?}");
                    }
                }
                assert_ne!(seq[0], Challenge::Centre);
                validate_sequence(&seq).unwrap();
                seen.extend(seq);
            }
        }
    }
    assert_eq!(lengths.into_iter().collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(seen.len(), Challenge::ALL.len(), "every challenge is drawn");
    assert_eq!(draw(&[]), draw(&[]));
    assert_eq!(draw(&[]).len(), 2);
}

#[test]
fn configured_sequences_are_checked() {
    use Challenge::*;
    assert!(validate_sequence(&[Closer, TurnLeft]).is_ok());
    assert!(
        validate_sequence(&[Closer, Back]).is_ok(),
        "allowed for tests"
    );
    assert!(validate_sequence(&[Closer]).is_err());
    assert!(validate_sequence(&[Closer, Closer]).is_err());
    assert!(validate_sequence(&[Centre, TurnLeft, Centre, Back, Closer]).is_err());
    assert!(validate_sequence(&[]).is_err());
}

#[test]
fn names_and_keys() {
    for c in Challenge::ALL {
        assert_eq!(Challenge::parse(c.as_str()), Some(c));
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            format!("\"{}\"", c.as_str())
        );
    }
    assert_eq!(
        Challenge::TurnLeft.i18n_key(),
        "liveness-challenge-turn-left"
    );
    assert_eq!(Challenge::parse("left"), None);
    assert!(serde_json::from_str::<Challenge>("\"left\"").is_err());
    assert!(serde_json::from_str::<Challenge>("{\"closer\":null}").is_err());
    assert!(
        serde_json::from_str::<Vec<Challenge>>("[\"closer\",\"turn_\\u006cEFT\"]").is_err(),
        "names are exact"
    );
    assert_eq!(
        serde_json::from_str::<Vec<Challenge>>("[\"closer\",\"turn_\\u006ceft\"]").unwrap(),
        vec![Challenge::Closer, Challenge::TurnLeft],
        "escaped strings are read"
    );
}

#[test]
fn records_are_checked_for_consistency() {
    let good = LivenessAttempt {
        attempt: 1,
        challenges: vec![Challenge::Closer, Challenge::TurnLeft],
        steps: vec![
            StepRecord {
                challenge: Challenge::Closer,
                started_ms: 0,
                ended_ms: 2_000,
                outcome: StepOutcome::Passed,
                extended: 0,
                frames: vec!["a".into()],
            },
            StepRecord {
                challenge: Challenge::TurnLeft,
                started_ms: 2_000,
                ended_ms: 17_000,
                outcome: StepOutcome::TimedOut,
                extended: 0,
                frames: vec![],
            },
        ],
        passed: false,
        hidden_during: false,
        track: TrackInfo::default(),
        attempt_id: String::new(),
    };
    good.check_consistent().unwrap();
    assert_eq!(good.frame_ids().collect::<Vec<_>>(), vec!["a"]);
    let bad = |f: &dyn Fn(&mut LivenessAttempt)| {
        let mut a = good.clone();
        f(&mut a);
        a.check_consistent().is_err()
    };
    assert!(bad(&|a| a.passed = true));
    assert!(bad(&|a| a.attempt = 0));
    assert!(bad(&|a| a.attempt = 4));
    assert!(bad(&|a| a.steps[0].challenge = Challenge::Back));
    assert!(bad(&|a| a.steps[0].outcome = StepOutcome::TimedOut));
    assert!(bad(&|a| a.steps[1].ended_ms = 1));
    assert!(bad(&|a| a.steps.clear()));
    assert!(bad(&|a| a.steps[0].extended = 11));
    assert!(bad(
        &|a| a.steps[0].frames = vec!["x".into(); FRAMES_PER_ATTEMPT + 1]
    ));
    // A virtual camera's label is flagged by the record even if the UI did not.
    let mut at = Attempt::new(1, vec![Challenge::Centre, Challenge::Closer], 0);
    at.push(&frontal(), STEP_TIME_MS);
    let r = at
        .record(TrackInfo {
            label: "OBS Virtual Camera".into(),
            ..TrackInfo::default()
        })
        .unwrap();
    assert!(r.track.virtual_label);
}
