//! Brand colours made safe to use: WCAG 2.2 contrast, with readable fallbacks.
//!
//! A link's `mainColor` fills buttons (text on it must reach 4.5:1) and marks links and focus
//! rings on the white page (4.5:1 against white for text, else a darker fallback is used).

/// The default brand colour (a blue that passes 4.5:1 on white with white text on it).
pub const DEFAULT_MAIN: &str = "#1d4ed8";
/// The default second colour (page accents, panels).
pub const DEFAULT_INNER: &str = "#eff6ff";
/// Dark text used where a colour fails contrast.
pub const DARK_TEXT: &str = "#111827";
/// The page background the brand colour is checked against.
pub const PAGE: &str = "#ffffff";

/// Parses `#rrggbb` (as normalised by launch parameters).
pub fn rgb(hex: &str) -> Option<[u8; 3]> {
    let h = hex.strip_prefix('#').unwrap_or(hex);
    if h.len() != 6 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let p = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some([p(0)?, p(2)?, p(4)?])
}

/// WCAG relative luminance.
pub fn luminance(c: [u8; 3]) -> f64 {
    let lin = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.04045 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
}

/// WCAG contrast ratio (1..=21).
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// The CSS custom properties for a session's colours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Palette {
    /// Button fill.
    pub main: String,
    /// Text on `main`: white or dark, whichever reads (≥ 4.5:1 when either can).
    pub on_main: String,
    /// The brand colour as text / focus ring on the page, or a dark fallback when it fails 4.5:1.
    pub main_text: String,
    /// Secondary surface.
    pub inner: String,
    /// Text on `inner`.
    pub on_inner: String,
}

fn readable_on(bg: [u8; 3]) -> &'static str {
    let white = [255, 255, 255];
    let dark = rgb(DARK_TEXT).unwrap_or([17, 24, 39]);
    if contrast(bg, white) >= contrast(bg, dark) {
        "#ffffff"
    } else {
        DARK_TEXT
    }
}

fn hex(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// The colour itself when white or dark text reaches 4.5:1 on it; otherwise the same hue darkened
/// just enough for white text (mid-tones like #777777 or #ff0000 reach neither).
fn fill_for_text(c: [u8; 3]) -> [u8; 3] {
    let white = [255, 255, 255];
    let dark = rgb(DARK_TEXT).unwrap_or([17, 24, 39]);
    if contrast(c, white) >= 4.5 || contrast(c, dark) >= 4.5 {
        return c;
    }
    let mut d = c;
    for _ in 0..40 {
        d = d.map(|v| (f64::from(v) * 0.95) as u8);
        if contrast(d, white) >= 4.5 {
            break;
        }
    }
    d
}

/// Builds the palette from optional brand colours (invalid values fall back to the defaults).
pub fn palette(main: Option<&str>, inner: Option<&str>) -> Palette {
    let main_hex = main.filter(|m| rgb(m).is_some()).unwrap_or(DEFAULT_MAIN);
    let inner_hex = inner.filter(|m| rgb(m).is_some()).unwrap_or(DEFAULT_INNER);
    let original = rgb(main_hex).unwrap_or([29, 78, 216]);
    let m = fill_for_text(original);
    let i = rgb(inner_hex).unwrap_or([239, 246, 255]);
    let page = rgb(PAGE).unwrap_or([255, 255, 255]);
    Palette {
        main: hex(m),
        on_main: readable_on(m).to_owned(),
        main_text: if contrast(original, page) >= 4.5 {
            main_hex.to_owned()
        } else {
            DARK_TEXT.to_owned()
        },
        inner: inner_hex.to_owned(),
        on_inner: readable_on(i).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_wcag_examples() {
        assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-9);
        assert!((contrast([255, 255, 255], [255, 255, 255]) - 1.0).abs() < 1e-9);
        // #767676 on white is the classic 4.54:1.
        let c = contrast(rgb("#767676").unwrap(), [255, 255, 255]);
        assert!((c - 4.54).abs() < 0.01, "{c}");
    }

    #[test]
    fn defaults_pass() {
        let p = palette(None, None);
        assert_eq!(p.main, DEFAULT_MAIN);
        assert_eq!(p.on_main, "#ffffff");
        assert_eq!(p.main_text, DEFAULT_MAIN);
        assert!(contrast(rgb(&p.main).unwrap(), rgb(&p.on_main).unwrap()) >= 4.5);
    }

    #[test]
    fn light_brand_colours_fall_back_to_readable_text() {
        let p = palette(Some("#ffeb3b"), Some("#111111"));
        assert_eq!(p.on_main, DARK_TEXT, "dark text on yellow");
        assert_eq!(
            p.main_text, DARK_TEXT,
            "yellow text on white fails, dark instead"
        );
        assert_eq!(p.on_inner, "#ffffff");
        for hex in [
            "#000000", "#ffffff", "#ff0000", "#00ff00", "#0000ff", "#777777", "#0f766e", "#1d4ed8",
        ] {
            let p = palette(Some(hex), None);
            let c = contrast(rgb(&p.main).unwrap(), rgb(&p.on_main).unwrap());
            assert!(c >= 4.5, "{hex}: {c}");
            assert!(
                contrast(rgb(&p.main_text).unwrap(), [255, 255, 255]) >= 4.5,
                "{hex}"
            );
        }
    }

    #[test]
    fn mid_tones_are_darkened_only_as_needed() {
        let p = palette(Some("#ff0000"), None);
        assert_ne!(p.main, "#ff0000");
        assert_eq!(p.on_main, "#ffffff");
        assert_eq!(
            palette(Some("#0f766e"), None).main,
            "#0f766e",
            "passing colours are kept"
        );
    }

    #[test]
    fn invalid_colours_use_defaults() {
        assert_eq!(palette(Some("red"), Some("#12")).main, DEFAULT_MAIN);
    }
}
