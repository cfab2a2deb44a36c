//! Country picker data and search: pure, tested natively.
//!
//! Names come from `locales/countries/<lang>.json` (generated from Unicode CLDR, see
//! docs/country-names.md), fetched only when the country step needs them.

use std::collections::HashMap;

use serde::Deserialize;

/// One country's names, as in `locales/countries/<lang>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CountryName {
    /// In the UI language.
    pub name: String,
    /// In the country's own language(s), for search.
    pub native: String,
    pub alpha2: String,
}

/// A country offered to the person, ready to show and search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub alpha3: String,
    pub alpha2: String,
    pub name: String,
    pub native: String,
    /// Folded name, native name and codes, for matching.
    folded_name: String,
    folded_native: String,
}

/// Lower case for the cased scripts people type country names in (Latin, Greek, Cyrillic),
/// without pulling Unicode's full case tables into the download (`char::to_lowercase` costs
/// ~10 KB of wasm). Scripts without case (Hangul, kana, Han, Arabic…) pass through.
fn lower(c: char) -> char {
    let u = c as u32;
    let l = match u {
        0x41..=0x5A => u + 0x20,                            // A-Z
        0xC0..=0xDE if u != 0xD7 => u + 0x20,               // À-Þ
        0x100..=0x17F if u % 2 == 0 && u != 0x130 => u + 1, // Latin Extended-A pairs
        0x391..=0x3A9 => u + 0x20,                          // Greek Α-Ω
        0x400..=0x40F => u + 0x50,                          // Cyrillic Ѐ-Џ
        0x410..=0x42F => u + 0x20,                          // Cyrillic А-Я
        _ => u,
    };
    char::from_u32(l).unwrap_or(c)
}

/// Lower case, Latin diacritics removed, so "cote" finds "Côte d’Ivoire".
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(lower) {
        let base = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'ď' | 'đ' => 'd',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => 'i',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
            'ř' => 'r',
            'ś' | 'š' | 'ş' | 'ș' => 's',
            'ť' | 'ţ' | 'ț' => 't',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => 'u',
            'ý' | 'ÿ' => 'y',
            'ź' | 'ż' | 'ž' => 'z',
            '’' | '‘' | '\'' => '\'',
            c => c,
        };
        out.push(base);
    }
    out
}

