//! The Return URL (`argos-liveform.md` §3): where the person goes at the end, with the project's
//! dynamic fields, plain or as one `encrypted` value (§2.6: AES-256-ECB with the project key,
//! PKCS#7, standard Base64 of the JSON object).
//!
//! Only the server calls [`build`]; the SPA navigates to what the server sends. ECB gives no
//! integrity: an integrator must trust the webhook or the results API, never the redirect.
//!
//! Beyond ARGOS, a project may opt into an authenticated value ([`build_authenticated`],
//! `return_authenticated = true`; docs/api.md "Authenticated Return URL"): the same JSON object
//! plus `iat`, sealed with AES-256-GCM under a key derived for this purpose only, with associated
//! data naming the purpose and the project, written as `v1.` + Base64url without padding of
//! nonce ‖ ciphertext ‖ tag. Neither ARGOS scheme accepts it as a link, and it accepts no link's
//! value: a different key, associated data and encoding.

use crate::launch::crypto::{encrypt_ecb, gcm_open, gcm_seal, CryptoError, GCM_IV_LEN};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hkdf::Hkdf;
use sha2::Sha256;

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

/// Version 1 of the authenticated Return URL: the HKDF `info` that derives its key, and the
/// start of its associated data (`"liveform return-url v1:" + pid`). A later version changes the
/// label and the prefix together.
pub const AUTH_LABEL: &str = "liveform return-url v1";
/// What an authenticated value starts with (its version); the rest is Base64url, no padding.
pub const AUTH_PREFIX: &str = "v1.";

/// What one authenticated Return URL needs besides the settings: core has no clock and no
/// randomness, so the server passes both.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated<'a> {
    /// The project's `pid`, bound in the associated data (a value for one project never opens
    /// for another, even under the same key).
    pub pid: &'a str,
    /// Unix seconds when the URL was issued, written as `iat`.
    pub issued_at: i64,
    /// A fresh random 96-bit GCM nonce for this URL (never reused under one key).
    pub nonce: [u8; GCM_IV_LEN],
}

/// Why an authenticated value does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("not an authenticated Return URL value (expected the prefix \"v1.\")")]
    Version,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The authenticated Return URL's AES-256 key: HKDF-SHA256 (RFC 5869) with the UTF-8 project
/// key as input keying material, no salt, `info` = [`AUTH_LABEL`], 32 bytes. Never the link key
/// (SHA-256 of the project key).
pub fn auth_key(project_key: &str) -> [u8; 32] {
    let mut okm = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit of 255 × 32: expanding cannot fail.
    let _ =
        Hkdf::<Sha256>::new(None, project_key.as_bytes()).expand(AUTH_LABEL.as_bytes(), &mut okm);
    okm
}

/// The associated data: `"liveform return-url v1:" + pid` (UTF-8).
pub fn auth_aad(pid: &str) -> Vec<u8> {
    format!("{AUTH_LABEL}:{pid}").into_bytes()
}

