//! What a session offers: issuing countries and ID types, from the support table, the project's
//! settings and the link's parameters (`argos-liveform.md` §1.3, §6).
//!
//! [`offer`] is the one decision; [`check_choice`] re-checks a later choice against its result.
//!
//! Rules:
//! * a type is offered for a country iff the country supports it (the [`SupportTable`], built-in
//!   or with the project's CSV override), it is in `allowedIdTypes` when given, and the project
//!   allows it;
//! * a country is offered iff it has at least one offered type, is in `allowedCountries` when
//!   given, and is not on the project's blacklist (unless the link says `blacklistCountries=false`);
//! * a selected country (and type) must be offered; the offer is then narrowed to it: a selection
//!   is a fixed choice, not a default;
//! * an empty offer is an error.

mod table;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::country::Alpha3;
use crate::errors::ErrorCode;
use crate::id_type::IdType;
use crate::launch::LaunchParams;

pub use table::{other_code, CountrySupport, CsvError, CsvProblem, SupportTable};

/// The inputs of [`offer`] besides the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyInput<'a> {
    /// The link's `allowedCountries` (`None`: every country).
    pub allowed_countries: Option<&'a [Alpha3]>,
    /// The link's `allowedIdTypes` (`None`: every type).
    pub allowed_id_types: Option<&'a [IdType]>,
    /// The project's issuing-country blacklist.
    pub project_blacklist: &'a [Alpha3],
    /// `false` when the link says `blacklistCountries=false`.
    pub apply_blacklist: bool,
    /// The types the project allows (`None`: every type).
    pub project_id_types: Option<&'a [IdType]>,
    /// The link's `selectedIssuingCountry`.
    pub selected_country: Option<Alpha3>,
    /// The link's `selectedIdType` (needs `selected_country`).
    pub selected_id_type: Option<IdType>,
}

impl Default for PolicyInput<'_> {
    /// No restriction, no selection, an empty blacklist that applies.
    fn default() -> Self {
        PolicyInput {
            allowed_countries: None,
            allowed_id_types: None,
            project_blacklist: &[],
            apply_blacklist: true,
            project_id_types: None,
            selected_country: None,
            selected_id_type: None,
        }
    }
}

impl<'a> PolicyInput<'a> {
    /// The input for a resolved link and its project's settings.
    pub fn from_launch(
        params: &'a LaunchParams,
        project_blacklist: &'a [Alpha3],
        project_id_types: Option<&'a [IdType]>,
    ) -> Self {
        PolicyInput {
            allowed_countries: params.allowed_countries.as_deref(),
            allowed_id_types: params.allowed_id_types.as_deref(),
            project_blacklist,
            apply_blacklist: params.apply_blacklist,
            project_id_types,
            selected_country: params.selected_issuing_country,
            selected_id_type: params.selected_id_type,
        }
    }
}

/// What a session offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// Offered countries, sorted by alpha-3 (only the selected one when the link selected one).
    pub countries: Vec<Alpha3>,
    /// Offered types per offered country, sorted, never empty (only the selected type when the
    /// link selected one).
    pub id_types: BTreeMap<Alpha3, Vec<IdType>>,
    /// The link's selected country (the country step is skipped).
    pub selected_country: Option<Alpha3>,
    /// The link's selected type (the ID-type step is skipped).
    pub selected_id_type: Option<IdType>,
}

impl Offer {
    /// The offered types for `country` (empty when the country is not offered).
    pub fn types_for(&self, country: Alpha3) -> &[IdType] {
        self.id_types.get(&country).map_or(&[], Vec::as_slice)
    }

    /// Whether `country` is offered.
    pub fn offers_country(&self, country: Alpha3) -> bool {
        self.id_types.contains_key(&country)
    }

    /// Whether `t` is offered for `country`.
    pub fn offers(&self, country: Alpha3, t: IdType) -> bool {
        self.types_for(country).contains(&t)
    }
}

/// Why a country or type is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyErrorKind {
    /// The country is on the project's blacklist (and the link did not lift it).
    Blacklisted,
    /// The country is not offered: outside `allowedCountries`, no offered type, or not the
    /// country the link selected.
    CountryNotOffered,
    /// The type is not offered for the country (or differs from the link's selection).
    IdTypeNotOffered,
    /// No country/type combination is offered at all.
    NothingOffered,
}

/// A refused country or type choice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct PolicyError {
    pub kind: PolicyErrorKind,
    /// English detail for logs and integrators.
    pub detail: String,
}

impl PolicyError {
    fn new(kind: PolicyErrorKind, detail: impl Into<String>) -> Self {
        PolicyError {
            kind,
            detail: detail.into(),
        }
    }

    /// The catalogue code, where the catalogue has one yet (`CountryNotOffered`,
    /// `IdTypeNotOffered` and `NothingOffered` await `LF-40010`..`LF-40012`).
    pub fn code(&self) -> ErrorCode {
        match self.kind {
            PolicyErrorKind::Blacklisted => ErrorCode::CountryBlacklisted,
            PolicyErrorKind::CountryNotOffered => ErrorCode::CountryNotOffered,
            PolicyErrorKind::IdTypeNotOffered => ErrorCode::IdTypeNotOffered,
            PolicyErrorKind::NothingOffered => ErrorCode::NothingOffered,
        }
    }
}

