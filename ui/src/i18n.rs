//! Translations: flat JSON maps per language (`locales/*.json`), `{name}` placeholders.
//!
//! English is compiled in (the fallback, and what error pages use when nothing else loaded);
//! every other language is a separate file fetched only when it is the active one, so the first
//! screen never carries the others. Why not Fluent or leptos_i18n: we need lookup and named
//! placeholders only; the crates add a parser, plural rules and macros to every download.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;

/// English, compiled in.
pub const EN_JSON: &str = include_str!("../../locales/en.json");
/// The capture module's English (`locales/capture/`): compiled into the capture module only.
pub const CAPTURE_EN_JSON: &str = include_str!("../../locales/capture/en.json");
pub use liveform_core::lang::{format, is_rtl, pick_language, SUPPORTED};

/// One language's strings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Translations {
    pub lang: String,
    map: HashMap<String, String>,
}

impl Translations {
    pub fn parse(lang: &str, json: &str) -> Result<Self, serde_json::Error> {
        Ok(Translations {
            lang: lang.to_owned(),
            map: serde_json::from_str(json)?,
        })
    }

    /// The compiled-in English strings (a test guarantees they parse).
    pub fn english() -> Self {
        Translations::parse("en", EN_JSON).unwrap_or_else(|_| Translations {
            lang: "en".into(),
            map: HashMap::new(),
        })
    }

    /// English for the capture module: the main strings plus `locales/capture/en.json`.
    pub fn english_with_capture() -> Self {
        let mut t = Translations::english();
        if let Ok(c) = Translations::parse("en", CAPTURE_EN_JSON) {
            t.merge(c);
        }
        t
    }

    /// Adds `other`'s strings (they win on equal keys).
    pub fn merge(&mut self, other: Translations) {
        self.map.extend(other.map);
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }
}

/// The active translations, shared through context.
#[derive(Clone, Copy)]
pub struct I18n {
    current: RwSignal<Arc<Translations>>,
    english: StoredValue<Arc<Translations>>,
}

impl I18n {
    pub fn new() -> Self {
        I18n::with_english(Translations::english())
    }

    /// With another fallback (the capture module's English).
    pub fn with_english(en: Translations) -> Self {
        let en = Arc::new(en);
        I18n {
            current: RwSignal::new(en.clone()),
            english: StoredValue::new(en),
        }
    }

    /// A string for `key` (reactive); missing keys fall back to English, then to the key.
    pub fn t(&self, key: &str) -> String {
        let cur = self.current.get();
        if let Some(s) = cur.get(key) {
            return s.to_owned();
        }
        self.english
            .with_value(|en| en.get(key).map(str::to_owned))
            .unwrap_or_else(|| key.to_owned())
    }

    /// [`I18n::t`] with `{name}` placeholders filled.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        format(&self.t(key), args)
    }

    pub fn lang(&self) -> String {
        self.current.with(|t| t.lang.clone())
    }

    pub fn set(&self, t: Translations) {
        self.current.set(Arc::new(t));
    }
}

impl Default for I18n {
    fn default() -> Self {
        Self::new()
    }
}

/// Provides English translations to the component tree.
pub fn provide_i18n() -> I18n {
    let i = I18n::new();
    provide_context(i);
    i
}

