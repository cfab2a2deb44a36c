//! Reading the machine-readable zone (ICAO 9303 TD1, TD2, TD3) on a captured still.
//!
//! Pipeline ([`read`]):
//! 1. rectify ([`warp`]): the bottom band of the document (where 9303 puts the MRZ) is sampled
//!    through the outline's perspective map at [`BAND_PX_PER_MM`], averaging several frame
//!    pixels per band pixel when the still is finer than that; the upside-down card (the MRZ at
//!    the top of the outline) is the same with the corners turned by two;
//! 2. lines ([`layout`]): local-contrast binarisation, rows by their count of ink starts, the
//!    bottom-most run of 3 (TD1) or 2 (TD2, TD3) regular lines;
//! 3. cells: OCR-B is fixed-pitch and every position is printed (fillers included), so a line's
//!    ink extent gives the pitch; the pitch and offset are refined so that cell boundaries fall
//!    into the gaps, and each cell is centred on its ink;
//! 4. classify ([`ocr`]): a small perceptron on a 16×24 crop scaled to the line's cap height;
//! 5. decode: each position is restricted to the characters its field allows (digits in dates
//!    and check digits, letters in names and country codes), then each check-digit field is set
//!    to its most probable reading *that its check digit confirms*, among characters the
//!    classifier gave at least [`ALT_MIN_PROB`] (so 0/O, 1/I, 5/S, 8/B, 2/Z are repaired only
//!    when the arithmetic agrees); the result is parsed and checked by the `mrz` crate.

mod layout;
pub mod ocr;
pub(crate) mod warp;

use crate::geometry::{DocumentKind, Quad};
use ocr::{Gray, INPUT, N_CLASSES, SAMPLES_PER_H};

/// Band resolution, pixels per millimetre of the document. The MRZ's cap height (~2.0–2.5 mm)
/// becomes ~16–20 band pixels: enough for the 16-sample-per-cap-height crops without
/// upsampling from the band, small enough to keep the band cheap (TD1: 700 × 225 px).
pub const BAND_PX_PER_MM: f64 = 8.0;

/// A classifier alternative is considered in the check-digit repair only if its probability is
/// at least this. Lower would let the repair pick among near-impossible readings until a check
/// digit happens to agree (one chance in ten per field for a random substitution).
pub const ALT_MIN_PROB: f32 = 0.03;

/// The MRZ layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MrzFormat {
    /// 3 lines × 30 (ID-1 cards).
    Td1,
    /// 2 lines × 36.
    Td2,
    /// 2 lines × 44 (passports).
    Td3,
}

impl MrzFormat {
    /// Number of lines.
    pub fn lines(self) -> usize {
        match self {
            MrzFormat::Td1 => 3,
            MrzFormat::Td2 | MrzFormat::Td3 => 2,
        }
    }
    /// Characters per line.
    pub fn width(self) -> usize {
        match self {
            MrzFormat::Td1 => 30,
            MrzFormat::Td2 => 36,
            MrzFormat::Td3 => 44,
        }
    }
}

/// The parsed fields of a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MrzFields {
    pub document_code: String,
    pub issuing_state: String,
    pub document_number: String,
    pub surname: String,
    pub given_names: String,
    pub nationality: String,
    /// `YYYY-MM-DD`; the century by the `mrz` crate's rule (a two-digit birth year after the
    /// crate's current year is 19xx). Unknown or malformed dates as printed.
    pub date_of_birth: String,
    /// `"M"`, `"F"` or `"X"` (unspecified, printed `<` or `X`); another printed letter as is.
    pub sex: String,
    /// `YYYY-MM-DD` (20xx).
    pub expiry_date: String,
    /// The optional data fields, trimmed of fillers, joined by a space.
    pub optional_data: String,
}

