//! MRZ evaluation stills (feature `mrz-eval`, never in the SPA): random valid TD1 cards and TD3
//! pages (random names, numbers, dates, sexes, optional data; check digits by the `mrz` crate's
//! emitters) drawn with `fontdue` — a rasteriser the classifier's training (`ab_glyph`) never
//! used — at the ICAO pitch, warped in perspective onto a procedural background in a 640×480 or
//! 1920×1080 frame, with sensor noise, JPEG-encoded at quality 92 (the form's still) and decoded
//! again, then read through [`crate::mrz::read`] with the true outline.
//!
//! `src/bin/mrz_eval.rs` (`scripts/mrz-eval.sh`) prints the full numbers; `tests/mrz_eval.rs`
//! runs a small slice in the test command.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::geometry::{DocumentKind, Point, Quad};
use crate::mrz::{read, MrzRead};

/// Where Debian's `fonts-ocr-b` puts OCR-B (`scripts/ensure-tools.sh` installs it).
pub const OCRB_PATH: &str = "/usr/share/fonts/opentype/ocr-b/OCRB.otf";

/// Loads OCR-B for `fontdue`.
pub fn load_font(path: &str) -> Result<fontdue::Font, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!("{path}: {e} (install Debian's fonts-ocr-b: scripts/ensure-tools.sh)")
    })?;
    fontdue::Font::from_bytes(bytes, fontdue::FontSettings::default()).map_err(|e| e.to_string())
}

/// One evaluation still.
#[derive(Debug, Clone)]
pub struct Still {
    pub kind: DocumentKind,
    pub luma: Vec<u8>,
    pub w: usize,
    pub h: usize,
    /// The document's true outline (normalised).
    pub outline: Quad,
    /// The MRZ lines printed.
    pub lines: Vec<String>,
}

const SURNAME_PARTS: [&str; 24] = [
    "AN", "BER", "CAR", "DO", "EL", "FER", "GAR", "HO", "IS", "JO", "KOW", "LAN", "MAR", "NOV",
    "OL", "PET", "QUIN", "ROS", "SAN", "TOR", "UL", "VAN", "WEN", "ZY",
];
const GIVEN: [&str; 16] = [
    "ANNA", "MARIA", "JOHN", "PETER", "LUCAS", "EMMA", "NOAH", "SOFIA", "OLIVER", "MIA", "ELIAS",
    "LEA", "JAN", "ZOE", "KAROLINA", "XAVIER",
];
const STATES: [&str; 12] = [
    "UTO", "D", "FRA", "GBR", "NLD", "ITA", "ESP", "CHE", "AUT", "POL", "SWE", "BEL",
];

fn name(r: &mut ChaCha8Rng) -> String {
    let n = r.random_range(2..5);
    (0..n)
        .map(|_| SURNAME_PARTS[r.random_range(0..SURNAME_PARTS.len())])
        .collect()
}

fn alnum(r: &mut ChaCha8Rng, len: std::ops::Range<usize>) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let n = r.random_range(len);
    (0..n)
        .map(|_| A[r.random_range(0..A.len())] as char)
        .collect()
}

fn date(r: &mut ChaCha8Rng, years: std::ops::Range<i32>) -> mrz::MrzDate {
    mrz::MrzDate::Calendar(mrz::Date::new(
        r.random_range(years),
        r.random_range(1..13),
        r.random_range(1..29),
    ))
}

