//! The Return URL (`argos-liveform.md` §3): where the person goes at the end, with the project's
//! dynamic fields, plain or as one `encrypted` value (§2.6: AES-256-ECB with the project key,
//! PKCS#7, standard Base64 of the JSON object).
//!
//! Only the server calls [`build`]; the SPA navigates to what the server sends. ECB gives no
//! integrity: an integrator must trust the webhook or the results API, never the redirect.

use crate::launch::crypto::encrypt_ecb;

/// The dynamic fields, by their ARGOS names, in the order they are written.
pub const FIELDS: [&str; 8] = [
    "kycStatus",
    "userid",
    "email",
    "submissionId",
    "cf1",
    "cf2",
    "cf3",
    "errorCode",
];

/// The project's Return URL settings.
#[derive(Debug, Clone, Copy)]
pub struct ReturnSettings<'a> {
    /// The configured `return_url` (`http(s)://…`, may carry its own query).
    pub url: &'a str,
    /// The enabled fields (names from [`FIELDS`]); others are never written.
    pub fields: &'a [String],
    /// One `encrypted` parameter instead of the fields.
    pub encrypted: bool,
    /// The project key (the string whose SHA-256 is the AES key).
    pub key: &'a str,
}

/// The values known at the moment of leaving (absent ones are not written).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReturnValues<'a> {
    pub kyc_status: Option<&'a str>,
    pub userid: Option<&'a str>,
    pub email: Option<&'a str>,
    pub submission_id: Option<&'a str>,
    pub cf1: Option<&'a str>,
    pub cf2: Option<&'a str>,
    pub cf3: Option<&'a str>,
    /// Only when leaving from an error page.
    pub error_code: Option<&'a str>,
}

impl<'a> ReturnValues<'a> {
    fn get(&self, field: &str) -> Option<&'a str> {
        match field {
            "kycStatus" => self.kyc_status,
            "userid" => self.userid,
            "email" => self.email,
            "submissionId" => self.submission_id,
            "cf1" => self.cf1,
            "cf2" => self.cf2,
            "cf3" => self.cf3,
            "errorCode" => self.error_code,
            _ => None,
        }
    }

    /// The enabled, present fields in [`FIELDS`] order.
    pub fn pairs(&self, enabled: &[String]) -> Vec<(&'static str, &'a str)> {
        FIELDS
            .iter()
            .filter(|f| enabled.iter().any(|e| e == *f))
            .filter_map(|f| self.get(f).map(|v| (*f, v)))
            .collect()
    }
}

/// Why no URL can be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("the return URL is not an absolute http(s) URL")]
    BadBase,
}

/// The scheme://authority and path of `url` (no query, no fragment), if it is http(s).
fn base_parts(url: &str) -> Option<(&str, &str)> {
    let no_frag = url.split('#').next().unwrap_or(url);
    let rest = no_frag
        .strip_prefix("https://")
        .or_else(|| no_frag.strip_prefix("http://"))?;
    let host = rest.split(['/', '?']).next().unwrap_or("");
    if host.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let path_end = no_frag.find('?').unwrap_or(no_frag.len());
    Some((&no_frag[..path_end], &no_frag[path_end..]))
}

/// The Return URL: `settings.url` with the enabled fields appended to its query (or one
/// `encrypted` parameter), the fragment kept at the end.
pub fn build(
    settings: &ReturnSettings<'_>,
    values: &ReturnValues<'_>,
) -> Result<String, ReturnError> {
    let (path, query) = base_parts(settings.url).ok_or(ReturnError::BadBase)?;
    let fragment = settings
        .url
        .find('#')
        .map(|i| &settings.url[i..])
        .unwrap_or("");
    let pairs = values.pairs(settings.fields);
    let mut ser = form_urlencoded::Serializer::new(String::new());
    if settings.encrypted {
        if !pairs.is_empty() {
            let mut obj = serde_json::Map::new();
            for (k, v) in &pairs {
                obj.insert((*k).to_owned(), serde_json::Value::String((*v).to_owned()));
            }
            let json = serde_json::Value::Object(obj).to_string();
            ser.append_pair("encrypted", &encrypt_ecb(settings.key, json.as_bytes()));
        }
    } else {
        for (k, v) in &pairs {
            ser.append_pair(k, v);
        }
    }
    let added = ser.finish();
    let existing = query.strip_prefix('?').unwrap_or(query);
    let q = match (existing.is_empty(), added.is_empty()) {
        (true, true) => String::new(),
        (true, false) => format!("?{added}"),
        (false, true) => format!("?{existing}"),
        (false, false) => format!("?{existing}&{added}"),
    };
    let url = format!("{path}{q}{fragment}");
    debug_assert!(is_under(settings.url, &url));
    Ok(url)
}