/// Seals `plaintext` for project `pid`: `v1.` + Base64url without padding of
/// nonce(12) ‖ ciphertext ‖ tag(16).
pub fn seal(project_key: &str, pid: &str, nonce: [u8; GCM_IV_LEN], plaintext: &[u8]) -> String {
    let bytes = gcm_seal(&auth_key(project_key), nonce, &auth_aad(pid), plaintext);
    format!("{AUTH_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Opens a value [`seal`] wrote (after form-urlencoded decoding): what an integrator does with
/// the `encrypted` parameter. Any altered, truncated or extended value, another project's value,
/// a value under another key and any launch link's value fail.
pub fn open(project_key: &str, pid: &str, value: &str) -> Result<Vec<u8>, OpenError> {
    let body = value.strip_prefix(AUTH_PREFIX).ok_or(OpenError::Version)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(body.as_bytes())
        .map_err(|_| CryptoError::Base64)?;
    Ok(gcm_open(&auth_key(project_key), &bytes, &auth_aad(pid))?)
}

/// How the fields are written.
#[derive(Clone, Copy)]
enum Encoding<'x> {
    /// One parameter per field.
    Plain,
    /// ARGOS: one `encrypted` value, AES-256-ECB (only when some field is present).
    Ecb,
    /// Liveform's authenticated value (always written: it carries `iat`).
    Authenticated(&'x Authenticated<'x>),
}

/// The fields as one JSON object (string values; `iat` a number).
fn json_of(pairs: &[(&str, &str)], iat: Option<i64>) -> String {
    let mut obj = serde_json::Map::new();
    for (k, v) in pairs {
        obj.insert((*k).to_owned(), serde_json::Value::String((*v).to_owned()));
    }
    if let Some(t) = iat {
        obj.insert("iat".to_owned(), serde_json::Value::from(t));
    }
    serde_json::Value::Object(obj).to_string()
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
    let encoding = if settings.encrypted {
        Encoding::Ecb
    } else {
        Encoding::Plain
    };
    assemble(settings, values, encoding)
}

/// The authenticated Return URL (`return_authenticated = true`): `settings.url` with one
/// `encrypted` parameter, [`seal`] of the enabled, present fields plus `iat` under
/// `settings.key` for `auth.pid`, whatever `settings.encrypted` says. Written even when no field
/// is present (`{"iat":…}` alone).
pub fn build_authenticated(
    settings: &ReturnSettings<'_>,
    auth: &Authenticated<'_>,
    values: &ReturnValues<'_>,
) -> Result<String, ReturnError> {
    assemble(settings, values, Encoding::Authenticated(auth))
}

fn assemble(
    settings: &ReturnSettings<'_>,
    values: &ReturnValues<'_>,
    encoding: Encoding<'_>,
) -> Result<String, ReturnError> {
    let (path, query) = base_parts(settings.url).ok_or(ReturnError::BadBase)?;
    let fragment = settings
        .url
        .find('#')
        .map(|i| &settings.url[i..])
        .unwrap_or("");
    let pairs = values.pairs(settings.fields);
    let mut ser = form_urlencoded::Serializer::new(String::new());
    match encoding {
        Encoding::Plain => {
            for (k, v) in &pairs {
                ser.append_pair(k, v);
            }
        }
        Encoding::Ecb => {
            if !pairs.is_empty() {
                let json = json_of(&pairs, None);
                ser.append_pair("encrypted", &encrypt_ecb(settings.key, json.as_bytes()));
            }
        }
        Encoding::Authenticated(a) => {
            let json = json_of(&pairs, Some(a.issued_at));
            ser.append_pair(
                "encrypted",
                &seal(settings.key, a.pid, a.nonce, json.as_bytes()),
            );
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

    /// The `encrypted` value of `url`, form-urlencoded decoded.
    fn encrypted_of(url: &str) -> String {
        let q = url.split_once('?').unwrap().1;
        let q = q.split('#').next().unwrap();
        let found: Vec<String> = form_urlencoded::parse(q.as_bytes())
            .filter(|(k, _)| k == "encrypted")
            .map(|(_, v)| v.into_owned())
            .collect();
        assert_eq!(found.len(), 1, "{url}");
        found[0].clone()
    }

    const AUTH_KEY_STRING: &str = "ARGOS-TEST-KEY-0123456789abcdef";

    fn authenticated() -> Authenticated<'static> {
        Authenticated {
            pid: "shop",
            issued_at: 1_800_000_000,
            nonce: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        }
    }

    #[test]
    fn ecb_value_is_unchanged_argos_ecb_of_the_sorted_json() {
        // Pinned bytes: AES-256-ECB(SHA-256(key)), PKCS#7, standard Base64, percent-encoded, of
        // exactly this JSON text (computed independently with Python's `cryptography`).
        let f = fields(&["kycStatus", "userid", "submissionId"]);
        let s = ReturnSettings {
            url: "https://shop.example/kyc",
            fields: &f,
            encrypted: true,
            key: AUTH_KEY_STRING,
        };
        let u = build(&s, &values()).unwrap();
        let json = r#"{"kycStatus":"pending","submissionId":"sub123","userid":"u 1&x"}"#;
        assert_eq!(
            decrypt_ecb(s.key, &encrypted_of(&u)).unwrap(),
            json.as_bytes()
        );
        assert_eq!(
            u,
            format!("https://shop.example/kyc?encrypted={ECB_PINNED}")
        );
        // Nothing enabled and present: no `encrypted` parameter at all (as before).
        let none = build(&ReturnSettings { fields: &[], ..s }, &values()).unwrap();
        assert_eq!(none, "https://shop.example/kyc");
    }

    const ECB_PINNED: &str = "Ju9M74hLM653L%2FONxzNnoLyi4GGPrQp7giqp9a2R01rPkz%2FOvl49OGU3hvzUh80OhIii%2B8mMxem0bLsvWCrkOO3Y%2FPhdjLNEzsXW48IkQ9c%3D";

    #[test]
    fn authenticated_round_trip_with_a_fixed_nonce() {
        let f = fields(&["kycStatus", "userid", "email", "submissionId", "cf1", "cf3"]);
        let s = ReturnSettings {
            url: "https://shop.example/kyc?src=lf#done",
            fields: &f,
            // Ignored by build_authenticated: the value is always written.
            encrypted: false,
            key: AUTH_KEY_STRING,
        };
        let a = authenticated();
        let u = build_authenticated(&s, &a, &values()).unwrap();
        assert!(is_under(s.url, &u));
        assert!(u.starts_with("https://shop.example/kyc?src=lf&encrypted=v1."));
        assert!(u.ends_with("#done"));
        let v = encrypted_of(&u);
        // URL-safe as it stands: form-urlencoding leaves it unchanged.
        assert!(u.contains(&format!("encrypted={v}#")), "{u}");
        assert!(v[AUTH_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        // A known answer (checked independently with Python's `cryptography`).
        assert_eq!(v, AUTH_PINNED);
        let plain = open(s.key, "shop", &v).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kycStatus":"pending","userid":"u 1&x","email":"a+b@c.de",
                "submissionId":"sub123","cf1":"one","cf3":"three","iat":1_800_000_000})
        );
        // Nothing enabled: still written, with `iat` alone.
        let bare =
            build_authenticated(&ReturnSettings { fields: &[], ..s }, &a, &values()).unwrap();
        let plain = open(s.key, "shop", &encrypted_of(&bare)).unwrap();
        assert_eq!(plain, br#"{"iat":1800000000}"#);
        // A fresh nonce gives a different value for the same content.
        let other = Authenticated {
            nonce: [1; 12],
            ..a
        };
        let u2 = build_authenticated(&s, &other, &values()).unwrap();
        assert_ne!(encrypted_of(&u2), v);
        assert_eq!(
            open(s.key, "shop", &encrypted_of(&u2)).unwrap(),
            open(s.key, "shop", &v).unwrap()
        );
        assert_eq!(
            build_authenticated(
                &ReturnSettings {
                    url: "ftp://x",
                    ..s
                },
                &a,
                &values()
            ),
            Err(ReturnError::BadBase)
        );
    }

    const AUTH_PINNED: &str = "v1.AAECAwQFBgcICQoL9qSJYqq4zsDuKAGFUX72NH_KFSG2WduE2pCl9c_rFqpqDx6RN4G8CFhJgfXgK6Ns8Kw5TPPKRr2VgzgYEZywk0ydZeXvfy62upUAIjqjXCWTcPBVrDPSye7EOMDeh6uruGJPAGxcI8ux_ptIVnnkd-ZMJKf8EJm_o1Uh3CRGRoT3HGOWbtBD0xkJJMIYyw";

    #[test]
    fn authenticated_key_is_hkdf_and_not_the_link_key() {
        use crate::launch::crypto::derive_key;
        // HKDF-SHA256(ikm = key, salt = none, info = "liveform return-url v1", 32), checked
        // independently with Python's `cryptography` and Node's `crypto.hkdfSync`.
        assert_eq!(hex::encode(auth_key(AUTH_KEY_STRING)), AUTH_KEY_PINNED);
        assert_ne!(auth_key(AUTH_KEY_STRING), derive_key(AUTH_KEY_STRING));
        assert_ne!(auth_key("another key"), auth_key(AUTH_KEY_STRING));
        assert_eq!(auth_aad("shop"), b"liveform return-url v1:shop");
    }

    const AUTH_KEY_PINNED: &str =
        "36d8c599c65436060945f5fcc98c910b8daf914522426b1e835d77ad589a1715";

    #[test]
    fn any_tampering_fails_to_open() {
        let f = fields(&["kycStatus", "submissionId"]);
        let s = ReturnSettings {
            url: "https://shop.example/kyc",
            fields: &f,
            encrypted: true,
            key: AUTH_KEY_STRING,
        };
        let v = encrypted_of(&build_authenticated(&s, &authenticated(), &values()).unwrap());
        assert!(open(s.key, "shop", &v).is_ok());
        let body = &v[AUTH_PREFIX.len()..];
        let bytes = URL_SAFE_NO_PAD.decode(body).unwrap();
        let reseal = |b: &[u8]| format!("{AUTH_PREFIX}{}", URL_SAFE_NO_PAD.encode(b));
        // Every flipped bit of every byte: nonce, ciphertext and tag.
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut t = bytes.clone();
                t[i] ^= 1 << bit;
                assert_eq!(
                    open(s.key, "shop", &reseal(&t)),
                    Err(OpenError::Crypto(CryptoError::Decrypt)),
                    "byte {i} bit {bit}"
                );
            }
        }
        // Truncated (by bytes and by characters), extended, blocks swapped.
        for n in 1..bytes.len() {
            assert!(
                open(s.key, "shop", &reseal(&bytes[..bytes.len() - n])).is_err(),
                "{n}"
            );
            assert!(open(s.key, "shop", &reseal(&bytes[n..])).is_err(), "{n}");
        }
        for n in 1..body.len() {
            assert!(open(s.key, "shop", &v[..v.len() - n]).is_err(), "{n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(open(s.key, "shop", &reseal(&longer)).is_err());
        // Two 16-byte blocks of the ciphertext exchanged (what cuts an ECB value).
        let mut swapped = bytes.clone();
        let (a, b) = swapped[12..].split_at_mut(16);
        a.swap_with_slice(&mut b[..16]);
        assert!(open(s.key, "shop", &reseal(&swapped)).is_err());
        // Another project, another key, another version, another encoding.
        assert_eq!(
            open(s.key, "shop2", &v),
            Err(OpenError::Crypto(CryptoError::Decrypt))
        );
        assert_eq!(
            open("another project key", "shop", &v),
            Err(OpenError::Crypto(CryptoError::Decrypt))
        );
        assert_eq!(
            open(s.key, "shop", &format!("v2.{body}")),
            Err(OpenError::Version)
        );
        assert_eq!(open(s.key, "shop", body), Err(OpenError::Version));
        let standard = base64::engine::general_purpose::STANDARD.encode(&bytes);
        if standard.contains(['+', '/', '=']) {
            assert!(open(s.key, "shop", &format!("v1.{standard}")).is_err());
        }
        assert_eq!(
            open(s.key, "shop", &format!("{v}=")),
            Err(OpenError::Crypto(CryptoError::Base64))
        );
        assert_eq!(
            open(s.key, "shop", "v1.AAAA"),
            Err(OpenError::Crypto(CryptoError::Length))
        );
    }

    #[test]
    fn authenticated_and_launch_gcm_values_never_open_as_each_other() {
        use crate::launch::crypto::{decrypt, decrypt_gcm, encrypt_gcm, Algorithm};
        let key = AUTH_KEY_STRING;
        let json = br#"{"userid":"u-1"}"#;
        // The Return URL's value is neither ARGOS encoding, and its bytes under the link key
        // (hex, as a GCM link carries them) do not authenticate: another key, associated data.
        let v = seal(key, "shop", [3; 12], json);
        for alg in [Algorithm::Ecb, Algorithm::Gcm] {
            assert!(decrypt(alg, key, &v).is_err(), "{alg:?}");
        }
        let bytes = URL_SAFE_NO_PAD.decode(&v[AUTH_PREFIX.len()..]).unwrap();
        assert_eq!(
            decrypt_gcm(key, &hex::encode(&bytes)),
            Err(CryptoError::Decrypt)
        );
        // A launch link's GCM value is refused, as it is and re-encoded as a v1 value.
        let link = encrypt_gcm(key, [3; 12], json);
        assert_eq!(open(key, "shop", &link), Err(OpenError::Version));
        let relabelled = format!(
            "{AUTH_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(hex::decode(&link).unwrap())
        );
        assert_eq!(
            open(key, "shop", &relabelled),
            Err(OpenError::Crypto(CryptoError::Decrypt))
        );
        // Same nonce and plaintext, different bytes: the keys differ.
        assert_ne!(hex::encode(&bytes), link);
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
