//! Launch links: `RawQuery::parse`, then `resolve_with` under both algorithms, with `encrypted`
//! values that really decrypt (so the JSON and field rules after decryption are reached) and
//! with garbage ones.
//!
//! Input: one flags byte, then the fuzzer's query text, a NUL byte, and a payload:
//! * flags bit 0: algorithm (0 ECB, 1 GCM); bit 1: `encrypted_only`; bit 2: `plain_loosening` (the other
//!   setting is resolved too, and compared);
//! * bits 3-4, the mode: 0 the query alone (the payload is ignored); 1 the payload encrypted
//!   under the test key, URL-encoded, as `pid=p&encrypted=…&<query>`; 2 the same without URL
//!   encoding (an ECB `+` arrives as a space and must be repaired); 3 the payload as the
//!   `encrypted` text itself (garbage ciphertext);
//! * bits 5-7: the clock (`now`), from a small table.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liveform_core::launch::crypto::{self, GCM_IV_LEN};
use liveform_core::launch::{
    is_valid_email, is_valid_token, Algorithm, LaunchContext, LaunchOptions, LaunchParams,
    RawQuery, LANGUAGES, MAX_QUERY_LEN, MAX_TEXT_LEN,
};
use liveform_core::ErrorCode;

/// The key of the shared test vectors (`vectors.json`), so seeds can be real links.
const KEY: &str = "ARGOS-TEST-KEY-0123456789abcdef";
const NOWS: [i64; 8] = [
    1_800_000_000,
    0,
    -1,
    1_700_000_000,
    4_102_444_800,
    253_402_300_799,
    i64::MIN,
    i64::MAX,
];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let algorithm = if flags & 1 == 0 {
        Algorithm::Ecb
    } else {
        Algorithm::Gcm
    };
    let ctx = LaunchContext {
        key: KEY,
        algorithm,
        encrypted_only: flags & 2 != 0,
        now_unix: NOWS[usize::from(flags >> 5)],
    };
    let opts = LaunchOptions {
        plain_loosening: flags & 4 != 0,
    };
    let mode = (flags >> 3) & 3;
    let (query, payload) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let query = String::from_utf8_lossy(query);

    let full = match mode {
        0 => query.into_owned(),
        1 | 2 => {
            // The payload's own round trip, then the value in a link.
            let iv: [u8; GCM_IV_LEN] =
                core::array::from_fn(|i| payload.get(i).copied().unwrap_or(0));
            let ct = crypto::encrypt(algorithm, KEY, iv, payload);
            assert_eq!(
                crypto::decrypt(algorithm, KEY, &ct).as_deref(),
                Ok(payload),
                "{algorithm:?} round trip"
            );
            let ct: String = if mode == 1 {
                form_urlencoded::byte_serialize(ct.as_bytes()).collect()
            } else {
                ct
            };
            format!("pid=p&encrypted={ct}&{query}")
        }
        _ => {
            let garbage: String =
                form_urlencoded::byte_serialize(&payload[..payload.len().min(4096)]).collect();
            format!("pid=p&encrypted={garbage}&{query}")
        }
    };

    let raw = match RawQuery::parse(&full) {
        Ok(raw) => raw,
        Err(e) => {
            assert_eq!(e.code, ErrorCode::LinkTooLong, "{e}");
            assert!(full.len() > MAX_QUERY_LEN);
            return;
        }
    };
    let _ = raw.names().count();
    if let Some(l) = raw.lang_hint() {
        assert!(LANGUAGES.contains(&l.as_str()));
    }
    let result = raw.resolve_with(&ctx, &opts);
    if mode == 1 || mode == 2 {
        // A valid encryption always decrypts through the URL, whatever follows it.
        if let Err(e) = &result {
            assert!(
                !matches!(e.code, ErrorCode::DecryptFailed | ErrorCode::MissingProject),
                "a valid {algorithm:?} value was refused: {e}"
            );
            let is_object = std::str::from_utf8(payload).is_ok_and(|s| {
                matches!(
                    serde_json::from_str::<serde_json::Value>(s),
                    Ok(serde_json::Value::Object(_))
                )
            });
            if is_object {
                assert_ne!(e.code, ErrorCode::EncryptedNotJson, "{e}");
            }
        }
    }
    if let Ok(p) = &result {
        check_params(p, &ctx);
        if mode != 0 {
            assert!(p.was_encrypted);
            assert_eq!(p.pid, "p");
        }
    }
    // `plain_loosening` only changes which plain values count: the same links open, and the
    // default is never looser than the opt-in.
    let other = raw.resolve_with(
        &ctx,
        &LaunchOptions {
            plain_loosening: !opts.plain_loosening,
        },
    );
    let (strict, loose) = if opts.plain_loosening {
        (&other, &result)
    } else {
        (&result, &other)
    };
    match (strict, loose) {
        (Ok(s), Ok(l)) => {
            assert!(s.apply_blacklist >= l.apply_blacklist);
            assert!(s.approve_period >= l.approve_period);
            assert!(s.reject_period >= l.reject_period);
            assert!(s.age_limit >= l.age_limit);
            if s.reject_duplicate_user == Some(false) {
                assert_eq!(l.reject_duplicate_user, Some(false));
            }
            assert_eq!(s.allowed_countries, l.allowed_countries);
            assert_eq!(s.token, l.token);
            assert_eq!(s.start_valid_until, l.start_valid_until);
        }
        (Err(s), Err(l)) => assert_eq!(s.code, l.code),
        (s, l) => panic!("plain_loosening changed the outcome: {s:?} vs {l:?}"),
    }
});

/// What every resolved link satisfies.
fn check_params(p: &LaunchParams, ctx: &LaunchContext<'_>) {
    assert!(!p.pid.is_empty() && p.pid.len() <= 64);
    assert!(p.pid.bytes().all(|b| b.is_ascii_graphic()));
    if let Some(l) = &p.lang {
        assert!(LANGUAGES.contains(&l.as_str()));
    }
    if let Some(e) = &p.email {
        assert!(is_valid_email(e), "{e:?}");
    }
    if let Some(t) = &p.token {
        assert!(is_valid_token(t), "{t:?}");
    }
    for text in [&p.userid, &p.cf1, &p.cf2, &p.cf3].into_iter().flatten() {
        assert!(text.chars().count() <= MAX_TEXT_LEN);
        assert!(!text.chars().any(char::is_control));
    }
    for c in [&p.main_color, &p.inner_color].into_iter().flatten() {
        assert_eq!(c.len(), 7, "{c:?}");
        assert!(c.starts_with('#'));
        assert!(c[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }
    if let Some(t) = p.start_valid_until {
        assert!(ctx.now_unix < t);
    }
    for list in [
        p.allowed_countries.as_ref().map(Vec::len),
        p.allowed_id_types.as_ref().map(Vec::len),
        p.allowed_document_fields.as_ref().map(Vec::len),
    ]
    .into_iter()
    .flatten()
    {
        assert!(list > 0);
    }
    if p.selected_id_type.is_some() {
        assert!(p.selected_issuing_country.is_some());
    }
    if let (Some(c), Some(allowed)) = (p.selected_issuing_country, &p.allowed_countries) {
        assert!(allowed.contains(&c));
    }
    if let (Some(t), Some(allowed)) = (p.selected_id_type, &p.allowed_id_types) {
        assert!(allowed.contains(&t));
    }
}