/// Whether `candidate` is the configured `base` with (only) query parameters added: same scheme,
/// authority and path, the base's own query kept as a prefix. The server checks every URL it
/// hands out with this.
pub fn is_under(base: &str, candidate: &str) -> bool {
    let (Some((bp, bq)), Some((cp, cq))) = (base_parts(base), base_parts(candidate)) else {
        return false;
    };
    if bp != cp {
        return false;
    }
    let bq = bq.strip_prefix('?').unwrap_or(bq);
    let cq = cq.strip_prefix('?').unwrap_or(cq);
    bq.is_empty() || cq == bq || cq.starts_with(&format!("{bq}&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::launch::crypto::decrypt_ecb;

    fn fields(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn values() -> ReturnValues<'static> {
        ReturnValues {
            kyc_status: Some("pending"),
            userid: Some("u 1&x"),
            email: Some("a+b@c.de"),
            submission_id: Some("sub123"),
            cf1: Some("one"),
            cf2: None,
            cf3: Some("three"),
            error_code: None,
        }
    }

    #[test]
    fn plain_fields_in_order_only_enabled_and_present() {
        let f = fields(&["email", "kycStatus", "cf2", "submissionId", "errorCode"]);
        let s = ReturnSettings {
            url: "https://shop.example/kyc/done",
            fields: &f,
            encrypted: false,
            key: "k",
        };
        let u = build(&s, &values()).unwrap();
        assert_eq!(
            u,
            "https://shop.example/kyc/done?kycStatus=pending&email=a%2Bb%40c.de&submissionId=sub123"
        );
        assert!(is_under(s.url, &u));
    }

    #[test]
    fn keeps_the_base_query_and_fragment() {
        let f = fields(&["userid"]);
        let s = ReturnSettings {
            url: "https://shop.example/r?lang=ko#top",
            fields: &f,
            encrypted: false,
            key: "k",
        };
        let u = build(&s, &values()).unwrap();
        assert_eq!(u, "https://shop.example/r?lang=ko&userid=u+1%26x#top");
        assert!(is_under(s.url, &u));
        let none = build(&ReturnSettings { fields: &[], ..s }, &values()).unwrap();
        assert_eq!(none, "https://shop.example/r?lang=ko#top");
    }

    #[test]
    fn error_code_when_leaving_from_an_error_page() {
        let f = fields(&["kycStatus", "errorCode"]);
        let s = ReturnSettings {
            url: "http://127.0.0.1:9/back",
            fields: &f,
            encrypted: false,
            key: "k",
        };
        let v = ReturnValues {
            error_code: Some("TK-10001"),
            ..Default::default()
        };
        assert_eq!(
            build(&s, &v).unwrap(),
            "http://127.0.0.1:9/back?errorCode=TK-10001"
        );
    }

    #[test]
    fn encrypted_round_trip() {
        let f = fields(&["kycStatus", "userid", "email", "submissionId", "cf1", "cf3"]);
        let s = ReturnSettings {
            url: "https://shop.example/kyc",
            fields: &f,
            encrypted: true,
            key: "ARGOS-TEST-KEY-0123456789abcdef",
        };
        let u = build(&s, &values()).unwrap();
        assert!(is_under(s.url, &u));
        let q = u.split_once('?').unwrap().1;
        let pairs: Vec<(String, String)> = form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].0, "encrypted");
        let plain = decrypt_ecb(s.key, &pairs[0].1).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kycStatus":"pending","userid":"u 1&x","email":"a+b@c.de",
                "submissionId":"sub123","cf1":"one","cf3":"three"})
        );
        // The raw value is percent-encoded Base64 (no bare + / =).
        let raw = q.strip_prefix("encrypted=").unwrap();
        assert!(!raw.contains('+') && !raw.contains('/') && !raw.contains('='));
    }

    #[test]
    fn under_the_configured_url_only() {
        let base = "https://shop.example/kyc?a=1";
        assert!(is_under(base, "https://shop.example/kyc?a=1&b=2"));
        assert!(is_under(base, "https://shop.example/kyc?a=1"));
        assert!(!is_under(base, "https://shop.example/kyc?a=12"));
        assert!(!is_under(base, "https://shop.example/kyc2?a=1"));
        assert!(!is_under(base, "https://evil.example/kyc?a=1"));
        assert!(!is_under(base, "https://shop.example.evil/kyc?a=1"));
        assert!(!is_under("https://shop.example", "javascript:alert(1)"));
        assert!(is_under("https://shop.example", "https://shop.example?x=1"));
        assert_eq!(
            build(
                &ReturnSettings {
                    url: "javascript:alert(1)",
                    fields: &[],
                    encrypted: false,
                    key: "k"
                },
                &ReturnValues::default()
            ),
            Err(ReturnError::BadBase)
        );
    }
}
