use super::*;

fn c(s: &str) -> Alpha3 {
    Alpha3::parse(s).unwrap()
}

fn small() -> SupportTable {
    SupportTable::from_csv(
        "country_name,alpha3,alpha2,national_id,drivers_license,passport,residence_permit,others\n\
         South Korea,KOR,KR,Y,Y,Y,Y,btlic\n\
         India,IND,IN,N,N,Y,N,\"aadhaar, pancard, voter_card\"\n\
         Japan,JPN,JP,N,N,N,N,tin\n",
    )
    .unwrap()
}

#[test]
fn default_input_offers_every_supported_pair() {
    let o = offer(&small(), &PolicyInput::default()).unwrap();
    assert_eq!(o.countries, vec![c("IND"), c("KOR")], "JPN has no type");
    assert_eq!(
        o.types_for(c("IND")),
        &[IdType::Passport, IdType::Pancard, IdType::Aadhaar]
    );
    assert!(o.types_for(c("JPN")).is_empty());
    assert!(o.offers(c("KOR"), IdType::ResidencePermit));
    assert!(!o.offers(c("KOR"), IdType::Visa));
}

#[test]
fn from_launch_copies_the_link() {
    let params: LaunchParams = serde_json::from_value(serde_json::json!({
        "pid": "p", "lang": null, "email": null, "userid": null, "cf1": null, "cf2": null,
        "cf3": null, "token": null, "apply_blacklist": false, "approve_period": true,
        "reject_period": true, "age_limit": true, "reject_duplicate_user": null,
        "allowed_countries": ["KOR", "IND"], "allowed_id_types": ["passport"],
        "allowed_document_fields": null, "selected_issuing_country": "KOR",
        "selected_id_type": "passport", "projection": null, "main_color": null,
        "inner_color": null, "start_valid_until": null, "was_encrypted": true, "ignored": []
    }))
    .unwrap();
    let bl = [c("KOR")];
    let input = PolicyInput::from_launch(&params, &bl, None);
    assert!(!input.apply_blacklist);
    assert_eq!(input.allowed_countries, Some(&[c("KOR"), c("IND")][..]));
    let o = offer(&small(), &input).unwrap();
    assert_eq!(o.countries, vec![c("KOR")]);
    assert_eq!(o.types_for(c("KOR")), &[IdType::Passport]);
}

#[test]
fn offer_serde_round_trip() {
    let o = offer(&small(), &PolicyInput::default()).unwrap();
    let json = serde_json::to_string(&o).unwrap();
    assert!(
        json.contains("\"KOR\":[\"passport\",\"drivers_license\",\"government_id\""),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Offer>(&json).unwrap(), o);
}

#[test]
fn error_codes() {
    let e = |kind| PolicyError::new(kind, "x");
    assert_eq!(
        e(PolicyErrorKind::Blacklisted).code(),
        ErrorCode::CountryBlacklisted
    );
    assert_eq!(
        e(PolicyErrorKind::CountryNotOffered).code(),
        ErrorCode::CountryNotOffered
    );
    assert_eq!(
        e(PolicyErrorKind::IdTypeNotOffered).code(),
        ErrorCode::IdTypeNotOffered
    );
    assert_eq!(
        e(PolicyErrorKind::NothingOffered).code(),
        ErrorCode::NothingOffered
    );
    assert_eq!(e(PolicyErrorKind::NothingOffered).to_string(), "x");
}
