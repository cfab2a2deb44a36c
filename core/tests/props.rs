//! Property tests: no input panics, and round trips hold for any JSON object of strings.

use liveform_core::launch::crypto::{self, Algorithm};
use liveform_core::launch::{LaunchContext, RawQuery};
use proptest::prelude::*;

fn ctx(alg: Algorithm, encrypted_only: bool) -> LaunchContext<'static> {
    LaunchContext {
        key: "prop-key",
        algorithm: alg,
        encrypted_only,
        now_unix: 1_700_000_000,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_queries_never_panic(q in ".{0,400}", eo in any::<bool>()) {
        if let Ok(raw) = RawQuery::parse(&q) {
            let _ = raw.pid();
            let _ = raw.resolve(&ctx(Algorithm::Ecb, eo));
            let _ = raw.resolve(&ctx(Algorithm::Gcm, eo));
        }
    }

    #[test]
    fn arbitrary_ciphertexts_never_panic(ct in "[A-Za-z0-9+/= %]{0,300}", hexct in "[0-9a-fA-F]{0,300}") {
        let _ = crypto::decrypt_ecb("k", &ct);
        let _ = crypto::decrypt_gcm("k", &hexct);
        let _ = RawQuery::parse(&format!("pid=p&encrypted={ct}")).map(|r| r.resolve(&ctx(Algorithm::Ecb, false)));
        let _ = RawQuery::parse(&format!("pid=p&encrypted={hexct}")).map(|r| r.resolve(&ctx(Algorithm::Gcm, false)));
    }

    #[test]
    fn encrypted_arbitrary_plaintext_never_panics(pt in any::<Vec<u8>>(), alg in prop_oneof![Just(Algorithm::Ecb), Just(Algorithm::Gcm)]) {
        let ct = crypto::encrypt(alg, "prop-key", [3; 12], &pt);
        prop_assert_eq!(crypto::decrypt(alg, "prop-key", &ct).unwrap(), pt);
        let q = format!("pid=p&encrypted={}", form_urlencoded::byte_serialize(ct.as_bytes()).collect::<String>());
        let _ = RawQuery::parse(&q).unwrap().resolve(&ctx(alg, false));
    }

    #[test]
    fn encrypted_json_values_round_trip(userid in "\\PC{1,50}", cf2 in "\\PC{1,50}", alg in prop_oneof![Just(Algorithm::Ecb), Just(Algorithm::Gcm)], iv in any::<[u8; 12]>()) {
        let json = serde_json::json!({"userid": userid, "cf2": cf2}).to_string();
        let ct = crypto::encrypt(alg, "prop-key", iv, json.as_bytes());
        let q = format!("pid=p&encrypted={}", form_urlencoded::byte_serialize(ct.as_bytes()).collect::<String>());
        let p = RawQuery::parse(&q).unwrap().resolve(&ctx(alg, true)).unwrap();
        prop_assert_eq!(p.userid.as_deref(), Some(userid.as_str()));
        prop_assert_eq!(p.cf2.as_deref(), Some(cf2.as_str()));
    }
}
