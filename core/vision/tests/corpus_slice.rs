//! A slice of the generated corpus (issue 19) in the test command: 60 held-out stills, one
//! auto-capture run of 5 frames each (300 frames). It checks the generator (deterministic,
//! labels consistent with what it draws) and prints the gate's numbers on the slice; the full
//! corpus is `cargo run -p liveform-vision --features corpus --release --bin corpus`.
//!
//! The issue's targets (≥ 95 % auto-capture of good stills in every family, ≤ 1 % false
//! auto-capture, IoU ≥ 0.9, `no_document` ≥ 95 %) are not met by today's gate (see the closing
//! note's table); until they are, this asserts only what holds with margin today, so that the
//! gate cannot get worse unnoticed: false auto-capture of defective stills ≤ 5 %.

use liveform_vision::corpus::{evaluate, render, report, scenes, Defect, Split, HEIGHT, WIDTH};

#[test]
fn the_generator_is_deterministic_and_its_labels_hold() {
    let a = scenes(7, Split::Holdout, 30);
    assert_eq!(a, scenes(7, Split::Holdout, 30), "same seed, same scenes");
    let t = scenes(7, Split::Tune, 30);
    assert!(
        a.iter().zip(&t).all(|(h, t)| h.background != t.background),
        "the held-out split never reuses a tuning background instance"
    );
    for s in &a {
        let r1 = render(s, 1, (0.0, 0.0));
        assert_eq!(r1.luma.len(), WIDTH * HEIGHT);
        assert_eq!(
            r1.luma,
            render(s, 1, (0.0, 0.0)).luma,
            "rendering is deterministic"
        );
        assert_ne!(
            r1.luma,
            render(s, 2, (0.0, 0.0)).luma,
            "fresh noise per frame"
        );
        match (s.defect, s.corners) {
            (Defect::NoDocument, c) => assert!(c.is_none()),
            (Defect::CutOff, Some(c)) => assert!(
                c.iter()
                    .any(|&(x, y)| x < 0.0 || y < 0.0 || x > WIDTH as f32 || y > HEIGHT as f32),
                "a cut-off document leaves the frame"
            ),
            (_, Some(c)) => assert!(
                c.iter()
                    .all(|&(x, y)| x > 0.0 && y > 0.0 && x < WIDTH as f32 && y < HEIGHT as f32),
                "{:?}: the document lies inside the frame",
                s.defect
            ),
            (d, None) => panic!("{d:?} without a document"),
        }
    }
}

#[test]
fn the_gate_on_a_slice_of_the_corpus() {
    let s = scenes(19, Split::Holdout, 60);
    let outcomes = evaluate(&s);
    println!("{}", report(&outcomes));
    let defective: Vec<_> = outcomes
        .iter()
        .filter(|o| o.defect != Defect::Good)
        .collect();
    let false_auto = defective.iter().filter(|o| o.auto_captured).count();
    assert!(
        false_auto * 20 <= defective.len(),
        "false auto-capture on {false_auto} of {} defective stills (> 5 %)",
        defective.len()
    );
    // A scene without a document says so (issue 19: not "too dark", not "low contrast").
    for o in outcomes.iter().filter(|o| o.defect == Defect::NoDocument) {
        assert_eq!(
            o.primary,
            Some(liveform_vision::Issue::NoDocument),
            "still {} ({}) without a document",
            o.scene_index,
            o.family.name()
        );
    }
    // Where the gate stands on good stills (the issue's targets, 95 % and 0.9, are not met yet:
    // these floors keep what was reached, with a margin for the slice's small size).
    let good: Vec<_> = outcomes
        .iter()
        .filter(|o| o.defect == Defect::Good)
        .collect();
    let fired = good.iter().filter(|o| o.auto_captured).count();
    let tight = good.iter().filter(|o| o.iou >= 0.9).count();
    assert!(
        fired * 2 >= good.len(),
        "auto-capture on {fired} of {} good stills (< 50 %)",
        good.len()
    );
    assert!(
        tight * 4 >= good.len() * 3,
        "outline IoU >= 0.9 on {tight} of {} good stills (< 75 %)",
        good.len()
    );
}
