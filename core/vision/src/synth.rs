//! Procedural texture for the generated test images (the gate's corpus, the MRZ evaluation
//! stills): one lattice hash and its smooth value noise, shared so that both draw alike, and a
//! JPEG round trip for the compression artefacts both see.

/// A lattice hash in `0..1`.
pub(crate) fn hash(ix: i32, iy: i32, seed: u32) -> f32 {
    let mut h = (ix as u32).wrapping_mul(0x8da6_b343)
        ^ (iy as u32).wrapping_mul(0xd816_3841)
        ^ seed.wrapping_mul(0xcb1a_b31f);
    h ^= h >> 13;
    h = h.wrapping_mul(0x5bd1_e995);
    h ^= h >> 15;
    (h & 0xff_ffff) as f32 / 16_777_216.0
}

/// Smooth value noise in `0..1`.
pub(crate) fn vnoise(x: f32, y: f32, seed: u32) -> f32 {
    let (ix, iy) = (x.floor() as i32, y.floor() as i32);
    let (fx, fy) = (x - ix as f32, y - iy as f32);
    let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
    let a = hash(ix, iy, seed);
    let b = hash(ix + 1, iy, seed);
    let c = hash(ix, iy + 1, seed);
    let d = hash(ix + 1, iy + 1, seed);
    a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy
}

/// Luma encoded as JPEG at `quality` (1–100) and decoded again; `None` if either step fails.
pub(crate) fn jpeg_round_trip(luma: &[u8], w: usize, h: usize, quality: u8) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    jpeg_encoder::Encoder::new(&mut buf, quality)
        .encode(
            luma,
            u16::try_from(w).ok()?,
            u16::try_from(h).ok()?,
            jpeg_encoder::ColorType::Luma,
        )
        .ok()?;
    let opts = zune_jpeg::zune_core::options::DecoderOptions::default()
        .jpeg_set_out_colorspace(zune_jpeg::zune_core::colorspace::ColorSpace::Luma);
    let mut d = zune_jpeg::JpegDecoder::new_with_options(
        zune_jpeg::zune_core::bytestream::ZCursor::new(&buf[..]),
        opts,
    );
    let out = d.decode().ok()?;
    (out.len() == w * h).then_some(out)
}
