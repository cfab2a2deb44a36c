//! Bounded, complete decoding of an uploaded still image (JPEG, PNG, WebP) into upright RGBA, so
//! that the server can analyse the pixels itself.
//!
//! Every image goes through the same gates, in this order, and none of the first three allocates
//! anything in proportion to the pixel count:
//!
//! 1. **Header limits.** The size is read from the header ([`crate::media::dimensions`]); over
//!    [`Limits::max_side`] or [`Limits::max_pixels`] → [`DecodeError::TooLarge`].
//! 2. **Structure.** The container is walked without decoding: a JPEG's markers up to its end of
//!    image (EOI), counting the scans (at most [`MAX_SCANS`]); a WebP's RIFF chunks (every declared
//!    chunk present, the frame's own size equal to the canvas); a PNG's chunks up to the first
//!    IDAT (by the png crate). A file that ends early is [`DecodeError::Truncated`]; one with
//!    headers and no image data is refused too.
//! 3. **Decode cap.** The bytes the decoder will hold at once are computed from the header:
//!    our RGBA buffer (the crates write RGB, grey or RGBA into its front and we widen it in place),
//!    the crate's own planes (a progressive JPEG's coefficients, a lossy WebP's YUV planes, a
//!    lossless WebP's ARGB copy, PNG row buffers and the inflate window), metadata copies (at most
//!    the file's size) and the bitmap of the in-place rotation. Over
//!    [`Limits::max_decode_bytes`] → [`DecodeError::OverDecodeCap`]. So a decompression bomb (half a
//!    megabyte of flat 7000×5000 JPEG that would take 141 MB) is refused before any pixel buffer
//!    exists.
//! 4. **Decode**, strictly: the whole image must decode as the type it claims. zune-jpeg runs in
//!    strict mode; a baseline JPEG is handed to it *without* its EOI marker, because zune pads a
//!    scan that stops at a marker with zeros (grey) but fails at the real end of the input; PNG's
//!    decoder must reach IEND; WebP's decoders fail on reads past their chunk.
//! 5. **Orientation.** The EXIF orientation (JPEG APP1 Exif, PNG eXIf, WebP EXIF) is applied in
//!    place, so the pixels come back upright; orientations 5–8 swap width and height.
//!
//! Known gaps: a *progressive* JPEG whose last scan was cut and re-terminated with an EOI marker
//! decodes with its missing coefficients as zeros (zune pads after a marker; the decoder's read
//! position is not public). A baseline JPEG cut within the last ≤4 bytes of its final MCU row and
//! re-terminated likewise slips through (zune pads up to 4 bytes at the real end of input).
//! Neither is a plain truncation (those have no EOI and are refused in step 2).

use std::io::Cursor;

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::errors::DecodeErrors;
use zune_jpeg::JpegDecoder;

use crate::media::{self, Media};

/// At most this many scans (SOS markers) in one JPEG. Each scan of a progressive JPEG is one more
/// pass over every coefficient of the image, so the count bounds the decode time; libjpeg's
/// default progressive script has 10 scans, a baseline file 1 (or one per component). 16 leaves
/// room for other encoders' scripts while a few-KB file cannot ask for dozens of passes over a
/// 16-megapixel image (the decode time is bounded by scans × pixels).
pub const MAX_SCANS: u32 = 16;

/// Metadata the PNG and WebP crates may copy (text chunks, ICC profiles, EXIF).
const METADATA_BUDGET: usize = 8 << 20;

/// What one decode may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Neither side above this (header limit).
    pub max_side: u32,
    /// At most this many pixels (header limit).
    pub max_pixels: u64,
    /// At most this many bytes held by the decoder and our buffers at once (decode cap).
    pub max_decode_bytes: u64,
}

impl Limits {
    /// The header limits of [`crate::media`] and a 64 MiB decode cap: a 12-megapixel phone photo
    /// (baseline JPEG, any orientation) fits with room; a progressive JPEG up to about 8 MP.
    pub const DEFAULT: Limits = Limits {
        max_side: media::MAX_SIDE,
        max_pixels: media::MAX_PIXELS,
        max_decode_bytes: 64 << 20,
    };
}

/// A decoded image, upright (EXIF orientation applied): `rgba.len() == width * height * 4`.
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl std::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Decoded({}x{}, {} bytes)",
            self.width,
            self.height,
            self.rgba.len()
        )
    }
}

/// Why an upload could not be decoded; each message is a short English detail.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the image header is missing or unreadable")]
    NoHeader,
    #[error("{width}x{height} is too large: at most {max_side} px a side and {max_pixels} pixels")]
    TooLarge {
        width: u32,
        height: u32,
        max_side: u32,
        max_pixels: u64,
    },
    #[error("decoding {width}x{height} would take {needed} bytes, over the {cap}-byte decode cap")]
    OverDecodeCap {
        width: u32,
        height: u32,
        needed: u64,
        cap: u64,
    },
    #[error("the JPEG has more than {max} scans")]
    TooManyScans { max: u32 },
    #[error("the image is truncated")]
    Truncated,
    #[error("the image data is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported image variant: {0}")]
    Unsupported(String),
    #[error("out of memory for the image")]
    OutOfMemory,
}

fn corrupt(detail: &str) -> DecodeError {
    DecodeError::Corrupt(detail.to_string())
}

