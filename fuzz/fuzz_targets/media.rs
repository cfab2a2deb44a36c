//! Uploads: `sniff`, `declared_matches`, `dimensions`, `check_dimensions` and the complete,
//! bounded `decode`, as the server runs them on an upload's bytes.
//!
//! Input: one byte choosing the decode limits, then the file. Seeds: small JPEG (baseline,
//! progressive, EXIF-rotated), PNG and WebP (lossy, lossless) files.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liveform_core::flow::CaptureSlot;
use liveform_media::decode::{decode, DecodeError, Limits};
use liveform_media::media::{self, Media};

/// Limits scaled down from `Limits::DEFAULT` (a fuzzer's file is small, and a decode that may hold
/// 64 MiB only slows the run), two with decode caps that refuse most files (a PNG's decode needs
/// over 8 MiB: the inflate window and the metadata budget), so that refusal is reached too.
const LIMITS: [Limits; 4] = [
    Limits {
        max_side: 512,
        max_pixels: 262_144,
        max_decode_bytes: 12 << 20,
    },
    Limits {
        max_side: 2048,
        max_pixels: 2_000_000,
        max_decode_bytes: 16 << 20,
    },
    Limits {
        max_side: 2048,
        max_pixels: 2_000_000,
        max_decode_bytes: 64 << 10,
    },
    Limits {
        max_side: 64,
        max_pixels: 4096,
        max_decode_bytes: 1 << 20,
    },
];

const SLOTS: [CaptureSlot; 4] = [
    CaptureSlot::DocumentFront,
    CaptureSlot::DocumentBack,
    CaptureSlot::Selfie,
    CaptureSlot::Liveness,
];

fuzz_target!(|input: &[u8]| {
    let Some((&sel, data)) = input.split_first() else {
        return;
    };
    let limits = &LIMITS[usize::from(sel & 3)];

    let sniffed = media::sniff(data);
    // The format follows from the first bytes alone.
    assert_eq!(
        media::sniff(&data[..data.len().min(media::SNIFF_LEN)]),
        sniffed
    );
    let declared = String::from_utf8_lossy(&data[..data.len().min(40)]);
    for m in [Media::Jpeg, Media::Png, Media::Webp] {
        let _ = media::declared_matches(&declared, m);
        assert!(media::declared_matches(m.content_type(), m));
        // The server decodes only what sniffed as `m`; a mismatch must still fail cleanly.
        if Some(m) != sniffed && sel & 4 != 0 {
            if let Ok(d) = decode(m, data, limits) {
                check_decoded(&d, None, limits);
            }
        }
    }
    let Some(kind) = sniffed else {
        return;
    };
    let header = media::dimensions(kind, data);
    if let Some((w, h)) = header {
        for slot in SLOTS {
            if media::check_dimensions(slot, w, h).is_ok() {
                assert!(w.min(h) >= media::min_short_side(slot));
                assert!(w.max(h) <= media::MAX_SIDE);
                assert!(u64::from(w) * u64::from(h) <= media::MAX_PIXELS);
            }
        }
    }
    match decode(kind, data, limits) {
        Ok(d) => check_decoded(&d, header, limits),
        Err(DecodeError::NoHeader) => assert!(header.is_none()),
        Err(e) => {
            let _ = e.to_string();
        }
    }
});

/// A decoded image is within the limits, its buffer is exactly RGBA, and its size is the header's
/// (swapped by an EXIF rotation).
fn check_decoded(d: &liveform_media::decode::Decoded, header: Option<(u32, u32)>, limits: &Limits) {
    assert!(d.width > 0 && d.height > 0);
    assert!(d.width <= limits.max_side && d.height <= limits.max_side);
    assert!(u64::from(d.width) * u64::from(d.height) <= limits.max_pixels);
    assert_eq!(
        d.rgba.len() as u64,
        u64::from(d.width) * u64::from(d.height) * 4
    );
    if let Some((w, h)) = header {
        assert!(
            (d.width, d.height) == (w, h) || (d.width, d.height) == (h, w),
            "header {w}x{h}, decoded {}x{}",
            d.width,
            d.height
        );
    }
}
