//! ARGOS query-string encryption, byte-exact with `shared/reference/argos-liveform.md` §2.
//!
//! * key = SHA-256 of the UTF-8 key string (API key or secretKey), used raw as the AES-256 key;
//! * ECB ("AES-256"): AES-256-ECB, PKCS#7, standard Base64 of the ciphertext;
//! * GCM ("GCM-256"): AES-256-GCM, 12-byte IV, 16-byte tag, no AAD, wire = hex(IV ‖ ciphertext ‖ tag).

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyInit};
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type Aes256EcbEnc = ecb::Encryptor<aes::Aes256>;
type Aes256EcbDec = ecb::Decryptor<aes::Aes256>;

/// The project's encryption algorithm (an ARGOS project setting; the URL carries no indicator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// AES-256-ECB, PKCS#7, Base64 (ARGOS "AES-256").
    Ecb,
    /// AES-256-GCM, hex(IV ‖ ciphertext ‖ tag) (ARGOS "GCM-256").
    Gcm,
}

impl core::str::FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ecb" => Ok(Algorithm::Ecb),
            "gcm" => Ok(Algorithm::Gcm),
            other => Err(format!(
                "unknown algorithm {other:?} (expected \"ecb\" or \"gcm\")"
            )),
        }
    }
}

/// GCM nonce length in bytes.
pub const GCM_IV_LEN: usize = 12;
/// GCM tag length in bytes.
pub const GCM_TAG_LEN: usize = 16;

/// Why a ciphertext could not be decrypted. Deliberately coarse towards the outside world: a
/// wrong key and a tampered ciphertext look the same (no padding or tag oracle worth reporting).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the ciphertext is not valid Base64")]
    Base64,
    #[error("the ciphertext is not valid hex")]
    Hex,
    #[error("the ciphertext is too short or not a whole number of AES blocks")]
    Length,
    #[error("decryption failed: wrong key or algorithm, or the ciphertext was altered")]
    Decrypt,
}

/// The AES-256 key: SHA-256 of the UTF-8 bytes of the key string.
pub fn derive_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Standard alphabet; accepts input with or without `=` padding.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// ECB encryption → standard Base64 (with padding).
pub fn encrypt_ecb(key: &str, plaintext: &[u8]) -> String {
    let k = derive_key(key);
    let ct = Aes256EcbEnc::new(&k.into()).encrypt_padded_vec_mut::<Pkcs7>(plaintext);
    base64::engine::general_purpose::STANDARD.encode(ct)
}

/// ECB decryption of standard Base64. An unescaped `+` that a URL decoder turned into a space is
/// restored, at either end too; other surrounding whitespace is ignored (and surrounding spaces
/// when the value does not decrypt with them read as `+`).
pub fn decrypt_ecb(key: &str, text: &str) -> Result<Vec<u8>, CryptoError> {
    // Spaces are repaired before trimming: a value starting or ending with `+` must keep it.
    let inner = text.trim_matches(|c: char| c.is_whitespace() && c != ' ');
    let first = decrypt_ecb_base64(key, &inner.replace(' ', "+"));
    let trimmed = inner.trim_matches(' ');
    match first {
        Err(CryptoError::Base64 | CryptoError::Length) if trimmed.len() < inner.len() => {
            decrypt_ecb_base64(key, &trimmed.replace(' ', "+"))
        }
        first => first,
    }
}

fn decrypt_ecb_base64(key: &str, b64: &str) -> Result<Vec<u8>, CryptoError> {
    let ct = B64
        .decode(b64.as_bytes())
        .map_err(|_| CryptoError::Base64)?;
    if ct.is_empty() || ct.len() % 16 != 0 {
        return Err(CryptoError::Length);
    }
    let k = derive_key(key);
    Aes256EcbDec::new(&k.into())
        .decrypt_padded_vec_mut::<Pkcs7>(&ct)
        .map_err(|_| CryptoError::Decrypt)
}