/// Random valid MRZ lines for `kind` (TD1 for ID-1, TD3 for passports).
pub fn random_mrz(r: &mut ChaCha8Rng, kind: DocumentKind) -> Vec<String> {
    let surname = name(r);
    let given = (0..r.random_range(1..3))
        .map(|_| GIVEN[r.random_range(0..GIVEN.len())])
        .collect::<Vec<_>>()
        .join(" ");
    let state = STATES[r.random_range(0..STATES.len())].to_string();
    let nat = STATES[r.random_range(0..STATES.len())].to_string();
    let sex = match r.random_range(0..5) {
        0 | 1 => mrz::Sex::Male,
        2 | 3 => mrz::Sex::Female,
        _ => mrz::Sex::Unspecified,
    };
    let dob = date(r, 1940..2012);
    let exp = date(r, 2020..2037);
    let number = alnum(r, 9..10);
    let zone = match kind {
        DocumentKind::Id1 => mrz::format_td1(&mrz::Td1Fields {
            document_code: ["I", "ID", "IR", "AC"][r.random_range(0..4)].to_string(),
            issuing_country: state,
            document_number: number,
            optional_data_1: r.random_bool(0.4).then(|| alnum(r, 1..12)),
            surname,
            given_names: given,
            nationality: nat,
            date_of_birth: dob,
            sex,
            date_of_expiry: exp,
            optional_data_2: r.random_bool(0.3).then(|| alnum(r, 1..10)),
        }),
        DocumentKind::Td3 => mrz::format_td3(&mrz::Td3Fields {
            document_code: ["P", "PP", "PD"][r.random_range(0..3)].to_string(),
            issuing_country: state,
            document_number: number,
            surname,
            given_names: given,
            nationality: nat,
            date_of_birth: dob,
            sex,
            date_of_expiry: exp,
            personal_number: r.random_bool(0.5).then(|| alnum(r, 3..14)),
        }),
    };
    zone.lines().map(str::to_string).collect()
}

/// A flat document with the MRZ, `px_per_mm` pixels per millimetre, luma in `f32`.
fn render_document(
    r: &mut ChaCha8Rng,
    font: &fontdue::Font,
    kind: DocumentKind,
    lines: &[String],
    px_per_mm: f32,
) -> (Vec<f32>, usize, usize) {
    let (wmm, hmm) = match kind {
        DocumentKind::Id1 => (85.6f32, 54.0f32),
        DocumentKind::Td3 => (125.0, 88.0),
    };
    let (w, h) = ((wmm * px_per_mm) as usize, (hmm * px_per_mm) as usize);
    let paper = r.random_range(200.0f32..240.0);
    let tint = r.random_range(0.0f32..14.0);
    let (fu, fv) = (r.random_range(20.0f32..90.0), r.random_range(3.0f32..30.0));
    let mut img: Vec<f32> = (0..w * h)
        .map(|i| {
            let (u, v) = ((i % w) as f32 / w as f32, (i / w) as f32 / h as f32);
            paper - tint * (0.5 + 0.5 * (u * fu + (v * fv).sin() * 2.0).sin()) - 8.0 * v
        })
        .collect();
    let mm = px_per_mm;
    // A header bar, a "photo" and some printed fields above the MRZ (decoys for the line finder).
    if r.random_bool(0.6) {
        let bar = (r.random_range(6.0f32..9.0) * mm) as usize;
        let lum = r.random_range(50.0f32..120.0);
        for v in img.iter_mut().take(bar * w) {
            *v = lum;
        }
    }
    let (px0, py0) = (
        (r.random_range(3.0f32..6.0) * mm) as usize,
        (12.0 * mm) as usize,
    );
    let (pw, ph) = ((0.25 * wmm * mm) as usize, ((hmm * 0.5) * mm) as usize);
    let seed: u32 = r.random();
    for y in py0..(py0 + ph).min(h) {
        for x in px0..(px0 + pw).min(w) {
            let n = crate::synth::hash(x as i32 / 3, y as i32 / 3, seed);
            img[y * w + x] = 60.0 + 140.0 * n;
        }
    }
    let field_x = px0 as f32 + pw as f32 + 4.0 * mm;
    let mut y = 16.0 * mm;
    let field_cap = r.random_range(2.2f32..3.2) * mm;
    while y < hmm * 0.6 * mm {
        let text = alnum(r, 5..14);
        draw_text(
            font,
            &mut img,
            w,
            &text,
            field_x,
            y,
            field_cap,
            1.05 * field_cap,
            40.0,
        );
        y += r.random_range(5.0f32..7.5) * mm;
    }
    // The MRZ: ICAO pitch 2.54 mm, cap height 2.2–2.5 mm, line pitch and margins per 9303
    // (with some spread).
    let pitch = 2.54 * mm * r.random_range(0.99f32..1.01);
    let cap = r.random_range(2.2f32..2.5) * mm;
    let (line_pitch, bottom, left) = match kind {
        DocumentKind::Id1 => (
            r.random_range(3.9f32..4.6) * mm,
            r.random_range(1.2f32..3.0) * mm,
            r.random_range(3.0f32..5.5) * mm,
        ),
        DocumentKind::Td3 => (
            r.random_range(4.5f32..6.0) * mm,
            r.random_range(3.0f32..5.0) * mm,
            r.random_range(3.5f32..5.5) * mm,
        ),
    };
    if r.random_bool(0.5) {
        // A lighter MRZ zone.
        let top = h as f32 - bottom - lines.len() as f32 * line_pitch - 1.5 * mm;
        let lum = r.random_range(235.0f32..250.0);
        for v in img.iter_mut().skip((top.max(0.0) as usize) * w) {
            *v = lum;
        }
    }
    let ink = r.random_range(0.0f32..60.0);
    let n = lines.len();
    for (k, line) in lines.iter().enumerate() {
        let baseline = h as f32 - bottom - (n - 1 - k) as f32 * line_pitch;
        draw_text(font, &mut img, w, line, left, baseline, cap, pitch, ink);
    }
    (img, w, h)
}

