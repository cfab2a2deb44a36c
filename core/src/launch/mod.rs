//! ARGOS launch parameters: a raw query string to typed, validated [`LaunchParams`].
//!
//! Two phases, because the key depends on the project:
//! 1. [`RawQuery::parse`] splits the query (no key needed) and yields the `pid`;
//! 2. [`RawQuery::resolve`] decrypts `encrypted` with the project's key and algorithm, merges the
//!    channels (encrypted values win; encryption-only parameters are ignored when plain; in
//!    encryption-only mode every plain parameter but `pid`, `encrypted` and `lang` is ignored) and
//!    validates, `startValidUntil` first (ARGOS checks it before anything else, token included).
//!
//! Two deliberate differences from ARGOS (issue 15): a plain value that loosens the project's
//! policy ([`spec::Class::Loosening`], e.g. `blacklistCountries=false`) is ignored unless the
//! project opts into ARGOS's behaviour ([`LaunchOptions::plain_loosening`]); and an `encrypted`
//! whose plaintext carries a field only the Return URL writes ([`RETURN_ONLY_FIELDS`]) is
//! refused (`LF-40013`): with ECB the Return URL's `encrypted` uses the link key and JSON shape.
//!
//! Nothing here reads a clock: the caller passes `now`.

pub mod crypto;
pub mod spec;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crypto::{Algorithm, CryptoError};
use spec::{Channel, Class, Support};

use crate::country::Alpha3;
use crate::errors::ErrorCode;
use crate::id_type::{DocumentField, IdType};

/// Longest query string accepted (bytes).
pub const MAX_QUERY_LEN: usize = 16 * 1024;
/// Longest free-text value (`userid`, `cf1`..`cf3`, projection names), in characters.
pub const MAX_TEXT_LEN: usize = 1000;
/// ARGOS's UI languages (ISO 639-1), `argos-liveform.md` §4.6.
pub const LANGUAGES: [&str; 26] = [
    "ko", "en", "zh", "es", "ja", "pt", "vi", "ru", "ar", "fi", "fr", "hi", "id", "fa", "pl", "th",
    "de", "tl", "km", "ne", "ur", "bn", "uz", "si", "ms", "my",
];

/// A refused link: a catalogue code and an English detail naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct LaunchError {
    pub code: ErrorCode,
    pub detail: String,
}

impl LaunchError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        LaunchError {
            code,
            detail: detail.into(),
        }
    }
}

fn invalid(name: &str, why: impl core::fmt::Display) -> LaunchError {
    LaunchError::new(ErrorCode::InvalidParameter, format!("{name}: {why}"))
}

/// A parameter that was present but not used, and why (for logs and integrator support).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ignored {
    pub name: String,
    pub reason: IgnoredReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoredReason {
    /// Not an ARGOS parameter (tracking parameters and the like).
    Unknown,
    /// Plain, but this parameter must be encrypted.
    MustBeEncrypted,
    /// Plain, and the project accepts only `pid`, `encrypted` and `lang` in plain.
    EncryptionOnlyMode,
    /// Present both plain and encrypted: the encrypted value won.
    OverriddenByEncrypted,
    /// Inside `encrypted`, but this parameter is only read from the plain URL (`pid`, `lang`).
    PlainOnly,
    /// A second occurrence of a plain parameter (the first one is used).
    Duplicate,
    /// A value this form does not offer (e.g. a language outside the 26), so the default applies.
    UnsupportedValue,
    /// Plain, and its value would loosen the project's policy (`blacklistCountries=false` and
    /// the like): honoured only from `encrypted`, unless the project sets `plain_loosening`.
    LooseningNotEncrypted,
}

/// Fields only the Return URL writes (`returning::FIELDS` minus the link parameters). A launch
/// link whose decrypted plaintext carries one of them is a Return URL value replayed as a link,
/// and is refused with `LF-40013`.
pub const RETURN_ONLY_FIELDS: [&str; 3] = ["kycStatus", "submissionId", "errorCode"];