/// The result of reading a still.
#[derive(Debug, Clone, PartialEq)]
pub struct MrzRead {
    pub format: MrzFormat,
    /// The MRZ lines as read (after the check-digit-guided repair).
    pub lines: Vec<String>,
    /// Every check digit of the format, composite included, holds.
    pub valid: bool,
    /// The parsed fields, when the lines parse (even if a check digit fails).
    pub fields: Option<MrzFields>,
    /// Mean classifier probability of the characters read, `0..1`.
    pub confidence: f32,
}

/// Reads the MRZ of a still.
///
/// `luma`: row-major 8-bit grey image, `w × h`. `outline`: the document's outline in normalised
/// frame coordinates (corners top-left, top-right, bottom-right, bottom-left), `None` when the
/// document fills the image. `kind`: `Id1` expects TD1 (or TD2), `Td3` expects TD3.
///
/// `None` when no MRZ-like lines are found (or the input is unusable); otherwise the best read,
/// with `valid` telling whether every check digit holds. Never panics.
pub fn read(
    luma: &[u8],
    w: usize,
    h: usize,
    outline: Option<&Quad>,
    kind: DocumentKind,
) -> Option<MrzRead> {
    if w < 8 || h < 8 || luma.len() < w.checked_mul(h)? {
        return None;
    }
    let net = ocr::net()?;
    let (fw, fh) = (w as f64, h as f64);
    let corners: [(f64, f64); 4] = match outline {
        Some(q) => q.corners.map(|p| (p.x as f64 * fw, p.y as f64 * fh)),
        None => [(0.0, 0.0), (fw, 0.0), (fw, fh), (0.0, fh)],
    };
    if corners.iter().any(|c| {
        !c.0.is_finite() || !c.1.is_finite() || c.0.abs() > 4.0 * fw || c.1.abs() > 4.0 * fh
    }) {
        return None;
    }
    let mut best: Option<MrzRead> = None;
    for turn in [0usize, 2] {
        let c = [0, 1, 2, 3].map(|i| corners[(i + turn) % 4]);
        let Some(hom) = warp::Homography::square_to_quad(&c) else {
            continue;
        };
        if let Some(r) = read_oriented(luma, w, h, &hom, kind, net) {
            if r.valid {
                return Some(r);
            }
            if best.as_ref().is_none_or(|b| r.confidence > b.confidence) {
                best = Some(r);
            }
        }
    }
    best
}

fn read_oriented(
    luma: &[u8],
    w: usize,
    h: usize,
    hom: &warp::Homography,
    kind: DocumentKind,
    net: &ocr::Net,
) -> Option<MrzRead> {
    // The band: ICAO puts the MRZ in the bottom 17.8 mm of a 54 mm card and the bottom 23.2 mm
    // of an 88 mm passport page; take a generous band (outlines can be a few per cent off) and
    // let the line finder pick the bottom-most regular lines.
    let (doc_w, doc_h, v0, formats): (f64, f64, f64, &[MrzFormat]) = match kind {
        DocumentKind::Id1 => (85.6, 54.0, 0.52, &[MrzFormat::Td1, MrzFormat::Td2]),
        DocumentKind::Td3 => (125.0, 88.0, 0.62, &[MrzFormat::Td3]),
    };
    let (u0, u1, v1) = (-0.02, 1.02, 1.02);
    let bw = ((u1 - u0) * doc_w * BAND_PX_PER_MM).round() as usize;
    let bh = ((v1 - v0) * doc_h * BAND_PX_PER_MM).round() as usize;
    let band = warp::band(luma, w, h, hom, (u0, u1), (v0, v1), bw, bh)?;
    let expect_h = (2.3 * BAND_PX_PER_MM) as f32;
    let map = layout::InkMap::new(&band, bw, bh, expect_h as usize)?;
    let gray = Gray {
        px: &band,
        w: bw,
        h: bh,
    };
    let mut best: Option<MrzRead> = None;
    for &format in formats {
        let n = format.width();
        let cands = map.text_rows(n as f32 / 3.0);
        let Some(rows) = layout::pick_lines(&cands, format.lines(), expect_h) else {
            continue;
        };
        let mut probs: Vec<[f32; N_CLASSES]> = Vec::with_capacity(n * format.lines());
        for &r in &rows {
            let Some(line) = layout::segment(&map, r, n) else {
                break;
            };
            let s = line.height / SAMPLES_PER_H;
            let norm = (1.0 + line.slope * line.slope).sqrt();
            let (cos, sin) = (1.0 / norm, line.slope / norm);
            for &(cx, cy) in &line.cells {
                let mut x = [0f32; INPUT];
                ocr::crop(&gray, cx, cy, s, s, cos, sin, &mut x);
                ocr::normalise(&mut x);
                let mut p = [0f32; N_CLASSES];
                net.probs(&x, &mut p);
                probs.push(p);
            }
        }
        if probs.len() != n * format.lines() {
            continue;
        }
        let r = decode(format, &probs);
        if r.valid {
            return Some(r);
        }
        if best.as_ref().is_none_or(|b| r.confidence > b.confidence) {
            best = Some(r);
        }
    }
    best
}

