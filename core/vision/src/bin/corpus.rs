//! The document gate against the generated corpus (issue 19): per-issue precision and recall,
//! outline IoU, auto-capture rates, per background family.
//!
//!   scripts/corpus.sh [--seed N] [--count N] [--split tune|holdout] [--misses] [--dump DIR]
//!                     [--scene I] [--diagnose]
//!
//! Defaults: seed 19, 2200 stills (each one auto-capture run of 5 frames), the held-out split.

use liveform_vision::corpus::{evaluate, report, scenes, Split};

fn main() {
    let mut seed = 19u64;
    let mut count = 2200usize;
    let mut split = Split::Holdout;
    let mut misses = false;
    let mut dump: Option<String> = None;
    let mut diagnose = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            "--count" => count = args.next().and_then(|v| v.parse().ok()).unwrap_or(count),
            "--split" => {
                split = match args.next().as_deref() {
                    Some("tune") => Split::Tune,
                    _ => Split::Holdout,
                }
            }
            "--misses" => misses = true,
            // One still's frames: each outline against the truth.
            "--scene" => {
                let i: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                let s = scenes(seed, split, i + 1);
                let sc = &s[i];
                println!("{:?} {:?} truth {:?}", sc.family, sc.defect, sc.truth());
                let mut an = liveform_vision::Analyser::new();
                for k in 0..liveform_vision::AUTO_CAPTURE_FRAMES {
                    let r = liveform_vision::corpus::render_run_frame(sc, k);
                    let f = liveform_vision::LumaFrame::new(
                        liveform_vision::corpus::WIDTH,
                        liveform_vision::corpus::HEIGHT,
                        &r.luma,
                    )
                    .expect("frame");
                    let rep = an.analyse(f, sc.kind);
                    println!("frame {k}: {:?} {:?}", rep.primary, rep.quad);
                    if let Some(t) = sc.truth() {
                        let mut fresh = liveform_vision::Analyser::new();
                        println!("  diagnosis: {:?}", fresh.diagnose(f, sc.kind, t));
                    }
                }
                return;
            }
            // Where the detector lost each good still's document (first frame).
            "--diagnose" => diagnose = true,
            // Writes each still's first frame as PGM (for a look: `ffmpeg -i x.pgm x.png`).
            "--dump" => dump = args.next(),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let t0 = std::time::Instant::now();
    let s = scenes(seed, split, count);
    if let Some(dir) = &dump {
        let _ = std::fs::create_dir_all(dir);
        for (i, sc) in s.iter().enumerate() {
            let r = liveform_vision::corpus::render(sc, 1, (0.0, 0.0));
            let mut pgm = format!(
                "P5\n{} {}\n255\n",
                liveform_vision::corpus::WIDTH,
                liveform_vision::corpus::HEIGHT
            )
            .into_bytes();
            pgm.extend_from_slice(&r.luma);
            let name = format!(
                "{dir}/{i:05}-{}-{}.pgm",
                sc.family.name().replace(' ', "_"),
                sc.defect.name().replace(' ', "_")
            );
            if let Err(e) = std::fs::write(&name, pgm) {
                eprintln!("{name}: {e}");
            }
        }
        return;
    }
    if diagnose {
        let mut an = liveform_vision::Analyser::new();
        let mut table = std::collections::BTreeMap::new();
        for (i, sc) in s.iter().enumerate() {
            let (liveform_vision::corpus::Defect::Good, Some(truth)) = (sc.defect, sc.truth())
            else {
                continue;
            };
            an.new_sequence();
            let r = liveform_vision::corpus::render(sc, 1, (0.0, 0.0));
            let f = liveform_vision::LumaFrame::new(
                liveform_vision::corpus::WIDTH,
                liveform_vision::corpus::HEIGHT,
                &r.luma,
            )
            .expect("frame");
            let d = an.diagnose(f, sc.kind, truth);
            if misses {
                println!("#{i:<5} {:<15} {d:?}", sc.family.name());
            }
            *table
                .entry(sc.family.name())
                .or_insert_with(std::collections::BTreeMap::new)
                .entry(format!("{d:?}"))
                .or_insert(0u32) += 1;
        }
        for (fam, m) in table {
            println!("{fam:<15} {m:?}");
        }
        return;
    }
    let outcomes = evaluate(&s);
    println!(
        "corpus: seed {seed}, {split:?} split, {count} stills x {} frames, {:.1} s",
        liveform_vision::AUTO_CAPTURE_FRAMES,
        t0.elapsed().as_secs_f32()
    );
    print!("{}", report(&outcomes));
    if misses {
        for o in &outcomes {
            if o.defect.expected() != o.primary
                || (o.defect.expected().is_none() && (!o.auto_captured || o.captured_iou < 0.9))
            {
                println!(
                    "miss #{:<5} {:<15} {:<13} shown {:?} iou {:.2} auto {} (iou {:.2}) ok {}/5 shift {:.3} hints {:?}",
                    o.scene_index,
                    o.family.name(),
                    o.defect.name(),
                    o.primary.map(|i| i.as_str()),
                    o.iou,
                    o.auto_captured,
                    o.captured_iou,
                    o.ok_frames,
                    o.max_shift,
                    o.hints.iter().map(|h| h.map_or("ok", |i| i.as_str())).collect::<Vec<_>>()
                );
            }
        }
    }
}
