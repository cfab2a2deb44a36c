//! `core::vision` on the reference images in `tests/media/` (see `tests/media/NOTICE.md`).
//! Run with `--nocapture` to see the measured metrics behind the thresholds' margins.

use liveform_core::vision::{
    rgba_to_luma, Analyser, DocumentKind, FrameReport, Issue, LumaFrame, ANALYSIS_LONG_EDGE,
    DARK_MAX_MEAN, MIN_COVERAGE, MIN_GLARE_FRACTION, MIN_SHARPNESS,
};

const MEDIA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/media");

fn load_rgba(name: &str) -> (Vec<u8>, usize, usize) {
    let file = std::fs::File::open(format!("{MEDIA}/{name}")).expect("test image");
    let mut reader = png::Decoder::new(file).read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let (w, h) = (info.width as usize, info.height as usize);
    let ch = info.color_type.samples();
    assert!(ch >= 3, "{name}: expected RGB(A)");
    let mut rgba = Vec::with_capacity(w * h * 4);
    for px in buf[..w * h * ch].chunks(ch) {
        rgba.extend_from_slice(&[px[0], px[1], px[2], 255]);
    }
    (rgba, w, h)
}

fn report(name: &str, kind: DocumentKind) -> FrameReport {
    let (rgba, w, h) = load_rgba(name);
    let r = Analyser::new()
        .analyse_rgba(&rgba, w, h, kind)
        .expect("valid frame");
    let m = r.metrics;
    println!(
        "{name:30} {:?} primary={:?} brightness={:.1} contrast={:.1} sharpness={:.3} glare={:.4} \
         coverage={:.3} aspect={:.2} rotation={:.1}° side_ratio={:.2} support={:.2}",
        r.issues.iter().map(Issue::as_str).collect::<Vec<_>>(),
        r.primary.map(Issue::as_str),
        m.brightness,
        m.contrast,
        m.sharpness,
        m.glare,
        m.coverage,
        m.aspect,
        m.rotation_deg,
        m.side_ratio,
        m.edge_support
    );
    r
}

fn assert_passes(name: &str, kind: DocumentKind) -> FrameReport {
    let r = report(name, kind);
    assert!(r.ok, "{name}: {:?}", r.issues.iter().collect::<Vec<_>>());
    assert!(r.quad.is_some());
    assert!(
        r.metrics.sharpness >= MIN_SHARPNESS + 0.1,
        "{name}: sharpness margin"
    );
    assert!(
        r.metrics.coverage >= MIN_COVERAGE * 1.5,
        "{name}: coverage margin"
    );
    r
}

#[test]
fn sharp_card_on_gravel_passes() {
    let r = assert_passes("card_640x480.png", DocumentKind::Id1);
    // The outline is the card's border: top-left corner near (112, 95) of 640×480.
    let tl = r.quad.expect("quad").corners[0];
    assert!((tl.x * 640.0 - 112.0).abs() < 8.0 && (tl.y * 480.0 - 95.0).abs() < 8.0);
}

#[test]
fn sharp_card_on_desk_passes() {
    assert_passes("card_desk_640x480.png", DocumentKind::Id1);
}

#[test]
fn card_on_white_passes_and_is_not_glare() {
    let r = assert_passes("card_white_640x480.png", DocumentKind::Id1);
    assert!(!r.issues.contains(Issue::Glare));
    assert!(r.metrics.glare < MIN_GLARE_FRACTION / 4.0);
}

#[test]
fn full_hd_card_passes_after_downscale() {
    let (rgba, w, h) = load_rgba("card_1920x1080.png");
    let mut luma = Vec::new();
    let (lw, lh) = rgba_to_luma(&rgba, w, h, ANALYSIS_LONG_EDGE, &mut luma).expect("frame");
    assert_eq!((lw, lh), (320, 180));
    let frame = LumaFrame::new(lw, lh, &luma).expect("frame");
    let r = Analyser::new().analyse(frame, DocumentKind::Id1);
    assert!(
        r.ok,
        "{:?} {:?}",
        r.issues.iter().collect::<Vec<_>>(),
        r.metrics
    );
    // Same verdict through the RGBA entry point.
    assert!(report("card_1920x1080.png", DocumentKind::Id1).ok);
}

#[test]
fn passport_page_passes() {
    // passport_scene_640x480.png: passport_td3_flat.png pasted on a carpet-like background
    // (command in tests/media/NOTICE.md).
    let r = assert_passes("passport_scene_640x480.png", DocumentKind::Td3);
    assert!((r.metrics.aspect - 1.42).abs() < 0.1);
}

