//! The embed protocol's inbound validator: `Link::receive` over a sequence of messages (the
//! handshake pins an origin, later commands must come from it) and `origin_allowed`.
//!
//! Input: text, one message per line: a flag character (`1`: from the parent window; anything
//! else: not), the sender's origin up to the first space, then the message's JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liveform_core::embed::{origin_allowed, Inbound, Link, MAX_INBOUND_LEN};

const NONCE: &str = "n0nce-0123456789";
const LANGS: &[&str] = &["en", "ko", "ja", "ar"];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let allowed = vec![
        "https://shop.example".to_owned(),
        "http://127.0.0.1:9000".to_owned(),
        "null".to_owned(),
    ];
    let mut link = Link::new(allowed.clone(), NONCE.to_owned());
    // A form that has not sent its nonce accepts nothing.
    let mut unready = Link::new(allowed.clone(), String::new());
    for line in text.lines().take(32) {
        let mut chars = line.chars();
        let from_parent = chars.next() == Some('1');
        let rest = chars.as_str();
        let (origin, json) = rest.split_once(' ').unwrap_or((rest, ""));
        let allowed_here = origin_allowed(origin, &allowed);
        if origin == "null" {
            assert!(!allowed_here, "the opaque origin never matches");
        }
        assert!(unready.receive(origin, from_parent, json, LANGS).is_err());
        let pinned_before = link.pinned.clone();
        match link.receive(origin, from_parent, json, LANGS) {
            Ok(cmd) => {
                assert!(from_parent && allowed_here);
                assert!(json.len() <= MAX_INBOUND_LEN);
                if let Some(p) = &pinned_before {
                    assert!(p.eq_ignore_ascii_case(origin));
                }
                match &cmd {
                    Inbound::Hello => assert_eq!(link.pinned.as_deref(), Some(origin)),
                    Inbound::SetLanguage(l) => assert!(LANGS.contains(&l.as_str())),
                    Inbound::Close => {}
                }
                if cmd != Inbound::Hello {
                    assert!(pinned_before.is_some(), "a command before the handshake");
                }
                assert_eq!(link.targets().len(), 1);
            }
            Err(e) => {
                // A refused message changes nothing.
                assert_eq!(link.pinned, pinned_before, "{e}");
            }
        }
    }
});