/// How a project resolves links beyond the key (defaults: this form's safer rules).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    /// ARGOS's plain behaviour: a loosening value ([`spec::Class::Loosening`]) is honoured from
    /// the plain URL too. Off: ignored there ([`IgnoredReason::LooseningNotEncrypted`]).
    pub plain_loosening: bool,
}

/// Either projection selector (`projectionId` xor `projectionName`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Projection {
    Id(String),
    Name(String),
}

/// The validated launch parameters of one link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchParams {
    pub pid: String,
    /// UI language, one of [`LANGUAGES`]; `None` = use the browser's.
    pub lang: Option<String>,
    pub email: Option<String>,
    pub userid: Option<String>,
    pub cf1: Option<String>,
    pub cf2: Option<String>,
    pub cf3: Option<String>,
    /// Private-mode token.
    pub token: Option<String>,
    /// Whether the project's issuing-country blacklist applies (`blacklistCountries=false` lifts it).
    pub apply_blacklist: bool,
    pub approve_period: bool,
    pub reject_period: bool,
    pub age_limit: bool,
    pub reject_duplicate_user: Option<bool>,
    pub allowed_countries: Option<Vec<Alpha3>>,
    pub allowed_id_types: Option<Vec<IdType>>,
    pub allowed_document_fields: Option<Vec<DocumentField>>,
    pub selected_issuing_country: Option<Alpha3>,
    pub selected_id_type: Option<IdType>,
    pub projection: Option<Projection>,
    /// `#rrggbb`, lower case.
    pub main_color: Option<String>,
    /// `#rrggbb`, lower case.
    pub inner_color: Option<String>,
    /// Unix seconds (UTC).
    pub start_valid_until: Option<i64>,
    /// Whether the link carried an `encrypted` parameter.
    pub was_encrypted: bool,
    pub ignored: Vec<Ignored>,
}

/// What the project contributes to resolving a link.
#[derive(Debug, Clone, Copy)]
pub struct LaunchContext<'a> {
    /// The API key or secretKey string (never leaves the server).
    pub key: &'a str,
    pub algorithm: Algorithm,
    /// ARGOS "encryption-only mode".
    pub encrypted_only: bool,
    /// Current time, Unix seconds.
    pub now_unix: i64,
}

/// A query string split into its parameters, before decryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawQuery {
    /// First occurrence of each plain parameter, in order.
    plain: Vec<(String, String)>,
    duplicates: Vec<String>,
}

