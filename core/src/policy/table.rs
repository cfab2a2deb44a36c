//! The per-country table of supported ID types: the built-in ARGOS table and project overrides.
//!
//! Both use ARGOS's columns, in this order:
//! `country_name, alpha3, alpha2, national_id, drivers_license, passport, residence_permit, others`.
//! The four flag columns hold `Y` or `N` and map to [`IdType::GovernmentId`],
//! [`IdType::DriversLicense`], [`IdType::Passport`] and [`IdType::ResidencePermit`]. `others` is a
//! comma-separated list of document codes, mapped by [`other_code`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::country::Alpha3;
use crate::id_type::IdType;

/// The built-in table (see `core/data/README.md` for its source).
const BUILTIN_TSV: &str = include_str!("../../data/supported-id-types.tsv");

/// The expected header, normalised by [`normalise_header`].
const HEADER: [&str; 8] = [
    "countryname",
    "alpha3",
    "alpha2",
    "nationalid",
    "driverslicense",
    "passport",
    "residencepermit",
    "others",
];

/// The flag columns (0-based column index, name, ID type).
const FLAGS: [(usize, &str, IdType); 4] = [
    (3, "national_id", IdType::GovernmentId),
    (4, "drivers_license", IdType::DriversLicense),
    (5, "passport", IdType::Passport),
    (6, "residence_permit", IdType::ResidencePermit),
];

/// One country's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountrySupport {
    pub alpha3: Alpha3,
    /// ISO 3166-1 alpha-2, upper case (as given by the table; not cross-checked with `alpha3`).
    pub alpha2: String,
    /// English short name.
    pub name: String,
    /// Supported types, sorted (declaration order of [`IdType`]) and unique.
    pub id_types: Vec<IdType>,
}

impl CountrySupport {
    /// Whether this country supports `t`.
    pub fn supports(&self, t: IdType) -> bool {
        self.id_types.contains(&t)
    }
}

/// Supported ID types per issuing country, keyed by alpha-3.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupportTable {
    rows: BTreeMap<Alpha3, CountrySupport>,
}

/// A table file that could not be read: the 1-based line and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct CsvError {
    pub line: usize,
    pub problem: CsvProblem,
}

/// What is wrong with a line of a table file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvProblem {
    #[error("the file is empty (expected a header row)")]
    MissingHeader,
    #[error("unexpected header (expected: country_name,alpha3,alpha2,national_id,drivers_license,passport,residence_permit,others)")]
    BadHeader,
    #[error("expected 8 columns, found {0}")]
    ColumnCount(usize),
    #[error("a quoted field is not closed on this line")]
    UnterminatedQuote,
    #[error("characters after the closing quote of a field")]
    TextAfterQuote,
    #[error("empty country name")]
    EmptyName,
    #[error("{0:?} is not an ISO 3166-1 alpha-3 code")]
    UnknownAlpha3(String),
    #[error("{0:?} is not an alpha-2 code (two letters)")]
    BadAlpha2(String),
    #[error("column {column}: {value:?} is not Y or N")]
    BadFlag { column: &'static str, value: String },
    #[error("others: {0:?} is not a document code (letters, digits and _)")]
    BadOtherCode(String),
    #[error("{0} is listed twice (first on line {1})")]
    DuplicateCountry(Alpha3, usize),
}

