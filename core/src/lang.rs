//! The SPA's languages, without a UI framework: which ones are translated, which read right to
//! left, which one a visitor gets, and `{name}` placeholders. Shared by the first-screen module
//! (no Leptos) and `liveform-ui`'s reactive translations.

/// Languages with complete translations: every one of ARGOS's 26 (`launch::LANGUAGES`).
pub const SUPPORTED: [&str; 26] = crate::launch::LANGUAGES;

/// Each language's own name (its autonym, as the language switch shows it), in ARGOS's order.
pub const NAMES: [(&str, &str); 26] = [
    ("ko", "한국어"),
    ("en", "English"),
    ("zh", "简体中文"),
    ("es", "Español"),
    ("ja", "日本語"),
    ("pt", "Português"),
    ("vi", "Tiếng Việt"),
    ("ru", "Русский"),
    ("ar", "العربية"),
    ("fi", "Suomi"),
    ("fr", "Français"),
    ("hi", "हिन्दी"),
    ("id", "Bahasa Indonesia"),
    ("fa", "فارسی"),
    ("pl", "Polski"),
    ("th", "ไทย"),
    ("de", "Deutsch"),
    ("tl", "Tagalog"),
    ("km", "ខ្មែរ"),
    ("ne", "नेपाली"),
    ("ur", "اردو"),
    ("bn", "বাংলা"),
    ("uz", "Oʻzbekcha"),
    ("si", "සිංහල"),
    ("ms", "Bahasa Melayu"),
    ("my", "မြန်မာ"),
];

/// Languages written right to left.
pub fn is_rtl(lang: &str) -> bool {
    matches!(lang, "ar" | "fa" | "ur")
}

/// Replaces `{name}` placeholders.
pub fn format(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in args {
        out = out.replace(&["{", k, "}"].concat(), v);
    }
    out
}

/// The UI language: the link's `lang` if we have it, else the browser's first supported
/// preference (`ko-KR` → `ko`; `fil` → `tl`, `in` → `id`: the codes browsers also send), else
/// English.
pub fn pick_language(link: Option<&str>, browser: &[String]) -> &'static str {
    let supported = |l: &str| {
        let primary = l
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let primary = match primary.as_str() {
            "fil" => "tl",
            "in" => "id",
            p => p,
        };
        SUPPORTED.iter().copied().find(|s| *s == primary)
    };
    link.and_then(supported)
        .or_else(|| browser.iter().find_map(|l| supported(l)))
        .unwrap_or("en")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_choice() {
        assert_eq!(pick_language(Some("ko"), &[]), "ko");
        assert_eq!(pick_language(Some("ja"), &["ko-KR".into()]), "ja");
        assert_eq!(pick_language(Some("vi"), &["ko-KR".into()]), "vi");
        assert_eq!(
            pick_language(Some("xx"), &["ko-KR".into()]),
            "ko",
            "unsupported link lang → browser"
        );
        assert_eq!(pick_language(None, &["nl-NL".into(), "fr".into()]), "fr");
        assert_eq!(pick_language(None, &["nl".into(), "sv".into()]), "en");
        assert_eq!(pick_language(None, &["fil-PH".into()]), "tl");
        assert_eq!(pick_language(None, &["in-ID".into()]), "id");
        assert_eq!(pick_language(None, &["zh-Hans-CN".into()]), "zh");
        assert_eq!(pick_language(None, &["uz-Latn-UZ".into()]), "uz");
        assert!(is_rtl("ar") && is_rtl("fa") && is_rtl("ur") && !is_rtl("ko"));
    }

    #[test]
    fn every_language_has_its_own_name() {
        let codes: Vec<&str> = NAMES.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes, SUPPORTED, "NAMES in ARGOS's order");
        for (_, name) in NAMES {
            assert!(!name.trim().is_empty());
        }
    }

    #[test]
    fn placeholders() {
        assert_eq!(
            format("Hi {project}, {project}!", &[("project", "X")]),
            "Hi X, X!"
        );
    }
}