impl RawQuery {
    /// Splits a raw query (`?` optional; `application/x-www-form-urlencoded`, so a literal `+` is
    /// a space — ECB Base64 is repaired later).
    pub fn parse(raw: &str) -> Result<RawQuery, LaunchError> {
        if raw.len() > MAX_QUERY_LEN {
            return Err(LaunchError::new(
                ErrorCode::LinkTooLong,
                format!("query is {} bytes; the limit is {MAX_QUERY_LEN}", raw.len()),
            ));
        }
        let raw = raw.strip_prefix('?').unwrap_or(raw);
        let mut plain: Vec<(String, String)> = Vec::new();
        let mut duplicates = Vec::new();
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            if k.is_empty() {
                continue;
            }
            if plain.iter().any(|(pk, _)| *pk == k) {
                if !duplicates.iter().any(|d: &String| *d == k) {
                    duplicates.push(k.into_owned());
                }
            } else {
                plain.push((k.into_owned(), v.into_owned()));
            }
        }
        Ok(RawQuery { plain, duplicates })
    }

    /// A plain parameter's value (its first occurrence), `None` when absent or empty.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.plain
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The project id, required.
    pub fn pid(&self) -> Result<&str, LaunchError> {
        match self.value("pid") {
            Some(p) if p.len() <= 64 && p.bytes().all(|b| b.is_ascii_graphic()) => Ok(p),
            Some(_) => Err(invalid("pid", "must be 1-64 visible ASCII characters")),
            None => Err(LaunchError::new(
                ErrorCode::MissingProject,
                "the link has no pid",
            )),
        }
    }

    /// The names of the plain parameters, in order (first occurrences).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.plain.iter().map(|(k, _)| k.as_str())
    }

    /// The raw `lang` value, if any (usable before the project is known, e.g. for error pages).
    pub fn lang_hint(&self) -> Option<String> {
        self.value("lang").and_then(normalise_lang)
    }

    /// Decrypts, merges and validates with the project's settings and the default
    /// [`LaunchOptions`] (loosening values only from `encrypted`).
    pub fn resolve(&self, ctx: &LaunchContext<'_>) -> Result<LaunchParams, LaunchError> {
        self.resolve_with(ctx, &LaunchOptions::default())
    }

    /// [`RawQuery::resolve`] with the project's [`LaunchOptions`].
    pub fn resolve_with(
        &self,
        ctx: &LaunchContext<'_>,
        opts: &LaunchOptions,
    ) -> Result<LaunchParams, LaunchError> {
        let pid = self.pid()?.to_owned();
        let encrypted = match self.plain.iter().find(|(k, _)| k == "encrypted") {
            Some((_, v)) => Some(decrypt_object(ctx, v)?),
            None => None,
        };
        let mut ignored = Vec::new();
        let m = Merged::new(self, encrypted.as_ref(), ctx.encrypted_only, &mut ignored);

        // 1. startValidUntil before every other validation (ARGOS), the token included.
        let start_valid_until = match m.get("startValidUntil") {
            Some(v) => {
                let t = parse_timestamp(&text("startValidUntil", v)?).ok_or_else(|| {
                    invalid(
                        "startValidUntil",
                        "not an ISO 8601 timestamp like 2026-04-30T15:00:00Z",
                    )
                })?;
                if ctx.now_unix >= t {
                    return Err(LaunchError::new(
                        ErrorCode::LinkExpired,
                        "startValidUntil is in the past",
                    ));
                }
                Some(t)
            }
            None => None,
        };

        // 2. A Return URL value is not a link: with ECB it is encrypted with the same key in the
        //    same JSON shape, so without this a person could open one (issue 15). Its
        //    Return-URL-only fields give it away (a value without them stays a valid link: the
        //    start-up warning for ECB projects says so).
        if let Some(f) = encrypted
            .as_ref()
            .and_then(|e| RETURN_ONLY_FIELDS.iter().find(|f| e.contains_key(**f)))
        {
            return Err(LaunchError::new(
                ErrorCode::ReturnValueAsLink,
                format!("encrypted carries {f}, a field only the Return URL writes"),
            ));
        }

        // 3. Features this form does not support: refused from any channel, never ignored.
        for p in spec::PARAMS {
            if let Support::Refused(code) = p.support {
                if m.present_anywhere(p.name) {
                    return Err(LaunchError::new(
                        code,
                        format!("{} is not supported by this form", p.name),
                    ));
                }
            }
        }

        // 4. Everything else.
        let lang = match self.value("lang") {
            Some(raw) => {
                let l = normalise_lang(raw);
                if l.is_none() {
                    ignored.push(Ignored {
                        name: "lang".into(),
                        reason: IgnoredReason::UnsupportedValue,
                    });
                }
                l
            }
            None => None,
        };
        let email = m.get("email").map(|v| email("email", v)).transpose()?;
        let free = |name: &str| m.get(name).map(|v| free_text(name, v)).transpose();
        let userid = free("userid")?;
        let cf1 = free("cf1")?;
        let cf2 = free("cf2")?;
        let cf3 = free("cf3")?;
        let token = m.get("token").map(|v| token("token", v)).transpose()?;
        // A loosening value counts only from `encrypted` (or with the project's opt-in).
        let mut flag = |name: &str| -> Result<Option<bool>, LaunchError> {
            let Some(v) = m.get(name) else {
                return Ok(None);
            };
            let plain = matches!(v, Val::Plain(_));
            let b = boolean(name, v)?;
            if plain && !b && !opts.plain_loosening && loosening(name) {
                ignored.push(Ignored {
                    name: name.to_owned(),
                    reason: IgnoredReason::LooseningNotEncrypted,
                });
                return Ok(None);
            }
            Ok(Some(b))
        };
        let apply_blacklist = flag("blacklistCountries")?.unwrap_or(true);
        let approve_period = flag("approvePeriod")?.unwrap_or(true);
        let reject_period = flag("rejectPeriod")?.unwrap_or(true);
        let age_limit = flag("ageLimit")?.unwrap_or(true);
        let reject_duplicate_user = flag("rejectDuplicateUser")?;
        let allowed_countries = m
            .get("allowedCountries")
            .map(|v| {
                list(
                    "allowedCountries",
                    v,
                    Alpha3::parse,
                    "an ISO 3166-1 alpha-3 code",
                )
            })
            .transpose()?;
        let allowed_id_types = m
            .get("allowedIdTypes")
            .map(|v| list("allowedIdTypes", v, IdType::parse, "an ID type"))
            .transpose()?;
        let allowed_document_fields = m
            .get("allowedDocumentFields")
            .map(|v| {
                list(
                    "allowedDocumentFields",
                    v,
                    DocumentField::parse,
                    "a document field",
                )
            })
            .transpose()?;
        let selected_issuing_country = m
            .get("selectedIssuingCountry")
            .map(|v| {
                let s = text("selectedIssuingCountry", v)?;
                Alpha3::parse(&s).ok_or_else(|| {
                    invalid(
                        "selectedIssuingCountry",
                        format!("{s:?} is not an ISO 3166-1 alpha-3 code"),
                    )
                })
            })
            .transpose()?;
        let selected_id_type = m
            .get("selectedIdType")
            .map(|v| {
                let s = text("selectedIdType", v)?;
                IdType::parse(&s)
                    .ok_or_else(|| invalid("selectedIdType", format!("{s:?} is not an ID type")))
            })
            .transpose()?;
        let projection = match (m.get("projectionId"), m.get("projectionName")) {
            (Some(_), Some(_)) => {
                return Err(LaunchError::new(
                    ErrorCode::ConflictingParameters,
                    "projectionId and projectionName are mutually exclusive",
                ))
            }
            (Some(v), None) => Some(Projection::Id(free_text("projectionId", v)?)),
            (None, Some(v)) => Some(Projection::Name(free_text("projectionName", v)?)),
            (None, None) => None,
        };
        let main_color = m
            .get("mainColor")
            .map(|v| colour("mainColor", v))
            .transpose()?;
        let inner_color = m
            .get("innerColor")
            .map(|v| colour("innerColor", v))
            .transpose()?;

        // 5. Combinations.
        if selected_id_type.is_some() && selected_issuing_country.is_none() {
            return Err(LaunchError::new(
                ErrorCode::ConflictingParameters,
                "selectedIdType needs selectedIssuingCountry",
            ));
        }
        if let (Some(c), Some(allowed)) = (selected_issuing_country, &allowed_countries) {
            if !allowed.contains(&c) {
                return Err(LaunchError::new(
                    ErrorCode::ConflictingParameters,
                    format!("selectedIssuingCountry {c} is not in allowedCountries"),
                ));
            }
        }
        if let (Some(t), Some(allowed)) = (selected_id_type, &allowed_id_types) {
            if !allowed.contains(&t) {
                return Err(LaunchError::new(
                    ErrorCode::ConflictingParameters,
                    format!("selectedIdType {t} is not in allowedIdTypes"),
                ));
            }
        }

        for d in &self.duplicates {
            ignored.push(Ignored {
                name: d.clone(),
                reason: IgnoredReason::Duplicate,
            });
        }

        Ok(LaunchParams {
            pid,
            lang,
            email,
            userid,
            cf1,
            cf2,
            cf3,
            token,
            apply_blacklist,
            approve_period,
            reject_period,
            age_limit,
            reject_duplicate_user,
            allowed_countries,
            allowed_id_types,
            allowed_document_fields,
            selected_issuing_country,
            selected_id_type,
            projection,
            main_color,
            inner_color,
            start_valid_until,
            was_encrypted: encrypted.is_some(),
            ignored,
        })
    }
}

