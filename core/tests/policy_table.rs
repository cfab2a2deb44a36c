//! `core::policy`: the built-in table, every offer rule, CSV overrides, sides.

use liveform_core::policy::{
    check_choice, offer, other_code, sides, CsvError, CsvProblem, Offer, PolicyErrorKind,
    PolicyInput, Sides, SupportTable,
};
use liveform_core::{Alpha3, ErrorCode, IdType};
use proptest::prelude::*;

const TSV: &str = include_str!("../data/supported-id-types.tsv");
const HEADER: &str =
    "country_name,alpha3,alpha2,national_id,drivers_license,passport,residence_permit,others";

fn c(s: &str) -> Alpha3 {
    Alpha3::parse(s).unwrap()
}

fn builtin() -> &'static SupportTable {
    SupportTable::builtin().unwrap()
}

fn offered(input: &PolicyInput<'_>) -> Offer {
    offer(builtin(), input).unwrap()
}

fn refused(input: &PolicyInput<'_>) -> PolicyErrorKind {
    offer(builtin(), input).unwrap_err().kind
}

use IdType::*;

// ---- the built-in table ----

#[test]
fn every_tsv_row_resolves_with_its_flags() {
    let table = builtin();
    let rows: Vec<&str> = TSV.lines().skip(1).collect();
    assert_eq!(rows.len(), 218);
    assert_eq!(table.len(), 218);
    for line in rows {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 8, "{line}");
        let a3 = Alpha3::parse(f[1]).unwrap_or_else(|| panic!("{} is not ISO", f[1]));
        let row = table.get(a3).unwrap_or_else(|| panic!("{a3} missing"));
        assert_eq!(row.name, f[0]);
        assert_eq!(row.alpha2, f[2]);
        let mut want: Vec<IdType> = [
            (f[3], GovernmentId),
            (f[4], DriversLicense),
            (f[5], Passport),
            (f[6], ResidencePermit),
        ]
        .into_iter()
        .filter(|(flag, _)| *flag == "Y")
        .map(|(_, t)| t)
        .chain(f[7].split(',').filter_map(other_code))
        .collect();
        want.sort();
        want.dedup();
        assert_eq!(row.id_types, want, "{a3}");
        assert!(!row.id_types.is_empty(), "{a3} supports nothing");
    }
}

#[test]
fn known_rows_checked_by_hand() {
    let t = builtin();
    let row = |s: &str| t.get(c(s)).unwrap();
    // South Korea  KOR KR  Y Y Y Y  btlic
    assert_eq!(row("KOR").name, "South Korea");
    assert_eq!(row("KOR").alpha2, "KR");
    assert_eq!(
        row("KOR").id_types,
        [Passport, DriversLicense, GovernmentId, ResidencePermit]
    );
    // United States  USA US  Y Y Y N  ammpid, …, visa, vrc, wp
    assert_eq!(row("USA").name, "United States");
    assert_eq!(
        row("USA").id_types,
        [
            Passport,
            DriversLicense,
            GovernmentId,
            VehicleRegistrationCertificate,
            Visa
        ]
    );
    // Aruba  ABW AW  Y Y N N
    assert_eq!(row("ABW").alpha2, "AW");
    assert_eq!(row("ABW").id_types, [DriversLicense, GovernmentId]);
    // Anguilla  AIA AI  N Y Y N  tin, voter_card
    assert_eq!(row("AIA").id_types, [Passport, DriversLicense]);
    // India  IND IN  N Y Y N  aadhaar, pancard, voter_card
    assert_eq!(
        row("IND").id_types,
        [Passport, DriversLicense, Pancard, Aadhaar]
    );
    // Namibia: alpha-2 restored in core/data (empty in the extraction).
    assert_eq!(row("NAM").alpha2, "NA");
    assert!(t.get(c("ATA")).is_none(), "Antarctica is not listed");
    assert!(t.supports(c("USA"), Visa));
    assert!(!t.supports(c("KOR"), Visa));
}

// ---- offer rules ----

#[test]
fn no_restriction_offers_every_country() {
    let o = offered(&PolicyInput::default());
    assert_eq!(o.countries.len(), 218);
    assert!(o.countries.windows(2).all(|w| w[0] < w[1]), "sorted");
    assert_eq!(o.types_for(c("ABW")), [DriversLicense, GovernmentId]);
    assert_eq!(o.selected_country, None);
}

#[test]
fn allowed_countries_restrict() {
    let allowed = [c("USA"), c("KOR"), c("ATA")];
    let o = offered(&PolicyInput {
        allowed_countries: Some(&allowed),
        ..Default::default()
    });
    assert_eq!(
        o.countries,
        [c("KOR"), c("USA")],
        "ATA has no supported type"
    );
    assert_eq!(o.id_types.len(), 2);
}

