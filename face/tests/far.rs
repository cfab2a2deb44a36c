//! Far faces (issue 19 item 5): the reference portrait shrunk so that its face is 10–15 % of a
//! 640×480 frame's height, pasted at the centre or off-centre of a plain or textured backdrop.
//! The full-frame pass alone does not see such a face (BlazeFace short-range at 128 px); the
//! zoomed second pass of [`Detector::detect`] does, and the face then feeds the selfie rules as
//! a small face: the live gate says "move closer", the server's still check `face_too_small`.
use liveform_core::face::FaceFrame;
use liveform_core::selfie::{assess, check_still, SelfieHint};
use liveform_face::{Detector, ZOOM_CONFIRM_SCORE, ZOOM_MAX_FACE_HEIGHT};

mod common;
use common::decode;
mod scene;
use scene::{backdrop, downscale, far_scene, Backdrop};

/// A test frame: its name, RGBA pixels (640×480), the face's height fraction, where its centre is
/// (pixels).
type Scene = (String, Vec<u8>, f32, (f32, f32));

/// Faces of 10, 12 and 15 % of the height; centred and towards each corner; both backdrops.
fn scenes() -> Vec<Scene> {
    let mut out = Vec::new();
    for face in [0.10, 0.12, 0.15] {
        for (pos, left, top) in [
            ("centre", 0.5, 0.5),
            ("up-left", 0.1, 0.1),
            ("down-right", 0.9, 0.9),
            // Here the full pass alone once reported a weak 61 % box on the body ("move back").
            ("up-right", 0.9, 0.1),
            ("down-left", 0.1, 0.9),
        ] {
            for kind in [Backdrop::Plain, Backdrop::Textured] {
                let (frame, centre) = far_scene(face, left, top, kind);
                out.push((format!("{face} {pos} {kind:?}"), frame, face, centre));
            }
        }
    }
    out
}

/// One face of about the expected size where the face is; the gate says "move closer", the
/// server's still check `face_too_small` (not `no_face`).
fn assert_far_face(name: &str, f: &FaceFrame, face: f32, (cx, cy): (f32, f32), scale: f32) {
    assert_eq!(f.faces.len(), 1, "{name}: {f:?}");
    let found = f.faces[0];
    assert!(
        (found.h / face - 1.0).abs() < 0.25,
        "{name}: box height {} for a face of {face}",
        found.h
    );
    let c = found.centre();
    let (dx, dy) = (
        c.x * f.width as f32 - cx * scale,
        c.y * f.height as f32 - cy * scale,
    );
    assert!(
        dx.hypot(dy) < 0.05 * f.height as f32,
        "{name}: box centre {:?} vs ({cx}, {cy})·{scale}",
        c
    );
    assert!(found.score > 0.8, "{name}: {found:?}");
    assert_eq!(
        assess(f).hint,
        Some(SelfieHint::MoveCloser),
        "{name}: {f:?}"
    );
    let still = check_still(f);
    assert!(
        still.issues.iter().any(|i| i == "face_too_small")
            && !still.issues.iter().any(|i| i == "no_face"),
        "{name}: {still:?}"
    );
    assert!(!still.ok);
}

#[test]
fn a_far_face_is_found_by_the_zoomed_pass_and_asked_to_move_closer() {
    let mut d = Detector::new().expect("model loads");
    for (name, frame, face, centre) in scenes() {
        let f = d.detect(&frame, 640, 480).expect("runs");
        assert_far_face(&name, &f, face, centre, 1.0);
    }
}

/// The browser's worker gets frames of 320 px on the long edge (`capture/src/face.rs`): the
/// same scenes at 320×240.
#[test]
fn a_far_face_is_found_in_the_workers_320x240_frames() {
    let mut d = Detector::new().expect("model loads");
    for (name, frame, face, centre) in scenes() {
        let small = downscale(&frame, 640, 480, 320, 240);
        let f = d.detect(&small, 320, 240).expect("runs");
        assert_far_face(&name, &f, face, centre, 0.5);
        // A 320×240 still is below the server's 480 px minimum: that is reported as well.
        assert!(check_still(&f)
            .issues
            .iter()
            .any(|i| i == "image_too_small"));
    }
}