/// Whether the parameter is of [`Class::Loosening`].
fn loosening(name: &str) -> bool {
    spec::spec(name).is_some_and(|s| s.class == Class::Loosening)
}

/// Decrypts `encrypted` and requires a JSON object.
fn decrypt_object(ctx: &LaunchContext<'_>, text: &str) -> Result<Map<String, Value>, LaunchError> {
    if text.trim().is_empty() {
        return Err(LaunchError::new(
            ErrorCode::DecryptFailed,
            "encrypted is empty",
        ));
    }
    let bytes = crypto::decrypt(ctx.algorithm, ctx.key, text)
        .map_err(|e| LaunchError::new(ErrorCode::DecryptFailed, e.to_string()))?;
    let s = String::from_utf8(bytes).map_err(|_| {
        LaunchError::new(ErrorCode::EncryptedNotJson, "decrypted bytes are not UTF-8")
    })?;
    match serde_json::from_str::<Value>(&s) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(LaunchError::new(
            ErrorCode::EncryptedNotJson,
            "decrypted JSON is not an object",
        )),
        Err(e) => Err(LaunchError::new(
            ErrorCode::EncryptedNotJson,
            format!("decrypted text is not JSON: {e}"),
        )),
    }
}

/// A value from either channel.
#[derive(Debug, Clone)]
enum Val<'a> {
    Plain(&'a str),
    Json(&'a Value),
}

/// The two channels merged by the rules of §1.2.
struct Merged<'a> {
    raw: &'a RawQuery,
    enc: Option<&'a Map<String, Value>>,
    encrypted_only: bool,
}

