//! `core::vision::auto`: auto-capture, hint hold and manual shutter on synthetic sequences.

use liveform_core::vision::{
    manual_shutter_available, AutoCapture, CaptureDecision, DocumentKind, FrameReport, HintHolder,
    Issue, IssueSet, Metrics, Point, Quad, AUTO_CAPTURE_FRAMES, MANUAL_SHUTTER_AFTER_MS,
};

fn quad(dx: f32) -> Quad {
    let p = |x: f32, y: f32| Point { x: x + dx, y };
    Quad {
        corners: [p(0.2, 0.2), p(0.8, 0.22), p(0.79, 0.7), p(0.19, 0.68)],
    }
}

fn good(dx: f32) -> FrameReport {
    FrameReport {
        kind: DocumentKind::Id1,
        metrics: Metrics::default(),
        quad: Some(quad(dx)),
        issues: IssueSet::default(),
        primary: None,
        ok: true,
    }
}

fn bad(issue: Issue) -> FrameReport {
    let issues: IssueSet = [issue].into_iter().collect();
    FrameReport {
        quad: None,
        issues,
        primary: Some(issue),
        ok: false,
        ..good(0.0)
    }
}

#[test]
fn fires_after_n_steady_good_frames_once() {
    let mut ac = AutoCapture::default();
    for i in 1..AUTO_CAPTURE_FRAMES {
        assert_eq!(
            ac.push(&good(0.001 * i as f32)),
            CaptureDecision::Wait { good_frames: i }
        );
    }
    assert_eq!(ac.push(&good(0.0)), CaptureDecision::Capture);
    assert!(ac.fired());
    assert_eq!(ac.push(&good(0.0)), CaptureDecision::Done);
    ac.reset();
    assert_eq!(
        ac.push(&good(0.0)),
        CaptureDecision::Wait { good_frames: 1 }
    );
}

#[test]
fn a_bad_frame_restarts_the_count() {
    let mut ac = AutoCapture::default();
    for _ in 0..AUTO_CAPTURE_FRAMES - 1 {
        ac.push(&good(0.0));
    }
    assert_eq!(
        ac.push(&bad(Issue::Blur)),
        CaptureDecision::Wait { good_frames: 0 }
    );
    for i in 1..AUTO_CAPTURE_FRAMES {
        assert_eq!(
            ac.push(&good(0.0)),
            CaptureDecision::Wait { good_frames: i }
        );
    }
    assert_eq!(ac.push(&good(0.0)), CaptureDecision::Capture);
}

#[test]
fn movement_restarts_the_count() {
    let mut ac = AutoCapture::default();
    // The document slides 5 % of the frame per frame: never steady.
    for i in 0..20 {
        let d = ac.push(&good(0.05 * (i % 2) as f32));
        assert_eq!(d, CaptureDecision::Wait { good_frames: 1 });
    }
    // Held still (the last moving frame, at 0.05, is the first of the run): fires after N.
    let decisions: Vec<_> = (1..AUTO_CAPTURE_FRAMES)
        .map(|_| ac.push(&good(0.05)))
        .collect();
    assert_eq!(decisions.last(), Some(&CaptureDecision::Capture));
}

#[test]
fn hint_is_held_at_least_a_second() {
    let mut hh = HintHolder::default();
    assert_eq!(hh.update(0, Some(Issue::Blur)), Some(Issue::Blur));
    // Flickering verdicts within the hold keep the first hint.
    assert_eq!(hh.update(100, Some(Issue::Glare)), Some(Issue::Blur));
    assert_eq!(hh.update(300, None), Some(Issue::Blur));
    assert_eq!(hh.update(999, Some(Issue::TooSmall)), Some(Issue::Blur));
    // After 1000 ms the latest verdict shows.
    assert_eq!(
        hh.update(1000, Some(Issue::TooSmall)),
        Some(Issue::TooSmall)
    );
    assert_eq!(hh.update(1500, None), Some(Issue::TooSmall));
    assert_eq!(hh.update(2000, None), None);
    // From nothing, a hint shows at once.
    assert_eq!(hh.update(2001, Some(Issue::Dark)), Some(Issue::Dark));
    // A clock going backwards counts as no time passed.
    assert_eq!(hh.update(10, Some(Issue::Bright)), Some(Issue::Dark));
}

#[test]
fn manual_shutter_after_four_seconds() {
    assert!(!manual_shutter_available(0));
    assert!(!manual_shutter_available(MANUAL_SHUTTER_AFTER_MS - 1));
    assert!(manual_shutter_available(MANUAL_SHUTTER_AFTER_MS));
    assert_eq!(MANUAL_SHUTTER_AFTER_MS, 4000);
}

#[test]
fn issue_keys_are_stable_and_round_trip() {
    let keys: Vec<&str> = Issue::ALL.iter().map(|i| i.as_str()).collect();
    assert_eq!(
        keys,
        [
            "dark",
            "bright",
            "no_document",
            "low_contrast",
            "cut_off",
            "too_small",
            "too_close",
            "tilted",
            "blur",
            "glare"
        ]
    );
    for i in Issue::ALL {
        assert_eq!(Issue::parse(i.as_str()), Some(i));
    }
    let set: IssueSet = [Issue::Glare, Issue::Blur, Issue::Dark]
        .into_iter()
        .collect();
    assert_eq!(set.primary(), Some(Issue::Dark));
    assert_eq!(
        set.iter().collect::<Vec<_>>(),
        [Issue::Dark, Issue::Blur, Issue::Glare]
    );
}
