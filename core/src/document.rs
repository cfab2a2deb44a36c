//! What a document's machine-readable zone (MRZ) says, which documents carry one, and the ARGOS
//! rules that need document data (`ageLimit`, `expired_id`, duplicate-user prevention on name,
//! birth date, sex and nationality; `argos-liveform.md` §1.3).
//!
//! The MRZ is read from the captured still by `vision::mrz` (on the device after capture, and on
//! the server on the stored upload: the same code). This module holds what follows a read, with
//! no clock: callers pass today's date.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::flow::CaptureSlot;
use crate::{Alpha3, DocumentField, IdType};

/// The MRZ layouts of ICAO Doc 9303 (parts 4–6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MrzLayout {
    /// ID-1 cards: 3 lines of 30.
    Td1,
    /// ID-2 documents: 2 lines of 36.
    Td2,
    /// Passport data pages: 2 lines of 44.
    Td3,
}

impl MrzLayout {
    /// The document geometry the quality gate and the reader use for this layout.
    pub fn document_kind(self) -> crate::vision::DocumentKind {
        match self {
            MrzLayout::Td3 => crate::vision::DocumentKind::Td3,
            MrzLayout::Td1 | MrzLayout::Td2 => crate::vision::DocumentKind::Id1,
        }
    }
}

/// The zone `side` of `id_type` issued by `country` carries, if any ([`mrz_placement`]): what
/// the form reads on that side's photo and the server on its upload.
pub fn mrz_layout_on(country: Alpha3, id_type: IdType, side: CaptureSlot) -> Option<MrzLayout> {
    mrz_placement(country, id_type)
        .filter(|p| p.side == side)
        .map(|p| p.layout)
}

/// Where a document's MRZ is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MrzPlacement {
    pub side: CaptureSlot,
    pub layout: MrzLayout,
}

/// EU member states whose national identity cards carry a TD1 MRZ on the back: Regulation (EU)
/// 2019/1157, Art. 3(5) (ID-1 format, ICAO Doc 9303 MRZ) and Art. 5(2)(a) (cards without a
/// functional MRZ ceased to be valid on 3 August 2026). Denmark issues no national identity
/// card and Ireland a passport card only: both are left out.
const EU_ID_CARDS: [&str; 25] = [
    "AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "ITA",
    "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE",
];

/// Identity cards of the EEA states and Switzerland in the same ICAO TD1 format (MRZ on the
/// back): Norway (nasjonalt ID-kort, 2020), Iceland (nafnskírteini, 2023), Liechtenstein and
/// Switzerland (both TD1 since 2003 / 2005). Source: the Council of the EU's PRADO register
/// (public specimens: <https://www.consilium.europa.eu/prado/>).
const EEA_ID_CARDS: [&str; 4] = ["NOR", "ISL", "LIE", "CHE"];

/// Residence permits in the uniform format of Council Regulation (EC) No 1030/2002 (amended by
/// Regulation (EU) 2017/1954): an ID-1 card with a TD1 MRZ on the back, issued by the EU
/// states bound by it and the Schengen associates. Ireland and Denmark are not bound by it and
/// are left out.
fn uniform_residence_permit(c: &str) -> bool {
    (EU_ID_CARDS.contains(&c) && c != "IRL") || EEA_ID_CARDS.contains(&c)
}

/// Where the MRZ of `id_type` issued by `country` is, when we know it has one; `None` for every
/// document we do not know to carry one (it is then never read, and the person is never asked
/// to retake a photo for it).
///
/// Passports: every passport issued since 1 April 2010 is machine-readable (ICAO Doc 9303 and
/// Annex 9 to the Chicago Convention, standard 3.10.1), and non-machine-readable ones ceased to
/// be valid by 24 November 2015; the MRZ is the TD3 zone of the data page (the front capture).
pub fn mrz_placement(country: Alpha3, id_type: IdType) -> Option<MrzPlacement> {
    let c = country.as_str();
    let back_td1 = MrzPlacement {
        side: CaptureSlot::DocumentBack,
        layout: MrzLayout::Td1,
    };
    match id_type {
        IdType::Passport => Some(MrzPlacement {
            side: CaptureSlot::DocumentFront,
            layout: MrzLayout::Td3,
        }),
        IdType::GovernmentId | IdType::IdentificationCard
            if EU_ID_CARDS.contains(&c) || EEA_ID_CARDS.contains(&c) =>
        {
            Some(back_td1)
        }
        IdType::ResidencePermit if uniform_residence_permit(c) => Some(back_td1),
        _ => None,
    }
}

