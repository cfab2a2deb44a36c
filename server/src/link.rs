//! `liveform link encrypt|decrypt`: the integrator's tools, as ARGOS's dashboard offers them.

use liveform_core::launch::crypto::{self, Algorithm, GCM_IV_LEN};
use liveform_core::launch::{LaunchError, RawQuery};

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("--json is not a JSON object: {0}")]
    NotAnObject(String),
    #[error("no system randomness for the GCM IV")]
    NoRandomness,
    #[error("cannot decrypt: {0}")]
    Decrypt(#[from] crypto::CryptoError),
    #[error("decrypted, but the plaintext is not UTF-8 JSON: {0}")]
    NotJson(String),
    #[error("{0}")]
    Launch(#[from] LaunchError),
}

/// Encrypts a JSON object; GCM gets a fresh random IV.
pub fn encrypt(alg: Algorithm, key: &str, json: &str) -> Result<String, LinkError> {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(_)) => {}
        Ok(other) => return Err(LinkError::NotAnObject(format!("got {other}"))),
        Err(e) => return Err(LinkError::NotAnObject(e.to_string())),
    }
    let mut iv = [0u8; GCM_IV_LEN];
    if alg == Algorithm::Gcm {
        getrandom::fill(&mut iv).map_err(|_| LinkError::NoRandomness)?;
    }
    Ok(crypto::encrypt(alg, key, iv, json.as_bytes()))
}

/// `BASE/?pid=PID&encrypted=CT` with the ciphertext percent-encoded.
pub fn build_link(base_url: &str, pid: &str, ciphertext: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("pid", pid)
        .append_pair("encrypted", ciphertext)
        .finish();
    format!("{base}/?{q}")
}

/// Decrypts a ciphertext, a percent-encoded ciphertext, or a whole link; returns the JSON text.
pub fn decrypt(alg: Algorithm, key: &str, input: &str) -> Result<String, LinkError> {
    let input = input.trim();
    let ct: String = if let Some((_, q)) = input
        .split_once('?')
        .filter(|_| input.contains("encrypted="))
    {
        RawQuery::parse(q)?; // length limit
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "encrypted")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    } else if input.contains('%') {
        form_urlencoded::parse(format!("x={input}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    } else {
        input.to_owned()
    };
    let bytes = crypto::decrypt(alg, key, &ct)?;
    let text = String::from_utf8(bytes).map_err(|e| LinkError::NotJson(e.to_string()))?;
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| LinkError::NotJson(e.to_string()))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_link_forms() {
        for alg in [Algorithm::Ecb, Algorithm::Gcm] {
            let json = r#"{"userid":"u+1/2=3","allowedCountries":"USA,KOR"}"#;
            let ct = encrypt(alg, "the-key-123", json).unwrap();
            assert_eq!(decrypt(alg, "the-key-123", &ct).unwrap(), json);
            let link = build_link("http://127.0.0.1:8080/", "demo", &ct);
            assert!(link.starts_with("http://127.0.0.1:8080/?pid=demo&encrypted="));
            assert_eq!(decrypt(alg, "the-key-123", &link).unwrap(), json);
            let encoded: String = form_urlencoded::byte_serialize(ct.as_bytes()).collect();
            assert_eq!(decrypt(alg, "the-key-123", &encoded).unwrap(), json);
            assert!(decrypt(alg, "wrong-key-123", &ct).is_err());
        }
        assert!(matches!(
            encrypt(Algorithm::Ecb, "k", "[1]"),
            Err(LinkError::NotAnObject(_))
        ));
        assert!(matches!(
            encrypt(Algorithm::Ecb, "k", "{"),
            Err(LinkError::NotAnObject(_))
        ));
    }

    #[test]
    fn gcm_ivs_are_fresh() {
        let a = encrypt(Algorithm::Gcm, "k", "{}").unwrap();
        let b = encrypt(Algorithm::Gcm, "k", "{}").unwrap();
        assert_ne!(a[..24], b[..24]);
    }
}
