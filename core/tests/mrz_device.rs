//! Issue 19 item 3: the read the form runs on the photo it is about to send
//! (`core::document::read_still`: the gate's outline, then the MRZ), on the stills the
//! end-to-end camera feeds show (scripts/make-feeds.sh), as the server runs it on the upload.

use liveform_core::document::{read_still, MrzLayout};

fn rgba(name: &str) -> (usize, usize, Vec<u8>) {
    let path = format!("{}/tests/media/{name}", env!("CARGO_MANIFEST_DIR"));
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    let ch = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Grayscale => 1,
        c => panic!("{name}: {c:?}"),
    };
    let px = buf[..info.buffer_size()]
        .chunks_exact(ch)
        .flat_map(|p| match ch {
            1 => [p[0], p[0], p[0], 255],
            _ => [p[0], p[1], p[2], 255],
        })
        .collect();
    (info.width as usize, info.height as usize, px)
}

#[test]
fn the_passport_feed_and_the_card_back_read_with_valid_check_digits() {
    let (w, h, px) = rgba("passport_scene_640x480.png");
    let d = read_still(&px, w, h, MrzLayout::Td3).expect("the passport's zone");
    assert!(d.mrz_valid, "{d:?}");
    assert_eq!(
        (d.surname.as_str(), d.given_names.as_str()),
        ("ERIKSSON", "ANNA MARIA")
    );
    assert_eq!(d.document_number, "L898902C3");
    assert_eq!(d.date_of_birth, "1974-08-12");
    let (w, h, px) = rgba("card_back_640x480.png");
    let d = read_still(&px, w, h, MrzLayout::Td1).expect("the card's zone");
    assert!(d.mrz_valid, "{d:?}");
    assert_eq!(d.layout, MrzLayout::Td1);
    assert_eq!(d.surname, "ERIKSSON");
}

#[test]
fn a_side_without_a_zone_reads_nothing_valid() {
    // (The repo's specimen card carries its zone on the front too: not a case here.)
    for name in ["gravel_640x480.png", "selfie_640x480.png"] {
        let (w, h, px) = rgba(name);
        for layout in [MrzLayout::Td1, MrzLayout::Td3] {
            let d = read_still(&px, w, h, layout);
            assert!(d.is_none_or(|d| !d.mrz_valid), "{name} {layout:?}");
        }
    }
}
