//! The machine-readable zone's reader on whatever a person uploads: `document::read_document`
//! (the server's path: the gate's outline given, any values) and `document::read_still` (the
//! device's and the API's path: the gate finds the outline), on small images whose every pixel
//! the fuzzer chooses. Must never panic (a panic would take a verification worker with it) and
//! never call a read valid whose fields are malformed.
//!
//! Input: width and height bytes (16–271 × 16–207), the layout byte, an outline flag byte and
//! eight outline bytes (corners spread over -0.5..1.5 of the frame), then the pixels (repeated
//! to fill the image).
#![no_main]

use libfuzzer_sys::fuzz_target;
use liveform_core::document::{read_document, read_still, DocumentData, MrzLayout};
use liveform_core::vision::{Point, Quad};

fn check(d: Option<DocumentData>) {
    let Some(d) = d else { return };
    if d.mrz_valid {
        for date in [&d.date_of_birth, &d.expiry_date] {
            assert!(date.is_empty() || date.len() == 10, "{date:?}");
        }
        assert!(matches!(d.sex.as_str(), "M" | "F" | "X"), "{:?}", d.sex);
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let (w, h) = (16 + data[0] as usize, 16 + (data[1] as usize) % 192);
    let layout = [MrzLayout::Td1, MrzLayout::Td2, MrzLayout::Td3][data[2] as usize % 3];
    let c = |b: u8| b as f32 / 127.5 - 0.5;
    let outline = (data[3] & 1 == 1).then(|| Quad {
        corners: [
            Point {
                x: c(data[4]),
                y: c(data[5]),
            },
            Point {
                x: c(data[6]),
                y: c(data[7]),
            },
            Point {
                x: c(data[8]),
                y: c(data[9]),
            },
            Point {
                x: c(data[10]),
                y: c(data[11]),
            },
        ],
    });
    let px = &data[12..];
    let luma: Vec<u8> = if px.is_empty() {
        vec![255; w * h]
    } else {
        px.iter().copied().cycle().take(w * h).collect()
    };
    check(read_document(&luma, w, h, outline.as_ref(), layout));
    let rgba: Vec<u8> = luma.iter().flat_map(|&v| [v, v, v, 255]).collect();
    check(read_still(&rgba, w, h, layout));
    // Wrong sizes for the buffer: refused, not read past.
    check(read_document(&luma, w + 1, h, outline.as_ref(), layout));
});
