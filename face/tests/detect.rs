//! The detector on the reference images (`tests/media/`, see its NOTICE.md).
use liveform_core::face::{Face, FaceFrame, Keypoint};
use liveform_face::Detector;

mod common;
use common::decode;

fn detect(png_bytes: &[u8]) -> FaceFrame {
    let (rgba, w, h) = decode(png_bytes);
    Detector::new()
        .expect("model loads")
        .detect(&rgba, w, h)
        .expect("detection runs")
}

/// The portrait's face, hand-measured on `selfie_640x480.png` (pixels): forehead at y ≈ 45,
/// chin at y ≈ 185, cheeks at x ≈ 218 and 340; eyes at (248, 80) and (312, 80), nose tip
/// (282, 108), mouth (280, 132).
fn assert_portrait_face(f: &Face) {
    let (cx, cy) = (f.centre().x * 640.0, f.centre().y * 480.0);
    assert!((250.0..=310.0).contains(&cx), "box centre x {cx}: {f:?}");
    assert!((80.0..=140.0).contains(&cy), "box centre y {cy}: {f:?}");
    let (bw, bh) = (f.w * 640.0, f.h * 480.0);
    assert!((90.0..=170.0).contains(&bw), "box width {bw}: {f:?}");
    assert!((90.0..=180.0).contains(&bh), "box height {bh}: {f:?}");
    // BlazeFace's box is tight (brows to chin): this portrait's face measures 24.9 % of the
    // frame's height, not more.
    assert!(f.h >= 0.2, "a selfie-sized face: {f:?}");
    assert!(f.score > 0.8, "confident: {f:?}");
    let k = |p| f.keypoint(p);
    let (re, le, nose, mouth) = (
        k(Keypoint::RightEye),
        k(Keypoint::LeftEye),
        k(Keypoint::Nose),
        k(Keypoint::Mouth),
    );
    // Not mirrored: the person's right eye is on the image's left.
    assert!(re.x < le.x, "right eye left of left eye: {f:?}");
    assert!(re.y < nose.y && le.y < nose.y, "eyes above the nose: {f:?}");
    assert!(nose.y < mouth.y, "nose above the mouth: {f:?}");
    assert!(
        re.x < nose.x && nose.x < le.x,
        "nose between the eyes: {f:?}"
    );
    for (p, (ex, ey)) in [
        (re, (248.0, 80.0)),
        (le, (312.0, 80.0)),
        (nose, (282.0, 108.0)),
        (mouth, (280.0, 132.0)),
    ] {
        let (dx, dy) = (p.x * 640.0 - ex, p.y * 480.0 - ey);
        assert!(
            dx.hypot(dy) < 15.0,
            "keypoint {p:?} is {:.1} px from ({ex}, {ey}): {f:?}",
            dx.hypot(dy)
        );
    }
    // Ears outside the eyes.
    assert!(k(Keypoint::RightEar).x < re.x && k(Keypoint::LeftEar).x > le.x);
    // The box holds the eyes, nose and mouth.
    for p in [re, le, nose, mouth] {
        assert!(p.x > f.x && p.x < f.x + f.w && p.y > f.y && p.y < f.y + f.h);
    }
}

#[test]
fn one_face_in_the_640x480_selfie() {
    let frame = detect(include_bytes!("media/selfie_640x480.png"));
    assert_eq!((frame.width, frame.height), (640, 480));
    assert_eq!(frame.faces.len(), 1, "{frame:?}");
    assert_portrait_face(&frame.faces[0]);
    assert!(
        (60.0..220.0).contains(&frame.brightness),
        "face brightness {}",
        frame.brightness
    );
    assert!(
        frame.sharpness > 0.2 && frame.sharpness <= 1.0,
        "sharpness {}",
        frame.sharpness
    );
}

#[test]
fn one_face_in_the_320x240_selfie() {
    let frame = detect(include_bytes!("media/selfie_320x240.png"));
    assert_eq!((frame.width, frame.height), (320, 240));
    assert_eq!(frame.faces.len(), 1, "{frame:?}");
    assert_portrait_face(&frame.faces[0]);
}

#[test]
fn the_group_photo_has_no_selfie_sized_face() {
    let frame = detect(include_bytes!("media/group_640.png"));
    assert!(
        frame.faces.iter().all(|f| f.h < 0.25),
        "only small faces: {:?}",
        frame.faces
    );
    // Many people: BlazeFace short-range is made for faces within ~2 m, so it finds some of
    // the 29 small faces, not all; it must not report nothing but noise either.
    eprintln!(
        "group_640: {} faces, heights {:?}",
        frame.faces.len(),
        frame.faces.iter().map(|f| f.h).collect::<Vec<_>>()
    );
}