#[test]
fn blacklist_applies_unless_lifted() {
    let bl = [c("KOR"), c("USA")];
    let o = offered(&PolicyInput {
        project_blacklist: &bl,
        ..Default::default()
    });
    assert_eq!(o.countries.len(), 216);
    assert!(!o.offers_country(c("KOR")) && !o.offers_country(c("USA")));
    let o = offered(&PolicyInput {
        project_blacklist: &bl,
        apply_blacklist: false,
        ..Default::default()
    });
    assert_eq!(o.countries.len(), 218);
    assert!(o.offers_country(c("KOR")));
}

#[test]
fn allowed_id_types_restrict_types_and_drop_countries() {
    let types = [Visa];
    let o = offered(&PolicyInput {
        allowed_id_types: Some(&types),
        ..Default::default()
    });
    assert!(o.offers_country(c("USA")));
    assert!(!o.offers_country(c("KOR")), "KOR has no visa");
    assert!(o.id_types.values().all(|t| t == &[Visa]));
    let n = builtin().iter().filter(|r| r.supports(Visa)).count();
    assert_eq!(o.countries.len(), n);
}

#[test]
fn project_types_restrict_and_combine_with_allowed_types() {
    let project = [Passport];
    let o = offered(&PolicyInput {
        project_id_types: Some(&project),
        ..Default::default()
    });
    assert!(!o.offers_country(c("ABW")), "Aruba: no passport");
    assert!(o.id_types.values().all(|t| t == &[Passport]));

    let allowed = [Passport, Visa];
    let project = [Visa, DriversLicense];
    let o = offered(&PolicyInput {
        allowed_id_types: Some(&allowed),
        project_id_types: Some(&project),
        ..Default::default()
    });
    assert_eq!(o.types_for(c("USA")), [Visa]);
    assert!(!o.offers_country(c("ABW")));
}

#[test]
fn selected_country_and_type_narrow_the_offer() {
    let o = offered(&PolicyInput {
        selected_country: Some(c("KOR")),
        ..Default::default()
    });
    assert_eq!(o.countries, [c("KOR")]);
    assert_eq!(o.types_for(c("KOR")).len(), 4);
    assert_eq!(o.selected_country, Some(c("KOR")));

    let allowed = [c("KOR"), c("USA")];
    let o = offered(&PolicyInput {
        allowed_countries: Some(&allowed),
        selected_country: Some(c("USA")),
        selected_id_type: Some(Visa),
        ..Default::default()
    });
    assert_eq!(o.countries, [c("USA")]);
    assert_eq!(o.types_for(c("USA")), [Visa]);
    assert_eq!(o.selected_id_type, Some(Visa));

    // A blacklisted country is fine when the link lifts the blacklist.
    let bl = [c("KOR")];
    let o = offered(&PolicyInput {
        project_blacklist: &bl,
        apply_blacklist: false,
        selected_country: Some(c("KOR")),
        ..Default::default()
    });
    assert_eq!(o.countries, [c("KOR")]);
}

