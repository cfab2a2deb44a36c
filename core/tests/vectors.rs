//! ARGOS crypto test vectors (`shared/reference/vectors.json`, copied to tests/data): Node crypto,
//! Python cryptography and openssl agree on them.

use liveform_core::launch::crypto::{self, Algorithm};
use liveform_core::launch::{LaunchContext, RawQuery};

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vectors {
    key_string: String,
    sha256_key_hex: String,
    plaintext: String,
    ecb_base64: String,
    ecb_url_encoded: String,
    gcm_fixed_iv_hex: String,
    gcm_hex: String,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("data/argos-vectors.json")).expect("vectors.json parses")
}

#[test]
fn key_derivation() {
    let v = vectors();
    assert_eq!(
        hex::encode(crypto::derive_key(&v.key_string)),
        v.sha256_key_hex
    );
}

#[test]
fn ecb_vector_both_ways() {
    let v = vectors();
    assert_eq!(
        crypto::encrypt_ecb(&v.key_string, v.plaintext.as_bytes()),
        v.ecb_base64
    );
    assert_eq!(
        crypto::decrypt_ecb(&v.key_string, &v.ecb_base64).unwrap(),
        v.plaintext.as_bytes()
    );
}

#[test]
fn gcm_vector_both_ways() {
    let v = vectors();
    let iv: [u8; 12] = hex::decode(&v.gcm_fixed_iv_hex)
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(
        crypto::encrypt_gcm(&v.key_string, iv, v.plaintext.as_bytes()),
        v.gcm_hex
    );
    assert_eq!(
        crypto::decrypt_gcm(&v.key_string, &v.gcm_hex).unwrap(),
        v.plaintext.as_bytes()
    );
    assert_eq!(
        crypto::decrypt_gcm(&v.key_string, &v.gcm_hex.to_uppercase()).unwrap(),
        v.plaintext.as_bytes()
    );
}

#[test]
fn vector_links_resolve() {
    let v = vectors();
    for (alg, ct) in [
        (Algorithm::Ecb, v.ecb_url_encoded.clone()),
        (Algorithm::Gcm, v.gcm_hex.clone()),
    ] {
        let q = format!("?pid=argos5202&encrypted={ct}");
        let ctx = LaunchContext {
            key: &v.key_string,
            algorithm: alg,
            encrypted_only: true,
            now_unix: 0,
        };
        let p = RawQuery::parse(&q).unwrap().resolve(&ctx).unwrap();
        assert_eq!(p.email.as_deref(), Some("email@email.com"));
        assert_eq!(p.userid.as_deref(), Some("userid"));
        assert_eq!(p.cf1.as_deref(), Some("value 1"));
        assert_eq!(p.allowed_countries.as_ref().map(|c| c.len()), Some(2));
        assert!(!p.apply_blacklist);
    }
    // The ECB vector pasted into a URL without percent-encoding (`+` arrives as a space).
    let q = format!("pid=argos5202&encrypted={}", v.ecb_base64);
    let ctx = LaunchContext {
        key: &v.key_string,
        algorithm: Algorithm::Ecb,
        encrypted_only: false,
        now_unix: 0,
    };
    let p = RawQuery::parse(&q).unwrap().resolve(&ctx).unwrap();
    assert_eq!(p.email.as_deref(), Some("email@email.com"));
}
