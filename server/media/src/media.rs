//! What an uploaded capture is, from its bytes alone: the format by magic bytes, and an image's
//! pixel size from its header (JPEG SOFn, PNG IHDR, WebP VP8/VP8L/VP8X). No decoding here: the
//! full, bounded decode is `decode.rs`. Images only: the form sends frames, never clips.

use liveform_core::flow::CaptureSlot;

/// An accepted format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Jpeg,
    Png,
    Webp,
}

impl Media {
    pub fn content_type(self) -> &'static str {
        match self {
            Media::Jpeg => "image/jpeg",
            Media::Png => "image/png",
            Media::Webp => "image/webp",
        }
    }
}

/// Bytes needed to recognise every format.
pub const SNIFF_LEN: usize = 12;

/// The format of `head` (its first [`SNIFF_LEN`] bytes or more).
pub fn sniff(head: &[u8]) -> Option<Media> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Media::Jpeg)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Media::Png)
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(Media::Webp)
    } else {
        None
    }
}

/// Whether the declared `content-type` (parameters ignored) names `m`.
pub fn declared_matches(declared: &str, m: Media) -> bool {
    let base = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    base == m.content_type() || (m == Media::Jpeg && base == "image/jpg")
}

/// Width and height from an image header.
pub fn dimensions(m: Media, data: &[u8]) -> Option<(u32, u32)> {
    match m {
        Media::Png => png_size(data),
        Media::Jpeg => jpeg_size(data),
        Media::Webp => webp_size(data),
    }
}

fn be16(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?])))
}

fn be32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn le16(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?])))
}

fn le24(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from(*b.get(i)?) | u32::from(*b.get(i + 1)?) << 8 | u32::from(*b.get(i + 2)?) << 16)
}

fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.get(12..16)? != b"IHDR" {
        return None;
    }
    Some((be32(b, 16)?, be32(b, 20)?))
}

fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    loop {
        // Skip fill bytes before a marker.
        while *b.get(i)? == 0xFF && *b.get(i + 1)? == 0xFF {
            i += 1;
        }
        if *b.get(i)? != 0xFF {
            return None;
        }
        let marker = *b.get(i + 1)?;
        match marker {
            // Standalone markers.
            0x01 | 0xD0..=0xD7 => {
                i += 2;
                continue;
            }
            0xD9 | 0xDA => return None, // end of image / start of scan before any SOF
            _ => {}
        }
        let len = be16(b, i + 2)? as usize;
        if len < 2 {
            return None;
        }
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let h = be16(b, i + 5)?;
            let w = be16(b, i + 7)?;
            return Some((w, h));
        }
        i += 2 + len;
    }
}

fn webp_size(b: &[u8]) -> Option<(u32, u32)> {
    match b.get(12..16)? {
        b"VP8 " => {
            // Frame tag (3) + start code 9d 01 2a, then 14-bit width/height.
            if b.get(23..26)? != [0x9d, 0x01, 0x2a] {
                return None;
            }
            Some((le16(b, 26)? & 0x3FFF, le16(b, 28)? & 0x3FFF))
        }
        b"VP8L" => {
            if *b.get(20)? != 0x2f {
                return None;
            }
            let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => Some((le24(b, 24)? + 1, le24(b, 27)? + 1)),
        _ => None,
    }
}

/// Pixel limits per slot: the shorter side at least `min_short`, neither side above
/// [`MAX_SIDE`], at most [`MAX_PIXELS`] in all (decompression bombs).
pub fn min_short_side(slot: CaptureSlot) -> u32 {
    match slot {
        // A card photographed at 640×480 is the least that stays legible.
        CaptureSlot::DocumentFront | CaptureSlot::DocumentBack => 480,
        // ARGOS: the selfie at least 480 px high (its shorter side here).
        CaptureSlot::Selfie => liveform_core::selfie::MIN_CAPTURE_SIDE_PX,
        // Liveness frames are the detector's analysed frames (320 px on the long side, so
        // 320x180 from a 16:9 camera); the detector itself looks at 128x128.
        CaptureSlot::Liveness => 180,
    }
}

pub const MAX_SIDE: u32 = 8192;
/// Liveness frames are the detector's 320 px frames; anything much larger is not the form's and
/// only costs the verification pool (the detector looks at 128×128).
pub const MAX_LIVENESS_SIDE: u32 = 1280;
pub const MAX_PIXELS: u64 = 40_000_000;

/// Checks an image's size for `slot`; the error is an English detail.
pub fn check_dimensions(slot: CaptureSlot, w: u32, h: u32) -> Result<(), String> {
    let short = w.min(h);
    let min = min_short_side(slot);
    if short < min {
        return Err(format!(
            "{w}x{h}: the shorter side must be at least {min} px"
        ));
    }
    if slot == CaptureSlot::Liveness && w.max(h) > MAX_LIVENESS_SIDE {
        return Err(format!(
            "{w}x{h}: liveness frames are at most {MAX_LIVENESS_SIDE} px a side"
        ));
    }
    if w.max(h) > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!(
            "{w}x{h}: at most {MAX_SIDE} px a side and {MAX_PIXELS} pixels"
        ));
    }
    Ok(())
}