#[test]
fn blurred_card_is_blur() {
    let r = report("card_640x480_blur.png", DocumentKind::Id1);
    assert_eq!(r.primary, Some(Issue::Blur));
    assert!(r.metrics.sharpness <= MIN_SHARPNESS - 0.1, "blur margin");
}

#[test]
fn glare_card_is_glare() {
    let r = report("card_640x480_glare.png", DocumentKind::Id1);
    assert_eq!(r.primary, Some(Issue::Glare));
    assert!(r.metrics.glare >= MIN_GLARE_FRACTION * 4.0, "glare margin");
}

#[test]
fn dark_card_is_dark() {
    let r = report("card_640x480_dark.png", DocumentKind::Id1);
    assert_eq!(r.primary, Some(Issue::Dark));
    assert!(r.metrics.brightness <= DARK_MAX_MEAN - 15.0, "dark margin");
}

#[test]
fn far_card_is_too_small() {
    let r = report("card_desk_small_640x480.png", DocumentKind::Id1);
    assert_eq!(r.primary, Some(Issue::TooSmall));
    assert!(r.metrics.coverage <= MIN_COVERAGE / 2.0);
}

#[test]
fn face_is_no_document() {
    for kind in [DocumentKind::Id1, DocumentKind::Td3] {
        let r = report("selfie_640x480.png", kind);
        assert_eq!(r.primary, Some(Issue::NoDocument));
        assert!(r.quad.is_none());
    }
}

/// Deterministic noise (no rand dependency).
fn lcg(seed: &mut u32) -> u8 {
    *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
    (*seed >> 24) as u8
}

#[test]
fn plain_backgrounds_are_no_document() {
    let (w, h) = (640, 480);
    let mut seed = 7;
    let flat: Vec<u8> = (0..w * h).map(|_| 120 + lcg(&mut seed) / 16).collect();
    let gradient: Vec<u8> = (0..w * h)
        .map(|i| ((i % w) * 200 / w) as u8 + lcg(&mut seed) / 32)
        .collect();
    let mut analyser = Analyser::new();
    for (name, data) in [("flat", &flat), ("gradient", &gradient)] {
        let r = analyser.analyse(
            LumaFrame::new(w, h, data).expect("frame"),
            DocumentKind::Id1,
        );
        assert_eq!(r.primary, Some(Issue::NoDocument), "{name}");
    }
    let black = vec![8u8; w * h];
    let r = analyser.analyse(
        LumaFrame::new(w, h, &black).expect("frame"),
        DocumentKind::Id1,
    );
    assert_eq!(r.primary, Some(Issue::Dark));
}

#[test]
fn passport_page_is_not_an_id1_card_on_white() {
    // The flat page fills the whole frame: no border inside the frame, so no outline.
    let r = report("passport_td3_flat.png", DocumentKind::Id1);
    assert_eq!(r.primary, Some(Issue::NoDocument));
}

#[test]
fn analyser_reuse_gives_identical_reports() {
    let (rgba, w, h) = load_rgba("card_640x480.png");
    let (rgba2, w2, h2) = load_rgba("selfie_640x480.png");
    let mut a = Analyser::new();
    let first = a
        .analyse_rgba(&rgba, w, h, DocumentKind::Id1)
        .expect("frame");
    a.analyse_rgba(&rgba2, w2, h2, DocumentKind::Id1)
        .expect("frame");
    let again = a
        .analyse_rgba(&rgba, w, h, DocumentKind::Id1)
        .expect("frame");
    assert_eq!(first, again);
}

/// A preview's frames steady each other's outline; an image checked on its own (the server's
/// check of an upload) must not depend on the image checked before it.
#[test]
fn a_new_sequence_forgets_the_previous_outline() {
    let fresh = |name: &str| {
        let (rgba, w, h) = load_rgba(name);
        liveform_core::vision::Analyser::new()
            .analyse_rgba(&rgba, w, h, DocumentKind::Id1)
            .expect("frame")
    };
    let mut shared = liveform_core::vision::Analyser::new();
    for (before, name) in [
        ("card_desk_640x480.png", "card_640x480.png"),
        ("card_640x480.png", "card_desk_640x480.png"),
        ("card_white_640x480.png", "gravel_640x480.png"),
    ] {
        let (rgba, w, h) = load_rgba(before);
        shared
            .analyse_rgba(&rgba, w, h, DocumentKind::Id1)
            .expect("frame");
        shared.new_sequence();
        let (rgba, w, h) = load_rgba(name);
        let r = shared
            .analyse_rgba(&rgba, w, h, DocumentKind::Id1)
            .expect("frame");
        let f = fresh(name);
        assert_eq!(
            (r.quad, r.primary),
            (f.quad, f.primary),
            "{name} after {before}"
        );
    }
}