/// The data read from a document's MRZ (ICAO Doc 9303 fields, fillers removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentData {
    pub layout: MrzLayout,
    /// Document code (`P`, `ID`, `IR`, …).
    pub document_code: String,
    /// Issuing state or organisation (alpha-3, or ICAO codes such as `D`, `UTO`).
    pub issuing_state: String,
    pub document_number: String,
    /// Primary identifier, spaces between its parts.
    pub surname: String,
    /// Secondary identifier, spaces between its parts.
    pub given_names: String,
    pub nationality: String,
    /// `YYYY-MM-DD`; empty when the zone leaves it unknown.
    pub date_of_birth: String,
    /// `M`, `F` or `X` (unspecified).
    pub sex: String,
    /// `YYYY-MM-DD`.
    pub expiry_date: String,
    /// Optional data (personal number on passports; optional fields on cards).
    pub optional_data: String,
    /// Every check digit, the composite one included, holds. Only then do rules use the data.
    pub mrz_valid: bool,
}

fn iso_date(s: &str) -> Option<Date> {
    let mut it = s.split('-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

/// Full years from `birth` to `today` (0 before the first birthday; `None` if born later).
pub fn age_on(birth: Date, today: Date) -> Option<u32> {
    let mut years = today.year() - birth.year();
    if (today.month() as u8, today.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

impl DocumentData {
    /// The holder's age on `today`, when the zone gives a birth date. The zone has two-digit
    /// years; a birth date read into the future belongs to the century before (the reader's
    /// expansion cannot know today's date).
    pub fn age_on(&self, today: Date) -> Option<u32> {
        let mut birth = iso_date(&self.date_of_birth)?;
        if birth > today {
            birth = birth
                .replace_year(birth.year() - 100)
                .or_else(|_| Date::from_calendar_date(birth.year() - 100, birth.month(), 28))
                .ok()?;
        }
        age_on(birth, today)
    }

    /// Whether the document has expired by `today` (valid through its expiry date); `None` when
    /// the zone gives no expiry date.
    pub fn expired_on(&self, today: Date) -> Option<bool> {
        Some(iso_date(&self.expiry_date)? < today)
    }

    /// Surname and given names as one line (`ERIKSSON ANNA MARIA`).
    pub fn full_name(&self) -> String {
        match (self.surname.is_empty(), self.given_names.is_empty()) {
            (false, false) => format!("{} {}", self.surname, self.given_names),
            (false, true) => self.surname.clone(),
            _ => self.given_names.clone(),
        }
    }

    /// ARGOS's gender value (`male`, `female`), when the zone states one.
    pub fn gender(&self) -> Option<&'static str> {
        match self.sex.as_str() {
            "M" => Some("male"),
            "F" => Some("female"),
            _ => None,
        }
    }

    /// What duplicate-user prevention compares, normalised: `SURNAME<<GIVEN
    /// NAMES|YYYY-MM-DD|SEX|NATIONALITY`, upper case, runs of spaces collapsed. `None` without a
    /// valid read, a name or a birth date. Never stored or shown as is: the server keeps and
    /// shows only a keyed hash of it (`duplicated_information`, docs/api.md).
    pub fn identity_key(&self) -> Option<String> {
        if !self.mrz_valid || self.date_of_birth.is_empty() {
            return None;
        }
        let norm = |s: &str| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_uppercase()
        };
        let (surname, given) = (norm(&self.surname), norm(&self.given_names));
        if surname.is_empty() && given.is_empty() {
            return None;
        }
        Some(format!(
            "{surname}<<{given}|{}|{}|{}",
            self.date_of_birth,
            self.sex,
            norm(&self.nationality)
        ))
    }

    /// The value of a review field (`allowedDocumentFields`) the zone gives; `None` for the
    /// fields an MRZ does not carry (issue date, serial number, CURP, …).
    pub fn field(&self, f: DocumentField) -> Option<String> {
        let v = match f {
            DocumentField::Name => self.full_name(),
            DocumentField::DateOfBirth => self.date_of_birth.clone(),
            DocumentField::Gender => self.sex.clone(),
            DocumentField::Nationality => self.nationality.clone(),
            DocumentField::ExpiryDate => self.expiry_date.clone(),
            DocumentField::Number => self.document_number.clone(),
            // A card's personal identity number, when its zone carries one (optional data).
            DocumentField::IdNumber => self.optional_data.clone(),
            _ => return None,
        };
        (!v.is_empty()).then_some(v)
    }
}

/// The fields of `allowed` the review step can show from `data`, in the link's order, with
/// their values.
pub fn review_fields(
    data: &DocumentData,
    allowed: &[DocumentField],
) -> Vec<(DocumentField, String)> {
    allowed
        .iter()
        .filter_map(|f| data.field(*f).map(|v| (*f, v)))
        .collect()
}

/// Reads the MRZ of `layout` from a still (`luma`, `w`×`h`) whose document outline (normalised,
/// from the quality gate) is `outline`: the device after capture and the server on the stored
/// upload run this same function.
pub fn read_document(
    luma: &[u8],
    w: usize,
    h: usize,
    outline: Option<&crate::vision::Quad>,
    layout: MrzLayout,
) -> Option<DocumentData> {
    use crate::vision::mrz::{self, MrzFormat};
    let kind = layout.document_kind();
    let read = mrz::read(luma, w, h, outline, kind)?;
    let f = read.fields?;
    Some(DocumentData {
        layout: match read.format {
            MrzFormat::Td1 => MrzLayout::Td1,
            MrzFormat::Td2 => MrzLayout::Td2,
            MrzFormat::Td3 => MrzLayout::Td3,
        },
        document_code: f.document_code,
        issuing_state: f.issuing_state,
        document_number: f.document_number,
        surname: f.surname,
        given_names: f.given_names,
        nationality: f.nationality,
        date_of_birth: f.date_of_birth,
        sex: f.sex,
        expiry_date: f.expiry_date,
        optional_data: f.optional_data,
        mrz_valid: read.valid,
    })
}

/// Reads the MRZ of `layout` from a whole still (`rgba`, `w`×`h`): finds the document's outline
/// with the quality gate's analyser, as the server does on the upload, then [`read_document`].
/// The device runs this on the photo it is about to send.
pub fn read_still(rgba: &[u8], w: usize, h: usize, layout: MrzLayout) -> Option<DocumentData> {
    let kind = layout.document_kind();
    let report = crate::vision::Analyser::new()
        .analyse_rgba(rgba, w, h, kind)
        .ok()?;
    let luma = crate::vision::luma_of_rgba(rgba);
    read_document(&luma, w, h, report.quad.as_ref(), layout)
}

/// A rule that needs document data and rejects the submission at finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentRule {
    /// The holder is younger than the project's age limit (`under_ageLimit`).
    UnderAgeLimit,
    /// The document expired before today (`expired_id`).
    ExpiredId,
}

impl DocumentRule {
    /// ARGOS's `commentCode`.
    pub fn comment_code(self) -> &'static str {
        match self {
            DocumentRule::UnderAgeLimit => "under_ageLimit",
            DocumentRule::ExpiredId => "expired_id",
        }
    }

    /// The `comment` stored with the rejection.
    pub fn comment(self) -> &'static str {
        match self {
            DocumentRule::UnderAgeLimit => "The holder is under the project's age limit.",
            DocumentRule::ExpiredId => "The identity document has expired.",
        }
    }
}