impl SupportTable {
    /// The built-in ARGOS table, parsed once.
    ///
    /// The file is embedded at build time and a test parses it, so this fails only if the embedded
    /// file was broken by an edit; callers should still refuse to start on an error.
    pub fn builtin() -> Result<&'static SupportTable, CsvError> {
        static BUILTIN: OnceLock<Result<SupportTable, CsvError>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| parse(BUILTIN_TSV, '\t'))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses a project override in ARGOS's CSV shape: a header row, then one row per country;
    /// fields may be double-quoted (`""` inside quotes is a quote), which the `others` list needs.
    ///
    /// Header names are compared ignoring case, spaces and punctuation (`Driver's License` matches
    /// `drivers_license`). Flags are `Y`/`N` (any case); alpha-3/alpha-2 codes any case; blank lines
    /// are skipped; a quoted field may not span lines. `others` codes without an [`IdType`] are
    /// ignored (see [`other_code`]).
    pub fn from_csv(text: &str) -> Result<SupportTable, CsvError> {
        parse(text, ',')
    }

    /// This table with every country listed in `over` replaced by `over`'s row.
    pub fn with_override(&self, over: &SupportTable) -> SupportTable {
        let mut rows = self.rows.clone();
        rows.extend(over.rows.iter().map(|(k, v)| (*k, v.clone())));
        SupportTable { rows }
    }

    /// One country's row.
    pub fn get(&self, country: Alpha3) -> Option<&CountrySupport> {
        self.rows.get(&country)
    }

    /// Whether `country` supports `t`.
    pub fn supports(&self, country: Alpha3, t: IdType) -> bool {
        self.get(country).is_some_and(|c| c.supports(t))
    }

    /// Every row, by alpha-3.
    pub fn iter(&self) -> impl Iterator<Item = &CountrySupport> {
        self.rows.values()
    }

    /// Number of countries.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table lists no country.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Maps one `others` code (trimmed, any case) to an [`IdType`].
///
/// Mapped: `vrc` → `vehicle_registration_certificate`, `visa`, `pancard`/`pan` → `pancard`,
/// `aadhaar`, and any exact [`IdType`] wire value (`identification_card`, `foreign_registrator`, …;
/// the built-in table uses none of these, but an override may).
///
/// Codes in the built-in table without an [`IdType`] (ignored): `2p`, `address_card`,
/// `adoption_certificate`, `advocate_license`, `ammpid`, `birth_certificate`, `border_crossing`,
/// `btlic`, `btp`, `conscription_certificate`, `cpti`, `death_certificate`,
/// `disability_certificate`, `divorce_certificate`, `edrvlic`, `emergency_travel_document`,
/// `employment_record`, `establishment_card`, `firearm_permit`, `gypsies`, `health_insurance`,
/// `health_permit`, `homereturn`, `immigration_certificate`, `inn`, `insurance`,
/// `large_family_certificate`, `marriage_certificate`, `medcard`, `migration_card`,
/// `military_deferment_certificate`, `name_change_certificate`, `naturalization_certificate`,
/// `nins`, `oms`, `others`, `passport_card`, `paternity_certificate`, `pilotlic`, `pts`,
/// `re_license`, `refugee`, `residence`, `seafarers_identity_document`, `snils`, `ssn82`, `sts`,
/// `tin`, `tractor_drvlic`, `vaccination_card`, `veteran_card`, `voter_card`, `work`,
/// `work_permit`, `workshop_card`, `wp`.
pub fn other_code(code: &str) -> Option<IdType> {
    let code = code.trim().to_ascii_lowercase();
    match code.as_str() {
        "vrc" => Some(IdType::VehicleRegistrationCertificate),
        "pan" => Some(IdType::Pancard),
        c => IdType::parse(c),
    }
}

fn normalise_header(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Parses a whole file (`delim` is `\t` for the built-in table, `,` for overrides).
fn parse(text: &str, delim: char) -> Result<SupportTable, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = BTreeMap::new();
    let mut first_seen: BTreeMap<Alpha3, usize> = BTreeMap::new();
    let mut header_seen = false;
    for (i, raw) in text.split('\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() {
            continue;
        }
        let err = |problem| CsvError { line, problem };
        let fields = split_record(raw, delim).map_err(err)?;
        if fields.len() != HEADER.len() {
            return Err(err(CsvProblem::ColumnCount(fields.len())));
        }
        if !header_seen {
            header_seen = true;
            if fields
                .iter()
                .zip(HEADER)
                .any(|(f, h)| normalise_header(f) != h)
            {
                return Err(err(CsvProblem::BadHeader));
            }
            continue;
        }
        let row = parse_row(&fields).map_err(err)?;
        if let Some(prev) = first_seen.insert(row.alpha3, line) {
            return Err(err(CsvProblem::DuplicateCountry(row.alpha3, prev)));
        }
        rows.insert(row.alpha3, row);
    }
    if !header_seen {
        return Err(CsvError {
            line: 1,
            problem: CsvProblem::MissingHeader,
        });
    }
    Ok(SupportTable { rows })
}

