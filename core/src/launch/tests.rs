use super::*;

const KEY: &str = "test-key-0123456789";
const NOW: i64 = 1_800_000_000; // 2027-01-15T08:00:00Z

fn ctx(alg: Algorithm) -> LaunchContext<'static> {
    LaunchContext {
        key: KEY,
        algorithm: alg,
        encrypted_only: false,
        now_unix: NOW,
    }
}

fn enc(alg: Algorithm, json: &str) -> String {
    let ct = crypto::encrypt(alg, KEY, [9; 12], json.as_bytes());
    form_urlencoded::byte_serialize(ct.as_bytes()).collect()
}

fn resolve(query: &str, c: &LaunchContext<'_>) -> Result<LaunchParams, LaunchError> {
    RawQuery::parse(query)?.resolve(c)
}

fn code(r: Result<LaunchParams, LaunchError>) -> ErrorCode {
    r.expect_err("expected an error").code
}

#[test]
fn plain_link() {
    let p = resolve(
        "?pid=demo&lang=ko&email=a%40b.co&userid=u1&cf1=x+y&blacklistCountries=false",
        &ctx(Algorithm::Ecb),
    )
    .unwrap();
    assert_eq!(p.pid, "demo");
    assert_eq!(p.lang.as_deref(), Some("ko"));
    assert_eq!(p.email.as_deref(), Some("a@b.co"));
    assert_eq!(p.cf1.as_deref(), Some("x y"));
    assert!(p.apply_blacklist, "a plain loosening value is ignored");
    assert!(p.ignored.contains(&Ignored {
        name: "blacklistCountries".into(),
        reason: IgnoredReason::LooseningNotEncrypted
    }));
    assert!(!p.was_encrypted);
}

fn resolve_with(
    query: &str,
    c: &LaunchContext<'_>,
    plain_loosening: bool,
) -> Result<LaunchParams, LaunchError> {
    RawQuery::parse(query)?.resolve_with(c, &LaunchOptions { plain_loosening })
}

/// The effective value of a loosening parameter (`None`: not set).
fn loosening_value(p: &LaunchParams, name: &str) -> Option<bool> {
    match name {
        "blacklistCountries" => (!p.apply_blacklist).then_some(false),
        "approvePeriod" => (!p.approve_period).then_some(false),
        "rejectPeriod" => (!p.reject_period).then_some(false),
        "ageLimit" => (!p.age_limit).then_some(false),
        "rejectDuplicateUser" => p.reject_duplicate_user,
        other => panic!("a new loosening parameter {other}: map it here and in resolve"),
    }
}