/// What the document rules say about a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentVerdict {
    /// No rule applies, or every rule that applies passed.
    Pass,
    /// A rule rejects.
    Reject(DocumentRule),
    /// A rule applies but the MRZ was not read with valid check digits: left to a reviewer
    /// (the submission stays pending), with the rules that could not be checked.
    Review(Vec<&'static str>),
}

/// The document rules of a submission: `age_limit` (years, the project's; `None` or lifted by
/// the link's `ageLimit=false`: no limit) and `reject_expired` (the project's `expired_id`),
/// on `data` (the MRZ read, when any) on `today`. Each rule uses the data only when the MRZ read
/// with valid check digits.
pub fn document_verdict(
    data: Option<&DocumentData>,
    age_limit: Option<u32>,
    reject_expired: bool,
    today: Date,
) -> DocumentVerdict {
    let valid = data.filter(|d| d.mrz_valid);
    let mut unchecked = Vec::new();
    if let Some(limit) = age_limit {
        match valid.and_then(|d| d.age_on(today)) {
            Some(age) if age < limit => {
                return DocumentVerdict::Reject(DocumentRule::UnderAgeLimit)
            }
            Some(_) => {}
            None => unchecked.push("ageLimit"),
        }
    }
    if reject_expired {
        match valid.and_then(|d| d.expired_on(today)) {
            Some(true) => return DocumentVerdict::Reject(DocumentRule::ExpiredId),
            Some(false) => {}
            None => unchecked.push("expired_id"),
        }
    }
    if unchecked.is_empty() {
        DocumentVerdict::Pass
    } else {
        DocumentVerdict::Review(unchecked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn specimen() -> DocumentData {
        DocumentData {
            layout: MrzLayout::Td3,
            document_code: "P".into(),
            issuing_state: "UTO".into(),
            document_number: "L898902C3".into(),
            surname: "ERIKSSON".into(),
            given_names: "ANNA MARIA".into(),
            nationality: "UTO".into(),
            date_of_birth: "1974-08-12".into(),
            sex: "F".into(),
            expiry_date: "2012-04-15".into(),
            optional_data: "ZE184226B".into(),
            mrz_valid: true,
        }
    }

    fn a(s: &str) -> Alpha3 {
        Alpha3::parse(s).unwrap()
    }

    #[test]
    fn passports_everywhere_and_cards_only_where_known() {
        let p = mrz_placement(a("KOR"), IdType::Passport).unwrap();
        assert_eq!(
            (p.side, p.layout),
            (CaptureSlot::DocumentFront, MrzLayout::Td3)
        );
        let d = mrz_placement(a("DEU"), IdType::GovernmentId).unwrap();
        assert_eq!(
            (d.side, d.layout),
            (CaptureSlot::DocumentBack, MrzLayout::Td1)
        );
        assert!(mrz_placement(a("CHE"), IdType::ResidencePermit).is_some());
        // No MRZ known: never read, never a retake prompt.
        assert_eq!(mrz_placement(a("KOR"), IdType::GovernmentId), None);
        assert_eq!(mrz_placement(a("DEU"), IdType::DriversLicense), None);
        assert_eq!(mrz_placement(a("DNK"), IdType::GovernmentId), None);
        assert_eq!(mrz_placement(a("IRL"), IdType::ResidencePermit), None);
    }

    #[test]
    fn ages_count_full_years() {
        let d = specimen();
        assert_eq!(d.age_on(date!(2026 - 08 - 11)), Some(51));
        assert_eq!(d.age_on(date!(2026 - 08 - 12)), Some(52));
        assert_eq!(
            age_on(date!(2020 - 02 - 29), date!(2021 - 02 - 28)),
            Some(0)
        );
        assert_eq!(
            age_on(date!(2020 - 02 - 29), date!(2021 - 03 - 01)),
            Some(1)
        );
        assert_eq!(age_on(date!(2030 - 01 - 01), date!(2026 - 01 - 01)), None);
        let unknown = DocumentData {
            date_of_birth: String::new(),
            ..specimen()
        };
        assert_eq!(unknown.age_on(date!(2026 - 01 - 01)), None);
        // A two-digit year read into the future is the century before.
        let old = DocumentData {
            date_of_birth: "2027-05-01".into(),
            ..specimen()
        };
        assert_eq!(old.age_on(date!(2026 - 12 - 07)), Some(99));
    }

    #[test]
    fn a_document_is_valid_through_its_expiry_date() {
        let d = specimen();
        assert_eq!(d.expired_on(date!(2012 - 04 - 15)), Some(false));
        assert_eq!(d.expired_on(date!(2012 - 04 - 16)), Some(true));
    }

    #[test]
    fn the_identity_key_is_normalised() {
        let d = specimen();
        assert_eq!(
            d.identity_key().as_deref(),
            Some("ERIKSSON<<ANNA MARIA|1974-08-12|F|UTO")
        );
        let spaced = DocumentData {
            given_names: " anna  maria ".into(),
            ..specimen()
        };
        assert_eq!(spaced.identity_key(), d.identity_key());
        // Only a read whose check digits hold identifies anyone.
        let invalid = DocumentData {
            mrz_valid: false,
            ..specimen()
        };
        assert_eq!(invalid.identity_key(), None);
    }

    #[test]
    fn review_fields_follow_the_link_and_skip_what_the_zone_lacks() {
        let f = review_fields(
            &specimen(),
            &[
                DocumentField::Name,
                DocumentField::IssueDate,
                DocumentField::DateOfBirth,
                DocumentField::Number,
            ],
        );
        assert_eq!(
            f,
            vec![
                (DocumentField::Name, "ERIKSSON ANNA MARIA".to_owned()),
                (DocumentField::DateOfBirth, "1974-08-12".to_owned()),
                (DocumentField::Number, "L898902C3".to_owned()),
            ]
        );
    }

    #[test]
    fn rules_use_only_valid_reads() {
        let today = date!(2026 - 12 - 07);
        let d = specimen();
        assert_eq!(
            document_verdict(Some(&d), None, false, today),
            DocumentVerdict::Pass
        );
        assert_eq!(
            document_verdict(None, None, false, today),
            DocumentVerdict::Pass
        );
        assert_eq!(
            document_verdict(Some(&d), Some(18), false, today),
            DocumentVerdict::Pass
        );
        assert_eq!(
            document_verdict(Some(&d), Some(60), false, today),
            DocumentVerdict::Reject(DocumentRule::UnderAgeLimit)
        );
        assert_eq!(
            document_verdict(Some(&d), None, true, today),
            DocumentVerdict::Reject(DocumentRule::ExpiredId)
        );
        let invalid = DocumentData {
            mrz_valid: false,
            ..specimen()
        };
        assert_eq!(
            document_verdict(Some(&invalid), Some(60), true, today),
            DocumentVerdict::Review(vec!["ageLimit", "expired_id"])
        );
        assert_eq!(
            document_verdict(None, Some(18), false, today),
            DocumentVerdict::Review(vec!["ageLimit"])
        );
    }
}