/// Which characters a position may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Allowed {
    /// `A–Z` and `<` (document code, country codes, names).
    Alpha,
    /// `0–9` (dates).
    Digit,
    /// `0–9` and `<` (check digits: `<` for an empty optional field).
    CheckDigit,
    /// `M`, `F`, `X`, `<`.
    Sex,
    /// Anything (document numbers, optional data).
    Any,
}

impl Allowed {
    fn allows(self, c: u8) -> bool {
        match self {
            Allowed::Alpha => c.is_ascii_uppercase() || c == b'<',
            Allowed::Digit => c.is_ascii_digit(),
            Allowed::CheckDigit => c.is_ascii_digit() || c == b'<',
            Allowed::Sex => matches!(c, b'M' | b'F' | b'X' | b'<'),
            Allowed::Any => true,
        }
    }
}

/// A field with a check digit: its positions (in the concatenated lines) and the check digit's.
struct Checked {
    field: Vec<usize>,
    check: usize,
}

/// The format's position rules and check-digit fields (ICAO 9303 parts 4–6), positions counted
/// in the concatenation of the lines. Also the positions only the composite covers.
fn rules(format: MrzFormat) -> (Vec<Allowed>, Vec<Checked>, Checked, Vec<usize>) {
    use Allowed::*;
    let n = format.width();
    let r = |a: usize, b: usize| (a..b).collect::<Vec<usize>>();
    let mut allowed = vec![Any; n * format.lines()];
    let mut set = |a: usize, b: usize, v: Allowed| {
        for x in allowed.iter_mut().take(b).skip(a) {
            *x = v;
        }
    };
    match format {
        MrzFormat::Td1 => {
            // Line 1: code 0–2, state 2–5, number 5–14, check 14, optional 15–30.
            set(0, 5, Alpha);
            set(14, 15, CheckDigit);
            // Line 2 (30–60): birth 0–6, check 6, sex 7, expiry 8–14, check 14, nationality
            // 15–18, optional 18–29, composite 29.
            set(30, 36, Digit);
            set(36, 37, CheckDigit);
            set(37, 38, Sex);
            set(38, 44, Digit);
            set(44, 45, CheckDigit);
            set(45, 48, Alpha);
            set(59, 60, CheckDigit);
            // Line 3: names.
            set(60, 90, Alpha);
            let checks = vec![
                Checked {
                    field: r(5, 14),
                    check: 14,
                },
                Checked {
                    field: r(30, 36),
                    check: 36,
                },
                Checked {
                    field: r(38, 44),
                    check: 44,
                },
            ];
            let composite = Checked {
                field: [r(5, 30), r(30, 37), r(38, 45), r(48, 59)].concat(),
                check: 59,
            };
            let free = [r(15, 30), r(48, 59)].concat();
            (allowed, checks, composite, free)
        }
        MrzFormat::Td2 | MrzFormat::Td3 => {
            // Line 1: code 0–2, state 2–5, names.
            set(0, n, Alpha);
            // Line 2: number 0–9, check 9, nationality 10–13, birth 13–19, check 19, sex 20,
            // expiry 21–27, check 27, then optional data and the composite.
            let l2 = n;
            set(l2 + 9, l2 + 10, CheckDigit);
            set(l2 + 10, l2 + 13, Alpha);
            set(l2 + 13, l2 + 19, Digit);
            set(l2 + 19, l2 + 20, CheckDigit);
            set(l2 + 20, l2 + 21, Sex);
            set(l2 + 21, l2 + 27, Digit);
            set(l2 + 27, l2 + 28, CheckDigit);
            set(2 * n - 1, 2 * n, CheckDigit);
            let mut checks = vec![
                Checked {
                    field: r(l2, l2 + 9),
                    check: l2 + 9,
                },
                Checked {
                    field: r(l2 + 13, l2 + 19),
                    check: l2 + 19,
                },
                Checked {
                    field: r(l2 + 21, l2 + 27),
                    check: l2 + 27,
                },
            ];
            let (composite, free) = if format == MrzFormat::Td3 {
                // Personal number 28–42, its check 42, composite 43.
                set(l2 + 42, l2 + 43, CheckDigit);
                checks.push(Checked {
                    field: r(l2 + 28, l2 + 42),
                    check: l2 + 42,
                });
                let c = Checked {
                    field: [r(l2, l2 + 10), r(l2 + 13, l2 + 20), r(l2 + 21, l2 + 43)].concat(),
                    check: l2 + 43,
                };
                (c, Vec::new())
            } else {
                // Optional data 28–35, composite 35.
                let c = Checked {
                    field: [r(l2, l2 + 10), r(l2 + 13, l2 + 20), r(l2 + 21, l2 + 35)].concat(),
                    check: l2 + 35,
                };
                (c, r(l2 + 28, l2 + 35))
            };
            (allowed, checks, composite, free)
        }
    }
}