/// The offered countries with their names, sorted by name in the UI language. Codes without a
/// name (data older than the policy) show their code rather than disappear.
pub fn entries(offered: &[String], names: &HashMap<String, CountryName>) -> Vec<Entry> {
    let mut out: Vec<Entry> = offered
        .iter()
        .map(|a3| {
            let n = names.get(a3);
            let name = n.map(|n| n.name.clone()).unwrap_or_else(|| a3.clone());
            let native = n.map(|n| n.native.clone()).unwrap_or_default();
            Entry {
                alpha3: a3.clone(),
                alpha2: n.map(|n| n.alpha2.clone()).unwrap_or_default(),
                folded_name: fold(&name),
                folded_native: fold(&native),
                name,
                native,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.folded_name
            .cmp(&b.folded_name)
            .then_with(|| a.alpha3.cmp(&b.alpha3))
    });
    out
}

/// Indices of the entries matching `query`, best first: exact code, name prefix, word prefix in
/// the name or the native name, then (for queries of 4+ letters or non-Latin text) anywhere. An empty query matches everything, in order.
pub fn search(entries: &[Entry], query: &str) -> Vec<usize> {
    let q = fold(query.trim());
    if q.is_empty() {
        return (0..entries.len()).collect();
    }
    // Inside a word only for longer queries, or scripts written without spaces (韓国 in 大韓民国):
    // "ger" should find Germany, not Niger and Nigeria.
    let infix = q.chars().count() >= 4 || !q.is_ascii();
    let mut ranked: Vec<(u8, usize)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let code = (q.len() == 2 && e.alpha2.eq_ignore_ascii_case(&q))
                || (q.len() == 3 && e.alpha3.eq_ignore_ascii_case(&q));
            let word_prefix = |s: &str| {
                s.split([' ', '-', '(', '\'', ','])
                    .any(|w| w.starts_with(&q))
            };
            let rank = if code {
                0
            } else if e.folded_name.starts_with(&q) {
                1
            } else if word_prefix(&e.folded_name)
                || e.folded_native.starts_with(&q)
                || word_prefix(&e.folded_native)
            {
                2
            } else if infix && (e.folded_name.contains(&q) || e.folded_native.contains(&q)) {
                3
            } else {
                return None;
            };
            Some((rank, i))
        })
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> HashMap<String, CountryName> {
        let mut m = HashMap::new();
        for (a3, a2, name, native) in [
            ("KOR", "KR", "South Korea", "대한민국"),
            ("CIV", "CI", "Côte d’Ivoire", "Côte d’Ivoire"),
            ("DEU", "DE", "Germany", "Deutschland"),
            ("USA", "US", "United States", "United States"),
            ("GBR", "GB", "United Kingdom", "United Kingdom"),
            ("IRL", "IE", "Ireland", "Éire / Ireland"),
        ] {
            m.insert(
                a3.into(),
                CountryName {
                    name: name.into(),
                    native: native.into(),
                    alpha2: a2.into(),
                },
            );
        }
        m
    }

    fn found(q: &str) -> Vec<String> {
        let offered: Vec<String> = ["KOR", "CIV", "DEU", "USA", "GBR", "IRL", "XKX"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let e = entries(&offered, &names());
        search(&e, q)
            .into_iter()
            .map(|i| e[i].alpha3.clone())
            .collect()
    }

    #[test]
    fn sorted_by_name_and_unnamed_codes_kept() {
        let e = entries(&["USA".into(), "DEU".into(), "XKX".into()], &names());
        let order: Vec<&str> = e.iter().map(|e| e.alpha3.as_str()).collect();
        assert_eq!(order, ["DEU", "USA", "XKX"]);
        assert_eq!(e[2].name, "XKX");
    }

    #[test]
    fn searches_names_codes_native_and_ignores_accents() {
        assert_eq!(found("ger"), ["DEU"]);
        assert_eq!(found("deutsch"), ["DEU"], "native name");
        assert_eq!(found("대한"), ["KOR"], "native script");
        assert_eq!(found("kr"), ["KOR"], "alpha-2");
        assert_eq!(found("kor"), ["KOR"], "alpha-3");
        assert_eq!(found("cote"), ["CIV"], "accents folded");
        assert_eq!(found("eire"), ["IRL"]);
        assert_eq!(found("united")[..2], ["GBR".to_string(), "USA".to_string()]);
        assert_eq!(found("kingdom"), ["GBR"], "word prefix");
        assert_eq!(found("zzz"), Vec::<String>::new());
        assert_eq!(
            found("ted"),
            Vec::<String>::new(),
            "no infix for short queries"
        );
        assert_eq!(found("tates"), ["USA"], "infix for longer ones");
        assert_eq!(found("한민"), ["KOR"], "infix in scripts without spaces");
        assert_eq!(found("  ").len(), 7);
    }

    #[test]
    fn folding() {
        assert_eq!(fold("ÅLAND Île Éire ČESKO"), "aland ile eire cesko");
        assert_eq!(fold("РОССИЯ Ελλάδα"), "россия ελλάδα");
        assert_eq!(fold("대한민국 日本"), "대한민국 日本");
    }

    /// Every UI language has its country names, for exactly the countries English has.
    #[test]
    fn every_language_names_every_country() {
        let read = |lang: &str| -> HashMap<String, CountryName> {
            let p = format!(
                "{}/locales/countries/{lang}.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{p}: {e}"))
        };
        let en = read("en");
        assert!(en.len() >= 200);
        for lang in liveform_core::lang::SUPPORTED {
            let names = read(lang);
            let mut a: Vec<&String> = en.keys().collect();
            let mut b: Vec<&String> = names.keys().collect();
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "{lang}: the same countries as English");
            for (code, n) in &names {
                assert!(!n.name.trim().is_empty(), "{lang}: {code} has a name");
                assert_eq!(n.native, en[code].native, "{lang}: {code}'s native name");
            }
        }
    }

    #[test]
    fn exact_code_ranks_first() {
        assert_eq!(found("us")[0], "USA");
    }
}
