//! MRZ reading on the repo's reference images (rendered with Pillow, a renderer the classifier's
//! training never used): the flat TD1 card (`tests/media/id_card_flat.png`, copied from the
//! shared reference media) and the flat TD3 page, the card's back, the card warped onto gravel at
//! 640×480 and 1920×1080 with the outline the crate's `Analyser` finds, and frames without an
//! MRZ. Run with `--nocapture` for the timings and confidences.

use liveform_vision::mrz::{read, MrzFormat};
use liveform_vision::{Analyser, DocumentKind};

const OWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/media");
const CORE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/media");

fn load(path: &str) -> (Vec<u8>, Vec<u8>, usize, usize) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut reader = png::Decoder::new(file).read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let (w, h) = (info.width as usize, info.height as usize);
    let ch = info.color_type.samples();
    let mut rgba = Vec::with_capacity(w * h * 4);
    let mut luma = Vec::with_capacity(w * h);
    for px in buf[..w * h * ch].chunks(ch) {
        let (r, g, b) = if ch >= 3 {
            (px[0], px[1], px[2])
        } else {
            (px[0], px[0], px[0])
        };
        rgba.extend_from_slice(&[r, g, b, 255]);
        luma.push(((299 * r as u32 + 587 * g as u32 + 114 * b as u32 + 500) / 1000) as u8);
    }
    (rgba, luma, w, h)
}

fn expected(name: &str) -> Vec<String> {
    std::fs::read_to_string(format!("{OWN}/{name}"))
        .expect("expected MRZ")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn flat_td1_card_reads_exactly() {
    let (_, luma, w, h) = load(&format!("{OWN}/id_card_flat.png"));
    let t = std::time::Instant::now();
    let r = read(&luma, w, h, None, DocumentKind::Id1).expect("an MRZ");
    println!(
        "flat TD1 {:?} in {:?}: {:?}",
        r.confidence,
        t.elapsed(),
        r.lines
    );
    assert_eq!(r.format, MrzFormat::Td1);
    assert_eq!(r.lines, expected("mrz.txt"));
    assert!(r.valid);
    let f = r.fields.expect("fields");
    assert_eq!(f.surname, "ERIKSSON");
    assert_eq!(f.given_names, "ANNA MARIA");
    assert_eq!(f.date_of_birth, "1974-08-12");
    assert_eq!(f.expiry_date, "2012-04-15");
    assert_eq!(f.sex, "F");
    assert_eq!(f.document_number, "L898902C3");
}

#[test]
fn flat_td3_page_reads_exactly() {
    let (_, luma, w, h) = load(&format!("{CORE}/passport_td3_flat.png"));
    let r = read(&luma, w, h, None, DocumentKind::Td3).expect("an MRZ");
    println!("flat TD3 {:?}: {:?}", r.confidence, r.lines);
    assert_eq!(r.format, MrzFormat::Td3);
    assert_eq!(r.lines, expected("passport_mrz.txt"));
    assert!(r.valid);
    assert_eq!(r.fields.expect("fields").optional_data, "ZE184226B");
}

#[test]
fn flat_card_upside_down_reads() {
    let (_, mut luma, w, h) = load(&format!("{OWN}/id_card_flat.png"));
    luma.reverse();
    let r = read(&luma, w, h, None, DocumentKind::Id1).expect("an MRZ");
    assert_eq!(r.lines, expected("mrz.txt"));
    assert!(r.valid);
}

#[test]
fn card_back_reads() {
    let (_, luma, w, h) = load(&format!("{CORE}/id_card_back_flat.png"));
    let r = read(&luma, w, h, None, DocumentKind::Id1).expect("an MRZ");
    assert_eq!(r.lines, expected("mrz.txt"));
    assert!(r.valid);
}

/// The warped cards, with the outline the crate's own analyser finds on the frame.
fn warped(name: &str) -> Option<liveform_vision::mrz::MrzRead> {
    let (rgba, luma, w, h) = load(&format!("{CORE}/{name}"));
    let report = Analyser::new()
        .analyse_rgba(&rgba, w, h, DocumentKind::Id1)
        .expect("a frame");
    let quad = report.quad.expect("an outline");
    let t = std::time::Instant::now();
    let r = read(&luma, w, h, Some(&quad), DocumentKind::Id1);
    println!(
        "{name}: {:?} in {:?}",
        r.as_ref().map(|r| (r.valid, r.confidence, r.lines.clone())),
        t.elapsed()
    );
    r
}

#[test]
fn warped_card_1920x1080_reads() {
    let r = warped("card_1920x1080.png").expect("an MRZ");
    assert_eq!(r.lines, expected("mrz.txt"));
    assert!(r.valid);
}

#[test]
fn warped_card_640x480_reads() {
    let r = warped("card_640x480.png").expect("an MRZ");
    assert_eq!(r.lines, expected("mrz.txt"));
    assert!(r.valid);
}

#[test]
fn noise_and_documents_without_mrz_never_validate() {
    // Uniform noise (a fixed xorshift stream).
    let (w, h) = (640, 480);
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..w * h)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect();
    for kind in [DocumentKind::Id1, DocumentKind::Td3] {
        let r = read(&noise, w, h, None, kind);
        assert!(r.as_ref().is_none_or(|r| !r.valid), "noise: {r:?}");
    }
    // Gravel without a card, and the flat card with its MRZ zone painted over (a document
    // front without an MRZ: photo, fields, the title bar).
    let (_, gravel, w, h) = load(&format!("{CORE}/gravel_640x480.png"));
    assert!(read(&gravel, w, h, None, DocumentKind::Id1).is_none_or(|r| !r.valid));
    let (_, mut card, w, h) = load(&format!("{OWN}/id_card_flat.png"));
    for v in &mut card[400 * w..] {
        *v = 240;
    }
    let r = read(&card, w, h, None, DocumentKind::Id1);
    println!("front without MRZ: {r:?}");
    assert!(r.as_ref().is_none_or(|r| !r.valid));
    // The selfie as a "document".
    let (_, selfie, w, h) = load(&format!("{CORE}/selfie_640x480.png"));
    for kind in [DocumentKind::Id1, DocumentKind::Td3] {
        assert!(read(&selfie, w, h, None, kind).is_none_or(|r| !r.valid));
    }
}
