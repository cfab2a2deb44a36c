//! The liveness attempt record (`POST /api/session/liveness`'s body): deserialised from JSON,
//! `check_consistent`, `validate_sequence`, `Challenge::parse`, and the server's verdict
//! (`liveness::verify::verify`) on frames whose detector output the fuzzer chooses. (The
//! server's own `check` is crate-private; it calls `check_consistent` and bounds the track.)
//!
//! Input: the record's JSON, a NUL byte, then the moment the record arrived (u32, ms after the
//! opening) and each listed frame's facts in turn (see `fact`).
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use liveform_core::face::{Face, FaceFrame, Point};
use liveform_core::liveness::verify::{verify, FrameFact};
use liveform_core::liveness::{
    draw, validate_sequence, Challenge, LivenessAttempt, FRAMES_PER_ATTEMPT, MAX_ATTEMPTS,
    MAX_EXTENSIONS,
};

const OPENED_MS: i64 = 1_000_000;

fuzz_target!(|data: &[u8]| {
    let (json, facts) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    // Challenge names, and the server's draw from random bytes.
    if let Ok(s) = std::str::from_utf8(json) {
        if let Some(c) = Challenge::parse(s) {
            assert_eq!(c.as_str(), s);
        }
    }
    let drawn = draw(facts);
    assert!(validate_sequence(&drawn).is_ok(), "{drawn:?}");

    let Ok(attempt) = serde_json::from_slice::<LivenessAttempt>(json) else {
        return;
    };
    let _ = validate_sequence(&attempt.challenges);
    let consistent = attempt.check_consistent();
    if consistent.is_ok() {
        assert!((1..=MAX_ATTEMPTS).contains(&attempt.attempt));
        assert!(attempt.steps.len() <= attempt.challenges.len());
        assert!(attempt.frame_ids().count() <= FRAMES_PER_ATTEMPT);
        for (s, c) in attempt.steps.iter().zip(&attempt.challenges) {
            assert_eq!(s.challenge, *c);
            assert!(s.started_ms <= s.ended_ms && s.extended <= MAX_EXTENSIONS);
        }
        // What the server stores (it re-serialises a checked record) reads back the same.
        if attempt.track.frame_rate.is_finite() {
            let stored = serde_json::to_string(&attempt).expect("serialise");
            let back: LivenessAttempt = serde_json::from_str(&stored).expect("read back");
            assert_eq!(back, attempt);
        }
    }

    // The server's verdict, with the fuzzer's detector output for each listed frame.
    let mut r = Reader(facts);
    let Some(recorded_ms) = r.u32() else {
        return;
    };
    let mut frames: HashMap<&str, (FaceFrame, u64, i64)> = HashMap::new();
    for id in attempt.frame_ids() {
        if frames.contains_key(id) {
            continue;
        }
        match fact(&mut r) {
            Some(Some(f)) => {
                frames.insert(id, f);
            }
            Some(None) => {}
            None => break,
        }
    }
    let check = verify(
        &attempt,
        |id| {
            frames
                .get_key_value(id)
                .map(|(id, (faces, signature, received_ms))| FrameFact {
                    capture_id: id,
                    faces,
                    signature: *signature,
                    received_ms: *received_ms,
                })
        },
        OPENED_MS,
        OPENED_MS + i64::from(recorded_ms),
    );
    assert_eq!(check.steps.len(), attempt.steps.len());
    assert_eq!(check.device_passed, attempt.passed);
    if check.passed {
        assert!(attempt.passed && check.reasons.is_empty());
        assert_eq!(check.steps.len(), attempt.challenges.len());
        assert!(check.steps.iter().all(|s| s.passed && s.reasons.is_empty()));
    }
    for s in &check.steps {
        assert_eq!(s.passed, s.reasons.is_empty());
    }
    let _ = serde_json::to_string(&check).expect("serialise the check");
});

/// Little-endian fields from the input's tail.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|[b]| b)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take().map(u16::from_le_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
    /// A frame-normalised coordinate, in -0.5..1.5, or not finite for the top three values (a
    /// detector's output is not trusted to be finite).
    fn coord(&mut self) -> Option<f32> {
        Some(match self.u16()? {
            0xFFFF => f32::NAN,
            0xFFFE => f32::INFINITY,
            0xFFFD => f32::NEG_INFINITY,
            v => f32::from(v) / 32768.0 - 0.5,
        })
    }
}

/// One frame's facts (`Some(None)`: the server has no such frame; `None`: the input ended):
/// a byte (bit 0: present; bits 1-2: the number of faces), width and height (u16), per face its
/// box, score and six keypoints (17 coordinates), brightness and sharpness, the picture signature
/// (u64) and the arrival (u32, ms after the opening, less 10 s).
fn fact(r: &mut Reader<'_>) -> Option<Option<(FaceFrame, u64, i64)>> {
    let head = r.u8()?;
    if head & 1 == 0 {
        return Some(None);
    }
    let width = u32::from(r.u16()?);
    let height = u32::from(r.u16()?);
    let mut faces = Vec::new();
    for _ in 0..(head >> 1) & 3 {
        let (x, y, w, h, score) = (r.coord()?, r.coord()?, r.coord()?, r.coord()?, r.coord()?);
        let mut keypoints = [Point::default(); 6];
        for k in &mut keypoints {
            *k = Point {
                x: r.coord()?,
                y: r.coord()?,
            };
        }
        faces.push(Face {
            x,
            y,
            w,
            h,
            score,
            keypoints,
        });
    }
    let frame = FaceFrame {
        width,
        height,
        faces,
        brightness: r.coord()? * 255.0,
        sharpness: r.coord()?,
    };
    let signature = r.u64()?;
    let received_ms = OPENED_MS + i64::from(r.u32()?) - 10_000;
    Some(Some((frame, signature, received_ms)))
}
