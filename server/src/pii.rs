//! Personal data at rest (issue 15, finding 6): what the database keeps of a person — `userid`,
//! e-mail, `cf1`–`cf3` and the token of a submission, a session's launch parameters, webhook
//! bodies waiting in the outbox, the addresses that rate limits count — is sealed with a key
//! derived from the server's storage key, never stored in clear. A stolen database file or backup
//! without the key reads as ciphertext and keyed hashes.
//!
//! - **Sealed values**: AES-256-GCM, a fresh 96-bit nonce each, the value's place (table, column,
//!   row) as associated data so a value cannot be moved to another row or column. Text form
//!   `s1.` + Base64url(nonce ‖ ciphertext ‖ tag), no padding.
//! - **Blind indexes** where the API or a rule looks a value up (`userid`, e-mail, token, client
//!   addresses): HMAC-SHA256 under a second derived key, over the kind, the scope (the project)
//!   and the value, hex. Equality only: the same e-mail in two projects gives unrelated indexes,
//!   and nothing can be learnt from an index without the key.
//!
//! Both keys are HMAC-SHA256(storage key, label): independent of each other and of the capture
//! files' key (the storage key itself), so one use can never be turned against another.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The sealed-text prefix (version 1 of the format).
const PREFIX: &str = "s1.";

/// Why a sealed value cannot be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PiiError {
    #[error("a sealed value failed authentication (wrong storage key, altered or moved value)")]
    Open,
    #[error("no system randomness")]
    Random,
}

fn derive(key: &[u8; 32], label: &str) -> [u8; 32] {
    // HMAC accepts keys of any length: `new_from_slice` cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The two keys derived from the storage key.
pub struct Sealer {
    cipher: Aes256Gcm,
    index_key: [u8; 32],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn new(storage_key: &[u8; 32]) -> Sealer {
        let enc = derive(storage_key, "liveform personal-data seal v1");
        Sealer {
            cipher: Aes256Gcm::new((&enc).into()),
            index_key: derive(storage_key, "liveform blind-index v1"),
        }
    }

    /// `plain` sealed for `place` (e.g. `submissions.email/<id>`).
    pub fn seal(&self, place: &str, plain: &str) -> Result<String, PiiError> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|_| PiiError::Random)?;
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| PiiError::Random)?;
        let mut raw = Vec::with_capacity(12 + ct.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&ct);
        Ok(format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
        ))
    }

    /// The value sealed for `place`; fails on anything else (another place, another key, an
    /// altered or clear value).
    pub fn open(&self, place: &str, sealed: &str) -> Result<String, PiiError> {
        let b64 = sealed.strip_prefix(PREFIX).ok_or(PiiError::Open)?;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|_| PiiError::Open)?;
        if raw.len() < 12 + 16 {
            return Err(PiiError::Open);
        }
        let (nonce, ct) = raw.split_at(12);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| PiiError::Open)?;
        String::from_utf8(plain).map_err(|_| PiiError::Open)
    }

    /// The blind index of `value` as a `kind` (`userid`, `email`, `token`, `addr`…) in `scope`.
    pub fn index(&self, kind: &str, scope: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key)
            .unwrap_or_else(|_| unreachable!());
        // Lengths first: ("a", "bc") and ("ab", "c") must not collide.
        for part in [kind, scope, value] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Whether `text` is in the sealed form (a clear JSON document never is: it starts with `{`).
pub fn is_sealed(text: &str) -> bool {
    text.starts_with(PREFIX)
}

/// Where a submission's personal column is sealed.
pub fn submission_place(column: &str, id: &str) -> String {
    format!("submissions.{column}/{id}")
}

/// Where a session's data is sealed.
pub fn session_place(id: &str) -> String {
    format!("sessions.data/{id}")
}

/// Where a webhook body is sealed.
pub fn outbox_place(pid: &str, submission_id: &str, event: &str) -> String {
    format!("outbox.body/{pid}/{submission_id}/{event}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_in_place() {
        let s = Sealer::new(&[3; 32]);
        let v = s.seal("submissions.email/a", "jo@example.com").unwrap();
        assert!(is_sealed(&v));
        assert!(!v.contains("example"));
        assert_eq!(s.open("submissions.email/a", &v).unwrap(), "jo@example.com");
        // Moved to another row or column, or read under another key: refused.
        assert_eq!(s.open("submissions.email/b", &v), Err(PiiError::Open));
        assert_eq!(s.open("submissions.userid/a", &v), Err(PiiError::Open));
        assert_eq!(
            Sealer::new(&[4; 32]).open("submissions.email/a", &v),
            Err(PiiError::Open)
        );
        // Altered anywhere: refused.
        let mut bytes = v.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        assert_eq!(s.open("submissions.email/a", &altered), Err(PiiError::Open));
        assert_eq!(
            s.open("submissions.email/a", "jo@example.com"),
            Err(PiiError::Open)
        );
        // Two seals of one value differ (fresh nonces).
        assert_ne!(v, s.seal("submissions.email/a", "jo@example.com").unwrap());
    }

    #[test]
    fn blind_indexes_are_keyed_and_scoped() {
        let s = Sealer::new(&[3; 32]);
        let i = s.index("email", "p1", "jo@example.com");
        assert_eq!(i, s.index("email", "p1", "jo@example.com"));
        assert_eq!(i.len(), 64);
        assert_ne!(i, s.index("email", "p2", "jo@example.com"));
        assert_ne!(i, s.index("userid", "p1", "jo@example.com"));
        assert_ne!(
            i,
            Sealer::new(&[4; 32]).index("email", "p1", "jo@example.com")
        );
        assert_ne!(s.index("a", "bc", "d"), s.index("ab", "c", "d"));
    }
}