/// ICAO 9303 character value (digits 0–9, letters 10–35, filler 0).
fn value(c: u8) -> usize {
    match c {
        b'0'..=b'9' => (c - b'0') as usize,
        b'A'..=b'Z' => (c - b'A') as usize + 10,
        _ => 0,
    }
}

const WEIGHTS: [usize; 3] = [7, 3, 1];

/// The most probable assignment of the `free` positions (among their candidates) such that the
/// weighted sum over `field` (the other positions fixed as in `chars`) matches the check digit
/// at `check` (itself chosen among its candidates unless it is fixed). A dynamic programme over
/// the partial sum modulo 10. Returns `false` when no candidate combination agrees.
fn repair(
    chars: &mut [u8],
    cands: &[Vec<(u8, f32)>],
    field: &[usize],
    free: &[usize],
    check: usize,
    check_free: bool,
) -> bool {
    // dp[s] = best log-probability reaching partial sum s, with back-pointers per step.
    let mut dp = [f32::NEG_INFINITY; 10];
    dp[0] = 0.0;
    let mut back: Vec<[(usize, u8); 10]> = Vec::new();
    let mut steps: Vec<usize> = Vec::new();
    for (k, &pos) in field.iter().enumerate() {
        let wt = WEIGHTS[k % 3];
        let options: Vec<(u8, f32)> = if free.contains(&pos) {
            cands.get(pos).cloned().unwrap_or_default()
        } else {
            vec![(chars.get(pos).copied().unwrap_or(b'<'), 0.0)]
        };
        let mut next = [f32::NEG_INFINITY; 10];
        let mut bp = [(0usize, b'<'); 10];
        for (s, &v) in dp.iter().enumerate() {
            if v == f32::NEG_INFINITY {
                continue;
            }
            for &(c, lp) in &options {
                let t = (s + value(c) * wt) % 10;
                if v + lp > next[t] {
                    next[t] = v + lp;
                    bp[t] = (s, c);
                }
            }
        }
        dp = next;
        back.push(bp);
        steps.push(pos);
    }
    let check_opts: Vec<(u8, f32)> = if check_free {
        cands.get(check).cloned().unwrap_or_default()
    } else {
        vec![(chars.get(check).copied().unwrap_or(b'<'), 0.0)]
    };
    let mut best: Option<(f32, usize, u8)> = None;
    for &(c, lp) in &check_opts {
        let s = value(c) % 10;
        let total = dp[s] + lp;
        if total > f32::NEG_INFINITY && best.is_none_or(|b| total > b.0) {
            best = Some((total, s, c));
        }
    }
    let Some((_, mut s, cd)) = best else {
        return false;
    };
    if let Some(x) = chars.get_mut(check) {
        *x = cd;
    }
    for (bp, &pos) in back.iter().zip(&steps).rev() {
        let (prev, c) = bp[s];
        if let Some(x) = chars.get_mut(pos) {
            *x = c;
        }
        s = prev;
    }
    true
}