impl<'a> Merged<'a> {
    fn new(
        raw: &'a RawQuery,
        enc: Option<&'a Map<String, Value>>,
        encrypted_only: bool,
        ignored: &mut Vec<Ignored>,
    ) -> Self {
        for (k, _) in &raw.plain {
            if matches!(k.as_str(), "pid" | "encrypted" | "lang") {
                continue;
            }
            let reason = match spec::spec(k) {
                None => Some(IgnoredReason::Unknown),
                Some(_) if encrypted_only => Some(IgnoredReason::EncryptionOnlyMode),
                Some(s) if s.channel == Channel::EncryptedOnly => {
                    Some(IgnoredReason::MustBeEncrypted)
                }
                Some(_) if enc.is_some_and(|e| e.contains_key(k)) => {
                    Some(IgnoredReason::OverriddenByEncrypted)
                }
                Some(_) => None,
            };
            if let Some(reason) = reason {
                ignored.push(Ignored {
                    name: k.clone(),
                    reason,
                });
            }
        }
        if let Some(e) = enc {
            for k in e.keys() {
                match spec::spec(k) {
                    None => ignored.push(Ignored {
                        name: k.clone(),
                        reason: IgnoredReason::Unknown,
                    }),
                    Some(s) if s.channel == Channel::PlainOnly => ignored.push(Ignored {
                        name: k.clone(),
                        reason: IgnoredReason::PlainOnly,
                    }),
                    Some(_) => {}
                }
            }
        }
        Merged {
            raw,
            enc,
            encrypted_only,
        }
    }

    /// The effective value of a parameter; empty strings and JSON null count as absent.
    fn get(&self, name: &str) -> Option<Val<'a>> {
        let channel = spec::spec(name).map(|s| s.channel)?;
        if channel != Channel::PlainOnly {
            if let Some(v) = self.enc.and_then(|e| e.get(name)) {
                return match v {
                    Value::Null => None,
                    Value::String(s) if s.is_empty() => None,
                    v => Some(Val::Json(v)),
                };
            }
        }
        if channel == Channel::PlainOrEncrypted && !self.encrypted_only {
            return self.raw.value(name).map(Val::Plain);
        }
        None
    }

    /// Present in either channel, whatever the mode (for refusing unsupported features).
    fn present_anywhere(&self, name: &str) -> bool {
        self.raw.value(name).is_some()
            || self
                .enc
                .and_then(|e| e.get(name))
                .is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
    }
}