/// Decodes `data`, which sniffed as `kind`, completely and within `limits`.
pub fn decode(kind: Media, data: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    let (width, height) = media::dimensions(kind, data).ok_or(DecodeError::NoHeader)?;
    check_header(width, height, limits)?;
    let size = Size { width, height };
    match kind {
        Media::Jpeg => decode_jpeg(data, size, limits),
        Media::Png => decode_png(data, size, limits),
        Media::Webp => decode_webp(data, size, limits),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Size {
    width: u32,
    height: u32,
}

impl Size {
    fn pixels(self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

fn check_header(width: u32, height: u32, limits: &Limits) -> Result<(), DecodeError> {
    if width == 0 || height == 0 {
        return Err(corrupt("zero width or height"));
    }
    if width.max(height) > limits.max_side
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        return Err(DecodeError::TooLarge {
            width,
            height,
            max_side: limits.max_side,
            max_pixels: limits.max_pixels,
        });
    }
    Ok(())
}

fn check_cost(size: Size, needed: u64, limits: &Limits) -> Result<(), DecodeError> {
    if needed > limits.max_decode_bytes {
        return Err(DecodeError::OverDecodeCap {
            width: size.width,
            height: size.height,
            needed,
            cap: limits.max_decode_bytes,
        });
    }
    Ok(())
}

/// The RGBA buffer (`pixels * 4` bytes), allocated fallibly.
fn rgba_buffer(size: Size) -> Result<Vec<u8>, DecodeError> {
    let len = usize::try_from(size.pixels() * 4).map_err(|_| DecodeError::OutOfMemory)?;
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| DecodeError::OutOfMemory)?;
    v.resize(len, 0);
    Ok(v)
}

/// Bytes of the bitmap that the in-place transposition of orientations 5–8 needs.
fn orientation_cost(orientation: u16, pixels: u64) -> u64 {
    if (5..=8).contains(&orientation) {
        pixels.div_ceil(64) * 8
    } else {
        0
    }
}

// ---------------------------------------------------------------------------------------------
// JPEG

/// What the marker walk found.
#[derive(Debug)]
struct JpegLayout {
    size: Size,
    progressive: bool,
    /// (horizontal, vertical) sampling factor of each component.
    sampling: Vec<(u8, u8)>,
    /// Components in the first scan (fewer than the frame's: non-interleaved).
    first_scan_components: usize,
    /// Offset of the EOI marker's 0xFF.
    eoi: usize,
    orientation: u16,
}

fn be16(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

/// Walks the markers from SOI to the first EOI (what follows the EOI, such as the secondary
/// images of an MPF file, is ignored), skipping the entropy-coded data of each scan.
fn walk_jpeg(data: &[u8]) -> Result<JpegLayout, DecodeError> {
    use DecodeError::Truncated;
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err(corrupt("no JPEG start-of-image marker"));
    }
    let mut frame: Option<Frame> = None;
    let mut scans = 0u32;
    let mut first_scan_components = 0usize;
    let mut orientation = None;
    let mut i = 2;
    loop {
        if *data.get(i).ok_or(Truncated)? != 0xFF {
            return Err(corrupt("bytes where a JPEG marker should be"));
        }
        // Fill bytes before the marker code.
        while data.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let code = *data.get(i + 1).ok_or(Truncated)?;
        match code {
            0xD9 => {
                let Some(Frame {
                    size,
                    progressive,
                    sampling,
                }) = frame
                else {
                    return Err(corrupt("no frame header before the end of image"));
                };
                if scans == 0 {
                    return Err(corrupt("no image data before the end of image"));
                }
                return Ok(JpegLayout {
                    size,
                    progressive,
                    sampling,
                    first_scan_components,
                    eoi: i,
                    orientation: orientation.unwrap_or(1),
                });
            }
            0x01 | 0xD0..=0xD7 => {
                i += 2;
                continue;
            }
            0x00 | 0xD8 => return Err(corrupt("an unexpected JPEG marker")),
            _ => {}
        }
        let len = usize::from(be16(data, i + 2).ok_or(Truncated)?);
        if len < 2 {
            return Err(corrupt("a JPEG segment shorter than its length field"));
        }
        let end = i + 2 + len;
        let seg = data.get(i + 4..end).ok_or(Truncated)?;
        match code {
            0xC0..=0xC2 => {
                if frame.is_some() {
                    return Err(corrupt("two JPEG frame headers"));
                }
                frame = Some(parse_sof(seg, code == 0xC2)?);
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(DecodeError::Unsupported(
                    "lossless, hierarchical or arithmetic-coded JPEG".into(),
                ));
            }
            0xE1 if orientation.is_none() => {
                if let Some(tiff) = seg.strip_prefix(b"Exif\0\0") {
                    orientation = exif_orientation(tiff);
                }
            }
            0xDA => {
                if frame.is_none() {
                    return Err(corrupt("a JPEG scan before the frame header"));
                }
                scans += 1;
                if scans > MAX_SCANS {
                    return Err(DecodeError::TooManyScans { max: MAX_SCANS });
                }
                if scans == 1 {
                    first_scan_components = usize::from(*seg.first().ok_or(Truncated)?);
                }
                i = skip_entropy_coded(data, end)?;
                continue;
            }
            _ => {}
        }
        i = end;
    }
}

/// A JPEG frame header (SOF).
struct Frame {
    size: Size,
    progressive: bool,
    sampling: Vec<(u8, u8)>,
}

/// SOF0/1/2: 8-bit precision, 1–4 components with sampling factors 1–4.
fn parse_sof(seg: &[u8], progressive: bool) -> Result<Frame, DecodeError> {
    let bad = || corrupt("a malformed JPEG frame header");
    let precision = *seg.first().ok_or_else(bad)?;
    if precision != 8 {
        return Err(DecodeError::Unsupported(format!("{precision}-bit JPEG")));
    }
    let height = u32::from(be16(seg, 1).ok_or_else(bad)?);
    let width = u32::from(be16(seg, 3).ok_or_else(bad)?);
    let n = usize::from(*seg.get(5).ok_or_else(bad)?);
    if !(1..=4).contains(&n) || seg.len() != 6 + 3 * n {
        return Err(bad());
    }
    let mut sampling = Vec::with_capacity(n);
    for c in seg[6..].chunks_exact(3) {
        let (h, v) = (c[1] >> 4, c[1] & 0x0F);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
            return Err(bad());
        }
        sampling.push((h, v));
    }
    Ok(Frame {
        size: Size { width, height },
        progressive,
        sampling,
    })
}

/// From the first byte of a scan's entropy-coded data to the 0xFF of the marker that ends it
/// (stuffed 0xFF00, restart markers and fill bytes belong to the scan).
fn skip_entropy_coded(data: &[u8], mut j: usize) -> Result<usize, DecodeError> {
    loop {
        let rest = data.get(j..).ok_or(DecodeError::Truncated)?;
        j += rest
            .iter()
            .position(|&b| b == 0xFF)
            .ok_or(DecodeError::Truncated)?;
        match data.get(j + 1) {
            None => return Err(DecodeError::Truncated),
            Some(0x00 | 0xD0..=0xD7) => j += 2,
            Some(0xFF) => j += 1,
            Some(_) => return Ok(j),
        }
    }
}

/// What zune-jpeg holds while decoding `l` (see the module comment), plus our RGBA buffer.
fn jpeg_cost(l: &JpegLayout, file_len: usize) -> u64 {
    let (w, h) = (u64::from(l.size.width), u64::from(l.size.height));
    let h_max = u64::from(l.sampling.iter().map(|s| s.0).max().unwrap_or(1));
    let v_max = u64::from(l.sampling.iter().map(|s| s.1).max().unwrap_or(1));
    let mcu_x = w.div_ceil(8 * h_max);
    let mcu_y = h.div_ceil(8 * v_max);
    // Coefficients of the whole image: progressive, or baseline whose first scan lacks components.
    let whole = l.progressive || l.first_scan_components < l.sampling.len();
    let mut cost = l.size.pixels() * 4 + file_len as u64;
    for &(hs, vs) in &l.sampling {
        let (hs, vs) = (u64::from(hs), u64::from(vs));
        // One MCU row of i16 samples per component.
        cost += mcu_x * hs * 8 * vs * 8 * 2;
        if whole {
            cost += mcu_x * mcu_y * hs * vs * 64 * 2;
        }
    }
    // Up-sampling scratch (one row of the widest component, 8 lines of i16).
    cost += mcu_x * h_max * 8 * 8 * 2;
    cost + orientation_cost(l.orientation, l.size.pixels())
}

fn decode_jpeg(data: &[u8], size: Size, limits: &Limits) -> Result<Decoded, DecodeError> {
    let layout = walk_jpeg(data)?;
    if layout.size != size {
        return Err(corrupt("two different JPEG frame sizes"));
    }
    check_cost(size, jpeg_cost(&layout, data.len()), limits)?;
    let v_max = layout.sampling.iter().map(|s| s.1).max().unwrap_or(1);
    if !layout.progressive && layout.first_scan_components < layout.sampling.len() && v_max > 1 {
        // zune-jpeg 0.5.15 decodes these wrongly (fixed in 0.5.16, not yet released); rare in
        // practice (one scan per component, chroma subsampled vertically).
        return Err(DecodeError::Unsupported(
            "a non-interleaved baseline JPEG with vertical chroma subsampling".into(),
        ));
    }

    // Baseline: without the EOI, so that a scan which ends early meets the end of the input (an
    // error in strict mode) instead of a marker (zero padding). Progressive: zune needs the EOI
    // after the last scan.
    let input = if layout.progressive {
        data.get(..layout.eoi + 2)
    } else {
        data.get(..layout.eoi)
    }
    .ok_or(DecodeError::Truncated)?;
    let side = limits.max_side as usize;
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(side)
        .set_max_height(side)
        .jpeg_set_max_scans(MAX_SCANS as usize)
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(input), options);
    decoder.decode_headers().map_err(jpeg_error)?;
    let rgb_len = size.pixels() * 3;
    if decoder.dimensions() != Some((size.width as usize, size.height as usize))
        || decoder.output_buffer_size().map(|n| n as u64) != Some(rgb_len)
    {
        return Err(corrupt("the JPEG decoder disagrees with the header"));
    }
    let mut rgba = rgba_buffer(size)?;
    let pixels = size.pixels() as usize;
    decoder
        .decode_into(&mut rgba[..pixels * 3])
        .map_err(jpeg_error)?;
    widen_in_place(&mut rgba, pixels, 3);
    orient(rgba, size, layout.orientation)
}

fn jpeg_error(e: DecodeErrors) -> DecodeError {
    match e {
        DecodeErrors::ExhaustedData | DecodeErrors::IoErrors(_) => DecodeError::Truncated,
        DecodeErrors::FormatStatic(m) if m.contains("Premature") => DecodeError::Truncated,
        DecodeErrors::Unsupported(s) => DecodeError::Unsupported(format!("{s:?}")),
        other => DecodeError::Corrupt(other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// PNG

fn decode_png(data: &[u8], size: Size, limits: &Limits) -> Result<Decoded, DecodeError> {
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(data),
        png::Limits {
            bytes: METADATA_BUDGET,
        },
    );
    // Palette and low bit depths to 8-bit grey/RGB(A), tRNS to alpha, 16-bit to 8-bit.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    // Reads the chunks up to the first IDAT: no pixel buffer yet.
    let mut reader = decoder.read_info().map_err(png_error)?;
    let info = reader.info();
    if info.size() != (size.width, size.height) {
        return Err(corrupt("the PNG decoder disagrees with the header"));
    }
    // png 0.17 does not read eXIf itself.
    let orientation = png_exif(data).and_then(exif_orientation).unwrap_or(1);
    let raw_row = info.raw_row_length() as u64;
    let (color, depth) = reader.output_color_type();
    let channels = match color {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err(corrupt("an unexpanded PNG palette")),
    };
    let pixels = size.pixels();
    if depth != png::BitDepth::Eight || reader.output_buffer_size() as u64 != pixels * channels {
        return Err(corrupt("the PNG decoder disagrees with the header"));
    }
    // RGBA + the current and previous raw rows and a row scratch + the inflate window (32 KiB
    // look-back, compacted at 4×) + metadata + the rotation bitmap.
    let cost = pixels * 4
        + 3 * raw_row
        + (256 << 10)
        + METADATA_BUDGET as u64
        + orientation_cost(orientation, pixels);
    check_cost(size, cost, limits)?;
    let mut rgba = rgba_buffer(size)?;
    let out = (pixels * channels) as usize;
    reader.next_frame(&mut rgba[..out]).map_err(png_error)?;
    // Through IEND: a file cut after its image data is still a truncated file.
    reader.finish().map_err(png_error)?;
    widen_in_place(&mut rgba, pixels as usize, channels as usize);
    orient(rgba, size, orientation)
}

/// The data of the first eXIf chunk, by walking the chunk headers.
fn png_exif(data: &[u8]) -> Option<&[u8]> {
    let mut pos = 8;
    loop {
        let len = u32::from_be_bytes(data.get(pos..pos + 4)?.try_into().ok()?) as usize;
        let kind = data.get(pos + 4..pos + 8)?;
        let start = pos + 8;
        let body = data.get(start..start.checked_add(len)?)?;
        match kind {
            b"eXIf" => return Some(body),
            b"IEND" => return None,
            _ => pos = start + len + 4,
        }
    }
}

fn png_error(e: png::DecodingError) -> DecodeError {
    match e {
        png::DecodingError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            DecodeError::Truncated
        }
        png::DecodingError::LimitsExceeded => corrupt("PNG metadata over its limit"),
        other => DecodeError::Corrupt(other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// WebP

#[derive(Debug)]
struct WebpLayout {
    /// End of the RIFF data (what follows is ignored).
    end: usize,
    lossy: bool,
    has_alpha: bool,
    /// An ALPH chunk, and whether it is compressed (lossless-coded).
    alpha: Option<bool>,
}

fn le16(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?])))
}