/// The translations in context (provided by the app root).
pub fn use_i18n() -> I18n {
    use_context::<I18n>().unwrap_or_else(provide_i18n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn read(rel: &str) -> String {
        std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// `locales/<part><lang>.json` for every language but English.
    fn load(part: &str) -> Vec<Translations> {
        SUPPORTED
            .iter()
            .filter(|l| **l != "en")
            .map(|l| {
                let rel = format!("locales/{part}{l}.json");
                Translations::parse(l, &read(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
            })
            .collect()
    }

    fn others() -> Vec<Translations> {
        load("")
    }

    fn capture_others() -> Vec<Translations> {
        load("capture/")
    }

    fn capture_en() -> Translations {
        Translations::parse("en", CAPTURE_EN_JSON).expect("capture/en.json parses")
    }

    /// A language's glossary (`locales/glossary/<lang>.json`): its register, the forms of the
    /// terms that must stay consistent, and the keys left as in English with the reason.
    #[derive(serde::Deserialize)]
    struct Glossary {
        language: String,
        register: String,
        terms: HashMap<String, Vec<String>>,
        #[serde(default)]
        untranslated: HashMap<String, String>,
    }

    /// The English terms every glossary gives (matched case-insensitively in the English value).
    const TERMS: [&str; 7] = [
        "ID document",
        "ID card",
        "passport",
        "residence permit",
        "selfie",
        "liveness",
        "verification",
    ];

    fn glossary(lang: &str) -> Glossary {
        let rel = format!("locales/glossary/{lang}.json");
        serde_json::from_str(&read(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn same_keys(en: &Translations, others: Vec<Translations>, what: &str) {
        let mut a: Vec<&str> = en.keys().collect();
        a.sort_unstable();
        for t in others {
            let mut b: Vec<&str> = t.keys().collect();
            b.sort_unstable();
            assert_eq!(a, b, "{what}: en and {} have the same keys", t.lang);
            for key in &a {
                let (e, o) = (en.get(key).unwrap_or(""), t.get(key).unwrap_or(""));
                assert!(!o.trim().is_empty(), "{key} empty in {}", t.lang);
                assert_eq!(
                    placeholder_names(e),
                    placeholder_names(o),
                    "{key} in {}",
                    t.lang
                );
            }
        }
    }

    #[test]
    fn every_capture_language_is_complete_and_apart() {
        let en = capture_en();
        same_keys(&en, capture_others(), "capture");
        let main = Translations::english();
        for k in en.keys() {
            assert!(
                main.get(k).is_none(),
                "{k} is in both en.json and capture/en.json"
            );
        }
        assert!(Translations::english_with_capture()
            .get("camera-shutter")
            .is_some());
    }

    fn placeholder_names(s: &str) -> Vec<&str> {
        let mut p: Vec<&str> = s
            .split('{')
            .skip(1)
            .filter_map(|x| x.split('}').next())
            .collect();
        p.sort_unstable();
        p
    }

    #[test]
    fn every_language_is_complete() {
        let en = Translations::parse("en", EN_JSON).expect("en.json parses");
        same_keys(&en, others(), "main");
        assert_eq!(SUPPORTED.len(), others().len() + 1);
        assert_eq!(
            SUPPORTED,
            liveform_core::launch::LANGUAGES,
            "all of ARGOS's 26"
        );
    }

    /// No string is left in English by mistake: a value equal to English must be listed in the
    /// language's glossary (`untranslated`, with the reason: "OK" is Japanese too).
    #[test]
    fn no_value_is_left_in_english() {
        let pairs = [
            (Translations::english(), others()),
            (capture_en(), capture_others()),
        ];
        let mut left = Vec::new();
        for (en, others) in &pairs {
            for t in others {
                let g = glossary(&t.lang);
                for (k, v) in &t.map {
                    if en.get(k) == Some(v.as_str()) && !g.untranslated.contains_key(k) {
                        left.push(format!("{}: {k} = {v:?}", t.lang));
                    }
                }
            }
        }
        assert!(left.is_empty(), "left in English: {left:#?}");
    }

    /// Each language names the things the person deals with (ID card, passport, selfie, liveness,
    /// verification…) the same way everywhere: every string whose English has a term carries one
    /// of the glossary's forms of it.
    #[test]
    fn every_language_keeps_its_glossary() {
        let mut en = Translations::english();
        en.merge(capture_en());
        let mut problems = Vec::new();
        for lang in SUPPORTED.iter().filter(|l| **l != "en") {
            let g = glossary(lang);
            assert!(
                !g.language.trim().is_empty() && !g.register.trim().is_empty(),
                "{lang}: the glossary names the language and its register"
            );
            let mut t = others()
                .into_iter()
                .find(|t| t.lang == *lang)
                .expect("main");
            t.merge(
                capture_others()
                    .into_iter()
                    .find(|t| t.lang == *lang)
                    .expect("capture"),
            );
            for term in TERMS {
                let forms = g.terms.get(term).filter(|f| !f.is_empty());
                let Some(forms) = forms else {
                    problems.push(format!("{lang}: the glossary lacks {term:?}"));
                    continue;
                };
                for (k, e) in &en.map {
                    if !e.to_lowercase().contains(&term.to_lowercase()) {
                        continue;
                    }
                    let v = t.get(k).unwrap_or("").to_lowercase();
                    if !forms.iter().any(|f| v.contains(&f.to_lowercase())) {
                        problems.push(format!("{lang}: {k} has none of {forms:?} for {term:?}"));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// The keys the sources look up literally (`t("…")`, `tf("…", …)`), outside comments.
    fn literal_keys(dir: &Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                literal_keys(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                for line in text.lines() {
                    let code = line.split("//").next().unwrap_or("");
                    for (i, _) in code.match_indices("t(\"") {
                        let before = code[..i].chars().next_back();
                        let before = if before == Some('f') {
                            code[..i - 1].chars().next_back()
                        } else {
                            before
                        };
                        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                            continue;
                        }
                        let rest = &code[i + 3..];
                        let key = rest.split('"').next().unwrap_or("");
                        if !key.is_empty()
                            && key
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                        {
                            out.push((key.to_owned(), p.display().to_string()));
                        }
                    }
                }
            }
        }
    }

    /// `t()` falls back to the key itself, so a misspelt key would show as "cammera-retake":
    /// every key the sources look up literally exists in English (the capture module's own
    /// strings count for its sources only).
    #[test]
    fn every_literal_key_exists_in_english() {
        let main = Translations::english();
        let with_capture = Translations::english_with_capture();
        let mut missing = Vec::new();
        let mut seen = 0;
        for (dir, en) in [
            ("src", &main),
            ("welcome/src", &main),
            ("ui/src", &main),
            ("capture/src", &with_capture),
        ] {
            let mut keys = Vec::new();
            literal_keys(&root().join(dir), &mut keys);
            seen += keys.len();
            for (k, file) in keys {
                if en.get(&k).is_none() {
                    missing.push(format!("{k} ({file})"));
                }
            }
        }
        assert!(seen > 100, "the scan finds the sources' keys ({seen})");
        assert!(missing.is_empty(), "keys with no English: {missing:#?}");
    }

    /// Camera problems and the liveness failure (`SE-50021`, the liveness step's end) are shown by
    /// the capture module only, so their messages live with its strings (`locales/capture/`);
    /// every other message is the main error page's.
    #[test]
    fn every_catalogue_message_has_a_title_and_an_action() {
        let mut main = others();
        main.push(Translations::english());
        let mut capture = capture_others();
        capture.push(capture_en());
        for (m, c) in main.into_iter().zip(capture) {
            assert_eq!(m.lang, c.lang);
            for key in liveform_core::errors::message_keys() {
                let t = if key.starts_with("error-camera-") || key == "error-liveness-failed" {
                    &c
                } else {
                    &m
                };
                for suffix in ["title", "action"] {
                    let k = format!("{key}-{suffix}");
                    assert!(t.get(&k).is_some(), "{} lacks {k}", t.lang);
                }
            }
        }
    }

    #[test]
    fn every_id_type_and_step_has_a_label() {
        let en = Translations::english();
        for t in liveform_core::IdType::ALL {
            assert!(en.get(&format!("idtype-{}", t.as_str())).is_some(), "{t}");
        }
    }
}