fn text(name: &str, v: Val<'_>) -> Result<String, LaunchError> {
    match v {
        Val::Plain(s) => Ok(s.to_owned()),
        Val::Json(Value::String(s)) => Ok(s.clone()),
        Val::Json(other) => Err(invalid(name, format!("expected a string, got {other}"))),
    }
}

fn free_text(name: &str, v: Val<'_>) -> Result<String, LaunchError> {
    let s = match v {
        Val::Json(Value::Number(n)) => n.to_string(),
        v => text(name, v)?,
    };
    if s.chars().count() > MAX_TEXT_LEN {
        return Err(invalid(
            name,
            format!("longer than {MAX_TEXT_LEN} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(name, "contains control characters"));
    }
    Ok(s)
}

fn boolean(name: &str, v: Val<'_>) -> Result<bool, LaunchError> {
    match v {
        Val::Json(Value::Bool(b)) => Ok(*b),
        v => match text(name, v).as_deref() {
            Ok("true") => Ok(true),
            Ok("false") => Ok(false),
            _ => Err(invalid(name, "expected true or false")),
        },
    }
}

/// The e-mail rule (links and the e-mail step): at most 254 bytes, no whitespace or control
/// characters, exactly one `@`, a non-empty local part of at most 64 bytes, and a dotted domain
/// without leading, trailing or doubled dots.
pub fn is_valid_email(s: &str) -> bool {
    s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && match s.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
            }
            None => false,
        }
}

fn email(name: &str, v: Val<'_>) -> Result<String, LaunchError> {
    let s = text(name, v)?;
    if is_valid_email(&s) {
        Ok(s)
    } else {
        Err(invalid(name, "not an e-mail address"))
    }
}

/// Token format (ARGOS Token API): 8-64 bytes of `[A-Za-z0-9._-]`, first and last alphanumeric.
pub fn is_valid_token(s: &str) -> bool {
    let b = s.as_bytes();
    (8..=64).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn token(name: &str, v: Val<'_>) -> Result<String, LaunchError> {
    let s = text(name, v)?;
    if is_valid_token(&s) {
        Ok(s)
    } else {
        Err(LaunchError::new(
            ErrorCode::InvalidToken,
            "token must be 8-64 characters of A-Z a-z 0-9 . _ - and start and end with a letter or digit",
        ))
    }
}

/// `#RRGGBB` or `RRGGBB` → `#rrggbb`; anything else is refused (the value reaches CSS).
pub fn parse_colour(s: &str) -> Option<String> {
    let hex = s.strip_prefix('#').unwrap_or(s);
    if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some(format!("#{}", hex.to_ascii_lowercase()))
    } else {
        None
    }
}

fn colour(name: &str, v: Val<'_>) -> Result<String, LaunchError> {
    let s = text(name, v)?;
    parse_colour(&s).ok_or_else(|| invalid(name, "expected a hex colour #RRGGBB or RRGGBB"))
}

fn list<T: PartialEq>(
    name: &str,
    v: Val<'_>,
    parse: impl Fn(&str) -> Option<T>,
    what: &str,
) -> Result<Vec<T>, LaunchError> {
    let items: Vec<String> = match v {
        Val::Json(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(name, "array items must be strings"))
            })
            .collect::<Result<_, _>>()?,
        v => text(name, v)?.split(',').map(str::to_owned).collect(),
    };
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in &items {
        if item.chars().any(char::is_whitespace) {
            return Err(invalid(
                name,
                "comma-separated values must not contain spaces",
            ));
        }
        let t = parse(item).ok_or_else(|| invalid(name, format!("{item:?} is not {what}")))?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.is_empty() {
        return Err(invalid(name, "empty list"));
    }
    Ok(out)
}

fn normalise_lang(raw: &str) -> Option<String> {
    let l = raw.to_ascii_lowercase();
    LANGUAGES.contains(&l.as_str()).then_some(l)
}

/// ISO 8601 / RFC 3339 timestamp → Unix seconds; without an offset it is UTC (ARGOS).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    use time::{OffsetDateTime, PrimitiveDateTime};
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let fmt = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(s, fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// Unix seconds → `2026-04-30T15:00:00Z`.
pub fn format_timestamp(unix: i64) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests;