fn parse_row(f: &[String]) -> Result<CountrySupport, CsvProblem> {
    let name = f[0].trim();
    if name.is_empty() {
        return Err(CsvProblem::EmptyName);
    }
    let a3 = f[1].trim().to_ascii_uppercase();
    let alpha3 = Alpha3::parse(&a3).ok_or_else(|| CsvProblem::UnknownAlpha3(f[1].clone()))?;
    let alpha2 = f[2].trim().to_ascii_uppercase();
    if !(alpha2.len() == 2 && alpha2.bytes().all(|b| b.is_ascii_uppercase())) {
        return Err(CsvProblem::BadAlpha2(f[2].clone()));
    }
    let mut id_types = Vec::new();
    for (col, column, t) in FLAGS {
        match f[col].trim() {
            "Y" | "y" => id_types.push(t),
            "N" | "n" => {}
            _ => {
                return Err(CsvProblem::BadFlag {
                    column,
                    value: f[col].clone(),
                })
            }
        }
    }
    for code in f[7].split(',').map(str::trim).filter(|c| !c.is_empty()) {
        if !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(CsvProblem::BadOtherCode(code.to_owned()));
        }
        id_types.extend(other_code(code));
    }
    id_types.sort_unstable();
    id_types.dedup();
    Ok(CountrySupport {
        alpha3,
        alpha2,
        name: name.to_owned(),
        id_types,
    })
}

/// Splits one line into fields; a field starting with `"` is quoted (`""` is a literal quote).
fn split_record(line: &str, delim: char) -> Result<Vec<String>, CsvProblem> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        // Spaces before an opening quote are tolerated (`a, "b, c"`).
        while chars.peek() == Some(&' ') && delim != ' ' {
            field.push(' ');
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            field.clear();
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err(CsvProblem::UnterminatedQuote),
                }
            }
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(c) if c == delim => fields.push(field),
                Some(_) => return Err(CsvProblem::TextAfterQuote),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(c) if c == delim => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_handles_quotes() {
        assert_eq!(
            split_record(r#"a,"b, c",d"#, ',').unwrap(),
            vec!["a", "b, c", "d"]
        );
        assert_eq!(
            split_record(r#"a, "x ""y""" ,"#, ',').unwrap(),
            vec!["a", r#"x "y""#, ""]
        );
        assert_eq!(
            split_record("a\tb c\t", '\t').unwrap(),
            vec!["a", "b c", ""]
        );
        assert_eq!(
            split_record(r#"a,"b"#, ','),
            Err(CsvProblem::UnterminatedQuote)
        );
        assert_eq!(
            split_record(r#"a,"b"c"#, ','),
            Err(CsvProblem::TextAfterQuote)
        );
    }

    #[test]
    fn builtin_parses_every_row() {
        let t = SupportTable::builtin().unwrap();
        assert_eq!(t.len(), 218);
        assert_eq!(BUILTIN_TSV.lines().count(), 219, "header + 218 rows");
    }

    #[test]
    fn other_codes() {
        assert_eq!(
            other_code(" VRC "),
            Some(IdType::VehicleRegistrationCertificate)
        );
        assert_eq!(other_code("pan"), Some(IdType::Pancard));
        assert_eq!(other_code("pancard"), Some(IdType::Pancard));
        assert_eq!(other_code("aadhaar"), Some(IdType::Aadhaar));
        assert_eq!(other_code("visa"), Some(IdType::Visa));
        assert_eq!(
            other_code("identification_card"),
            Some(IdType::IdentificationCard)
        );
        assert_eq!(other_code("voter_card"), None);
        assert_eq!(other_code("tin"), None);
    }
}