/// Draws `text` with `fontdue` (coverage blended toward `ink`), one glyph per `pitch` from
/// `left`, baseline at `baseline`, scaled so that the cap height is `cap` pixels.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draw_text(
    font: &fontdue::Font,
    img: &mut [f32],
    w: usize,
    text: &str,
    left: f32,
    baseline: f32,
    cap: f32,
    pitch: f32,
    ink: f32,
) {
    let h = img.len() / w;
    let cap_per_px = font.metrics('H', 100.0).bounds.height / 100.0;
    let px = cap / cap_per_px.max(0.1);
    let advance = font.metrics('0', px).advance_width;
    for (i, c) in text.chars().enumerate() {
        let (m, bmp) = font.rasterize(c, px);
        let ox = left + i as f32 * pitch + (pitch - advance) / 2.0;
        let x0 = (ox + m.xmin as f32).round() as i32;
        let y0 = (baseline - (m.ymin as f32 + m.height as f32)).round() as i32;
        for by in 0..m.height {
            for bx in 0..m.width {
                let (x, y) = (x0 + bx as i32, y0 + by as i32);
                if x < 0 || y < 0 || x as usize >= w || y as usize >= h {
                    continue;
                }
                let a = bmp[by * m.width + bx] as f32 / 255.0;
                let p = &mut img[y as usize * w + x as usize];
                *p = *p * (1.0 - a) + ink * a;
            }
        }
    }
}

/// Frame pixel → document unit square (the inverse of the square → quad map), as the corpus
/// draws its documents (all zeros for a degenerate quad).
fn quad_to_square(c: &[(f64, f64); 4]) -> [f64; 9] {
    crate::mrz::warp::Homography::square_to_quad(c)
        .and_then(|h| h.inverse())
        .map_or([0.0; 9], |h| h.0)
}

/// Generates one still: `kind`, frame `fw × fh`, from `seed`.
pub fn still(font: &fontdue::Font, seed: u64, kind: DocumentKind, fw: usize, fh: usize) -> Still {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let lines = random_mrz(&mut r, kind);
    place(font, &mut r, kind, fw, fh, lines)
}

/// A still of a document whose zone reads `lines` (e.g. a chosen holder's, for a server test),
/// placed as [`still`] places its random ones.
pub fn still_of(
    font: &fontdue::Font,
    seed: u64,
    kind: DocumentKind,
    fw: usize,
    fh: usize,
    lines: Vec<String>,
) -> Still {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    place(font, &mut r, kind, fw, fh, lines)
}

