//! The SPA's languages, without a UI framework: which ones are translated, which read right to
//! left, which one a visitor gets, and `{name}` placeholders. Shared by the first-screen module
//! (no Leptos) and `liveform-ui`'s reactive translations.

/// Languages with complete translations (the rest of ARGOS's 26 fall back to English).
pub const SUPPORTED: [&str; 4] = ["en", "ko", "ja", "ar"];

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
/// preference (`ko-KR` → `ko`), else English.
pub fn pick_language(link: Option<&str>, browser: &[String]) -> &'static str {
    let supported = |l: &str| {
        let primary = l
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
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
        assert_eq!(
            pick_language(Some("vi"), &["ko-KR".into()]),
            "ko",
            "unsupported link lang → browser"
        );
        assert_eq!(pick_language(None, &["fr-FR".into(), "ko".into()]), "ko");
        assert_eq!(pick_language(None, &["fr".into()]), "en");
        assert!(is_rtl("ar") && is_rtl("fa") && !is_rtl("ko"));
    }

    #[test]
    fn placeholders() {
        assert_eq!(
            format("Hi {project}, {project}!", &[("project", "X")]),
            "Hi X, X!"
        );
    }
}