#[test]
fn every_selection_error() {
    let bl = [c("KOR")];
    let e = offer(
        builtin(),
        &PolicyInput {
            project_blacklist: &bl,
            selected_country: Some(c("KOR")),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, PolicyErrorKind::Blacklisted);
    assert_eq!(e.code(), ErrorCode::CountryBlacklisted);
    assert!(e.detail.contains("KOR"), "{e}");

    let allowed = [c("USA")];
    assert_eq!(
        refused(&PolicyInput {
            allowed_countries: Some(&allowed),
            selected_country: Some(c("KOR")),
            ..Default::default()
        }),
        PolicyErrorKind::CountryNotOffered
    );
    // Outside allowedCountries wins over blacklisted (the launch checks in that order too).
    assert_eq!(
        refused(&PolicyInput {
            allowed_countries: Some(&allowed),
            project_blacklist: &bl,
            selected_country: Some(c("KOR")),
            ..Default::default()
        }),
        PolicyErrorKind::CountryNotOffered
    );
    let passport = [Passport];
    assert_eq!(
        refused(&PolicyInput {
            allowed_id_types: Some(&passport),
            selected_country: Some(c("ABW")),
            ..Default::default()
        }),
        PolicyErrorKind::CountryNotOffered,
        "Aruba has no offered type"
    );
    assert_eq!(
        refused(&PolicyInput {
            selected_country: Some(c("ATA")),
            ..Default::default()
        }),
        PolicyErrorKind::CountryNotOffered,
        "not in the table"
    );
    assert_eq!(
        refused(&PolicyInput {
            selected_country: Some(c("KOR")),
            selected_id_type: Some(Visa),
            ..Default::default()
        }),
        PolicyErrorKind::IdTypeNotOffered
    );
    assert_eq!(
        refused(&PolicyInput {
            project_id_types: Some(&passport),
            selected_country: Some(c("KOR")),
            selected_id_type: Some(DriversLicense),
            ..Default::default()
        }),
        PolicyErrorKind::IdTypeNotOffered,
        "the project does not allow it"
    );
    assert_eq!(
        refused(&PolicyInput {
            selected_id_type: Some(Passport),
            ..Default::default()
        }),
        PolicyErrorKind::IdTypeNotOffered,
        "a type needs a country"
    );
}

#[test]
fn nothing_offered_is_an_error() {
    let bl = [c("KOR"), c("USA")];
    let e = offer(
        builtin(),
        &PolicyInput {
            allowed_countries: Some(&bl),
            project_blacklist: &bl,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, PolicyErrorKind::NothingOffered);
    assert_eq!(e.code(), ErrorCode::NothingOffered);
    let fr = [ForeignRegistrator];
    assert_eq!(
        refused(&PolicyInput {
            allowed_id_types: Some(&fr),
            ..Default::default()
        }),
        PolicyErrorKind::NothingOffered
    );
    let visa = [Visa];
    let passport = [Passport];
    assert_eq!(
        refused(&PolicyInput {
            allowed_id_types: Some(&visa),
            project_id_types: Some(&passport),
            ..Default::default()
        }),
        PolicyErrorKind::NothingOffered
    );
    assert_eq!(
        offer(&SupportTable::default(), &PolicyInput::default())
            .unwrap_err()
            .kind,
        PolicyErrorKind::NothingOffered
    );
}

#[test]
fn check_choice_rechecks_against_the_offer() {
    let allowed = [c("USA"), c("KOR")];
    let o = offered(&PolicyInput {
        allowed_countries: Some(&allowed),
        ..Default::default()
    });
    assert_eq!(check_choice(&o, c("KOR"), None), Ok(()));
    assert_eq!(check_choice(&o, c("USA"), Some(Visa)), Ok(()));
    let kind = |r: Result<(), liveform_core::policy::PolicyError>| r.unwrap_err().kind;
    assert_eq!(
        kind(check_choice(&o, c("JPN"), None)),
        PolicyErrorKind::CountryNotOffered
    );
    assert_eq!(
        kind(check_choice(&o, c("JPN"), Some(Passport))),
        PolicyErrorKind::CountryNotOffered
    );
    assert_eq!(
        kind(check_choice(&o, c("KOR"), Some(Visa))),
        PolicyErrorKind::IdTypeNotOffered
    );
    // A selection locks the choice.
    let o = offered(&PolicyInput {
        allowed_countries: Some(&allowed),
        selected_country: Some(c("USA")),
        selected_id_type: Some(Passport),
        ..Default::default()
    });
    assert_eq!(check_choice(&o, c("USA"), Some(Passport)), Ok(()));
    assert_eq!(
        kind(check_choice(&o, c("KOR"), None)),
        PolicyErrorKind::CountryNotOffered
    );
    assert_eq!(
        kind(check_choice(&o, c("USA"), Some(Visa))),
        PolicyErrorKind::IdTypeNotOffered
    );
}

// ---- CSV overrides ----

#[test]
fn csv_override_replaces_listed_countries() {
    let csv = "\u{feff}Country Name,Alpha-3,Alpha-2,National ID,Driver's License,Passport,Residence Permit,Others\r\n\
         \r\n\
         South Korea,KOR,KR,N,N,Y,N,\r\n\
         \"United States\",usa,us,y,N,N,N,\"identification_card, vrc, voter_card\"\r\n\
         \"Côte d'Ivoire, Republic of\",CIV,CI,N,N,N,N,\r\n";
    let over = SupportTable::from_csv(csv).unwrap();
    assert_eq!(over.len(), 3);
    assert_eq!(
        over.get(c("CIV")).unwrap().name,
        "Côte d'Ivoire, Republic of"
    );
    let merged = builtin().with_override(&over);
    assert_eq!(merged.len(), 218);
    assert_eq!(merged.get(c("KOR")).unwrap().id_types, [Passport]);
    assert_eq!(
        merged.get(c("USA")).unwrap().id_types,
        [
            GovernmentId,
            VehicleRegistrationCertificate,
            IdentificationCard
        ]
    );
    assert_eq!(merged.get(c("USA")).unwrap().alpha2, "US");
    assert_eq!(
        merged.get(c("ABW")),
        builtin().get(c("ABW")),
        "unlisted: kept"
    );
    // A country overridden to support nothing is not offered.
    let o = offer(&merged, &PolicyInput::default()).unwrap();
    assert!(!o.offers_country(c("CIV")));
    assert_eq!(o.countries.len(), 217);
    // Header only: an empty override.
    let empty = SupportTable::from_csv(&format!("{HEADER}\n")).unwrap();
    assert!(empty.is_empty());
    assert_eq!(builtin().with_override(&empty), *builtin());
}

#[test]
fn csv_errors_name_the_line() {
    let bad = |body: &str| -> CsvError {
        SupportTable::from_csv(&format!("{HEADER}\nAruba,ABW,AW,Y,Y,N,N,\n\n{body}\n")).unwrap_err()
    };
    let cases: Vec<(&str, CsvProblem)> = vec![
        ("Korea,KOR,KR,Y,Y,Y", CsvProblem::ColumnCount(6)),
        (
            "Korea,KOR,KR,Y,Y,Y,Y,btlic,extra",
            CsvProblem::ColumnCount(9),
        ),
        (
            "Nowhere,XXX,XX,Y,Y,Y,Y,",
            CsvProblem::UnknownAlpha3("XXX".into()),
        ),
        (
            "Korea,KR,KR,Y,Y,Y,Y,",
            CsvProblem::UnknownAlpha3("KR".into()),
        ),
        ("Korea,KOR,K1,Y,Y,Y,Y,", CsvProblem::BadAlpha2("K1".into())),
        (" ,KOR,KR,Y,Y,Y,Y,", CsvProblem::EmptyName),
        (
            "Korea,KOR,KR,Y,Yes,Y,Y,",
            CsvProblem::BadFlag {
                column: "drivers_license",
                value: "Yes".into(),
            },
        ),
        (
            "Korea,KOR,KR,Y,Y,Y,,",
            CsvProblem::BadFlag {
                column: "residence_permit",
                value: "".into(),
            },
        ),
        (
            "Korea,KOR,KR,Y,Y,Y,Y,\"vrc;visa\"",
            CsvProblem::BadOtherCode("vrc;visa".into()),
        ),
        ("Korea,KOR,KR,Y,Y,Y,Y,\"vrc", CsvProblem::UnterminatedQuote),
        ("Korea,KOR,KR,Y,Y,Y,Y,\"vrc\"x", CsvProblem::TextAfterQuote),
        (
            "Aruba again,ABW,AW,N,N,Y,N,",
            CsvProblem::DuplicateCountry(c("ABW"), 2),
        ),
    ];
    for (body, problem) in cases {
        let e = bad(body);
        assert_eq!(e, CsvError { line: 4, problem }, "{body}");
        assert!(e.to_string().starts_with("line 4: "), "{e}");
    }
    let e = SupportTable::from_csv("name,alpha3,alpha2,a,b,c,d,e\n").unwrap_err();
    assert_eq!(
        e,
        CsvError {
            line: 1,
            problem: CsvProblem::BadHeader
        }
    );
    let e = SupportTable::from_csv("\n\n").unwrap_err();
    assert_eq!(e.problem, CsvProblem::MissingHeader);
    let e = SupportTable::from_csv("\nKorea,KOR,KR,Y,Y,Y,Y,\n").unwrap_err();
    assert_eq!(
        e,
        CsvError {
            line: 2,
            problem: CsvProblem::BadHeader
        },
        "a data row where the header belongs"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn csv_never_panics(text in "[A-Za-z,\"\n\r _;]{0,200}") {
        let _ = SupportTable::from_csv(&format!("{HEADER}\n{text}"));
        let _ = SupportTable::from_csv(&text);
    }

    #[test]
    fn csv_rows_round_trip(flags in proptest::collection::vec(any::<bool>(), 4), vrc in any::<bool>()) {
        let yn = |b: bool| if b { "Y" } else { "N" };
        let csv = format!(
            "{HEADER}\nKorea,KOR,KR,{},{},{},{},{}\n",
            yn(flags[0]), yn(flags[1]), yn(flags[2]), yn(flags[3]), if vrc { "vrc" } else { "" }
        );
        let t = SupportTable::from_csv(&csv).unwrap();
        let row = t.get(c("KOR")).unwrap();
        prop_assert_eq!(row.supports(GovernmentId), flags[0]);
        prop_assert_eq!(row.supports(DriversLicense), flags[1]);
        prop_assert_eq!(row.supports(Passport), flags[2]);
        prop_assert_eq!(row.supports(ResidencePermit), flags[3]);
        prop_assert_eq!(row.supports(VehicleRegistrationCertificate), vrc);
    }
}

// ---- sides ----

#[test]
fn sides_per_type() {
    let front_only = [Passport, Visa, Pancard];
    for t in IdType::ALL {
        let want = if front_only.contains(t) {
            Sides::FrontOnly
        } else {
            Sides::FrontAndBack
        };
        assert_eq!(sides(*t), want, "{t}");
        assert_eq!(sides(*t).needs_back(), want == Sides::FrontAndBack);
    }
    assert_eq!(sides(GovernmentId), Sides::FrontAndBack);
    assert_eq!(sides(DriversLicense), Sides::FrontAndBack);
}