fn place(
    font: &fontdue::Font,
    r: &mut ChaCha8Rng,
    kind: DocumentKind,
    fw: usize,
    fh: usize,
    lines: Vec<String>,
) -> Still {
    let aspect = kind.aspect() as f64;
    // Size: the document spans 45–70 % (card) or 55–80 % (passport page) of the frame's width,
    // at most 85 % of its height.
    let wf = match kind {
        DocumentKind::Id1 => r.random_range(0.45..0.70),
        DocumentKind::Td3 => r.random_range(0.55..0.80),
    };
    let dw = (wf * fw as f64).min(0.85 * fh as f64 * aspect);
    let dh = dw / aspect;
    let px_per_mm = match kind {
        DocumentKind::Id1 => 14.0,
        DocumentKind::Td3 => 11.0,
    };
    let (doc, docw, doch) = render_document(&mut *r, font, kind, &lines, px_per_mm);
    // Placement: rotated ±8°, corners jittered by up to 3 % of the width (perspective), centred
    // with a random offset that keeps the document inside the frame.
    let ang: f64 = r.random_range(-8.0f64..8.0).to_radians();
    let (ca, sa) = (ang.cos(), ang.sin());
    let half = [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)];
    let mut pts = half.map(|(u, v)| {
        let (x, y) = (u * dw, v * dh);
        (
            x * ca - y * sa + r.random_range(-0.03..0.03) * dw,
            x * sa + y * ca + r.random_range(-0.03..0.03) * dw,
        )
    });
    let (minx, maxx) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (miny, maxy) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let mx = ((fw as f64 - (maxx - minx)) / 2.0 - 4.0).max(0.0);
    let my = ((fh as f64 - (maxy - miny)) / 2.0 - 4.0).max(0.0);
    let cx = fw as f64 / 2.0 - (minx + maxx) / 2.0 + r.random_range(-mx..=mx) * 0.8;
    let cy = fh as f64 / 2.0 - (miny + maxy) / 2.0 + r.random_range(-my..=my) * 0.8;
    for p in &mut pts {
        p.0 += cx;
        p.1 += cy;
    }
    let inv = quad_to_square(&pts);
    let seed32: u32 = r.random();
    let bg_scale = r.random_range(0.02f32..0.06) * 640.0 / fw as f32;
    let bg_lum = r.random_range(40.0f32..170.0);
    let src = crate::mrz::ocr::Gray {
        px: &doc,
        w: docw,
        h: doch,
    };
    // Supersampling: enough sub-samples that the document image is never skipped over.
    let k = ((docw as f64 / dw).ceil() as usize).clamp(1, 4);
    let mut luma = vec![0u8; fw * fh];
    for y in 0..fh {
        for x in 0..fw {
            let mut acc = 0.0f32;
            for sy in 0..k {
                for sx in 0..k {
                    let fx = x as f64 + (sx as f64 + 0.5) / k as f64;
                    let fy = y as f64 + (sy as f64 + 0.5) / k as f64;
                    let wq = inv[6] * fx + inv[7] * fy + inv[8];
                    let u = (inv[0] * fx + inv[1] * fy + inv[2]) / wq;
                    let v = (inv[3] * fx + inv[4] * fy + inv[5]) / wq;
                    acc += if (0.0..1.0).contains(&u) && (0.0..1.0).contains(&v) {
                        src.bilinear((u * docw as f64) as f32, (v * doch as f64) as f32)
                    } else {
                        let n =
                            crate::synth::vnoise(x as f32 * bg_scale, y as f32 * bg_scale, seed32);
                        let n2 = crate::synth::vnoise(
                            x as f32 * bg_scale * 4.0,
                            y as f32 * bg_scale * 4.0,
                            seed32 ^ 7,
                        );
                        bg_lum + 70.0 * (n - 0.5) + 40.0 * (n2 - 0.5)
                    };
                }
            }
            let noise = 2.0 * (crate::synth::hash(x as i32, y as i32, seed32 ^ 0xabc) - 0.5) * 3.4;
            luma[y * fw + x] = (acc / (k * k) as f32 + noise).round().clamp(0.0, 255.0) as u8;
        }
    }
    let luma = jpeg_round_trip(&luma, fw, fh).unwrap_or(luma);
    let outline = Quad {
        corners: pts.map(|(x, y)| Point {
            x: (x / fw as f64) as f32,
            y: (y / fh as f64) as f32,
        }),
    };
    Still {
        kind,
        luma,
        w: fw,
        h: fh,
        outline,
        lines,
    }
}

