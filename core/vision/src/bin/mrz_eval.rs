//! MRZ reading against generated stills (`liveform_vision::mrz_eval`): read rate with valid check
//! digits, exact reads, character accuracy and milliseconds per still, for TD1 cards and TD3
//! pages at 640×480 and 1920×1080. Build in release for meaningful timings.
//!
//!   scripts/mrz-eval.sh [--seed N] [--count N per group] [--font PATH] [--misses]

use liveform_vision::mrz_eval::{evaluate, load_font, report, still, OCRB_PATH};
use liveform_vision::DocumentKind;

fn main() {
    let mut seed = 9303u64;
    let mut count = 100usize;
    let mut font_path = OCRB_PATH.to_string();
    let mut misses = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            "--count" => count = args.next().and_then(|v| v.parse().ok()).unwrap_or(count),
            "--font" => font_path = args.next().unwrap_or(font_path),
            "--misses" => misses = true,
            _ => {
                eprintln!("usage: mrz_eval [--seed N] [--count N] [--font PATH] [--misses]");
                std::process::exit(2);
            }
        }
    }
    let font = match load_font(&font_path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
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
        for i in 0..count {
            let s = still(
                &font,
                seed.wrapping_mul(1_000_003) + (gi * 100_000 + i) as u64,
                kind,
                w,
                h,
            );
            let o = evaluate(&s);
            if misses && !o.exact {
                eprintln!(
                    "miss {} {w}×{h} #{i}: truth {:?}\n    read {:?}",
                    kind.as_str(),
                    o.truth,
                    o.read.as_ref().map(|r| (r.valid, r.confidence, &r.lines))
                );
            }
            outcomes.push(o);
        }
    }
    print!("{}", report(&outcomes));
}