#[test]
fn loosening_values_count_only_from_encrypted_unless_the_project_opts_in() {
    let loosening: Vec<&str> = spec::PARAMS
        .iter()
        .filter(|p| p.class == spec::Class::Loosening)
        .map(|p| p.name)
        .collect();
    assert_eq!(
        loosening,
        [
            "blacklistCountries",
            "approvePeriod",
            "rejectPeriod",
            "ageLimit",
            "rejectDuplicateUser"
        ]
    );
    let ignored_as_loosening = |p: &LaunchParams, name: &str| {
        p.ignored.contains(&Ignored {
            name: name.into(),
            reason: IgnoredReason::LooseningNotEncrypted,
        })
    };
    for alg in [Algorithm::Ecb, Algorithm::Gcm] {
        for name in &loosening {
            // Plain `false`: ignored (the project's default applies) and recorded.
            let plain = format!("pid=p&{name}=false");
            let p = resolve(&plain, &ctx(alg)).unwrap();
            assert_eq!(loosening_value(&p, name), None, "plain {name}=false");
            assert!(
                ignored_as_loosening(&p, name),
                "plain {name}: {:?}",
                p.ignored
            );
            // ... unless the project opts into ARGOS's plain behaviour.
            let p = resolve_with(&plain, &ctx(alg), true).unwrap();
            assert_eq!(loosening_value(&p, name), Some(false), "opt-in {name}");
            assert!(!ignored_as_loosening(&p, name));
            // From `encrypted`: honoured, whatever the option.
            let e = enc(alg, &format!(r#"{{"{name}":false}}"#));
            let p = resolve(&format!("pid=p&encrypted={e}"), &ctx(alg)).unwrap();
            assert_eq!(loosening_value(&p, name), Some(false), "encrypted {name}");
            assert!(p.ignored.is_empty(), "{:?}", p.ignored);
            // Encrypted wins over a plain value; the plain one is recorded as overridden.
            let e = enc(alg, &format!(r#"{{"{name}":true}}"#));
            let p = resolve_with(
                &format!("pid=p&{name}=false&encrypted={e}"),
                &ctx(alg),
                true,
            )
            .unwrap();
            assert_ne!(loosening_value(&p, name), Some(false), "{name}");
            // Plain `true` only restricts (or is the default): honoured, nothing ignored.
            let p = resolve(&format!("pid=p&{name}=true"), &ctx(alg)).unwrap();
            assert_ne!(loosening_value(&p, name), Some(false));
            assert!(p.ignored.is_empty(), "{:?}", p.ignored);
            // A malformed plain value is still refused, not silently ignored.
            assert_eq!(
                code(resolve(&format!("pid=p&{name}=no"), &ctx(alg))),
                ErrorCode::InvalidParameter
            );
            // Encryption-only mode ignores it for its own reason, opt-in or not.
            let mut only = ctx(alg);
            only.encrypted_only = true;
            let p = resolve_with(&plain, &only, true).unwrap();
            assert_eq!(loosening_value(&p, name), None);
            assert!(p.ignored.contains(&Ignored {
                name: (*name).into(),
                reason: IgnoredReason::EncryptionOnlyMode
            }));
        }
    }
    assert_eq!(
        resolve("pid=p&rejectDuplicateUser=true", &ctx(Algorithm::Ecb))
            .unwrap()
            .reject_duplicate_user,
        Some(true)
    );
    // `token` is restricting and stays accepted plain (ARGOS private links).
    let p = resolve("pid=p&token=order-1234-abc", &ctx(Algorithm::Ecb)).unwrap();
    assert_eq!(p.token.as_deref(), Some("order-1234-abc"));
    assert!(p.ignored.is_empty());
}

#[test]
fn return_only_fields_are_return_url_fields_and_no_link_parameter() {
    for f in RETURN_ONLY_FIELDS {
        assert!(crate::returning::FIELDS.contains(&f), "{f}");
        assert!(spec::spec(f).is_none(), "{f} is a link parameter");
    }
    // Every other Return URL field is a link parameter (why such a value opens as a link).
    for f in crate::returning::FIELDS {
        assert!(
            RETURN_ONLY_FIELDS.contains(&f) || spec::spec(f).is_some(),
            "{f}"
        );
    }
}

/// The `encrypted` value of a Return URL built by the server's own function.
fn return_value(fields: &[&str], values: &crate::returning::ReturnValues<'_>) -> String {
    use crate::returning::{build, ReturnSettings};
    let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
    let url = build(
        &ReturnSettings {
            url: "https://shop.example/kyc/done",
            fields: &fields,
            encrypted: true,
            key: KEY,
        },
        values,
    )
    .unwrap();
    let q = url.split_once('?').unwrap().1;
    let (k, v) = form_urlencoded::parse(q.as_bytes()).next().unwrap();
    assert_eq!(k, "encrypted");
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

#[test]
fn a_return_url_value_is_refused_as_a_link() {
    use crate::returning::ReturnValues;
    let finished = ReturnValues {
        kyc_status: Some("pending"),
        userid: Some("u-1"),
        email: Some("a@b.co"),
        submission_id: Some("sub-123"),
        cf1: Some("order-42"),
        ..Default::default()
    };
    let from_error_page = ReturnValues {
        userid: Some("u-1"),
        error_code: Some("TK-10001"),
        ..Default::default()
    };
    let cases: [(&[&str], &ReturnValues<'_>); 4] = [
        (
            &["kycStatus", "userid", "email", "submissionId", "cf1"],
            &finished,
        ),
        (&["kycStatus"], &finished),
        (&["userid", "submissionId"], &finished),
        (&["userid", "errorCode"], &from_error_page),
    ];
    for (fields, values) in cases {
        let v = return_value(fields, values);
        let e = resolve(&format!("pid=p&encrypted={v}"), &ctx(Algorithm::Ecb)).unwrap_err();
        assert_eq!(e.code, ErrorCode::ReturnValueAsLink, "{fields:?}");
        assert_eq!(e.code.id(), "LF-40013");
        // Whatever the project's mode or options.
        let mut only = ctx(Algorithm::Ecb);
        only.encrypted_only = true;
        assert_eq!(
            code(resolve_with(&format!("pid=p&encrypted={v}"), &only, true)),
            ErrorCode::ReturnValueAsLink
        );
    }
    // A link-shaped plaintext with such a field is refused in GCM too.
    let e = enc(Algorithm::Gcm, r#"{"userid":"u","kycStatus":"approved"}"#);
    assert_eq!(
        code(resolve(
            &format!("pid=p&encrypted={e}"),
            &ctx(Algorithm::Gcm)
        )),
        ErrorCode::ReturnValueAsLink
    );
    // Contained, not prevented: a Return URL value without those fields is a valid link (the
    // ECB start-up warning says so).
    let v = return_value(&["userid", "email", "cf1"], &finished);
    let p = resolve(&format!("pid=p&encrypted={v}"), &ctx(Algorithm::Ecb)).unwrap();
    assert_eq!(p.userid.as_deref(), Some("u-1"));
}

/// Liveform's authenticated Return URL value (`return_authenticated`) never opens as a link:
/// neither ARGOS encoding reads it, in any project mode, whatever the fields.
#[test]
fn an_authenticated_return_value_is_never_a_link() {
    use crate::returning::{build_authenticated, Authenticated, ReturnSettings, ReturnValues};
    let values = ReturnValues {
        userid: Some("u-1"),
        email: Some("a@b.co"),
        cf1: Some("order-42"),
        kyc_status: Some("approved"),
        submission_id: Some("sub-1"),
        ..Default::default()
    };
    for fields in [
        &["userid", "email", "cf1"][..],
        &["kycStatus", "submissionId"][..],
        &[][..],
    ] {
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        for nonce in [[0u8; 12], [0xff; 12], [9; 12]] {
            let url = build_authenticated(
                &ReturnSettings {
                    url: "https://shop.example/kyc/done",
                    fields: &fields,
                    encrypted: true,
                    key: KEY,
                },
                &Authenticated {
                    pid: "p",
                    issued_at: NOW,
                    nonce,
                },
                &values,
            )
            .unwrap();
            let q = url.split_once('?').unwrap().1;
            for alg in [Algorithm::Ecb, Algorithm::Gcm] {
                for only in [false, true] {
                    let mut c = ctx(alg);
                    c.encrypted_only = only;
                    for loosening in [false, true] {
                        assert_eq!(
                            code(resolve_with(&format!("pid=p&{q}"), &c, loosening)),
                            ErrorCode::DecryptFailed,
                            "{alg:?} {fields:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn ecb_blocks_can_be_cut_and_gcm_refuses_any_cut() {
    // The demo's ECB link: dropping its middle blocks still decrypts to a JSON object, without
    // the restriction (issue 15). Contained by the warning, not prevented.
    let json = r##"{"userid":"demo-user","cf1":"order-42","allowedCountries":"KOR,USA,JPN,GBR,DEU","mainColor":"#0f766e"}"##;
    let full = crypto::encrypt_ecb(KEY, json.as_bytes());
    let p = resolve(
        &format!(
            "pid=p&encrypted={}",
            form_urlencoded::byte_serialize(full.as_bytes()).collect::<String>()
        ),
        &ctx(Algorithm::Ecb),
    )
    .unwrap();
    assert_eq!(p.allowed_countries.as_ref().map(Vec::len), Some(5));
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let ct = b64.decode(&full).unwrap();
    let n = ct.len() / 16;
    let cut = [&ct[..16], &ct[(n - 1) * 16..]].concat();
    assert_eq!(
        crypto::decrypt_ecb(KEY, &b64.encode(&cut)).unwrap(),
        br#"{"userid":"demo-766e"}"#
    );
    let q = format!(
        "pid=p&encrypted={}",
        form_urlencoded::byte_serialize(b64.encode(&cut).as_bytes()).collect::<String>()
    );
    let p = resolve(&q, &ctx(Algorithm::Ecb)).unwrap();
    assert_eq!(p.userid.as_deref(), Some("demo-766e"));
    assert_eq!(p.allowed_countries, None, "the restriction was cut out");

    // GCM: the same cut (IV, first block, tag) and any other change are refused.
    let g = hex::decode(crypto::encrypt_gcm(KEY, [5; 12], json.as_bytes())).unwrap();
    let body = &g[crypto::GCM_IV_LEN..];
    let cut = [
        &g[..crypto::GCM_IV_LEN],
        &body[..16],
        &body[body.len() - 32..],
    ]
    .concat();
    assert_eq!(
        code(resolve(
            &format!("pid=p&encrypted={}", hex::encode(cut)),
            &ctx(Algorithm::Gcm)
        )),
        ErrorCode::DecryptFailed
    );
}

#[test]
fn missing_pid() {
    assert_eq!(
        code(resolve("lang=en", &ctx(Algorithm::Ecb))),
        ErrorCode::MissingProject
    );
    assert_eq!(
        code(resolve("pid=", &ctx(Algorithm::Ecb))),
        ErrorCode::MissingProject
    );
}

#[test]
fn encrypted_both_modes_and_encrypted_wins() {
    for alg in [Algorithm::Ecb, Algorithm::Gcm] {
        let e = enc(
            alg,
            r##"{"email":"enc@x.io","allowedCountries":"USA,KOR","selectedIssuingCountry":"KOR","selectedIdType":"passport","mainColor":"#AA00ff"}"##,
        );
        let p = resolve(
            &format!("pid=p&email=plain%40x.io&encrypted={e}"),
            &ctx(alg),
        )
        .unwrap();
        assert_eq!(p.email.as_deref(), Some("enc@x.io"));
        assert_eq!(
            p.allowed_countries,
            Some(vec![
                Alpha3::parse("USA").unwrap(),
                Alpha3::parse("KOR").unwrap()
            ])
        );
        assert_eq!(p.selected_id_type, Some(IdType::Passport));
        assert_eq!(p.main_color.as_deref(), Some("#aa00ff"));
        assert!(p.was_encrypted);
        assert!(p.ignored.contains(&Ignored {
            name: "email".into(),
            reason: IgnoredReason::OverriddenByEncrypted
        }));
    }
}

#[test]
fn ecb_plus_sent_as_space_is_repaired() {
    // Find a JSON whose ECB Base64 contains '+', then put it in the URL unescaped.
    let mut n = 0;
    let (json, ct) = loop {
        let json = format!(r#"{{"cf1":"v{n}"}}"#);
        let ct = crypto::encrypt_ecb(KEY, json.as_bytes());
        if ct.contains('+') {
            break (json, ct);
        }
        n += 1;
    };
    let raw_unescaped = format!(
        "pid=p&encrypted={}",
        ct.replace('=', "%3D").replace('/', "%2F")
    );
    let p = resolve(&raw_unescaped, &ctx(Algorithm::Ecb)).unwrap();
    assert_eq!(p.cf1.as_deref(), Some(&json[8..json.len() - 2]));
}

#[test]
fn wrong_key_and_tampering_and_wrong_algorithm() {
    let e = enc(Algorithm::Gcm, r#"{"cf1":"a"}"#);
    let mut other = ctx(Algorithm::Gcm);
    other.key = "another key";
    assert_eq!(
        code(resolve(&format!("pid=p&encrypted={e}"), &other)),
        ErrorCode::DecryptFailed
    );
    let mut t = e.clone().into_bytes();
    let i = t.len() - 5;
    t[i] = if t[i] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(t).unwrap();
    assert_eq!(
        code(resolve(
            &format!("pid=p&encrypted={tampered}"),
            &ctx(Algorithm::Gcm)
        )),
        ErrorCode::DecryptFailed
    );
    assert_eq!(
        code(resolve(
            &format!("pid=p&encrypted={e}"),
            &ctx(Algorithm::Ecb)
        )),
        ErrorCode::DecryptFailed
    );
    assert_eq!(
        code(resolve("pid=p&encrypted=", &ctx(Algorithm::Ecb))),
        ErrorCode::DecryptFailed
    );
}

#[test]
fn plaintext_must_be_a_json_object() {
    for bad in ["[1,2]", "\"s\"", "not json", ""] {
        let e = enc(Algorithm::Ecb, bad);
        assert_eq!(
            code(resolve(
                &format!("pid=p&encrypted={e}"),
                &ctx(Algorithm::Ecb)
            )),
            ErrorCode::EncryptedNotJson,
            "{bad}"
        );
    }
}

#[test]
fn encryption_only_mode_ignores_plain() {
    let mut c = ctx(Algorithm::Ecb);
    c.encrypted_only = true;
    let e = enc(Algorithm::Ecb, r#"{"userid":"from-enc"}"#);
    let p = resolve(
        &format!("pid=p&lang=en&email=plain%40x.io&cf1=plain&encrypted={e}"),
        &c,
    )
    .unwrap();
    assert_eq!(p.email, None);
    assert_eq!(p.cf1, None);
    assert_eq!(p.userid.as_deref(), Some("from-enc"));
    assert_eq!(p.lang.as_deref(), Some("en"));
    assert!(p.ignored.contains(&Ignored {
        name: "email".into(),
        reason: IgnoredReason::EncryptionOnlyMode
    }));
    // Without any encrypted parameter the link still opens, with nothing but pid and lang.
    let p = resolve("pid=p&email=plain%40x.io", &c).unwrap();
    assert_eq!(p.email, None);
}

#[test]
fn encrypted_only_parameters_are_ignored_when_plain() {
    let p = resolve("pid=p&allowedCountries=USA&selectedIssuingCountry=USA&startValidUntil=2000-01-01T00:00:00Z", &ctx(Algorithm::Ecb)).unwrap();
    assert_eq!(p.allowed_countries, None);
    assert_eq!(p.selected_issuing_country, None);
    assert_eq!(p.start_valid_until, None);
    assert!(p
        .ignored
        .iter()
        .all(|i| i.reason == IgnoredReason::MustBeEncrypted));
    assert_eq!(p.ignored.len(), 3);
}

#[test]
fn pid_and_lang_inside_encrypted_are_ignored() {
    let e = enc(Algorithm::Ecb, r#"{"pid":"other","lang":"ja","x":1}"#);
    let p = resolve(&format!("pid=p&encrypted={e}"), &ctx(Algorithm::Ecb)).unwrap();
    assert_eq!(p.pid, "p");
    assert_eq!(p.lang, None);
    assert!(p.ignored.contains(&Ignored {
        name: "pid".into(),
        reason: IgnoredReason::PlainOnly
    }));
    assert!(p.ignored.contains(&Ignored {
        name: "x".into(),
        reason: IgnoredReason::Unknown
    }));
}

#[test]
fn start_valid_until() {
    let future = enc(
        Algorithm::Ecb,
        r#"{"startValidUntil":"2027-02-01T00:00:00Z"}"#,
    );
    let p = resolve(&format!("pid=p&encrypted={future}"), &ctx(Algorithm::Ecb)).unwrap();
    assert_eq!(p.start_valid_until, parse_timestamp("2027-02-01T00:00:00Z"));
    let past = enc(
        Algorithm::Ecb,
        r#"{"startValidUntil":"2026-04-30T15:00:00Z"}"#,
    );
    assert_eq!(
        code(resolve(
            &format!("pid=p&encrypted={past}"),
            &ctx(Algorithm::Ecb)
        )),
        ErrorCode::LinkExpired
    );
    // Checked before everything else, even a bad token and an unsupported feature.
    let past_bad = enc(
        Algorithm::Ecb,
        r#"{"startValidUntil":"2026-04-30T15:00:00","token":"!","knowledgeField":"name"}"#,
    );
    assert_eq!(
        code(resolve(
            &format!("pid=p&encrypted={past_bad}"),
            &ctx(Algorithm::Ecb)
        )),
        ErrorCode::LinkExpired
    );
    let garbage = enc(Algorithm::Ecb, r#"{"startValidUntil":"tomorrow"}"#);
    assert_eq!(
        code(resolve(
            &format!("pid=p&encrypted={garbage}"),
            &ctx(Algorithm::Ecb)
        )),
        ErrorCode::InvalidParameter
    );
}

#[test]
fn timestamps() {
    assert_eq!(parse_timestamp("1970-01-01T00:00:10Z"), Some(10));
    assert_eq!(
        parse_timestamp("1970-01-01T00:00:10"),
        Some(10),
        "no offset means UTC"
    );
    assert_eq!(parse_timestamp("1970-01-01T09:00:10+09:00"), Some(10));
    assert_eq!(parse_timestamp("1970-01-01T00:00:10.5Z"), Some(10));
    assert_eq!(parse_timestamp("1970-01-01"), None);
    assert_eq!(
        format_timestamp(10).as_deref(),
        Some("1970-01-01T00:00:10Z")
    );
}

#[test]
fn unsupported_features_are_refused_from_any_channel() {
    let cases = [
        ("knowledgeField", "name", ErrorCode::KnowledgeUnsupported),
        (
            "knowledgePrefill",
            "name=A",
            ErrorCode::KnowledgeUnsupported,
        ),
        ("auxidField", "phoneNumber", ErrorCode::AuxidUnsupported),
        ("sid", "abc", ErrorCode::InjectionUnsupported),
        ("action", "addveri", ErrorCode::InjectionUnsupported),
        ("ipRiskCategory", "vpn", ErrorCode::InjectionUnsupported),
    ];
    for (name, value, want) in cases {
        assert_eq!(
            code(resolve(
                &format!("pid=p&{name}={value}"),
                &ctx(Algorithm::Ecb)
            )),
            want,
            "plain {name}"
        );
        let e = enc(Algorithm::Gcm, &format!(r#"{{"{name}":"{value}"}}"#));
        assert_eq!(
            code(resolve(
                &format!("pid=p&encrypted={e}"),
                &ctx(Algorithm::Gcm)
            )),
            want,
            "encrypted {name}"
        );
        let mut c = ctx(Algorithm::Ecb);
        c.encrypted_only = true;
        assert_eq!(
            code(resolve(&format!("pid=p&{name}={value}"), &c)),
            want,
            "encryption-only {name}"
        );
    }
}

#[test]
fn validation() {
    let bad_enc = [
        (
            r#"{"allowedCountries":"USA, KOR"}"#,
            ErrorCode::InvalidParameter,
        ),
        (r#"{"allowedCountries":"usa"}"#, ErrorCode::InvalidParameter),
        (
            r#"{"allowedCountries":"USA,,KOR"}"#,
            ErrorCode::InvalidParameter,
        ),
        (r#"{"allowedCountries":"XYZ"}"#, ErrorCode::InvalidParameter),
        (
            r#"{"allowedIdTypes":"passport,Passport"}"#,
            ErrorCode::InvalidParameter,
        ),
        (
            r#"{"allowedDocumentFields":"name,shoe_size"}"#,
            ErrorCode::InvalidParameter,
        ),
        (
            r#"{"selectedIdType":"passport"}"#,
            ErrorCode::ConflictingParameters,
        ),
        (
            r#"{"selectedIssuingCountry":"JPN","allowedCountries":"USA,KOR"}"#,
            ErrorCode::ConflictingParameters,
        ),
        (
            r#"{"selectedIssuingCountry":"USA","selectedIdType":"visa","allowedIdTypes":"passport"}"#,
            ErrorCode::ConflictingParameters,
        ),
        (
            r#"{"projectionId":"a","projectionName":"b"}"#,
            ErrorCode::ConflictingParameters,
        ),
        (r#"{"token":"short"}"#, ErrorCode::InvalidToken),
        (r#"{"token":"-starts-with-dash"}"#, ErrorCode::InvalidToken),
        (r#"{"token":"has space inside"}"#, ErrorCode::InvalidToken),
        (r#"{"mainColor":"red"}"#, ErrorCode::InvalidParameter),
        (r##"{"mainColor":"#fff"}"##, ErrorCode::InvalidParameter),
        (r##"{"innerColor":"#12345g"}"##, ErrorCode::InvalidParameter),
        (
            r##"{"mainColor":"#000000;background:url(x)"}"##,
            ErrorCode::InvalidParameter,
        ),
        (
            r#"{"blacklistCountries":"no"}"#,
            ErrorCode::InvalidParameter,
        ),
        (r#"{"blacklistCountries":0}"#, ErrorCode::InvalidParameter),
        (r#"{"email":"not-an-email"}"#, ErrorCode::InvalidParameter),
        (r#"{"userid":"a\u0000b"}"#, ErrorCode::InvalidParameter),
        (r#"{"userid":true}"#, ErrorCode::InvalidParameter),
    ];
    for (json, want) in bad_enc {
        let e = enc(Algorithm::Ecb, json);
        assert_eq!(
            code(resolve(
                &format!("pid=p&encrypted={e}"),
                &ctx(Algorithm::Ecb)
            )),
            want,
            "{json}"
        );
    }
    let long = "x".repeat(MAX_TEXT_LEN + 1);
    assert_eq!(
        code(resolve(
            &format!("pid=p&userid={long}"),
            &ctx(Algorithm::Ecb)
        )),
        ErrorCode::InvalidParameter
    );
    assert_eq!(
        code(resolve(
            &format!("pid=p&cf1={}", "y".repeat(MAX_QUERY_LEN)),
            &ctx(Algorithm::Ecb)
        )),
        ErrorCode::LinkTooLong
    );
}

#[test]
fn accepted_shapes() {
    let e = enc(
        Algorithm::Ecb,
        r#"{"allowedIdTypes":["passport","drivers_license"],"userid":12345,"blacklistCountries":"false","ageLimit":false,"rejectDuplicateUser":true,"projectionName":"p1","token":"abc.DEF_123-x","innerColor":"00FF00","email":""}"#,
    );
    let p = resolve(&format!("pid=p&encrypted={e}"), &ctx(Algorithm::Ecb)).unwrap();
    assert_eq!(
        p.allowed_id_types,
        Some(vec![IdType::Passport, IdType::DriversLicense])
    );
    assert_eq!(p.userid.as_deref(), Some("12345"));
    assert!(!p.apply_blacklist);
    assert!(!p.age_limit);
    assert_eq!(p.reject_duplicate_user, Some(true));
    assert_eq!(p.projection, Some(Projection::Name("p1".into())));
    assert_eq!(p.token.as_deref(), Some("abc.DEF_123-x"));
    assert_eq!(p.inner_color.as_deref(), Some("#00ff00"));
    assert_eq!(p.email, None, "empty string counts as absent");
}

#[test]
fn lang_handling() {
    assert_eq!(
        resolve("pid=p&lang=KO", &ctx(Algorithm::Ecb))
            .unwrap()
            .lang
            .as_deref(),
        Some("ko")
    );
    let p = resolve("pid=p&lang=xx", &ctx(Algorithm::Ecb)).unwrap();
    assert_eq!(p.lang, None);
    assert!(p.ignored.contains(&Ignored {
        name: "lang".into(),
        reason: IgnoredReason::UnsupportedValue
    }));
}

#[test]
fn duplicates_and_unknown_plain_parameters() {
    let p = resolve("pid=p&cf1=a&cf1=b&utm_source=mail", &ctx(Algorithm::Ecb)).unwrap();
    assert_eq!(p.cf1.as_deref(), Some("a"));
    assert!(p.ignored.contains(&Ignored {
        name: "cf1".into(),
        reason: IgnoredReason::Duplicate
    }));
    assert!(p.ignored.contains(&Ignored {
        name: "utm_source".into(),
        reason: IgnoredReason::Unknown
    }));
}

#[test]
fn tokens() {
    assert!(is_valid_token("abcdefgh"));
    assert!(is_valid_token(&"a".repeat(64)));
    assert!(!is_valid_token(&"a".repeat(65)));
    assert!(!is_valid_token("abcdefg"));
    assert!(!is_valid_token("abcdefg."));
    assert!(!is_valid_token("abcd/efgh"));
}

#[test]
fn emails() {
    assert!(is_valid_email("a.b+c@example.co.kr"));
    for bad in [
        "", "a", "a@b", "@b.co", "a@.b.co", "a@b.co.", "a@b..co", "a b@c.co", "a@b@c.de",
    ] {
        assert!(!is_valid_email(bad), "{bad}");
    }
}