/// JPEG at quality 92 (the form's still) and back.
pub fn jpeg_round_trip(luma: &[u8], w: usize, h: usize) -> Option<Vec<u8>> {
    crate::synth::jpeg_round_trip(luma, w, h, 92)
}

/// The outcome of reading one still.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub kind: DocumentKind,
    pub w: usize,
    /// Read with every check digit holding.
    pub valid: bool,
    /// Valid and exactly the printed lines.
    pub exact: bool,
    /// Characters read right (0 when no MRZ was found), out of `total`.
    pub correct: usize,
    pub total: usize,
    pub ms: f64,
    pub read: Option<MrzRead>,
    pub truth: Vec<String>,
}

/// Reads a still and scores it.
pub fn evaluate(s: &Still) -> Outcome {
    let t = std::time::Instant::now();
    let r = read(&s.luma, s.w, s.h, Some(&s.outline), s.kind);
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let total: usize = s.lines.iter().map(String::len).sum();
    let correct = r.as_ref().map_or(0, |r| {
        r.lines
            .iter()
            .zip(&s.lines)
            .map(|(a, b)| a.bytes().zip(b.bytes()).filter(|(x, y)| x == y).count())
            .sum()
    });
    let valid = r.as_ref().is_some_and(|r| r.valid);
    Outcome {
        kind: s.kind,
        w: s.w,
        valid,
        exact: valid && r.as_ref().is_some_and(|r| r.lines == s.lines),
        correct,
        total,
        ms,
        read: r,
        truth: s.lines.clone(),
    }
}

/// A summary line per (kind, frame width).
pub fn report(outcomes: &[Outcome]) -> String {
    let mut groups: Vec<(DocumentKind, usize)> = outcomes.iter().map(|o| (o.kind, o.w)).collect();
    groups.sort_by_key(|g| (g.0.as_str(), g.1));
    groups.dedup();
    let mut s = String::from(
        "kind  frame       stills  valid %  exact %  wrong-valid  char acc %  ms/still (mean, max)\n",
    );
    for (kind, w) in groups {
        let g: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| o.kind == kind && o.w == w)
            .collect();
        let n = g.len() as f64;
        let valid = g.iter().filter(|o| o.valid).count() as f64;
        let exact = g.iter().filter(|o| o.exact).count() as f64;
        let wrong = g.iter().filter(|o| o.valid && !o.exact).count();
        let (c, t) = g
            .iter()
            .fold((0, 0), |(c, t), o| (c + o.correct, t + o.total));
        let ms = g.iter().map(|o| o.ms).sum::<f64>() / n;
        let mx = g.iter().map(|o| o.ms).fold(0.0, f64::max);
        let h = g
            .first()
            .map_or(0, |o| if o.w == 640 { 480 } else { o.w * 9 / 16 });
        s += &format!(
            "{:<5} {:>4}×{:<5} {:>7} {:>8.1} {:>8.1} {:>12} {:>11.2} {:>9.1} {:>6.1}\n",
            kind.as_str(),
            w,
            h,
            g.len(),
            100.0 * valid / n,
            100.0 * exact / n,
            wrong,
            100.0 * c as f64 / t.max(1) as f64,
            ms,
            mx
        );
    }
    s
}
