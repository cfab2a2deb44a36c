//! QR codes as compact SVG: `qrcodegen` makes the module matrix, this file draws it.

use std::fmt::Write as _;

use qrcodegen::{QrCode, QrCodeEcc};

/// Light modules around the code, as the QR specification requires.
pub const QUIET_ZONE: i32 = 4;

/// Text too long for any QR code at the chosen error correction.
#[derive(Debug, thiserror::Error)]
#[error("{len} bytes do not fit in a QR code")]
pub struct QrTooLong {
    pub len: usize,
}

/// Encodes `text` with error correction Medium (raised when it fits in the same size).
pub fn encode(text: &str) -> Result<QrCode, QrTooLong> {
    QrCode::encode_text(text, QrCodeEcc::Medium).map_err(|_| QrTooLong { len: text.len() })
}

/// `text` as a standalone SVG QR code (see [`svg`]).
pub fn svg_of(text: &str) -> Result<String, QrTooLong> {
    encode(text).map(|qr| svg(&qr))
}

/// One `<path>` of dark modules (horizontal runs of unit squares) on a white square with the
/// quiet zone; `viewBox` in modules and no width/height, so CSS sizes it; `crispEdges` keeps
/// module edges sharp at any scale.
pub fn svg(qr: &QrCode) -> String {
    let n = qr.size();
    let full = n + 2 * QUIET_ZONE;
    let mut d = String::new();
    for y in 0..n {
        let mut x = 0;
        while x < n {
            if !qr.get_module(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < n && qr.get_module(x, y) {
                x += 1;
            }
            let _ = write!(
                d,
                "M{} {}h{}v1h-{}z",
                start + QUIET_ZONE,
                y + QUIET_ZONE,
                x - start,
                x - start
            );
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {full} {full}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{full}\" height=\"{full}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{d}\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dark modules the SVG draws, read back from its path (`M x y h w v1 h-w z` runs).
    fn drawn(svg: &str, n: i32) -> Vec<Vec<bool>> {
        let d = svg
            .split(" d=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap();
        let mut grid = vec![vec![false; n as usize]; n as usize];
        for run in d.split('M').filter(|r| !r.is_empty()) {
            let run = run.strip_suffix('z').unwrap();
            let (xy, rest) = run.split_once('h').unwrap();
            let (x, y) = xy.split_once(' ').unwrap();
            let (w, tail) = rest.split_once('v').unwrap();
            let (x, y, w): (i32, i32, i32) =
                (x.parse().unwrap(), y.parse().unwrap(), w.parse().unwrap());
            assert_eq!(tail, format!("1h-{w}"));
            for i in 0..w {
                let (cx, cy) = (x + i - QUIET_ZONE, y - QUIET_ZONE);
                assert!(
                    (0..n).contains(&cx) && (0..n).contains(&cy),
                    "inside the quiet zone"
                );
                let cell = &mut grid[cy as usize][cx as usize];
                assert!(!*cell, "drawn twice");
                *cell = true;
            }
        }
        grid
    }

    #[test]
    fn a_handoff_url_draws_exactly_qrcodegens_matrix() {
        // The longest usual shape: a 32-byte token in Base64url (43 characters).
        let url = format!(
            "https://kyc.example.com/?handoff={}",
            "A1b2_-".repeat(7) + "x"
        );
        assert_eq!(url.len(), 76);
        let qr = encode(&url).unwrap();
        assert_eq!(
            qr.version().value(),
            5,
            "37×37 modules at error correction M"
        );
        assert_eq!(qr.size(), 37);
        assert!(matches!(
            qr.error_correction_level(),
            QrCodeEcc::Medium | QrCodeEcc::Quartile | QrCodeEcc::High
        ));
        let svg = svg(&qr);
        let n = qr.size();
        let grid = drawn(&svg, n);
        for y in 0..n {
            for x in 0..n {
                assert_eq!(
                    grid[y as usize][x as usize],
                    qr.get_module(x, y),
                    "({x},{y})"
                );
            }
        }
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 45 45\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("shape-rendering=\"crispEdges\""));
        let open_tag = svg.split('>').next().unwrap();
        assert!(
            !open_tag.contains("width") && !open_tag.contains("height"),
            "CSS sizes it: {open_tag}"
        );
        assert_eq!(svg.matches("<path").count(), 1);
        assert!(svg.len() < 12_000, "{} bytes", svg.len());
        assert_eq!(svg_of(&url).unwrap(), svg);
    }

    #[test]
    fn too_long_is_an_error_not_a_panic() {
        assert!(svg_of(&"x".repeat(3000)).is_err());
    }
}