fn le24(b: &[u8], i: usize) -> Option<u32> {
    Some(le16(b, i)? | u32::from(*b.get(i + 2)?) << 16)
}

fn le32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

/// Walks the RIFF chunks: every chunk that the RIFF size declares must be present, the image
/// chunk's own frame size must equal the canvas (image-webp sizes its planes from the frame
/// header before comparing), animations are refused.
fn walk_webp(data: &[u8], canvas: Size) -> Result<WebpLayout, DecodeError> {
    use DecodeError::Truncated;
    let riff = le32(data, 4).ok_or(Truncated)? as usize;
    if riff < 4 || data.get(8..12) != Some(b"WEBP") {
        return Err(corrupt("a malformed RIFF header"));
    }
    let end = riff.checked_add(8).ok_or(Truncated)?;
    let body = data.get(..end).ok_or(Truncated)?;
    let mut vp8x_flags = None;
    let mut image: Option<(&[u8], &[u8])> = None;
    let mut alpha = None;
    let mut animated = false;
    let mut pos = 12;
    while pos < end {
        let fourcc = body.get(pos..pos + 4).ok_or(Truncated)?;
        let len = le32(body, pos + 4).ok_or(Truncated)? as usize;
        let start = pos + 8;
        let stop = start.checked_add(len).ok_or(Truncated)?;
        let payload = body.get(start..stop).ok_or(Truncated)?;
        match fourcc {
            b"VP8X" if pos == 12 => vp8x_flags = Some(*payload.first().ok_or(Truncated)?),
            b"VP8 " | b"VP8L" if image.is_none() => image = Some((fourcc, payload)),
            b"ALPH" if alpha.is_none() => alpha = Some(payload.first().ok_or(Truncated)? & 3 == 1),
            b"ANIM" | b"ANMF" => animated = true,
            _ if pos == 12 => return Err(corrupt("an unknown first WebP chunk")),
            _ => {}
        }
        pos = stop + (len & 1);
    }
    if animated || vp8x_flags.is_some_and(|f| f & 0x02 != 0) {
        return Err(DecodeError::Unsupported("animated WebP".into()));
    }
    let (fourcc, payload) = image.ok_or_else(|| corrupt("a WebP without image data"))?;
    let lossy = fourcc == b"VP8 ";
    let (frame, alpha_bit) = if lossy {
        let tag = le24(payload, 0).ok_or(Truncated)?;
        if tag & 1 != 0 {
            return Err(DecodeError::Unsupported("a VP8 inter frame".into()));
        }
        if payload.get(3..6) != Some(&[0x9d, 0x01, 0x2a][..]) {
            return Err(corrupt("a bad VP8 start code"));
        }
        // The first partition follows the 10-byte frame header.
        if 10 + (tag >> 5) as usize > payload.len() {
            return Err(Truncated);
        }
        let w = le16(payload, 6).ok_or(Truncated)? & 0x3FFF;
        let h = le16(payload, 8).ok_or(Truncated)? & 0x3FFF;
        (
            Size {
                width: w,
                height: h,
            },
            false,
        )
    } else {
        if payload.first() != Some(&0x2F) {
            return Err(corrupt("a bad VP8L signature"));
        }
        let bits = le32(payload, 1).ok_or(Truncated)?;
        let size = Size {
            width: (bits & 0x3FFF) + 1,
            height: ((bits >> 14) & 0x3FFF) + 1,
        };
        (size, bits >> 28 & 1 != 0)
    };
    if frame != canvas {
        return Err(corrupt("the WebP frame size differs from its canvas"));
    }
    let has_alpha = match vp8x_flags {
        Some(flags) => flags & 0x10 != 0,
        None => alpha_bit,
    };
    Ok(WebpLayout {
        end,
        lossy,
        has_alpha,
        alpha,
    })
}

/// What image-webp 0.2 holds while decoding (from its source), plus our RGBA buffer.
fn webp_cost(l: &WebpLayout, size: Size, file_len: usize, orientation: u16) -> u64 {
    let pixels = size.pixels();
    let (w, h) = (u64::from(size.width), u64::from(size.height));
    // RGBA, and the compressed partitions / metadata copied out of the file.
    let mut cost = pixels * 4 + file_len as u64;
    if l.lossy {
        // Y, U and V planes padded to 16×16 macroblocks, plus per-row borders.
        let mbs = w.div_ceil(16) * h.div_ceil(16);
        cost += mbs * 384 + 64 * w;
        if l.has_alpha {
            // The alpha plane; a lossless-coded one is first decoded as ARGB.
            cost += pixels;
            if l.alpha != Some(false) {
                cost += pixels * 4;
            }
        }
    } else {
        if !l.has_alpha {
            // Decoded as ARGB, then copied to RGB.
            cost += pixels * 4;
        }
        // Predictor, colour and entropy sub-images (blocks of at least 4×4), with margin.
        cost += w.div_ceil(4) * h.div_ceil(4) * 4 * 4;
    }
    cost + orientation_cost(orientation, pixels)
}

fn decode_webp(data: &[u8], size: Size, limits: &Limits) -> Result<Decoded, DecodeError> {
    let layout = walk_webp(data, size)?;
    // Lossless coding (a VP8L image, or a compressed alpha plane, which is VP8L inside) is
    // refused: image-webp builds up to 65 536 Huffman groups of 4 KB tables from a few bytes each
    // before any pixel (a ~4 MB file could take over a gigabyte), which no cap computed from the
    // header can bound. The form only ever sends JPEG; lossy WebP stays accepted.
    if !layout.lossy || layout.alpha == Some(true) {
        return Err(DecodeError::Unsupported(
            "lossless-coded WebP (its Huffman tables cannot be bounded before decoding)".into(),
        ));
    }
    let riff = data.get(..layout.end).ok_or(DecodeError::Truncated)?;
    // Parses the chunk headers only.
    let mut decoder = image_webp::WebPDecoder::new(Cursor::new(riff)).map_err(webp_error)?;
    decoder.set_memory_limit(METADATA_BUDGET);
    if decoder.dimensions() != (size.width, size.height)
        || decoder.has_alpha() != layout.has_alpha
        || decoder.is_animated()
    {
        return Err(corrupt("the WebP decoder disagrees with the header"));
    }
    let orientation = decoder
        .exif_metadata()
        .map_err(webp_error)?
        .as_deref()
        .and_then(exif_orientation)
        .unwrap_or(1);
    check_cost(
        size,
        webp_cost(&layout, size, data.len(), orientation),
        limits,
    )?;
    let channels: u64 = if layout.has_alpha { 4 } else { 3 };
    let pixels = size.pixels();
    if decoder.output_buffer_size().map(|n| n as u64) != Some(pixels * channels) {
        return Err(corrupt("the WebP decoder disagrees with the header"));
    }
    let mut rgba = rgba_buffer(size)?;
    let out = (pixels * channels) as usize;
    decoder.read_image(&mut rgba[..out]).map_err(webp_error)?;
    widen_in_place(&mut rgba, pixels as usize, channels as usize);
    orient(rgba, size, orientation)
}

