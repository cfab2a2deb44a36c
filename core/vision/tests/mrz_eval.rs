//! A slice of the MRZ evaluation in the test command: 24 generated stills (fontdue-drawn TD1
//! cards and TD3 pages, perspective, JPEG q92) at 640×480 and 1920×1080, read with the true
//! outline. The full run is `scripts/mrz-eval.sh` (hundreds of stills, timings in release).
//! Needs OCR-B (Debian `fonts-ocr-b`, installed by `scripts/ensure-tools.sh`).

use liveform_vision::mrz_eval::{evaluate, load_font, report, still, OCRB_PATH};
use liveform_vision::DocumentKind;

#[test]
fn generated_stills_read_with_valid_check_digits() {
    let font = load_font(OCRB_PATH).expect("OCR-B");
    let mut outcomes = Vec::new();
    for (gi, (kind, w, h)) in [
        (DocumentKind::Id1, 640, 480),
        (DocumentKind::Id1, 1920, 1080),
        (DocumentKind::Td3, 640, 480),
        (DocumentKind::Td3, 1920, 1080),
    ]
    .into_iter()
    .enumerate()
    {
        for i in 0..6u64 {
            let s = still(&font, 77_000 + gi as u64 * 100 + i, kind, w, h);
            outcomes.push(evaluate(&s));
        }
    }
    print!("{}", report(&outcomes));
    let exact = outcomes.iter().filter(|o| o.exact).count();
    // A valid read must be the printed one (check digits do not cover the names, so this is
    // the classifier's own accuracy there).
    let wrong_valid = outcomes.iter().filter(|o| o.valid && !o.exact).count();
    assert!(
        exact * 100 >= outcomes.len() * 90,
        "{exact}/{} exact",
        outcomes.len()
    );
    assert!(wrong_valid <= 1, "{wrong_valid} valid but wrong reads");
}