/// Without the second pass (the detector before issue 19), faces of 10 and 12 % are mostly not
/// found at all ("no face", which told a person standing too far nothing useful); where the full
/// pass does catch one, it is at the edge of its range: a weak score (below the zoom's
/// confirmation threshold, so [`Detector::detect`] measures it again) and a box far too large.
#[test]
fn the_full_frame_pass_alone_misses_faces_of_12_percent() {
    let mut d = Detector::new().expect("model loads");
    let (mut scenes_seen, mut missed) = (0, 0);
    for (name, frame, face, _) in scenes() {
        if face > 0.12 {
            continue;
        }
        scenes_seen += 1;
        let f = d.detect_full_frame_only(&frame, 640, 480).expect("runs");
        match f.faces.first() {
            None => {
                missed += 1;
                assert_eq!(assess(&f).hint, Some(SelfieHint::NoFace));
                assert_eq!(check_still(&f).issues[0], "no_face");
            }
            Some(weak) => {
                assert!(weak.score < ZOOM_CONFIRM_SCORE, "{name}: {weak:?}");
                assert!(weak.h > 1.3 * face, "{name}: {weak:?}");
            }
        }
    }
    assert!(
        missed * 4 >= scenes_seen * 3,
        "{missed} of {scenes_seen} missed"
    );
}

/// Backdrops without a face stay without one: the zoomed pass finds nothing to magnify.
#[test]
fn no_face_is_invented_on_empty_backdrops() {
    let mut d = Detector::new().expect("model loads");
    for kind in [Backdrop::Plain, Backdrop::Textured] {
        let frame = backdrop(kind, 640, 480);
        let f = d.detect(&frame, 640, 480).expect("runs");
        assert!(f.faces.is_empty(), "{kind:?}: {f:?}");
    }
    // The server tests' plain surface (server/tests/common: a light gradient).
    let mut grad = Vec::with_capacity(640 * 480 * 4);
    for y in 0..480u32 {
        for x in 0..640u32 {
            let v = (150 + x * 20 / 640 + y * 10 / 480) as u8;
            grad.extend_from_slice(&[v, v - 4, v - 8, 255]);
        }
    }
    assert!(d.detect(&grad, 640, 480).expect("runs").faces.is_empty());
    // Gravel (core's test media): texture at every scale.
    let (rgba, w, h) = decode(include_bytes!("../../core/tests/media/gravel_640x480.png"));
    let f = d.detect(&rgba, w, h).expect("runs");
    assert!(f.faces.is_empty(), "gravel: {f:?}");
}

/// The group photo (29 faces of ≈ 20 px, ≈ 5 % of its height) is unchanged: nothing found,
/// with or without the second pass (its best anchor scores ≈ 0.08, below the zoom's hint
/// threshold, and a 0.5 crop would still leave those faces at ≈ 12 input pixels, too small).
#[test]
fn the_group_photo_is_unchanged_by_the_zoomed_pass() {
    let (rgba, w, h) = decode(include_bytes!("media/group_640.png"));
    let mut d = Detector::new().expect("model loads");
    let zoomed = d.detect(&rgba, w, h).expect("runs");
    let full = d.detect_full_frame_only(&rgba, w, h).expect("runs");
    assert_eq!(zoomed, full);
    assert!(zoomed.faces.iter().all(|f| f.h <= ZOOM_MAX_FACE_HEIGHT));
}

/// The faces above the zoomed pass's bound are the full pass's: the normal selfie comes out of
/// the full pass alone, unchanged.
#[test]
fn a_selfie_sized_face_is_the_full_passs() {
    let (rgba, w, h) = decode(include_bytes!("media/selfie_640x480.png"));
    let mut d = Detector::new().expect("model loads");
    assert_eq!(
        d.detect(&rgba, w, h).expect("runs"),
        d.detect_full_frame_only(&rgba, w, h).expect("runs")
    );
}

/// A selfie-sized face the full pass finds only weakly (very dark, or coarse), so that the zoomed
/// pass runs, keeps its face: the crop finds nothing confident to replace it with.
#[test]
fn a_weak_selfie_sized_face_is_kept() {
    let (rgba, w, h) = decode(include_bytes!("media/selfie_640x480.png"));
    let dark: Vec<u8> = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0] / 12, p[1] / 12, p[2] / 12, 255])
        .collect();
    // 16×16 blocks: the portrait at 40×30, enlarged again.
    let coarse_small = downscale(&rgba, 640, 480, 40, 30);
    let coarse: Vec<u8> = (0..640 * 480)
        .flat_map(|k| {
            let (x, y) = (k % 640 / 16, k / 640 / 16);
            let i = (y * 40 + x) * 4;
            [
                coarse_small[i],
                coarse_small[i + 1],
                coarse_small[i + 2],
                255,
            ]
        })
        .collect();
    let mut d = Detector::new().expect("model loads");
    for (name, frame) in [("dark", dark), ("coarse", coarse)] {
        let full = d.detect_full_frame_only(&frame, w, h).expect("runs");
        let best = full.faces.first().expect("the full pass finds it");
        assert!(best.score < ZOOM_CONFIRM_SCORE, "{name}: {best:?}");
        assert!(best.h > 0.2, "{name}: {best:?}");
        assert_eq!(d.detect(&frame, w, h).expect("runs"), full, "{name}");
    }
}