/// The ID card's printed photo is a real face, 13 % of the frame's height. The full pass alone
/// does not see it; since the zoomed second pass (issue 19) `detect` finds it, as the small face
/// it is: the gate says "move closer", the still check `face_too_small`, never a selfie.
#[test]
fn the_card_photo_is_not_a_selfie() {
    let frame = detect(include_bytes!("media/card_640x480.png"));
    eprintln!("card_640x480: {:?}", frame.faces);
    assert!(
        frame.faces.iter().all(|f| f.h < 0.25),
        "the card's printed photo is small: {:?}",
        frame.faces
    );
    let check = liveform_core::selfie::check_still(&frame);
    assert!(!check.ok, "{check:?}");
    assert!(
        !liveform_core::selfie::assess(&frame).ready,
        "{:?}",
        frame.faces
    );
}

/// Crops `(x, y, w, h)` of an RGBA image of width `iw` and scales it to `ow × oh` (nearest).
fn crop_scale(
    rgba: &[u8],
    iw: u32,
    (x, y, w, h): (u32, u32, u32, u32),
    ow: u32,
    oh: u32,
) -> Vec<u8> {
    let mut out = Vec::with_capacity((ow * oh * 4) as usize);
    for j in 0..oh {
        let sy = y + j * h / oh;
        for i in 0..ow {
            let sx = x + i * w / ow;
            let s = ((sy * iw + sx) * 4) as usize;
            out.extend_from_slice(&rgba[s..s + 4]);
        }
    }
    out
}

#[test]
fn a_shifted_crop_moves_the_box_and_a_zoomed_crop_grows_it() {
    let (rgba, w, h) = decode(include_bytes!("media/selfie_640x480.png"));
    let mut d = Detector::new().expect("model loads");
    let base = d.detect(&rgba, w, h).expect("runs").faces[0];

    // 480×360 windows at two horizontal offsets, same scale: the face moves by the offset.
    let left = crop_scale(&rgba, w, (40, 0, 480, 360), 480, 360);
    let right = crop_scale(&rgba, w, (140, 0, 480, 360), 480, 360);
    let fl = d.detect(&left, 480, 360).expect("runs").faces[0];
    let fr = d.detect(&right, 480, 360).expect("runs").faces[0];
    let shift = (fl.centre().x - fr.centre().x) * 480.0;
    assert!(
        (shift - 100.0).abs() < 10.0,
        "a 100 px shift of the window moves the face by {shift} px"
    );
    assert!((fl.centre().y - fr.centre().y).abs() * 360.0 < 6.0);
    // Same size in pixels as in the full frame.
    assert!(((fl.w * 480.0) / (base.w * 640.0) - 1.0).abs() < 0.12);

    // A 2× zoom around the face (320×240 window scaled to 640×480): the box doubles and stays
    // on the face.
    let zoom = crop_scale(&rgba, w, (120, 0, 320, 240), 640, 480);
    let fz = d.detect(&zoom, 640, 480).expect("runs");
    assert_eq!(fz.faces.len(), 1, "{fz:?}");
    let fz = fz.faces[0];
    let ratio = fz.w / base.w;
    assert!((1.8..=2.2).contains(&ratio), "zoomed box {ratio}× wider");
    let expect_cx = (base.centre().x * 640.0 - 120.0) * 2.0 / 640.0;
    let expect_cy = base.centre().y * 2.0;
    assert!((fz.centre().x - expect_cx).abs() < 0.04, "{fz:?}");
    assert!((fz.centre().y - expect_cy).abs() < 0.05, "{fz:?}");
}

#[test]
fn the_detector_is_reused_across_frame_sizes() {
    let mut d = Detector::new().expect("model loads");
    let (a, aw, ah) = decode(include_bytes!("media/selfie_640x480.png"));
    let (b, bw, bh) = decode(include_bytes!("media/selfie_320x240.png"));
    let first = d.detect(&a, aw, ah).expect("runs");
    let _ = d.detect(&b, bw, bh).expect("runs");
    assert_eq!(
        d.detect(&a, aw, ah).expect("runs"),
        first,
        "same frame, same answer"
    );
}