/// ARGOS's webhook encryption with "Secure Data Transfer" (`argos-liveform.md` §2.6):
/// AES-256-CBC with an all-zero IV, PKCS#7, standard Base64 of the ciphertext, key as for ECB.
///
/// The chaining is written out over the AES block cipher (`aes`, already used for ECB and GCM)
/// rather than with the `cbc` crate, which is not in the tree: a fixed zero IV leaves nothing but
/// the XOR chain to implement, and [`decrypt_cbc_zero_iv`] plus the reference vector check it.
pub fn encrypt_cbc_zero_iv(key: &str, plaintext: &[u8]) -> String {
    use aes::cipher::{generic_array::GenericArray, BlockEncrypt};
    let cipher = aes::Aes256::new(&derive_key(key).into());
    let pad = 16 - plaintext.len() % 16;
    let mut data = Vec::with_capacity(plaintext.len() + pad);
    data.extend_from_slice(plaintext);
    data.extend(core::iter::repeat_n(u8::try_from(pad).unwrap_or(16), pad));
    let mut prev = [0u8; 16];
    for chunk in data.chunks_exact_mut(16) {
        for (b, p) in chunk.iter_mut().zip(prev.iter()) {
            *b ^= p;
        }
        let block = GenericArray::from_mut_slice(chunk);
        cipher.encrypt_block(block);
        prev.copy_from_slice(chunk);
    }
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// The inverse of [`encrypt_cbc_zero_iv`] (what an integrator does with a webhook body).
pub fn decrypt_cbc_zero_iv(key: &str, text: &str) -> Result<Vec<u8>, CryptoError> {
    use aes::cipher::{generic_array::GenericArray, BlockDecrypt};
    let mut ct = B64
        .decode(text.trim().as_bytes())
        .map_err(|_| CryptoError::Base64)?;
    if ct.is_empty() || ct.len() % 16 != 0 {
        return Err(CryptoError::Length);
    }
    let cipher = aes::Aes256::new(&derive_key(key).into());
    let mut prev = [0u8; 16];
    for chunk in ct.chunks_exact_mut(16) {
        let mut this = [0u8; 16];
        this.copy_from_slice(chunk);
        cipher.decrypt_block(GenericArray::from_mut_slice(chunk));
        for (b, p) in chunk.iter_mut().zip(prev.iter()) {
            *b ^= p;
        }
        prev = this;
    }
    let pad = usize::from(*ct.last().ok_or(CryptoError::Decrypt)?);
    if pad == 0
        || pad > 16
        || pad > ct.len()
        || ct[ct.len() - pad..].iter().any(|&b| usize::from(b) != pad)
    {
        return Err(CryptoError::Decrypt);
    }
    ct.truncate(ct.len() - pad);
    Ok(ct)
}

/// GCM encryption with the given IV → lower-case hex(IV ‖ ciphertext ‖ tag).
/// Callers outside tests must pass a fresh random IV.
pub fn encrypt_gcm(key: &str, iv: [u8; GCM_IV_LEN], plaintext: &[u8]) -> String {
    hex::encode(gcm_seal(&derive_key(key), iv, &[], plaintext))
}

/// GCM decryption of hex(IV ‖ ciphertext ‖ tag), either hex case.
pub fn decrypt_gcm(key: &str, text: &str) -> Result<Vec<u8>, CryptoError> {
    let bytes = hex::decode(text.trim()).map_err(|_| CryptoError::Hex)?;
    gcm_open(&derive_key(key), &bytes, &[])
}

/// AES-256-GCM under a raw 32-byte key with associated data → IV ‖ ciphertext ‖ tag (the bytes
/// of ARGOS's GCM wire format before hex). Callers outside tests must pass a fresh random IV.
pub fn gcm_seal(key: &[u8; 32], iv: [u8; GCM_IV_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let nonce = Nonce::from_slice(&iv);
    // Encryption with a valid key and a message far below GCM's length limit cannot fail.
    let ct_and_tag = cipher
        .encrypt(
            nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_default();
    let mut out = Vec::with_capacity(GCM_IV_LEN + ct_and_tag.len());
    out.extend_from_slice(&iv);
    out.extend_from_slice(&ct_and_tag);
    out
}

/// The inverse of [`gcm_seal`]: IV ‖ ciphertext ‖ tag, checked against `aad`.
pub fn gcm_open(key: &[u8; 32], bytes: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if bytes.len() < GCM_IV_LEN + GCM_TAG_LEN {
        return Err(CryptoError::Length);
    }
    let (iv, rest) = bytes.split_at(GCM_IV_LEN);
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(iv), Payload { msg: rest, aad })
        .map_err(|_| CryptoError::Decrypt)
}

/// Decrypts with the project's algorithm.
pub fn decrypt(algorithm: Algorithm, key: &str, text: &str) -> Result<Vec<u8>, CryptoError> {
    match algorithm {
        Algorithm::Ecb => decrypt_ecb(key, text),
        Algorithm::Gcm => decrypt_gcm(key, text),
    }
}

/// Encrypts with the project's algorithm (`iv` is used by GCM only).
pub fn encrypt(algorithm: Algorithm, key: &str, iv: [u8; GCM_IV_LEN], plaintext: &[u8]) -> String {
    match algorithm {
        Algorithm::Ecb => encrypt_ecb(key, plaintext),
        Algorithm::Gcm => encrypt_gcm(key, iv, plaintext),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_cbc_zero_iv_matches_the_reference_vector() {
        // `shared/reference/vectors.json` (cbcZeroIvBase64).
        let key = "ARGOS-TEST-KEY-0123456789abcdef";
        let plain = r#"{"email":"email@email.com","userid":"userid","cf1":"value 1","allowedCountries":"USA,KOR","blacklistCountries":false}"#;
        let expected = "02umXzcBGLA8rSp4oCuZgSsAfezm3xR3/watUiwCquL6psf4zl/S0uuN+f9ZuMYuVayWcKeyHxUSsrZxr9ghINFVnsN8mhRZCdP8qN8YQeWHZkbaEk2mlNwa4fXPrsMesXrq7lHy1jXy/dLOWRRP5mnrUTy4HUkNm67eshx2S9Q=";
        assert_eq!(encrypt_cbc_zero_iv(key, plain.as_bytes()), expected);
        assert_eq!(
            decrypt_cbc_zero_iv(key, expected).unwrap(),
            plain.as_bytes()
        );
        for n in [0, 1, 15, 16, 17, 33] {
            let p = vec![b'x'; n];
            assert_eq!(
                decrypt_cbc_zero_iv(key, &encrypt_cbc_zero_iv(key, &p)).unwrap(),
                p
            );
        }
        assert!(decrypt_cbc_zero_iv("another-key-0000", expected).is_err());
        assert_eq!(decrypt_cbc_zero_iv(key, "AAAA"), Err(CryptoError::Length));
        assert_eq!(decrypt_cbc_zero_iv(key, "%%%"), Err(CryptoError::Base64));
    }

    #[test]
    fn round_trips() {
        let pt = br#"{"email":"a@b.co","cf1":"\u00e9 \uD55C"}"#;
        for alg in [Algorithm::Ecb, Algorithm::Gcm] {
            let ct = encrypt(alg, "k", [7; 12], pt);
            assert_eq!(decrypt(alg, "k", &ct).as_deref(), Ok(&pt[..]));
            // A wrong key never yields the plaintext (GCM always fails; ECB fails on padding
            // except by chance, and then yields garbage).
            assert_ne!(decrypt(alg, "other", &ct).as_deref(), Ok(&pt[..]));
            if alg == Algorithm::Gcm {
                assert_eq!(decrypt(alg, "other", &ct), Err(CryptoError::Decrypt));
            }
        }
    }

    #[test]
    fn empty_plaintext_round_trips() {
        for alg in [Algorithm::Ecb, Algorithm::Gcm] {
            let ct = encrypt(alg, "k", [0; 12], b"");
            assert_eq!(decrypt(alg, "k", &ct).as_deref(), Ok(&b""[..]));
        }
    }

    #[test]
    fn ecb_accepts_space_for_plus_and_missing_padding() {
        // Find a plaintext whose Base64 contains '+' and '='.
        let mut n = 0u32;
        let (pt, ct) = loop {
            let pt = format!("{{\"n\":{n}}}");
            let ct = encrypt_ecb("key", pt.as_bytes());
            if ct.contains('+') && ct.ends_with('=') {
                break (pt, ct);
            }
            n += 1;
        };
        let spaced = ct.replace('+', " ");
        assert_eq!(decrypt_ecb("key", &spaced).unwrap(), pt.as_bytes());
        let unpadded = ct.trim_end_matches('=');
        assert_eq!(decrypt_ecb("key", unpadded).unwrap(), pt.as_bytes());
    }

    /// Found by the launch fuzz target (fuzz/seeds/launch/crash-ecb-unencoded-plus-at-end): an
    /// unencoded ECB value ending (or starting) with `+` arrives with a space there, which was
    /// trimmed before the repair, so a valid link was refused as too short.
    #[test]
    fn ecb_repairs_a_plus_at_either_end() {
        let (mut start, mut end) = (None, None);
        let mut n = 0u32;
        while start.is_none() || end.is_none() {
            // `n` in the first and the last AES block, so that both ends of the Base64 vary.
            let pt = format!("{{\"a\":{n},\"pad\":\"0123456789abcdef\",\"z\":{n}}}");
            let ct = encrypt_ecb("key", pt.as_bytes());
            if ct.starts_with('+') {
                start.get_or_insert((pt.clone(), ct.clone()));
            }
            if ct.ends_with('+') {
                end.get_or_insert((pt, ct));
            }
            n += 1;
        }
        for (pt, ct) in [start, end].into_iter().flatten() {
            let spaced = ct.replace('+', " ");
            assert_eq!(decrypt_ecb("key", &spaced).unwrap(), pt.as_bytes(), "{ct}");
            // Other whitespace around the value is still ignored.
            assert_eq!(
                decrypt_ecb("key", &format!("\n{spaced}\t")).unwrap(),
                pt.as_bytes()
            );
        }
        // Surrounding spaces that are not part of the value are still ignored.
        let ct = encrypt_ecb("key", b"{}");
        assert_eq!(decrypt_ecb("key", &format!("  {ct} ")).unwrap(), b"{}");
    }

    #[test]
    fn gcm_accepts_upper_case_hex_and_rejects_tampering() {
        let ct = encrypt_gcm("key", [1; 12], b"{}");
        assert_eq!(decrypt_gcm("key", &ct.to_uppercase()).unwrap(), b"{}");
        let mut bytes = hex::decode(&ct).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            decrypt_gcm("key", &hex::encode(&bytes)),
            Err(CryptoError::Decrypt)
        );
        bytes[last] ^= 1;
        bytes[GCM_IV_LEN] ^= 0x80;
        assert_eq!(
            decrypt_gcm("key", &hex::encode(&bytes)),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(decrypt_gcm("key", "abc"), Err(CryptoError::Hex));
        assert_eq!(decrypt_gcm("key", "00"), Err(CryptoError::Length));
    }

    #[test]
    fn ecb_rejects_bad_input() {
        assert_eq!(decrypt_ecb("k", "***"), Err(CryptoError::Base64));
        assert_eq!(decrypt_ecb("k", ""), Err(CryptoError::Length));
        assert_eq!(decrypt_ecb("k", "AAAA"), Err(CryptoError::Length));
    }
}