/// Decides what a session offers (see the module documentation for the rules).
///
/// Errors, checked in this order: a `selected_id_type` without `selected_country`
/// (`IdTypeNotOffered`); the selected country outside `allowedCountries` (`CountryNotOffered`),
/// blacklisted (`Blacklisted`) or with no offered type (`CountryNotOffered`); the selected type not
/// offered for it (`IdTypeNotOffered`); nothing offered (`NothingOffered`).
pub fn offer(table: &SupportTable, input: &PolicyInput<'_>) -> Result<Offer, PolicyError> {
    use PolicyErrorKind::*;
    let allowed = |list: Option<&[IdType]>, t: &IdType| list.is_none_or(|l| l.contains(t));
    let blacklisted = |c: Alpha3| input.apply_blacklist && input.project_blacklist.contains(&c);
    let in_allowed = |c: Alpha3| input.allowed_countries.is_none_or(|l| l.contains(&c));

    let mut id_types = BTreeMap::new();
    for row in table.iter() {
        if !in_allowed(row.alpha3) || blacklisted(row.alpha3) {
            continue;
        }
        let types: Vec<IdType> = row
            .id_types
            .iter()
            .filter(|t| allowed(input.allowed_id_types, t) && allowed(input.project_id_types, t))
            .copied()
            .collect();
        if !types.is_empty() {
            id_types.insert(row.alpha3, types);
        }
    }

    match (input.selected_country, input.selected_id_type) {
        (None, Some(t)) => {
            return Err(PolicyError::new(
                IdTypeNotOffered,
                format!("selectedIdType {t} needs selectedIssuingCountry"),
            ))
        }
        (None, None) => {}
        (Some(c), t) => {
            if !in_allowed(c) {
                return Err(PolicyError::new(
                    CountryNotOffered,
                    format!("selectedIssuingCountry {c} is not in allowedCountries"),
                ));
            }
            if blacklisted(c) {
                return Err(PolicyError::new(
                    Blacklisted,
                    format!("selectedIssuingCountry {c} is on the project's blacklist"),
                ));
            }
            let mut types = id_types.remove(&c).ok_or_else(|| {
                PolicyError::new(
                    CountryNotOffered,
                    format!("selectedIssuingCountry {c} has no offered ID type"),
                )
            })?;
            if let Some(t) = t {
                if !types.contains(&t) {
                    return Err(PolicyError::new(
                        IdTypeNotOffered,
                        format!("selectedIdType {t} is not offered for {c}"),
                    ));
                }
                types = vec![t];
            }
            id_types = BTreeMap::from([(c, types)]);
        }
    }

    if id_types.is_empty() {
        return Err(PolicyError::new(
            NothingOffered,
            "no country/ID type combination is offered (allowedCountries, allowedIdTypes, the blacklist and the project's types exclude every one)",
        ));
    }
    Ok(Offer {
        countries: id_types.keys().copied().collect(),
        id_types,
        selected_country: input.selected_country,
        selected_id_type: input.selected_id_type,
    })
}

/// Re-checks a country (and type) named by a later request against the session's offer.
///
/// The offer already holds only offered values, so a blacklisted country is reported as
/// `CountryNotOffered` here.
pub fn check_choice(
    offer: &Offer,
    country: Alpha3,
    id_type: Option<IdType>,
) -> Result<(), PolicyError> {
    if !offer.offers_country(country) {
        return Err(PolicyError::new(
            PolicyErrorKind::CountryNotOffered,
            format!("{country} is not offered"),
        ));
    }
    if let Some(t) = id_type {
        if !offer.offers(country, t) {
            return Err(PolicyError::new(
                PolicyErrorKind::IdTypeNotOffered,
                format!("{t} is not offered for {country}"),
            ));
        }
    }
    Ok(())
}

/// Which sides of a document are captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sides {
    FrontOnly,
    FrontAndBack,
}

impl Sides {
    /// Whether a back side is captured.
    pub fn needs_back(self) -> bool {
        self == Sides::FrontAndBack
    }
}

/// The sides captured for a type.
///
/// * Front only: `passport` (the data page), `visa` (a page or sticker), `pancard` (every field
///   is on the front; the back holds only a return address / QR code on newer cards).
/// * Front and back: the cards — `government_id`, `drivers_license`, `residence_permit`,
///   `identification_card`, `foreign_registrator` (alien registration cards carry the address or
///   permit details on the back), `aadhaar` (the address is on the back) and
///   `vehicle_registration_certificate` (most are two-sided cards or folded forms).
pub fn sides(t: IdType) -> Sides {
    match t {
        IdType::Passport | IdType::Visa | IdType::Pancard => Sides::FrontOnly,
        IdType::GovernmentId
        | IdType::DriversLicense
        | IdType::ResidencePermit
        | IdType::VehicleRegistrationCertificate
        | IdType::Aadhaar
        | IdType::ForeignRegistrator
        | IdType::IdentificationCard => Sides::FrontAndBack,
    }
}

#[cfg(test)]
mod tests;