/// From per-cell probabilities to a read: constrain, repair with check digits, parse.
fn decode(format: MrzFormat, probs: &[[f32; N_CLASSES]]) -> MrzRead {
    let (allowed, checks, composite, comp_free) = rules(format);
    // Candidates per position: allowed classes with probability ≥ ALT_MIN_PROB (renormalised
    // over the allowed ones), always at least the best allowed one; sorted best first.
    let cands: Vec<Vec<(u8, f32)>> = probs
        .iter()
        .zip(&allowed)
        .map(|(p, a)| {
            let mut v: Vec<(u8, f32)> = ocr::CLASSES
                .iter()
                .zip(p.iter())
                .filter(|(c, _)| a.allows(**c))
                .map(|(&c, &q)| (c, q))
                .collect();
            let z: f32 = v.iter().map(|x| x.1).sum::<f32>().max(1e-12);
            v.sort_by(|x, y| y.1.total_cmp(&x.1));
            let keep = v
                .iter()
                .take_while(|x| x.1 / z >= ALT_MIN_PROB)
                .count()
                .max(1);
            v.truncate(keep);
            v.into_iter()
                .map(|(c, q)| (c, (q / z).max(1e-9).ln()))
                .collect()
        })
        .collect();
    let mut chars: Vec<u8> = cands
        .iter()
        .map(|c| c.first().map_or(b'<', |x| x.0))
        .collect();
    for c in &checks {
        let mut tmp = chars.clone();
        if repair(&mut tmp, &cands, &c.field, &c.field, c.check, true) {
            chars = tmp;
        }
    }
    {
        let mut tmp = chars.clone();
        if repair(
            &mut tmp,
            &cands,
            &composite.field,
            &comp_free,
            composite.check,
            true,
        ) {
            chars = tmp;
        }
    }
    // Confidence: mean probability of the characters kept.
    let conf = {
        let total: f32 = chars
            .iter()
            .zip(&cands)
            .map(|(c, cs)| cs.iter().find(|x| x.0 == *c).map_or(0.0, |x| x.1.exp()))
            .sum();
        total / chars.len().max(1) as f32
    };
    let n = format.width();
    let lines: Vec<String> = chars
        .chunks(n)
        .map(|l| l.iter().map(|&c| c as char).collect())
        .collect();
    let parsed = match (format, lines.as_slice()) {
        (MrzFormat::Td1, [a, b, c]) => mrz::parse_td1(a, b, c).ok(),
        (MrzFormat::Td2, [a, b]) => mrz::parse_td2(a, b).ok(),
        (MrzFormat::Td3, [a, b]) => mrz::parse_td3(a, b).ok(),
        _ => None,
    };
    let valid = parsed.as_ref().is_some_and(|d| d.valid());
    let fields = parsed.map(|d| MrzFields {
        document_code: d.document_type.clone(),
        issuing_state: d.issuing_country.clone(),
        document_number: d.full_document_number().to_string(),
        surname: d.surname.clone(),
        given_names: d.given_names.clone(),
        nationality: d.nationality.clone(),
        date_of_birth: d.date_of_birth.to_string(),
        sex: match d.sex {
            mrz::Sex::Male => "M".to_string(),
            mrz::Sex::Female => "F".to_string(),
            mrz::Sex::Unspecified => "X".to_string(),
            mrz::Sex::NonConformant(c) => c.to_string(),
            _ => "X".to_string(),
        },
        expiry_date: d.date_of_expiry.to_string(),
        optional_data: [&d.optional_data_1, &d.optional_data_2]
            .into_iter()
            .flatten()
            .map(|s| s.trim_matches('<').replace('<', " "))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    });
    MrzRead {
        format,
        lines,
        valid,
        fields,
        confidence: conf,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(s: &str) -> Vec<[f32; N_CLASSES]> {
        s.bytes()
            .map(|c| {
                let mut p = [0.001f32; N_CLASSES];
                if let Some(i) = ocr::CLASSES.iter().position(|&k| k == c) {
                    p[i] = 0.96;
                }
                p
            })
            .collect()
    }

    #[test]
    fn decode_valid_and_repairs_with_check_digits() {
        let td3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10";
        let r = decode(MrzFormat::Td3, &one_hot(td3));
        assert!(r.valid);
        assert_eq!(r.lines.concat(), td3);
        let f = r.fields.unwrap();
        assert_eq!(f.date_of_birth, "1974-08-12");
        assert_eq!(f.expiry_date, "2012-04-15");
        assert_eq!(f.sex, "F");
        // A digit read as a letter in a date is masked back to the digit.
        let mut p = one_hot(td3);
        let o = ocr::CLASSES.iter().position(|&k| k == b'O').unwrap();
        let z = ocr::CLASSES.iter().position(|&k| k == b'0').unwrap();
        p[44 + 14][o] = 0.9;
        p[44 + 14][z] = 0.05;
        assert!(decode(MrzFormat::Td3, &p).valid);
        // In the document number, 8 read as B (second choice 8) is repaired by its check digit.
        let mut p = one_hot(td3);
        let b = ocr::CLASSES.iter().position(|&k| k == b'B').unwrap();
        let e = ocr::CLASSES.iter().position(|&k| k == b'8').unwrap();
        p[44 + 1][b] = 0.7;
        p[44 + 1][e] = 0.25;
        let r = decode(MrzFormat::Td3, &p);
        assert!(r.valid, "{:?}", r.lines);
        // Without a plausible alternative, no repair: the read stays invalid.
        let mut p = one_hot(td3);
        p[44 + 1][b] = 0.96;
        p[44 + 1][e] = 0.0001;
        assert!(!decode(MrzFormat::Td3, &p).valid);
    }

    #[test]
    fn decode_td1() {
        let td1 = "I<UTOL898902C36<<<<<<<<<<<<<<<7408122F1204159UTO<<<<<<<<<<<8ERIKSSON<<ANNA<MARIA<<<<<<<<<<";
        let r = decode(MrzFormat::Td1, &one_hot(td1));
        assert!(r.valid, "{:?}", r.lines);
        assert_eq!(r.fields.unwrap().document_number, "L898902C3");
    }

    #[test]
    fn odd_inputs_never_panic() {
        let q = Quad::default();
        for (w, h) in [(0, 0), (1, 1), (7, 300), (300, 7), (50, 40)] {
            let img = vec![128u8; w * h];
            let _ = read(&img, w, h, None, DocumentKind::Id1);
            let _ = read(&img, w, h, Some(&q), DocumentKind::Td3);
        }
        // A buffer shorter than w × h.
        assert!(read(&[0u8; 10], 100, 100, None, DocumentKind::Id1).is_none());
        let mut nan = Quad::default();
        nan.corners[0].x = f32::NAN;
        assert!(read(
            &vec![0u8; 640 * 480],
            640,
            480,
            Some(&nan),
            DocumentKind::Id1
        )
        .is_none());
    }
}
