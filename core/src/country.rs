//! ISO 3166-1 alpha-3 country codes as a validated type.

use serde::{Deserialize, Serialize};

use crate::iso3166::is_alpha3;

/// An officially assigned ISO 3166-1 alpha-3 code, upper case (e.g. `KOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Alpha3([u8; 3]);

impl Alpha3 {
    /// Parses an exact, upper-case, assigned alpha-3 code.
    pub fn parse(s: &str) -> Option<Alpha3> {
        if s.len() == 3 && is_alpha3(s) {
            let b = s.as_bytes();
            Some(Alpha3([b[0], b[1], b[2]]))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ever built from ASCII upper-case letters.
        core::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl core::fmt::Display for Alpha3 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Alpha3 {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Alpha3::parse(&s).ok_or_else(|| format!("{s:?} is not an ISO 3166-1 alpha-3 country code"))
    }
}

impl From<Alpha3> for String {
    fn from(c: Alpha3) -> String {
        c.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_assigned_upper_case_codes() {
        assert_eq!(
            Alpha3::parse("KOR").map(|c| c.to_string()),
            Some("KOR".into())
        );
        assert!(Alpha3::parse("kor").is_none());
        assert!(Alpha3::parse("KR").is_none());
        assert!(Alpha3::parse("QQQ").is_none());
        assert!(Alpha3::parse("KORE").is_none());
    }

    #[test]
    fn serde_round_trip() {
        let c: Alpha3 = serde_json::from_str("\"USA\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"USA\"");
        assert!(serde_json::from_str::<Alpha3>("\"usa\"").is_err());
    }
}