/// Test images: the smallest valid headers of each format with the given size.
pub mod fixtures {
    /// A PNG signature and IHDR (no image data: enough for every check here).
    pub fn png(w: u32, h: u32) -> Vec<u8> {
        let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        v
    }

    /// A JPEG with an APP0 segment then SOF0.
    pub fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        v.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]);
        v
    }

    /// A WebP (VP8X) header.
    pub fn webp(w: u32, h: u32) -> Vec<u8> {
        let mut v = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        v.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
        v.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_and_sizes() {
        let p = fixtures::png(1280, 720);
        assert_eq!(sniff(&p), Some(Media::Png));
        assert_eq!(dimensions(Media::Png, &p), Some((1280, 720)));
        let j = fixtures::jpeg(1920, 1080);
        assert_eq!(sniff(&j), Some(Media::Jpeg));
        assert_eq!(dimensions(Media::Jpeg, &j), Some((1920, 1080)));
        let w = fixtures::webp(640, 480);
        assert_eq!(sniff(&w), Some(Media::Webp));
        assert_eq!(dimensions(Media::Webp, &w), Some((640, 480)));
        // Clips are not accepted any more (the form never records one).
        assert_eq!(
            sniff(&[0x1A, 0x45, 0xDF, 0xA3, 0, 0, 0, 0, 0, 0, 0, 0]),
            None
        );
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), None);
        assert_eq!(sniff(b"GIF89a......"), None);
        assert_eq!(sniff(b"%PDF-1.7...."), None);
        assert_eq!(dimensions(Media::Jpeg, &j[..20]), None, "truncated");
        assert_eq!(dimensions(Media::Png, &p[..18]), None);
    }

    #[test]
    fn real_world_webp_variants() {
        // VP8 (lossy) 16x9.
        let mut v = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0".to_vec();
        v.extend_from_slice(&[0, 0, 0, 0x9d, 0x01, 0x2a, 16, 0, 9, 0]);
        assert_eq!(dimensions(Media::Webp, &v), Some((16, 9)));
        // VP8L (lossless) 3x2: (w-1) | (h-1) << 14.
        let bits: u32 = 2 | (1 << 14);
        let mut l = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        l.extend_from_slice(&bits.to_le_bytes());
        assert_eq!(dimensions(Media::Webp, &l), Some((3, 2)));
    }

    #[test]
    fn declared_type_must_agree() {
        assert!(declared_matches("image/jpeg", Media::Jpeg));
        assert!(declared_matches("IMAGE/JPG", Media::Jpeg));
        assert!(declared_matches("image/webp;q=1", Media::Webp));
        assert!(!declared_matches("image/png", Media::Jpeg));
    }

    #[test]
    fn limits_per_slot() {
        assert!(check_dimensions(CaptureSlot::DocumentFront, 640, 480).is_ok());
        assert!(check_dimensions(CaptureSlot::DocumentFront, 640, 360).is_err());
        assert!(check_dimensions(CaptureSlot::Liveness, 320, 180).is_ok());
        assert!(check_dimensions(CaptureSlot::Liveness, 320, 170).is_err());
        assert!(check_dimensions(CaptureSlot::Liveness, 1920, 1080).is_err());
        assert!(check_dimensions(CaptureSlot::Selfie, 640, 480).is_ok());
        assert!(
            check_dimensions(CaptureSlot::Selfie, 480, 360).is_err(),
            "ARGOS: 480 px"
        );
        assert!(check_dimensions(CaptureSlot::Selfie, 8193, 1000).is_err());
        assert!(check_dimensions(CaptureSlot::Selfie, 8000, 8000).is_err());
    }
}