fn webp_error(e: image_webp::DecodingError) -> DecodeError {
    match e {
        image_webp::DecodingError::IoError(io)
            if io.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            DecodeError::Truncated
        }
        image_webp::DecodingError::BitStreamError => DecodeError::Truncated,
        other => DecodeError::Corrupt(other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Pixels

/// Widens `pixels` samples of `channels` bytes (grey, grey+alpha, RGB), packed at the front of
/// `buf`, to RGBA over the whole of `buf`. Back to front, so nothing is overwritten before it
/// is read.
fn widen_in_place(buf: &mut [u8], pixels: usize, channels: usize) {
    if channels == 4 {
        return;
    }
    for i in (0..pixels).rev() {
        let s = i * channels;
        let px = match channels {
            1 => [buf[s], buf[s], buf[s], 255],
            2 => [buf[s], buf[s], buf[s], buf[s + 1]],
            _ => [buf[s], buf[s + 1], buf[s + 2], 255],
        };
        buf[i * 4..i * 4 + 4].copy_from_slice(&px);
    }
}

/// The EXIF orientation (tag 0x0112 in IFD0) of a TIFF structure, with or without the
/// "Exif\0\0" prefix; `None` when absent or out of range.
fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let t = tiff.strip_prefix(b"Exif\0\0").unwrap_or(tiff);
    let le = match t.get(..4)? {
        b"II*\0" => true,
        b"MM\0*" => false,
        _ => return None,
    };
    let u16_at = |i: usize| -> Option<u16> {
        let b = [*t.get(i)?, *t.get(i + 1)?];
        Some(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let u32_at = |i: usize| -> Option<u32> {
        let b: [u8; 4] = t.get(i..i + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let ifd = u32_at(4)? as usize;
    let count = usize::from(u16_at(ifd)?);
    (0..count).find_map(|k| {
        let e = ifd.checked_add(2 + 12 * k)?;
        // Tag 0x0112, type SHORT, count 1: the value is in the entry's first two value bytes.
        (u16_at(e)? == 0x0112 && u16_at(e + 2)? == 3)
            .then(|| u16_at(e + 8))
            .flatten()
            .filter(|o| (1..=8).contains(o))
    })
}

/// Applies EXIF `orientation` to `rgba` (`size`) in place.
fn orient(mut rgba: Vec<u8>, size: Size, orientation: u16) -> Result<Decoded, DecodeError> {
    let (w, h) = (size.width as usize, size.height as usize);
    match orientation {
        2 => mirror_rows(&mut rgba, w),
        3 => rotate_180(&mut rgba),
        4 => flip_rows(&mut rgba, w),
        5..=8 => {
            transpose(&mut rgba, w, h)?;
            // Now h wide and w high.
            match orientation {
                6 => mirror_rows(&mut rgba, h),
                7 => rotate_180(&mut rgba),
                8 => flip_rows(&mut rgba, h),
                _ => {}
            }
            return Ok(Decoded {
                width: size.height,
                height: size.width,
                rgba,
            });
        }
        _ => {}
    }
    Ok(Decoded {
        width: size.width,
        height: size.height,
        rgba,
    })
}

/// Left–right mirror of every row (`w` pixels wide).
fn mirror_rows(rgba: &mut [u8], w: usize) {
    for row in rgba.chunks_exact_mut(w * 4) {
        row.reverse();
        for px in row.chunks_exact_mut(4) {
            px.reverse();
        }
    }
}

/// Top–bottom flip (`w` pixels wide).
fn flip_rows(rgba: &mut [u8], w: usize) {
    let stride = w * 4;
    let rows = rgba.len() / stride;
    for y in 0..rows / 2 {
        let (top, bottom) = rgba.split_at_mut((rows - 1 - y) * stride);
        top[y * stride..(y + 1) * stride].swap_with_slice(&mut bottom[..stride]);
    }
}

fn rotate_180(rgba: &mut [u8]) {
    rgba.reverse();
    for px in rgba.chunks_exact_mut(4) {
        px.reverse();
    }
}

/// In-place transposition of a `h`-row, `w`-column matrix of RGBA pixels into `w` rows of `h`,
/// by following the permutation's cycles (pixel `i` moves to `i * h mod (n - 1)`), with one bit
/// per pixel to mark the pixels already placed.
fn transpose(rgba: &mut [u8], w: usize, h: usize) -> Result<(), DecodeError> {
    let n = w * h;
    if w == 1 || h == 1 || n < 3 {
        return Ok(()); // the same bytes either way
    }
    let mut done: Vec<u64> = Vec::new();
    done.try_reserve_exact(n.div_ceil(64))
        .map_err(|_| DecodeError::OutOfMemory)?;
    done.resize(n.div_ceil(64), 0);
    let read = |buf: &[u8], i: usize| -> [u8; 4] {
        let mut p = [0u8; 4];
        p.copy_from_slice(&buf[i * 4..i * 4 + 4]);
        p
    };
    let modulus = (n - 1) as u64;
    for start in 1..n - 1 {
        if done[start / 64] >> (start % 64) & 1 == 1 {
            continue;
        }
        let mut carried = read(rgba, start);
        let mut at = start;
        loop {
            let to = ((at as u64 * h as u64) % modulus) as usize;
            let displaced = read(rgba, to);
            rgba[to * 4..to * 4 + 4].copy_from_slice(&carried);
            done[to / 64] |= 1 << (to % 64);
            carried = displaced;
            at = to;
            if to == start {
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // ----- test images ------------------------------------------------------------------------

    /// A deterministic pseudo-random byte stream (xorshift).
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut s = seed | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 24) as u8
            })
            .collect()
    }

    /// A smooth RGB test pattern with some texture.
    fn pattern(w: usize, h: usize) -> Vec<u8> {
        let n = noise(7, w * h);
        let mut v = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let t = n[y * w + x] / 8;
                v.push(((x * 255) / w.max(1)) as u8 ^ t);
                v.push(((y * 255) / h.max(1)) as u8);
                v.push((((x + y) * 127) / (w + h)) as u8 + t);
            }
        }
        v
    }

    fn jpeg_with(
        rgb: &[u8],
        w: u16,
        h: u16,
        quality: u8,
        set: impl FnOnce(&mut jpeg_encoder::Encoder<&mut Vec<u8>>),
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
        set(&mut enc);
        enc.encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
            .expect("encode");
        out
    }

    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        jpeg_with(&pattern(w.into(), h.into()), w, h, 85, |_| {})
    }

    fn png_bytes(
        w: u32,
        h: u32,
        color: png::ColorType,
        depth: png::BitDepth,
        data: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(color);
            enc.set_depth(depth);
            let mut wr = enc.write_header().expect("png header");
            wr.write_image_data(data).expect("png data");
        }
        out
    }

    fn webp_lossless(w: u32, h: u32, rgba: &[u8], exif: Option<Vec<u8>>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = image_webp::WebPEncoder::new(&mut out);
        if let Some(e) = exif {
            enc.set_exif_metadata(e);
        }
        enc.encode(rgba, w, h, image_webp::ColorType::Rgba8)
            .expect("webp");
        out
    }

    /// A 32×16 lossy WebP from cwebp (-q 90): quadrants red, green / blue, white.
    const LOSSY_WEBP: [u8; 90] = [
        0x52, 0x49, 0x46, 0x46, 0x52, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38,
        0x20, 0x46, 0x00, 0x00, 0x00, 0x90, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x20, 0x00, 0x10, 0x00,
        0x00, 0xc0, 0x12, 0x25, 0xa0, 0x02, 0x74, 0xca, 0x11, 0xda, 0x3e, 0x01, 0xf8, 0x01, 0xfa,
        0x80, 0x04, 0x46, 0x30, 0x00, 0xfe, 0xfb, 0x6b, 0x9f, 0xff, 0xfa, 0xb4, 0x8f, 0xff, 0xac,
        0x28, 0xde, 0x17, 0xb3, 0xff, 0xc0, 0x5f, 0xff, 0xf8, 0x08, 0x51, 0x2a, 0x15, 0xdb, 0xff,
        0x6f, 0x9a, 0xff, 0xff, 0xef, 0x01, 0x04, 0x68, 0x8c, 0x6b, 0x79, 0x90, 0x00, 0x00, 0x00,
    ];

    /// The same with its right half at alpha 128 (cwebp -exact): VP8X + ALPH + VP8.
    const LOSSY_ALPHA_WEBP: [u8; 136] = [
        0x52, 0x49, 0x46, 0x46, 0x80, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38,
        0x58, 0x0a, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x0f, 0x00, 0x00,
        0x41, 0x4c, 0x50, 0x48, 0x14, 0x00, 0x00, 0x00, 0x01, 0x0f, 0xf0, 0xc0, 0xff, 0x88, 0x88,
        0x20, 0x10, 0x48, 0xf2, 0x97, 0x1e, 0x60, 0x81, 0x88, 0xfe, 0x07, 0xf5, 0x02, 0x56, 0x50,
        0x38, 0x20, 0x46, 0x00, 0x00, 0x00, 0x90, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x20, 0x00, 0x10,
        0x00, 0x00, 0xc0, 0x12, 0x25, 0xa0, 0x02, 0x74, 0xca, 0x11, 0xda, 0x3e, 0x01, 0xf8, 0x01,
        0xfa, 0x80, 0x04, 0x46, 0x30, 0x00, 0xfe, 0xfb, 0x6b, 0x9f, 0xff, 0xfa, 0xb4, 0x8f, 0xff,
        0xac, 0x28, 0xde, 0x17, 0xb3, 0xff, 0xc0, 0x5f, 0xff, 0xf8, 0x08, 0x51, 0x2a, 0x15, 0xdb,
        0xff, 0x6f, 0x9a, 0xff, 0xff, 0xef, 0x01, 0x04, 0x68, 0x8c, 0x6b, 0x79, 0x90, 0x00, 0x00,
        0x00,
    ];

    /// A TIFF structure (big-endian) whose IFD0 holds one entry: Orientation = `o`.
    fn exif_tiff(o: u16) -> Vec<u8> {
        let mut t = b"MM\0*\0\0\0\x08".to_vec();
        t.extend_from_slice(&1u16.to_be_bytes()); // one entry
        t.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
        t.extend_from_slice(&3u16.to_be_bytes()); // SHORT
        t.extend_from_slice(&1u32.to_be_bytes()); // count 1
        t.extend_from_slice(&o.to_be_bytes());
        t.extend_from_slice(&[0, 0]); // value padding
        t.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
        t
    }

    /// `jpeg` with an APP1 Exif segment (built by hand) inserted right after SOI.
    fn with_exif_app1(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        let mut payload = b"Exif\0\0".to_vec();
        payload.extend_from_slice(&exif_tiff(orientation));
        let mut v = jpeg[..2].to_vec();
        v.extend_from_slice(&[0xFF, 0xE1]);
        v.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(&payload);
        v.extend_from_slice(&jpeg[2..]);
        v
    }

    fn px(d: &Decoded, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * d.width + x) * 4) as usize;
        [d.rgba[i], d.rgba[i + 1], d.rgba[i + 2], d.rgba[i + 3]]
    }

    fn close(a: [u8; 4], b: [u8; 4], tol: i32) -> bool {
        a.iter()
            .zip(b)
            .all(|(&p, q)| (i32::from(p) - i32::from(q)).abs() <= tol)
    }

    fn ok(kind: Media, data: &[u8]) -> Decoded {
        match decode(kind, data, &Limits::DEFAULT) {
            Ok(d) => d,
            Err(e) => panic!("{kind:?} should decode: {e}"),
        }
    }

    fn refused(kind: Media, data: &[u8]) -> DecodeError {
        match decode(kind, data, &Limits::DEFAULT) {
            Ok(d) => panic!("{kind:?} should be refused, decoded {d:?}"),
            Err(e) => e,
        }
    }

    fn is_truncated_or_corrupt(e: &DecodeError) -> bool {
        matches!(e, DecodeError::Truncated | DecodeError::Corrupt(_))
    }

    #[allow(unsafe_code)]
    fn peak_rss_kib() -> i64 {
        // SAFETY: getrusage only writes the struct we pass.
        unsafe {
            let mut u: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_SELF, &mut u);
            u.ru_maxrss
        }
    }

    /// A `/proc/self/status` field in KiB (Linux).
    fn proc_status_kib(field: &str) -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        line[field.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    // ----- 1. header limits and the decode cap ------------------------------------------------

    #[test]
    fn header_limits_refuse_before_anything_else() {
        let e = refused(Media::Jpeg, &media::fixtures::jpeg(9000, 100));
        assert!(
            matches!(e, DecodeError::TooLarge { width: 9000, .. }),
            "{e}"
        );
        let e = refused(Media::Png, &media::fixtures::png(7000, 7000)); // 49 M pixels
        assert!(matches!(e, DecodeError::TooLarge { .. }), "{e}");
        let e = refused(Media::Webp, &media::fixtures::webp(8193, 16));
        assert!(matches!(e, DecodeError::TooLarge { .. }), "{e}");
        assert!(matches!(
            refused(Media::Jpeg, &[0xFF, 0xD8, 0xFF]),
            DecodeError::NoHeader
        ));
        assert_eq!(
            e.to_string(),
            "8193x16 is too large: at most 8192 px a side and 40000000 pixels"
        );
        // A header under the limits with a cap that is too small: the decode cap acts.
        let tiny = Limits {
            max_decode_bytes: 1000,
            ..Limits::DEFAULT
        };
        let p = png_bytes(
            24,
            16,
            png::ColorType::Rgb,
            png::BitDepth::Eight,
            &pattern(24, 16),
        );
        let e = decode(Media::Png, &p, &tiny).map(|_| ());
        assert!(matches!(e, Err(DecodeError::OverDecodeCap { .. })), "{e:?}");
    }

    /// A flat grey image of any size, produced row by row (the encoder streams MCU rows, so
    /// neither side ever holds the whole image).
    struct Flat(u16, u16);

    impl jpeg_encoder::ImageBuffer for Flat {
        fn get_jpeg_color_type(&self) -> jpeg_encoder::JpegColorType {
            jpeg_encoder::JpegColorType::Ycbcr
        }
        fn width(&self) -> u16 {
            self.0
        }
        fn height(&self) -> u16 {
            self.1
        }
        fn fill_buffers(&self, _y: u16, buffers: &mut [Vec<u8>; 4]) {
            for _ in 0..self.0 {
                buffers[0].push(140);
                buffers[1].push(128);
                buffers[2].push(128);
            }
        }
    }

    #[test]
    fn decompression_bomb_is_refused_before_allocating() {
        let mut bomb = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut bomb, 75);
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
        enc.encode_image(Flat(7000, 5000)).expect("encode");
        // 35 M pixels: within the header limits (8192 a side, 40 M), so the decode cap must act.
        assert_eq!(media::dimensions(Media::Jpeg, &bomb), Some((7000, 5000)));
        eprintln!("bomb: 7000x5000 flat JPEG in {} bytes", bomb.len());
        // ru_maxrss is inherited across exec (it starts at cargo's peak), so also VmHWM, the peak
        // of this process's own memory, reset just before the call (Linux /proc/self/clear_refs).
        let before = peak_rss_kib();
        let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let rss_before = proc_status_kib("VmRSS:");
        let result = decode(Media::Jpeg, &bomb, &Limits::DEFAULT);
        let after = peak_rss_kib();
        eprintln!("bomb: ru_maxrss {before} KiB before decode, {after} KiB after");
        eprintln!(
            "bomb: VmRSS {rss_before:?} KiB before, VmHWM {:?} KiB after (reset: {hwm_reset})",
            proc_status_kib("VmHWM:")
        );
        match result {
            Err(DecodeError::OverDecodeCap {
                width: 7000,
                height: 5000,
                needed,
                cap,
            }) => {
                assert!(needed >= 7000 * 5000 * 4 && cap == 64 << 20);
                eprintln!("bomb: refused, {needed} bytes needed > {cap}");
            }
            other => panic!("expected OverDecodeCap, got {other:?}"),
        }
        // It is a real, complete JPEG (not refused for its structure).
        let layout = walk_jpeg(&bomb).expect("a complete JPEG");
        assert_eq!(
            layout.size,
            Size {
                width: 7000,
                height: 5000
            }
        );
    }

    #[test]
    fn decode_cap_counts_what_the_decoders_hold() {
        // Baseline 4:2:0, upright: RGBA + one MCU row + the file.
        let j = jpeg(640, 480);
        let l = walk_jpeg(&j).unwrap();
        assert!(!l.progressive);
        let cost = jpeg_cost(&l, j.len());
        assert!(
            (640 * 480 * 4..640 * 480 * 4 + 200_000).contains(&cost),
            "{cost}"
        );
        // Progressive: + the coefficients of every component (4:2:0: 1.5 blocks of i16 a pixel).
        let p = jpeg_with(&pattern(640, 480), 640, 480, 85, |e| {
            e.set_progressive(true);
            e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
        });
        let lp = walk_jpeg(&p).unwrap();
        assert!(lp.progressive);
        assert!(jpeg_cost(&lp, p.len()) >= 640 * 480 * (4 + 3));
        // Under the default cap: a 12 MP phone photo (4000x3000, baseline 4:2:0, orientation 6,
        // a 5 MB file) fits; the same picture progressive (+36 MB of coefficients) does not.
        let phone = JpegLayout {
            size: Size {
                width: 4000,
                height: 3000,
            },
            progressive: false,
            sampling: vec![(2, 2), (1, 1), (1, 1)],
            first_scan_components: 3,
            eoi: 0,
            orientation: 6,
        };
        let cap = Limits::DEFAULT.max_decode_bytes;
        assert!(jpeg_cost(&phone, 5 << 20) <= cap);
        let progressive = JpegLayout {
            progressive: true,
            ..phone
        };
        assert!(jpeg_cost(&progressive, 5 << 20) > cap);
        // A cap just below the cost refuses, the cost itself passes.
        let tight = Limits {
            max_decode_bytes: cost - 1,
            ..Limits::DEFAULT
        };
        assert!(matches!(
            decode(Media::Jpeg, &j, &tight),
            Err(DecodeError::OverDecodeCap { .. })
        ));
        let exact = Limits {
            max_decode_bytes: cost,
            ..Limits::DEFAULT
        };
        assert!(decode(Media::Jpeg, &j, &exact).is_ok());
    }

    // ----- 2. complete decoding ------------------------------------------------------------------

    #[test]
    fn jpeg_variants_decode() {
        let (w, h) = (67u16, 41u16);
        let rgb = pattern(w.into(), h.into());
        for (name, data) in [
            (
                "4:2:0",
                jpeg_with(&rgb, w, h, 85, |e| {
                    e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2)
                }),
            ),
            ("4:4:4", jpeg_with(&rgb, w, h, 95, |_| {})),
            (
                "4:2:2",
                jpeg_with(&rgb, w, h, 85, |e| {
                    e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_1)
                }),
            ),
            (
                "restarts",
                jpeg_with(&rgb, w, h, 85, |e| e.set_restart_interval(3)),
            ),
            (
                "4:1:1",
                jpeg_with(&rgb, w, h, 85, |e| {
                    e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_4_1)
                }),
            ),
            // One scan per component (non-interleaved), full or horizontally subsampled chroma.
            (
                "non-interleaved 4:4:4",
                jpeg_with(&rgb, w, h, 95, |e| e.set_optimized_huffman_tables(true)),
            ),
            (
                "non-interleaved 4:2:2",
                jpeg_with(&rgb, w, h, 85, |e| {
                    e.set_optimized_huffman_tables(true);
                    e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_1);
                }),
            ),
            (
                "progressive",
                jpeg_with(&rgb, w, h, 85, |e| e.set_progressive(true)),
            ),
            (
                "progressive 4:2:0",
                jpeg_with(&rgb, w, h, 80, |e| {
                    e.set_progressive(true);
                    e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
                }),
            ),
            (
                "progressive restarts",
                jpeg_with(&rgb, w, h, 85, |e| {
                    e.set_progressive(true);
                    e.set_restart_interval(2);
                }),
            ),
        ] {
            let d = match decode(Media::Jpeg, &data, &Limits::DEFAULT) {
                Ok(d) => d,
                Err(e) => panic!("{name}: {e}"),
            };
            assert_eq!(
                (d.width, d.height, d.rgba.len()),
                (67, 41, 67 * 41 * 4),
                "{name}"
            );
            // Pixels match the source within JPEG error.
            let mut worst = 0;
            for i in 0..(67 * 41) {
                for c in 0..3 {
                    worst =
                        worst.max((i32::from(d.rgba[i * 4 + c]) - i32::from(rgb[i * 3 + c])).abs());
                }
                assert_eq!(d.rgba[i * 4 + 3], 255);
            }
            assert!(worst < 80, "{name}: worst channel error {worst}");
        }
        // Grey and 1-pixel images.
        let grey = {
            let mut out = Vec::new();
            jpeg_encoder::Encoder::new(&mut out, 90)
                .encode(
                    &[10, 200, 10, 200, 10, 200],
                    3,
                    2,
                    jpeg_encoder::ColorType::Luma,
                )
                .unwrap();
            out
        };
        let d = ok(Media::Jpeg, &grey);
        assert_eq!((d.width, d.height), (3, 2));
        assert_eq!(d.rgba[0], d.rgba[1]);
        let one = jpeg_with(&[200, 30, 30], 1, 1, 90, |_| {});
        assert!(close(
            px(&ok(Media::Jpeg, &one), 0, 0),
            [200, 30, 30, 255],
            12
        ));
        // Non-interleaved with vertical subsampling: zune-jpeg 0.5.15 gets it wrong, so refused
        // rather than returned garbled.
        let seq420 = jpeg_with(&rgb, w, h, 85, |e| {
            e.set_optimized_huffman_tables(true);
            e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
        });
        assert!(matches!(
            refused(Media::Jpeg, &seq420),
            DecodeError::Unsupported(_)
        ));
    }

    #[test]
    fn header_only_files_are_refused() {
        // SOF then EOI, no scan.
        let e = refused(Media::Jpeg, &media::fixtures::jpeg(64, 48));
        assert!(is_truncated_or_corrupt(&e), "{e}");
        // A real JPEG cut just before its scan header.
        let j = jpeg(64, 48);
        let sos = j.windows(2).position(|m| m == [0xFF, 0xDA]).unwrap();
        assert!(matches!(
            refused(Media::Jpeg, &j[..sos]),
            DecodeError::Truncated
        ));
        // ... and right after it.
        let len = usize::from(be16(&j, sos + 2).unwrap());
        assert!(matches!(
            refused(Media::Jpeg, &j[..sos + 2 + len]),
            DecodeError::Truncated
        ));
        // PNG signature + IHDR only.
        let e = refused(Media::Png, &media::fixtures::png(64, 48));
        assert!(is_truncated_or_corrupt(&e), "{e}");
        // WebP VP8X header only: as the fixture (RIFF size 0), with a RIFF size that claims more,
        // and with one that matches the header.
        let mut vp8x = media::fixtures::webp(64, 48);
        assert!(is_truncated_or_corrupt(&refused(Media::Webp, &vp8x)));
        vp8x[4..8].copy_from_slice(&1000u32.to_le_bytes());
        assert!(matches!(
            refused(Media::Webp, &vp8x),
            DecodeError::Truncated
        ));
        let riff = (vp8x.len() - 8) as u32;
        vp8x[4..8].copy_from_slice(&riff.to_le_bytes());
        let e = refused(Media::Webp, &vp8x);
        assert!(is_truncated_or_corrupt(&e), "{e}");
        // The VP8 frame header of a lossy WebP alone.
        let mut head = LOSSY_WEBP[..30].to_vec();
        head[4..8].copy_from_slice(&22u32.to_le_bytes());
        head[16..20].copy_from_slice(&10u32.to_le_bytes());
        let e = refused(Media::Webp, &head);
        assert!(is_truncated_or_corrupt(&e), "{e}");
    }

    #[test]
    fn truncated_jpegs_are_refused() {
        for (name, data) in [
            ("baseline", jpeg(320, 240)),
            (
                "progressive",
                jpeg_with(&pattern(320, 240), 320, 240, 85, |e| {
                    e.set_progressive(true)
                }),
            ),
        ] {
            let n = data.len();
            assert!(
                decode(Media::Jpeg, &data, &Limits::DEFAULT).is_ok(),
                "{name}"
            );
            let sos = data.windows(2).position(|m| m == [0xFF, 0xDA]).unwrap();
            for cut in [n / 2, n * 9 / 10, n - 50, n - 3, n - 2] {
                assert!(cut > sos);
                let e = refused(Media::Jpeg, &data[..cut]);
                assert!(
                    matches!(e, DecodeError::Truncated),
                    "{name} cut at {cut}/{n}: {e}"
                );
            }
            // EOI removed.
            assert!(matches!(
                refused(Media::Jpeg, &data[..n - 2]),
                DecodeError::Truncated
            ));
            // Trailing data after a complete file (an MPF secondary image, say) is fine.
            let mut tail = data.clone();
            tail.extend_from_slice(&jpeg(16, 16));
            tail.extend_from_slice(b"trailing garbage \xFF\xD8\xFF\x00");
            let d = ok(Media::Jpeg, &tail);
            assert_eq!((d.width, d.height), (320, 240), "{name}");
        }
    }

    #[test]
    fn baseline_scan_cut_and_reterminated_is_refused() {
        // Truncated mid-scan, then an EOI appended: zune would pad the rest with zeros (grey) and
        // succeed; fed without the EOI it meets the real end of the input and fails.
        let data = jpeg(320, 240);
        let n = data.len();
        for cut in [n / 2, n * 9 / 10, n - 200] {
            let mut v = data[..cut].to_vec();
            v.extend_from_slice(&[0xFF, 0xD9]);
            let e = refused(Media::Jpeg, &v);
            assert!(is_truncated_or_corrupt(&e), "cut at {cut}/{n}: {e}");
        }
    }

    #[test]
    fn random_scan_data_is_refused() {
        let j = jpeg(320, 240);
        let sos = j.windows(2).position(|m| m == [0xFF, 0xDA]).unwrap();
        let header_end = sos + 2 + usize::from(be16(&j, sos + 2).unwrap());
        for seed in 1..=8u64 {
            for with_eoi in [false, true] {
                let mut v = j[..header_end].to_vec();
                // Byte-stuffed like real scan data would be, so the walk does not stop early.
                for b in noise(seed, 20_000) {
                    v.push(b);
                    if b == 0xFF {
                        v.push(0);
                    }
                }
                if with_eoi {
                    v.extend_from_slice(&[0xFF, 0xD9]);
                }
                let e = refused(Media::Jpeg, &v);
                assert!(
                    is_truncated_or_corrupt(&e),
                    "seed {seed} eoi {with_eoi}: {e}"
                );
                // Unstuffed random bytes as well.
                let mut raw = j[..header_end].to_vec();
                raw.extend_from_slice(&noise(seed + 100, 20_000));
                if with_eoi {
                    raw.extend_from_slice(&[0xFF, 0xD9]);
                }
                let e = refused(Media::Jpeg, &raw);
                assert!(
                    is_truncated_or_corrupt(&e) || matches!(e, DecodeError::Unsupported(_)),
                    "{e}"
                );
            }
        }
    }

    #[test]
    fn pngs_decode_and_truncated_pngs_are_refused() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../face/tests/media");
        let selfie = std::fs::read(format!("{dir}/selfie_640x480.png")).expect("test PNG");
        let d = ok(Media::Png, &selfie);
        assert_eq!((d.width, d.height, d.rgba.len()), (640, 480, 640 * 480 * 4));

        // Colour types: grey, grey+alpha, RGB, RGBA, palette with tRNS, 16-bit.
        let g = png_bytes(
            2,
            1,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            &[0, 250],
        );
        let d = ok(Media::Png, &g);
        assert_eq!(d.rgba, [0, 0, 0, 255, 250, 250, 250, 255]);
        let ga = png_bytes(
            1,
            1,
            png::ColorType::GrayscaleAlpha,
            png::BitDepth::Eight,
            &[9, 7],
        );
        assert_eq!(ok(Media::Png, &ga).rgba, [9, 9, 9, 7]);
        let rgb = png_bytes(
            1,
            2,
            png::ColorType::Rgb,
            png::BitDepth::Eight,
            &[1, 2, 3, 4, 5, 6],
        );
        assert_eq!(ok(Media::Png, &rgb).rgba, [1, 2, 3, 255, 4, 5, 6, 255]);
        let rgba16 = png_bytes(
            1,
            1,
            png::ColorType::Rgba,
            png::BitDepth::Sixteen,
            &[1, 0, 2, 0, 3, 0, 4, 0],
        );
        assert_eq!(ok(Media::Png, &rgba16).rgba, [1, 2, 3, 4]);
        let pal = {
            let mut out = Vec::new();
            {
                let mut enc = png::Encoder::new(&mut out, 2, 1);
                enc.set_color(png::ColorType::Indexed);
                enc.set_depth(png::BitDepth::Eight);
                enc.set_palette(vec![255, 0, 0, 0, 0, 255]);
                enc.set_trns(vec![255, 0]);
                let mut wr = enc.write_header().unwrap();
                wr.write_image_data(&[0, 1]).unwrap();
            }
            out
        };
        assert_eq!(ok(Media::Png, &pal).rgba, [255, 0, 0, 255, 0, 0, 255, 0]);

        // Cut inside IDAT (50 %, 90 %, the last byte of the IDAT), and IEND missing.
        let idat = selfie.windows(4).position(|c| c == b"IDAT").unwrap();
        let iend = selfie.windows(4).position(|c| c == b"IEND").unwrap() - 4;
        let n = selfie.len();
        for cut in [idat + 100, n / 2, n * 9 / 10, iend - 5, iend] {
            let e = refused(Media::Png, &selfie[..cut]);
            assert!(is_truncated_or_corrupt(&e), "cut at {cut}/{n}: {e}");
        }
        // A flipped byte inside IDAT: its CRC fails.
        let mut bad = selfie.clone();
        bad[n / 2] ^= 0x55;
        assert!(is_truncated_or_corrupt(&refused(Media::Png, &bad)));
    }

    #[test]
    fn webps_decode_and_truncated_webps_are_refused() {
        // Lossy, no alpha: quadrants red | green / blue | white.
        let d = ok(Media::Webp, &LOSSY_WEBP);
        assert_eq!((d.width, d.height), (32, 16));
        assert!(
            close(px(&d, 4, 4), [220, 30, 30, 255], 30),
            "{:?}",
            px(&d, 4, 4)
        );
        assert!(
            close(px(&d, 28, 4), [30, 200, 30, 255], 30),
            "{:?}",
            px(&d, 28, 4)
        );
        assert!(
            close(px(&d, 4, 12), [30, 30, 220, 255], 30),
            "{:?}",
            px(&d, 4, 12)
        );
        // Lossy with a compressed (lossless-coded) alpha plane: refused like lossless images.
        assert!(matches!(
            refused(Media::Webp, &LOSSY_ALPHA_WEBP),
            DecodeError::Unsupported(_)
        ));
        // Lossless.
        let rgba: Vec<u8> = pattern(20, 10)
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 200])
            .collect();
        // Lossless coding is refused outright (its Huffman tables cannot be bounded).
        let l = webp_lossless(20, 10, &rgba, None);
        assert!(matches!(
            refused(Media::Webp, &l),
            DecodeError::Unsupported(_)
        ));

        for (name, data) in [("lossy", LOSSY_WEBP.to_vec())] {
            let n = data.len();
            for cut in [n / 2, n * 9 / 10, n - 1] {
                let e = refused(Media::Webp, &data[..cut]);
                assert!(
                    matches!(e, DecodeError::Truncated),
                    "{name} cut at {cut}/{n}: {e}"
                );
            }
            // Cut and the RIFF and chunk sizes patched to match: the decoder itself must fail.
            let cut = n - 12;
            let mut v = data[..cut].to_vec();
            v[4..8].copy_from_slice(&((cut - 8) as u32).to_le_bytes());
            let last = if name == "alpha" { 0x3A } else { 12 };
            let chunk_len = cut - last - 8;
            v[last + 4..last + 8].copy_from_slice(&(chunk_len as u32).to_le_bytes());
            let e = refused(Media::Webp, &v);
            assert!(is_truncated_or_corrupt(&e), "{name} re-sized cut: {e}");
        }
    }

    #[test]
    fn webp_frame_larger_than_its_canvas_is_refused() {
        // VP8X canvas 32x16 around a VP8 frame that claims 16000x16000: image-webp would size
        // its planes from the frame (≈400 MB) before comparing; the walk refuses it first.
        let mut v = LOSSY_ALPHA_WEBP.to_vec();
        let vp8 = 0x3A + 8;
        v[vp8 + 6..vp8 + 8].copy_from_slice(&16000u16.to_le_bytes());
        v[vp8 + 8..vp8 + 10].copy_from_slice(&16000u16.to_le_bytes());
        let e = refused(Media::Webp, &v);
        assert!(matches!(e, DecodeError::Corrupt(_)), "{e}");
    }

    // ----- 3. orientation ----------------------------------------------------------------------

    #[test]
    fn exif_orientation_6_rotates_a_jpeg() {
        // 48x32, 4:4:4, quality 95: a red 8x8 block in the top-left corner, the rest grey.
        let (w, h) = (48usize, 32usize);
        let mut rgb = vec![128u8; w * h * 3];
        for y in 0..8 {
            for x in 0..8 {
                rgb[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&[230, 20, 20]);
            }
        }
        let plain = jpeg_with(&rgb, w as u16, h as u16, 95, |_| {});
        let rotated = with_exif_app1(&plain, 6);
        assert_eq!(walk_jpeg(&rotated).unwrap().orientation, 6);
        let d = ok(Media::Jpeg, &rotated);
        // Rotated 90° clockwise to display: 32 wide, 48 high; the stored top-left corner is now
        // the top-right corner.
        assert_eq!((d.width, d.height), (32, 48));
        let red = [230, 20, 20, 255];
        assert!(close(px(&d, 29, 2), red, 40), "{:?}", px(&d, 29, 2));
        assert!(close(px(&d, 2, 2), [128, 128, 128, 255], 20));
        assert!(close(px(&d, 2, 45), [128, 128, 128, 255], 20));
        // Orientation 1 / no Exif: unchanged.
        let d1 = ok(Media::Jpeg, &with_exif_app1(&plain, 1));
        assert_eq!((d1.width, d1.height), (48, 32));
        assert!(close(px(&d1, 2, 2), red, 40));
    }

    #[test]
    fn every_orientation_matches_a_reference() {
        // A 5x3 image whose pixel (x, y) is [x, y, 0, 255]; check each orientation against the
        // EXIF definitions (where the stored row 0 / column 0 go).
        let (w, h) = (5u32, 3u32);
        let img: Vec<u8> = (0..h)
            .flat_map(|y| (0..w).flat_map(move |x| [x as u8, y as u8, 0, 255]))
            .collect();
        let size = Size {
            width: w,
            height: h,
        };
        for o in 1..=8u16 {
            let d = orient(img.clone(), size, o).unwrap();
            let swap = o >= 5;
            assert_eq!(
                (d.width, d.height),
                if swap { (h, w) } else { (w, h) },
                "{o}"
            );
            for y in 0..d.height {
                for x in 0..d.width {
                    // Source coordinates of display pixel (x, y).
                    let (sx, sy) = match o {
                        1 => (x, y),
                        2 => (w - 1 - x, y),
                        3 => (w - 1 - x, h - 1 - y),
                        4 => (x, h - 1 - y),
                        5 => (y, x),
                        6 => (y, h - 1 - x),
                        7 => (w - 1 - y, h - 1 - x),
                        _ => (w - 1 - y, x),
                    };
                    assert_eq!(
                        px(&d, x, y),
                        [sx as u8, sy as u8, 0, 255],
                        "orientation {o} at ({x},{y})"
                    );
                }
            }
        }
        // The cycle-following transposition on awkward shapes.
        for (w, h) in [(1usize, 7usize), (7, 1), (2, 2), (3, 7), (64, 3), (97, 61)] {
            let mut a: Vec<u8> = (0..w * h).flat_map(|i| (i as u32).to_le_bytes()).collect();
            transpose(&mut a, w, h).unwrap();
            for y in 0..w {
                for x in 0..h {
                    let got = u32::from_le_bytes(
                        a[(y * h + x) * 4..(y * h + x) * 4 + 4].try_into().unwrap(),
                    );
                    assert_eq!(got as usize, x * w + y, "{w}x{h} at ({x},{y})");
                }
            }
        }
    }

    #[test]
    fn exif_orientation_from_png_and_webp_and_malformed_exif() {
        // A WebP with an EXIF chunk (lossless here, 3x2, orientation 8): lossless coding is
        // refused before its orientation matters (JPEG and PNG orientations are tested below).
        let rgba: Vec<u8> = (0..6u8).flat_map(|i| [i * 40, 0, 0, 255]).collect();
        let e = refused(Media::Webp, &webp_lossless(3, 2, &rgba, Some(exif_tiff(8))));
        assert!(matches!(e, DecodeError::Unsupported(_)), "{e}");
        // PNG eXIf chunk: orientation 3 → rotated 180°.
        let mut p = png_bytes(
            2,
            1,
            png::ColorType::Rgb,
            png::BitDepth::Eight,
            &[1, 1, 1, 2, 2, 2],
        );
        let tiff = exif_tiff(3);
        let mut chunk = (tiff.len() as u32).to_be_bytes().to_vec();
        chunk.extend_from_slice(b"eXIf");
        chunk.extend_from_slice(&tiff);
        let crc = crc32(&chunk[4..]);
        chunk.extend_from_slice(&crc.to_be_bytes());
        p.splice(33..33, chunk); // after IHDR (8 + 25 bytes)
        let d = ok(Media::Png, &p);
        assert_eq!(d.rgba, [2, 2, 2, 255, 1, 1, 1, 255]);
        // Malformed Exif is ignored, not fatal.
        assert_eq!(exif_orientation(b"Exif\0\0MM\0*\xff\xff\xff\xff"), None);
        assert_eq!(
            exif_orientation(b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x09\0"),
            None
        );
        assert_eq!(
            exif_orientation(b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x05\0"),
            Some(5)
        );
        assert_eq!(exif_orientation(b""), None);
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    // ----- 4. progressive scan cap, timing ---------------------------------------------------------

    #[test]
    fn progressive_scans_are_capped() {
        let rgb = pattern(32, 32);
        // 3 components x 5 scans = 15 SOS: accepted.
        let many = jpeg_with(&rgb, 32, 32, 85, |e| e.set_progressive_scans(5));
        assert_eq!(many.windows(2).filter(|m| m == &[0xFF, 0xDA]).count(), 15);
        ok(Media::Jpeg, &many);
        // 3 x 6 = 18: refused before decoding.
        let too_many = jpeg_with(&rgb, 32, 32, 85, |e| e.set_progressive_scans(6));
        assert!(matches!(
            refused(Media::Jpeg, &too_many),
            DecodeError::TooManyScans { max: 16 }
        ));
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let png_small = png_bytes(
            24,
            16,
            png::ColorType::Rgb,
            png::BitDepth::Eight,
            &pattern(24, 16),
        );
        let rgba: Vec<u8> = pattern(24, 16)
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect();
        let seeds: Vec<(Media, Vec<u8>)> = vec![
            (Media::Jpeg, jpeg(40, 24)),
            (
                Media::Jpeg,
                jpeg_with(&pattern(40, 24), 40, 24, 85, |e| e.set_progressive(true)),
            ),
            (Media::Jpeg, with_exif_app1(&jpeg(24, 16), 6)),
            (Media::Png, png_small),
            (Media::Webp, LOSSY_WEBP.to_vec()),
            (Media::Webp, LOSSY_ALPHA_WEBP.to_vec()),
            (
                Media::Webp,
                webp_lossless(24, 16, &rgba, Some(exif_tiff(5))),
            ),
        ];
        let iterations: usize = std::env::var("DECODE_FUZZ_ITERATIONS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(300);
        let mut outcomes = [0usize; 2];
        for (k, (kind, seed)) in seeds.iter().enumerate() {
            let r = noise(k as u64 * 7919 + 1, iterations * 8);
            for it in 0..iterations {
                let mut v = seed.clone();
                let pick = |j: usize| usize::from(r[it * 8 + j]);
                // 1–4 byte changes anywhere, past the magic bytes.
                for m in 0..1 + pick(0) % 4 {
                    let at = 4 + (pick(1 + m) * 257 + pick(5) * 31 + it) % (v.len() - 4);
                    v[at] = r[(it * 8 + m * 3 + 7) % r.len()];
                }
                if pick(6) % 5 == 0 {
                    let keep = 12.max(v.len() * (pick(7) % 100) / 100);
                    v.truncate(keep);
                }
                let result = std::panic::catch_unwind(|| decode(*kind, &v, &Limits::DEFAULT));
                match result {
                    Ok(Ok(d)) => {
                        assert_eq!(d.rgba.len(), (d.width * d.height * 4) as usize);
                        outcomes[0] += 1;
                    }
                    Ok(Err(_)) => outcomes[1] += 1,
                    Err(_) => panic!("{kind:?} seed {k} iteration {it} panicked: {v:02x?}"),
                }
            }
        }
        eprintln!(
            "mutations: {} decoded, {} refused",
            outcomes[0], outcomes[1]
        );
    }

    /// `cargo test -p liveform-server --release --lib decode -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn time_1920x1080_baseline_jpeg() {
        // Photographic content: the 640x480 selfie scaled 3x (bilinear), cropped to 1080 rows.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../face/tests/media");
        let selfie = ok(
            Media::Png,
            &std::fs::read(format!("{dir}/selfie_640x480.png")).unwrap(),
        );
        let (w, h) = (1920usize, 1080usize);
        let mut rgb = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let (fx, fy) = (x as f32 / 3.0, (y + 180) as f32 / 3.0);
                let (x0, y0) = ((fx as u32).min(638), (fy as u32).min(478));
                let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
                for c in 0..3 {
                    let s = |xx: u32, yy: u32| {
                        f32::from(selfie.rgba[((yy * 640 + xx) * 4) as usize + c])
                    };
                    let top = s(x0, y0) * (1.0 - ax) + s(x0 + 1, y0) * ax;
                    let bottom = s(x0, y0 + 1) * (1.0 - ax) + s(x0 + 1, y0 + 1) * ax;
                    rgb.push((top * (1.0 - ay) + bottom * ay) as u8);
                }
            }
        }
        for (name, data) in [
            (
                "baseline 4:2:0 q90",
                jpeg_with(&rgb, 1920, 1080, 90, |e| {
                    e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2)
                }),
            ),
            (
                "baseline 4:4:4 q90",
                jpeg_with(&rgb, 1920, 1080, 90, |_| {}),
            ),
            (
                "progressive 4:2:0 q90",
                jpeg_with(&rgb, 1920, 1080, 90, |e| {
                    e.set_progressive(true);
                    e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
                }),
            ),
        ] {
            let mut times = Vec::new();
            for _ in 0..15 {
                let t = std::time::Instant::now();
                let d = ok(Media::Jpeg, &data);
                times.push(t.elapsed());
                assert_eq!(d.rgba.len(), 1920 * 1080 * 4);
            }
            times.sort();
            eprintln!(
                "{name}: {} bytes, decode median {:.1} ms, min {:.1} ms",
                data.len(),
                times[times.len() / 2].as_secs_f64() * 1e3,
                times[0].as_secs_f64() * 1e3
            );
        }
        // With orientation 6 (the in-place transposition).
        let rotated = with_exif_app1(
            &jpeg_with(&rgb, 1920, 1080, 90, |e| {
                e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2)
            }),
            6,
        );
        let t = std::time::Instant::now();
        let d = ok(Media::Jpeg, &rotated);
        eprintln!(
            "baseline 4:2:0 q90 + orientation 6: {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
        assert_eq!((d.width, d.height), (1080, 1920));
        // What the bomb would have cost: decoded with a 1 GiB cap.
        let mut bomb = Vec::new();
        jpeg_encoder::Encoder::new(&mut bomb, 75)
            .encode_image(Flat(7000, 5000))
            .expect("encode");
        let roomy = Limits {
            max_decode_bytes: 1 << 30,
            ..Limits::DEFAULT
        };
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let t = std::time::Instant::now();
        let d = decode(Media::Jpeg, &bomb, &roomy).expect("bomb decodes");
        eprintln!(
            "7000x5000 bomb ({} bytes) decoded anyway: {:.0} ms, VmHWM {:?} KiB (reset {reset})",
            bomb.len(),
            t.elapsed().as_secs_f64() * 1e3,
            proc_status_kib("VmHWM:")
        );
        assert_eq!(d.rgba.len(), 7000 * 5000 * 4);
    }
}
