//! The server's TOML configuration: `[server]` settings and `[[project]]` entries.
//! Every field is documented in `docs/config.md`. Unknown fields and bad values are errors that
//! name the field; nothing here panics.

use std::collections::HashSet;
use std::path::Path;

use liveform_core::embed::FrameComplete;
use liveform_core::launch::{parse_colour, Algorithm};
use liveform_core::liveness::{self, Challenge};
use liveform_core::policy::SupportTable;
use liveform_core::Alpha3;
use serde::Deserialize;

/// A configuration problem, naming the field.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Parse(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerSettings,
    #[serde(default, rename = "project")]
    pub projects: Vec<Project>,
}

/// `[server]`: process-wide settings (all optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// A session unused this long is gone (minutes). ARGOS resumes within 15 minutes.
    pub session_idle_minutes: u32,
    /// A session never outlives this (minutes).
    pub session_max_minutes: u32,
    /// New sessions allowed per client address per minute.
    pub sessions_per_minute: u32,
    /// Take the client address from this header's right-most value (set it only behind a proxy
    /// you control, e.g. "x-forwarded-for"); otherwise the TCP peer address is used.
    pub client_ip_header: Option<String>,
    /// Which entry of `client_ip_header`, counted from the right, is the client: 1 behind one
    /// proxy of yours (it appends the address it saw), 2 behind a CDN and your proxy, ….
    pub client_ip_hops: u32,
    /// New sessions (and handoff claims) per minute from all addresses together, across
    /// instances; bounds the live sessions to this × `session_max_minutes`.
    pub sessions_per_minute_total: u32,
    /// The address people reach this server at (`https://kyc.example.com`, or with a path prefix
    /// behind a proxy). The QR-code handoff to a phone needs it; without it the handoff is off
    /// (`LF-20005`). Normalised without a trailing `/`.
    pub public_base_url: Option<String>,
    /// How long a handoff QR code stays claimable (minutes).
    pub handoff_minutes: u32,
    /// Where captures (encrypted) and the SQLite database live; `liveform serve --data` wins.
    pub data_dir: Option<String>,
    /// The key that encrypts captures at rest: 32 bytes as 64 hex digits or standard Base64.
    /// Keep it out of the data directory (a stolen disk must not carry its own key).
    pub storage_key: Option<String>,
    /// Alternatively, the name of an environment variable holding it.
    pub storage_key_env: Option<String>,
    /// Largest accepted capture (bytes).
    pub max_capture_bytes: u64,
    /// Largest total of one session's stored captures (bytes).
    pub max_session_bytes: u64,
    /// Uploads are refused while the data disk has less free space than this (MiB).
    pub min_free_disk_mb: u64,
    /// Images decoded and checked at once (issue 14), each on its own blocking thread with one
    /// decoded image at a time; further uploads wait their turn. 0: one per CPU core.
    pub verify_workers: u32,
    /// Connections served at once; further ones wait in the listen backlog (slow clients cannot
    /// hold every socket).
    pub max_connections: u32,
    /// Incomplete submissions (a flow abandoned before its finish) untouched this many days are
    /// deleted with their images and a `delete` webhook, whatever a project's `retention_days`.
    pub incomplete_days: u32,
    /// Bytes all uploads in flight may hold together (MiB), beyond which an upload is answered
    /// `429` with `Retry-After` (the form's queue retries); bounds memory under stalled uploads.
    pub upload_budget_mb: u64,
    /// PostgreSQL for the metadata (sessions, submissions, the outbox…) instead of the embedded
    /// SQLite: `postgres://user@host:5432/liveform` (the password may instead come from
    /// `LIVEFORM_DATABASE_PASSWORD`). Needed to run more than one instance.
    pub database_url: Option<String>,
    /// Alternatively, the name of an environment variable holding the URL.
    pub database_url_env: Option<String>,
    /// PostgreSQL connections per instance.
    pub database_pool: u32,
    /// Captures in an S3-compatible object store instead of `<data>/captures` (credentials from
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`). Still encrypted with the storage key.
    pub object_store: Option<S3Settings>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            session_idle_minutes: 15,
            session_max_minutes: 120,
            sessions_per_minute: 30,
            client_ip_header: None,
            client_ip_hops: 1,
            sessions_per_minute_total: 6000,
            public_base_url: None,
            handoff_minutes: 10,
            data_dir: None,
            storage_key: None,
            storage_key_env: None,
            max_capture_bytes: 10 * 1024 * 1024,
            max_session_bytes: 60 * 1024 * 1024,
            min_free_disk_mb: 512,
            verify_workers: 0,
            max_connections: 1024,
            incomplete_days: 3,
            upload_budget_mb: 256,
            database_url: None,
            database_url_env: None,
            database_pool: 16,
            object_store: None,
        }
    }
}

/// `[server.object_store]`: captures in an S3-compatible store (credentials come from the
/// environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optionally `AWS_SESSION_TOKEN`).
/// Used by the server's `blobs` module, which re-exports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Settings {
    /// `https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:9000` (plain http only to
    /// loopback), or any S3-compatible endpoint.
    pub endpoint: String,
    pub bucket: String,
    #[serde(default = "default_region")]
    pub region: String,
    /// A key prefix (a "folder") for this deployment's captures, e.g. `liveform/`.
    #[serde(default)]
    pub prefix: String,
}

fn default_region() -> String {
    "us-east-1".into()
}

/// The Return URL's dynamic fields (ARGOS names).
pub const RETURN_FIELDS: [&str; 8] = liveform_core::returning::FIELDS;

/// ARGOS's webhook triggers that this server sends (`webhook_trigger`), in the order of a
/// submission's life.
pub const WEBHOOK_TRIGGERS: [&str; 8] = [
    "created",
    "retry",
    "submit",
    "approved",
    "rejected",
    "updated",
    "delete",
    "token_expired",
];

/// What a finished submission becomes without a human review (demos).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AutoDecision {
    Approved,
    Rejected,
}

/// One `[[project]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// The `pid` in links.
    pub pid: String,
    /// Shown to the person on the welcome screen.
    #[serde(default)]
    pub name: Option<String>,
    /// The API key or secretKey string the integrator encrypts with.
    #[serde(default)]
    pub key: Option<String>,
    /// Alternatively, the name of an environment variable holding the key.
    #[serde(default)]
    pub key_env: Option<String>,
    pub algorithm: Algorithm,
    #[serde(default)]
    pub encrypted_only: bool,
    /// ARGOS's plain behaviour: loosening values (`blacklistCountries=false`, …) are honoured
    /// from the plain URL too. Off by default: only from `encrypted` (docs/parameters.md).
    #[serde(default)]
    pub plain_loosening: bool,
    #[serde(default)]
    pub return_url: Option<String>,
    #[serde(default)]
    pub return_fields: Vec<String>,
    #[serde(default)]
    pub return_encrypted: bool,
    /// Liveform's authenticated Return URL (beyond ARGOS; needs `return_encrypted`).
    #[serde(default)]
    pub return_authenticated: bool,
    #[serde(default)]
    pub skip_result_page: bool,
    #[serde(default)]
    pub blacklist_countries: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Default brand colours (a link's mainColor / innerColor win).
    #[serde(default)]
    pub main_color: Option<String>,
    #[serde(default)]
    pub inner_color: Option<String>,
    /// Ask for an e-mail address when the link gives none.
    #[serde(default)]
    pub ask_email: bool,
    /// Offer a photo from the device (file picker) besides the live camera. Off by default:
    /// ARGOS's "streaming capture only".
    #[serde(default)]
    pub allow_file_upload: bool,
    /// On completion inside a frame: `"notify"` (default: send `complete` to the host page and
    /// stay) or `"navigate_top"` (also take the whole window to the Return URL where the
    /// frame's sandbox allows it). See docs/embedding.md.
    #[serde(default)]
    pub frame_complete: Option<String>,
    /// `false`: no active-liveness step (head movements); liveness is judged on the selfie by
    /// the reviewer's or a passive check. Default `true`.
    #[serde(default)]
    pub active_liveness: Option<bool>,
    /// Links shown on the consent screen.
    #[serde(default)]
    pub privacy_url: Option<String>,
    #[serde(default)]
    pub terms_url: Option<String>,
    /// Per-country ID types in ARGOS's CSV shape (path relative to the config file).
    #[serde(default)]
    pub id_types_csv: Option<String>,
    /// The results API key (`x-api-key`); without one the project has no results API.
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Where webhooks are POSTed.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// The HMAC-SHA256 secret that signs webhooks (required with `webhook_url`).
    #[serde(default)]
    pub webhook_secret: Option<String>,
    #[serde(default)]
    pub webhook_secret_env: Option<String>,
    /// Which webhook triggers are sent (ARGOS's names, [`WEBHOOK_TRIGGERS`]); absent: all.
    #[serde(default)]
    pub webhook_triggers: Option<Vec<String>>,
    /// ARGOS's "Secure Data Transfer": `/v3` JSON bodies AES-256-ECB both ways and webhook
    /// bodies AES-256-CBC (zero IV), under the project's `key`. Off by default.
    #[serde(default)]
    pub secure_data_transfer: bool,
    /// Decide finished submissions at once (demos): `"approved"` or `"rejected"`.
    #[serde(default)]
    pub auto_decision: Option<AutoDecision>,
    /// Submissions and their images are purged this many days after they were created.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// A fixed liveness sequence (`["closer", "turn_left"]`) instead of one drawn at random per
    /// session. For test projects only: a fake camera plays a fixed feed.
    #[serde(default)]
    pub liveness_challenges: Option<Vec<String>>,
    /// ARGOS private mode: a link without `token` is refused (`TK-10000`).
    #[serde(default)]
    pub private_mode: bool,
    /// ARGOS's "Token ID pre-registration": only tokens registered through the Token API
    /// (`/v3/submission/tokens`) are accepted (`TK-10005`). Needs `private_mode` and `api_key`.
    #[serde(default)]
    pub token_registration: bool,
    /// A registered token expires this many hours after it was (last) registered (`TK-10001`).
    #[serde(default)]
    pub token_expiry_hours: Option<u32>,
    /// ARGOS's "Token ID deletion condition": registered tokens are removed from the pool once
    /// expired or used (a decided submission).
    #[serde(default)]
    pub token_auto_delete: bool,
    /// ARGOS's duplicate-user prevention: a finished submission whose identity (the link's
    /// `userid`, else its `email`) already has an approved one is rejected (`duplicate_user`).
    /// A link's `rejectDuplicateUser` switches it per submission.
    #[serde(default)]
    pub reject_duplicate_user: bool,
    /// ARGOS's "approved duplicate-submission prevention period", in days (`approvePeriod=false`
    /// lifts it per link).
    #[serde(default)]
    pub approved_period_days: Option<u32>,
    /// ARGOS's "rejected duplicate-submission prevention period", in days (`rejectPeriod=false`
    /// lifts it per link).
    #[serde(default)]
    pub rejected_period_days: Option<u32>,
    /// ARGOS's project age limit, in years: a holder younger than this, by the birth date the
    /// document's MRZ gives, is rejected at finish (`under_ageLimit`). A link's `ageLimit=false`
    /// lifts it (from `encrypted`, or plain with `plain_loosening`). Without a valid MRZ read the
    /// submission is left to review.
    #[serde(default)]
    pub age_limit: Option<u32>,
    /// ARGOS's expired-ID rejection: a document whose MRZ expiry date is past is rejected at
    /// finish (`expired_id`). Off by default.
    #[serde(default)]
    pub reject_expired_id: bool,
    /// Projections (`[[project.projection]]`): named lists of fields left out of the results
    /// API and webhooks for submissions whose link chose them (`projectionId` /
    /// `projectionName`). Our shape: ARGOS creates projections through its Projection API.
    #[serde(default)]
    pub projection: Vec<ProjectionSpec>,
}

/// One `[[project.projection]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionSpec {
    pub id: String,
    pub name: String,
    /// Fields left out, from [`PROJECTION_FIELDS`].
    pub omit: Vec<String>,
}

/// The fields a projection can leave out (the names ARGOS's output uses).
pub const PROJECTION_FIELDS: &[&str] = &[
    "email",
    "userid",
    "cf1",
    "cf2",
    "cf3",
    "tokenId",
    "ipAddress",
    "idType",
    "issuingCountry",
    "verification",
    "image",
    "liveness",
    // The document's MRZ read: `ocr`, the `data` fields filled from it and
    // `duplicated_information`.
    "ocr",
];

/// A validated projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    pub id: String,
    pub name: String,
    /// Names from [`PROJECTION_FIELDS`].
    pub omit: Vec<String>,
}

/// A validated project, ready to use.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    pub pid: String,
    pub name: String,
    pub key: String,
    pub algorithm: Algorithm,
    pub encrypted_only: bool,
    /// Loosening values honoured from the plain URL (ARGOS's behaviour; off by default).
    pub plain_loosening: bool,
    pub return_url: Option<String>,
    pub return_fields: Vec<String>,
    pub return_encrypted: bool,
    /// The `encrypted` value is AES-256-GCM under a key derived for the Return URL, with `iat`
    /// (`liveform_core::returning::build_authenticated`) instead of ARGOS's ECB. Only with
    /// `return_encrypted`.
    pub return_authenticated: bool,
    pub skip_result_page: bool,
    pub blacklist: Vec<Alpha3>,
    /// Normalised origins (`scheme://host[:port]`).
    pub allowed_origins: Vec<String>,
    pub main_color: Option<String>,
    pub inner_color: Option<String>,
    pub ask_email: bool,
    pub allow_file_upload: bool,
    pub frame_complete: FrameComplete,
    pub active_liveness: bool,
    pub privacy_url: Option<String>,
    pub terms_url: Option<String>,
    /// The per-country ID types: ARGOS's built-in table, with the project's CSV override.
    pub support: SupportTable,
    pub api_key: Option<String>,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    /// The webhook triggers sent (a subset of [`WEBHOOK_TRIGGERS`]; all by default).
    pub webhook_triggers: Vec<String>,
    /// ARGOS's "Secure Data Transfer" (§2.6).
    pub secure_data_transfer: bool,
    pub auto_decision: Option<AutoDecision>,
    pub retention_days: Option<u32>,
    /// The fixed liveness sequence (`None`: drawn per session).
    pub liveness_challenges: Option<Vec<Challenge>>,
    /// Private mode and the token pool (ARGOS §1.5).
    pub private: PrivateMode,
    /// The duplicate-user and prevention-period rules (ARGOS §1.3).
    pub rules: Rules,
    /// The project's projections (`[[project.projection]]`).
    pub projections: Vec<Projection>,
}

/// A project's duplicate-user and prevention-period settings (docs/config.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    /// Duplicate-user prevention (`reject_duplicate_user`).
    pub duplicate_user: bool,
    /// Approved prevention period in days (`approved_period_days`).
    pub approved_period_days: Option<u32>,
    /// Rejected prevention period in days (`rejected_period_days`).
    pub rejected_period_days: Option<u32>,
    /// The age limit in years (`age_limit`).
    pub age_limit: Option<u32>,
    /// Expired documents are rejected (`reject_expired_id`).
    pub reject_expired_id: bool,
}

/// A project's private-mode settings (docs/config.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrivateMode {
    /// A link must carry a `token` (`private_mode`).
    pub required: bool,
    /// Only registered tokens are accepted (`token_registration`).
    pub registered_only: bool,
    /// A registered token's lifetime after its registration, in seconds (`token_expiry_hours`).
    pub expiry_secs: Option<i64>,
    /// Expired and used registered tokens are removed from the pool (`token_auto_delete`).
    pub auto_delete: bool,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct ValidConfig {
    pub server: ServerSettings,
    pub projects: Vec<ProjectConfig>,
    /// The decoded `storage_key` (`None`: no captures are accepted).
    pub storage_key: Option<[u8; 32]>,
    /// `database_url` or the variable `database_url_env` names (`None`: SQLite).
    pub database_url: Option<String>,
}

impl ValidConfig {
    pub fn project(&self, pid: &str) -> Option<&ProjectConfig> {
        self.projects.iter().find(|p| p.pid == pid)
    }

    /// What the projects' links cannot protect, one sentence per finding (issue 15): logged by
    /// `liveform serve` at start-up and printed by `liveform check-config`. Valid settings, so
    /// warnings, not errors.
    pub fn warnings(&self) -> Vec<String> {
        self.projects
            .iter()
            .flat_map(ProjectConfig::warnings)
            .collect()
    }

    /// The project whose `api_key` is `key` (compared in constant time per project).
    pub fn project_by_api_key(&self, key: &str) -> Option<&ProjectConfig> {
        self.projects
            .iter()
            .find(|p| p.api_key.as_deref().is_some_and(|k| secret_eq(k, key)))
    }
}

impl ProjectConfig {
    /// The projection a link chose by `projectionId` (`by_id`) or `projectionName`.
    pub fn projection_by(&self, by_id: bool, v: &str) -> Option<&Projection> {
        self.projections
            .iter()
            .find(|p| if by_id { p.id == v } else { p.name == v })
    }

    /// This project's [`ValidConfig::warnings`].
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let pid = &self.pid;
        if self.algorithm == Algorithm::Ecb {
            out.push(format!(
                "project {pid:?} uses algorithm = \"ecb\" (ARGOS AES-256, compatibility mode): its \
                 links have no integrity. AES-ECB blocks are independent, so middle blocks of \
                 `encrypted` can be cut out and the rest still decrypts to valid JSON: \
                 restrictions in its links (allowedCountries, allowedIdTypes, selected*, \
                 startValidUntil, token) can be removed by whoever holds a link. Rely on them only \
                 with algorithm = \"gcm\" (docs/parameters.md)."
            ));
            if self.return_encrypted && !self.return_authenticated && self.return_url.is_some() {
                out.push(format!(
                    "project {pid:?}: its encrypted Return URL uses the link key (AES-256-ECB), so \
                     a Return URL `encrypted` value is itself a valid link unless it carries \
                     kycStatus, submissionId or errorCode (refused as LF-40013); one leaving \
                     without them, or cut down to drop them, opens a session. \
                     return_authenticated = true seals it with its own key instead (never a link; \
                     docs/config.md)."
                ));
            }
        }
        if self.plain_loosening && !self.encrypted_only {
            out.push(format!(
                "project {pid:?} sets plain_loosening = true (ARGOS's behaviour): anyone holding \
                 a link can add blacklistCountries=false, ageLimit=false, approvePeriod=false, \
                 rejectPeriod=false or rejectDuplicateUser=false to the address bar and lift \
                 those checks."
            ));
        }
        out
    }
}

/// Compares a secret with a presented value in time independent of both: the SHA-256 digests
/// (always 32 bytes) are compared in constant time, so neither a wrong length nor a matching
/// prefix answers sooner.
pub fn secret_eq(secret: &str, presented: &str) -> bool {
    use sha2::{Digest, Sha256};
    let a = Sha256::digest(secret.as_bytes());
    let b = Sha256::digest(presented.as_bytes());
    constant_time_eq(&a, &b)
}

/// Byte equality whose time depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 bytes from 64 hex digits or standard Base64.
pub fn parse_storage_key(text: &str) -> Option<[u8; 32]> {
    use base64::Engine as _;
    let t = text.trim();
    let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(t).ok()?
    } else {
        base64::engine::general_purpose::STANDARD.decode(t).ok()?
    };
    bytes.try_into().ok()
}

/// One secret from `NAME` or `NAME_env` (neither: `None`).
fn secret(
    value: &Option<String>,
    var: &Option<String>,
    field: String,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, ConfigError> {
    match (value, var) {
        (Some(v), None) => Ok(Some(v.clone())),
        (None, Some(name)) => env(name).map(Some).ok_or_else(|| {
            invalid(
                format!("{field}_env"),
                format!("environment variable {name} is not set"),
            )
        }),
        (Some(_), Some(_)) => Err(invalid(field, "give it or its _env variant, not both")),
        (None, None) => Ok(None),
    }
}

/// Reads and validates a config file (relative paths inside it are relative to its directory).
pub fn load(path: &Path) -> Result<ValidConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse_in(&text, base, |name| std::env::var(name).ok())
}

/// Parses and validates config text; `env` resolves `key_env`; relative paths from the current
/// directory.
pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<ValidConfig, ConfigError> {
    parse_in(text, Path::new("."), env)
}

/// [`parse`] with relative paths resolved from `base`.
pub fn parse_in(
    text: &str,
    base: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<ValidConfig, ConfigError> {
    let raw: Config = toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
    validate(raw, base, env)
}

fn support_table(
    base: &Path,
    csv: Option<&str>,
    field: String,
) -> Result<SupportTable, ConfigError> {
    let builtin = SupportTable::builtin()
        .map_err(|e| invalid(field.clone(), format!("built-in ID-type table: {e}")))?;
    let Some(rel) = csv else {
        return Ok(builtin.clone());
    };
    let path = base.join(rel);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        invalid(
            field.clone(),
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let table = SupportTable::from_csv(&text)
        .map_err(|e| invalid(field, format!("{}: {e}", path.display())))?;
    Ok(builtin.with_override(&table))
}

fn validate(
    raw: Config,
    base: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<ValidConfig, ConfigError> {
    let s = &raw.server;
    if s.session_idle_minutes == 0 {
        return Err(invalid("server.session_idle_minutes", "must be at least 1"));
    }
    if s.session_max_minutes < s.session_idle_minutes {
        return Err(invalid(
            "server.session_max_minutes",
            "must be at least session_idle_minutes",
        ));
    }
    if s.sessions_per_minute == 0 {
        return Err(invalid("server.sessions_per_minute", "must be at least 1"));
    }
    if let Some(h) = &s.client_ip_header {
        if h.is_empty() || !h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(invalid(
                "server.client_ip_header",
                "must be an HTTP header name",
            ));
        }
    }
    if s.handoff_minutes == 0 || s.handoff_minutes > 60 {
        return Err(invalid("server.handoff_minutes", "must be 1 to 60"));
    }
    let public_base_url = s
        .public_base_url
        .as_deref()
        .map(normalise_base_url)
        .transpose()
        .map_err(|m| invalid("server.public_base_url", m))?;
    let storage_key = match secret(
        &s.storage_key,
        &s.storage_key_env,
        "server.storage_key".into(),
        &env,
    )? {
        Some(text) => Some(parse_storage_key(&text).ok_or_else(|| {
            invalid(
                "server.storage_key",
                "must be 32 bytes: 64 hex digits or standard Base64 (e.g. `openssl rand -hex 32`)",
            )
        })?),
        None => None,
    };
    let database_url = secret(
        &s.database_url,
        &s.database_url_env,
        "server.database_url".into(),
        &env,
    )?;
    if let Some(u) = &database_url {
        if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
            return Err(invalid(
                "server.database_url",
                "must be a postgres:// URL (without it, SQLite in the data directory is used)",
            ));
        }
    }
    if s.client_ip_hops == 0 || s.client_ip_hops > 16 {
        return Err(invalid("server.client_ip_hops", "must be 1 to 16"));
    }
    if s.sessions_per_minute_total < s.sessions_per_minute {
        return Err(invalid(
            "server.sessions_per_minute_total",
            "must be at least sessions_per_minute",
        ));
    }
    if s.incomplete_days == 0 || s.incomplete_days > 3650 {
        return Err(invalid("server.incomplete_days", "must be 1 to 3650"));
    }
    if s.max_connections < 16 {
        return Err(invalid("server.max_connections", "must be at least 16"));
    }
    if s.upload_budget_mb.saturating_mul(1024 * 1024) < s.max_capture_bytes {
        return Err(invalid(
            "server.upload_budget_mb",
            "must hold at least one upload of max_capture_bytes",
        ));
    }
    if s.database_pool == 0 || s.database_pool > 1000 {
        return Err(invalid("server.database_pool", "must be 1 to 1000"));
    }
    if let Some(o) = &s.object_store {
        if !(o.endpoint.starts_with("https://") || is_loopback_url(&o.endpoint)) {
            return Err(invalid(
                "server.object_store.endpoint",
                "must be https:// (plain http only to loopback)",
            ));
        }
        if o.bucket.is_empty() {
            return Err(invalid("server.object_store.bucket", "must not be empty"));
        }
    }
    if s.verify_workers > 64 {
        return Err(invalid(
            "server.verify_workers",
            "must be 0 (one per core) to 64",
        ));
    }
    if s.max_capture_bytes < 1024 {
        return Err(invalid("server.max_capture_bytes", "must be at least 1024"));
    }
    if s.max_session_bytes < s.max_capture_bytes {
        return Err(invalid(
            "server.max_session_bytes",
            "must be at least max_capture_bytes",
        ));
    }
    let mut api_keys = HashSet::new();
    if raw.projects.is_empty() {
        return Err(invalid("project", "at least one [[project]] is required"));
    }
    let mut seen = HashSet::new();
    let mut projects = Vec::with_capacity(raw.projects.len());
    for (i, p) in raw.projects.into_iter().enumerate() {
        let at = |field: &str| format!("project[{i}].{field}");
        if p.pid.is_empty()
            || p.pid.len() > 64
            || !p
                .pid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(invalid(at("pid"), "1-64 characters of A-Z a-z 0-9 - _ ."));
        }
        if !seen.insert(p.pid.clone()) {
            return Err(invalid(at("pid"), format!("duplicate pid {:?}", p.pid)));
        }
        let key = match (&p.key, &p.key_env) {
            (Some(k), None) => k.clone(),
            (None, Some(var)) => env(var).ok_or_else(|| {
                invalid(
                    at("key_env"),
                    format!("environment variable {var} is not set"),
                )
            })?,
            (Some(_), Some(_)) => return Err(invalid(at("key"), "give key or key_env, not both")),
            (None, None) => return Err(invalid(at("key"), "missing (or give key_env)")),
        };
        if key.trim().len() < 8 {
            return Err(invalid(at("key"), "too short (at least 8 characters)"));
        }
        if let Some(u) = &p.return_url {
            check_url(u).map_err(|m| invalid(at("return_url"), m))?;
        }
        if p.return_authenticated && !p.return_encrypted {
            return Err(invalid(
                at("return_authenticated"),
                "needs return_encrypted = true: it changes how the Return URL's `encrypted` \
                 value is sealed (AES-256-GCM under its own key instead of ARGOS's ECB), so set \
                 both (docs/config.md)",
            ));
        }
        for f in &p.return_fields {
            if !RETURN_FIELDS.contains(&f.as_str()) {
                return Err(invalid(
                    at("return_fields"),
                    format!(
                        "unknown field {f:?}; expected some of {}",
                        RETURN_FIELDS.join(", ")
                    ),
                ));
            }
        }
        let mut blacklist = Vec::new();
        for c in &p.blacklist_countries {
            blacklist.push(Alpha3::parse(c).ok_or_else(|| {
                invalid(
                    at("blacklist_countries"),
                    format!("{c:?} is not an ISO 3166-1 alpha-3 code"),
                )
            })?);
        }
        let mut origins = Vec::new();
        for o in &p.allowed_origins {
            origins.push(normalise_origin(o).map_err(|m| invalid(at("allowed_origins"), m))?);
        }
        let colour = |field: &str, v: &Option<String>| -> Result<Option<String>, ConfigError> {
            v.as_deref()
                .map(|c| parse_colour(c).ok_or_else(|| invalid(at(field), "expected #RRGGBB")))
                .transpose()
        };
        for (field, url) in [("privacy_url", &p.privacy_url), ("terms_url", &p.terms_url)] {
            if let Some(u) = url {
                check_url(u).map_err(|m| invalid(at(field), m))?;
            }
        }
        let support = support_table(base, p.id_types_csv.as_deref(), at("id_types_csv"))?;
        let api_key = secret(&p.api_key, &p.api_key_env, at("api_key"), &env)?;
        if let Some(k) = &api_key {
            if k.trim().len() < 16 {
                return Err(invalid(at("api_key"), "too short (at least 16 characters)"));
            }
            if !api_keys.insert(k.clone()) {
                return Err(invalid(at("api_key"), "used by another project"));
            }
        }
        let webhook_secret = secret(
            &p.webhook_secret,
            &p.webhook_secret_env,
            at("webhook_secret"),
            &env,
        )?;
        if let Some(u) = &p.webhook_url {
            check_url(u).map_err(|m| invalid(at("webhook_url"), m))?;
            // Webhook bodies carry personal data and the verification: TLS, except to this
            // machine (a local relay, tests).
            if !u.starts_with("https://") && !is_loopback_url(u) {
                return Err(invalid(
                    at("webhook_url"),
                    "must be https:// (plain http only to a loopback address)",
                ));
            }
            match &webhook_secret {
                Some(s) if s.len() >= 16 => {}
                Some(_) => {
                    return Err(invalid(
                        at("webhook_secret"),
                        "too short (at least 16 characters)",
                    ))
                }
                None => return Err(invalid(at("webhook_secret"), "required with webhook_url")),
            }
        }
        let webhook_triggers = match &p.webhook_triggers {
            None => WEBHOOK_TRIGGERS.iter().map(|t| (*t).to_owned()).collect(),
            Some(list) => {
                let mut out: Vec<String> = Vec::new();
                for t in list {
                    if !WEBHOOK_TRIGGERS.contains(&t.as_str()) {
                        return Err(invalid(
                            at("webhook_triggers"),
                            format!(
                                "unknown trigger {t:?}; expected some of {}",
                                WEBHOOK_TRIGGERS.join(", ")
                            ),
                        ));
                    }
                    if !out.contains(t) {
                        out.push(t.clone());
                    }
                }
                out
            }
        };
        let frame_complete = match p.frame_complete.as_deref() {
            None | Some("notify") => FrameComplete::Notify,
            Some("navigate_top") => FrameComplete::NavigateTop,
            Some(_) => {
                return Err(invalid(
                    at("frame_complete"),
                    "must be \"notify\" or \"navigate_top\"",
                ))
            }
        };
        if p.retention_days == Some(0) {
            return Err(invalid(at("retention_days"), "must be at least 1"));
        }
        let liveness_challenges = match &p.liveness_challenges {
            None => None,
            Some(names) => {
                let mut seq = Vec::with_capacity(names.len());
                for n in names {
                    seq.push(Challenge::parse(n).ok_or_else(|| {
                        invalid(
                            at("liveness_challenges"),
                            format!(
                                "unknown challenge {n:?}; expected closer, back, turn_left, turn_right or centre"
                            ),
                        )
                    })?);
                }
                liveness::validate_sequence(&seq)
                    .map_err(|m| invalid(at("liveness_challenges"), m))?;
                Some(seq)
            }
        };
        if p.token_registration && !p.private_mode {
            return Err(invalid(
                at("token_registration"),
                "needs private_mode = true",
            ));
        }
        if p.token_registration && api_key.is_none() {
            return Err(invalid(
                at("token_registration"),
                "needs api_key (tokens are registered through the Token API)",
            ));
        }
        if p.token_registration && storage_key.is_none() {
            return Err(invalid(
                at("token_registration"),
                "needs server.storage_key (registered tokens are kept sealed)",
            ));
        }
        if (p.token_expiry_hours.is_some() || p.token_auto_delete) && !p.token_registration {
            return Err(invalid(
                at(if p.token_auto_delete {
                    "token_auto_delete"
                } else {
                    "token_expiry_hours"
                }),
                "needs token_registration = true",
            ));
        }
        if p.token_expiry_hours
            .is_some_and(|h| !(1..=87_600).contains(&h))
        {
            return Err(invalid(
                at("token_expiry_hours"),
                "must be 1-87600 (ten years)",
            ));
        }
        let private = PrivateMode {
            required: p.private_mode,
            registered_only: p.token_registration,
            expiry_secs: p.token_expiry_hours.map(|h| i64::from(h) * 3600),
            auto_delete: p.token_auto_delete,
        };
        for (name, days) in [
            ("approved_period_days", p.approved_period_days),
            ("rejected_period_days", p.rejected_period_days),
        ] {
            if days.is_some_and(|d| !(1..=36_500).contains(&d)) {
                return Err(invalid(at(name), "must be 1-36500 (days)"));
            }
        }
        if p.age_limit.is_some_and(|a| !(1..=150).contains(&a)) {
            return Err(invalid(at("age_limit"), "must be 1-150 (years)"));
        }
        let rules = Rules {
            duplicate_user: p.reject_duplicate_user,
            approved_period_days: p.approved_period_days,
            rejected_period_days: p.rejected_period_days,
            age_limit: p.age_limit,
            reject_expired_id: p.reject_expired_id,
        };
        let mut projections: Vec<Projection> = Vec::new();
        for (j, pr) in p.projection.iter().enumerate() {
            let field = |f: &str| at(&format!("projection[{j}].{f}"));
            for (f, v) in [("id", &pr.id), ("name", &pr.name)] {
                if v.is_empty() || v.chars().count() > 1000 {
                    return Err(invalid(field(f), "must be 1-1000 characters"));
                }
            }
            if projections
                .iter()
                .any(|q| q.id == pr.id || q.name == pr.name)
            {
                return Err(invalid(field("id"), "id and name must be unique"));
            }
            if let Some(bad) = pr
                .omit
                .iter()
                .find(|f| !PROJECTION_FIELDS.contains(&f.as_str()))
            {
                return Err(invalid(
                    field("omit"),
                    format!(
                        "unknown field {bad:?}; one of {}",
                        PROJECTION_FIELDS.join(", ")
                    ),
                ));
            }
            projections.push(Projection {
                id: pr.id.clone(),
                name: pr.name.clone(),
                omit: pr.omit.clone(),
            });
        }
        projects.push(ProjectConfig {
            private,
            rules,
            projections,
            api_key,
            webhook_url: p.webhook_url.clone(),
            webhook_secret,
            webhook_triggers,
            secure_data_transfer: p.secure_data_transfer,
            auto_decision: p.auto_decision,
            retention_days: p.retention_days,
            liveness_challenges,
            support,
            ask_email: p.ask_email,
            allow_file_upload: p.allow_file_upload,
            frame_complete,
            active_liveness: p.active_liveness.unwrap_or(true),
            privacy_url: p.privacy_url.clone(),
            terms_url: p.terms_url.clone(),
            name: p.name.clone().unwrap_or_else(|| p.pid.clone()),
            main_color: colour("main_color", &p.main_color)?,
            inner_color: colour("inner_color", &p.inner_color)?,
            pid: p.pid,
            key,
            algorithm: p.algorithm,
            encrypted_only: p.encrypted_only,
            plain_loosening: p.plain_loosening,
            return_url: p.return_url,
            return_fields: p.return_fields,
            return_encrypted: p.return_encrypted,
            return_authenticated: p.return_authenticated,
            skip_result_page: p.skip_result_page,
            blacklist,
            allowed_origins: origins,
        });
    }
    Ok(ValidConfig {
        server: ServerSettings {
            public_base_url,
            ..raw.server
        },
        projects,
        storage_key,
        database_url,
    })
}

/// Whether an `http://` URL's host is this machine (`localhost`, `127.0.0.0/8`, `[::1]`).
fn is_loopback_url(u: &str) -> bool {
    let Some(rest) = u.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn check_url(u: &str) -> Result<(), String> {
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("not a valid URL".into());
    }
    Ok(())
}

/// `https://Kyc.example.com/` → `https://kyc.example.com`, `https://a.example/kyc/` →
/// `https://a.example/kyc`: an absolute http(s) URL with a host, maybe a path, no query, fragment,
/// user info or whitespace; the scheme and host lower-cased, no trailing `/`.
pub fn normalise_base_url(u: &str) -> Result<String, String> {
    let (scheme, rest) = u
        .split_once("://")
        .ok_or_else(|| format!("{u:?} is not an absolute URL like https://kyc.example.com"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(format!("{u:?}: scheme must be https or http"));
    }
    if u.contains(['?', '#']) {
        return Err(format!("{u:?}: no query or fragment allowed"));
    }
    if u.chars()
        .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return Err(format!(
            "{u:?}: no spaces or non-ASCII characters (use the punycode host)"
        ));
    }
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if host.is_empty() || host.contains(['@', '*', '\\', '"', '\'', '<', '>']) {
        return Err(format!("{u:?}: not a host (scheme://host[:port][/path])"));
    }
    if path.contains(['\\', '"', '\'', '<', '>']) {
        return Err(format!("{u:?}: not a URL path"));
    }
    let host = host.to_ascii_lowercase();
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        Ok(format!("{scheme}://{host}"))
    } else {
        Ok(format!("{scheme}://{host}/{path}"))
    }
}

/// `https://Example.com:443/` → `https://example.com`; refuses paths, wildcards and `*`, and
/// anything but a host name, an IPv4 or a bracketed IPv6 address with an optional port: the
/// origin goes into the `Content-Security-Policy` and `Permissions-Policy` headers, which a
/// control character or a non-ASCII host would make unsendable (the headers were then dropped).
pub fn normalise_origin(o: &str) -> Result<String, String> {
    let (scheme, rest) = o
        .split_once("://")
        .ok_or_else(|| format!("{o:?} is not an origin like https://example.com"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(format!("{o:?}: scheme must be https or http"));
    }
    let hostport = rest.strip_suffix('/').unwrap_or(rest).to_ascii_lowercase();
    if !is_host_port(&hostport) {
        return Err(format!(
            "{o:?} is not an origin (scheme://host[:port], no path or wildcard)"
        ));
    }
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let hostport = hostport.strip_suffix(default_port).unwrap_or(&hostport);
    Ok(format!("{scheme}://{hostport}"))
}

/// `host[:port]` of an origin, lower case: a name or IPv4 address (letters, digits, `-`, `.`,
/// `_`; non-ASCII names in punycode) or a bracketed IPv6 address, then maybe `:` and a port
/// (1-65535, no leading zero).
fn is_host_port(hp: &str) -> bool {
    let (host, port) = match hp.rfind(':') {
        Some(i) if !hp[i..].contains(']') => (&hp[..i], Some(&hp[i + 1..])),
        _ => (hp, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.starts_with('0') && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok()
    });
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        }
    };
    host_ok && port_ok
}

#[cfg(test)]
mod tests {

    #[test]
    fn secrets_compare_by_digest() {
        assert!(secret_eq("results-api-key-0123", "results-api-key-0123"));
        assert!(!secret_eq("results-api-key-0123", "results-api-key-012"));
        assert!(!secret_eq("results-api-key-0123", ""));
        assert!(!secret_eq("results-api-key-0123", "results-api-key-0124"));
    }

    use super::*;

    const GOOD: &str = r#"
[[project]]
pid = "demo"
key = "a-long-enough-key"
algorithm = "gcm"
return_fields = ["kycStatus", "userid"]
blacklist_countries = ["PRK"]
allowed_origins = ["https://Shop.example:443/", "http://127.0.0.1:9000"]
main_color = "1E40AF"
"#;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn good_config() {
        let c = parse(GOOD, no_env).unwrap();
        let p = c.project("demo").unwrap();
        assert_eq!(p.algorithm, Algorithm::Gcm);
        assert_eq!(
            p.allowed_origins,
            vec!["https://shop.example", "http://127.0.0.1:9000"]
        );
        assert_eq!(p.main_color.as_deref(), Some("#1e40af"));
        assert_eq!(p.name, "demo");
        assert_eq!(c.server.session_idle_minutes, 15);
    }

    fn err(text: &str) -> String {
        parse(text, no_env).unwrap_err().to_string()
    }

    #[test]
    fn unknown_and_bad_fields_are_named() {
        assert!(err(&format!("{GOOD}colour = 1\n")).contains("unknown field `colour`"));
        assert!(err("[server]\nsession_idel_minutes = 3\n").contains("session_idel_minutes"));
        assert!(err(&GOOD.replace("\"gcm\"", "\"cbc\"")).contains("algorithm"));
        assert!(err(&GOOD.replace("\"PRK\"", "\"XX\"")).contains("project[0].blacklist_countries"));
        assert!(err(&GOOD.replace("\"userid\"", "\"phone\"")).contains("project[0].return_fields"));
        assert!(
            err(&GOOD.replace("http://127.0.0.1:9000", "*")).contains("project[0].allowed_origins")
        );
        assert!(
            err(&GOOD.replace("https://Shop.example:443/", "https://a.example/path"))
                .contains("allowed_origins")
        );
        assert!(err(&GOOD.replace("1E40AF", "blue")).contains("project[0].main_color"));
        assert!(err(&GOOD.replace("a-long-enough-key", "short")).contains("project[0].key"));
        assert!(err(&format!("{GOOD}{GOOD}")).contains("duplicate pid"));
        assert!(err("").contains("at least one [[project]]"));
        assert!(err("[[project]]\npid = \"x\"\nalgorithm = \"ecb\"\n").contains("project[0].key"));
        assert!(err(&GOOD.replace("pid = \"demo\"", "pid = 3")).contains("pid"));
    }

    #[test]
    fn key_from_environment() {
        let text = "[[project]]\npid = \"e\"\nkey_env = \"LF_KEY\"\nalgorithm = \"ecb\"\n";
        let c = parse(text, |n| {
            (n == "LF_KEY").then(|| "from-the-environment".to_owned())
        })
        .unwrap();
        assert_eq!(c.projects[0].key, "from-the-environment");
        assert!(parse(text, no_env)
            .unwrap_err()
            .to_string()
            .contains("LF_KEY"));
    }

    #[test]
    fn id_types_csv_override_and_bad_rows_name_the_line() {
        let dir = std::env::temp_dir().join(format!("lf-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("types.csv"),
            "country_name,alpha3,alpha2,national_id,drivers_license,passport,residence_permit,others\nKorea,KOR,KR,N,N,Y,N,\n",
        )
        .unwrap();
        std::fs::write(dir.join("bad.csv"), "country_name,alpha3,alpha2,national_id,drivers_license,passport,residence_permit,others\nKorea,KOR,KR,N,N,maybe,N,\n").unwrap();
        let text = format!("{GOOD}id_types_csv = \"types.csv\"\n");
        let c = parse_in(&text, &dir, no_env).unwrap();
        let kor = Alpha3::parse("KOR").unwrap();
        assert_eq!(
            c.projects[0].support.get(kor).unwrap().id_types,
            vec![liveform_core::IdType::Passport]
        );
        let e = parse_in(&text.replace("types.csv", "bad.csv"), &dir, no_env)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("project[0].id_types_csv") && e.contains("line 2"),
            "{e}"
        );
        let e = parse_in(&text.replace("types.csv", "missing.csv"), &dir, no_env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn public_base_url_and_handoff_minutes() {
        let c = parse(GOOD, no_env).unwrap();
        assert_eq!(c.server.public_base_url, None);
        assert_eq!(c.server.handoff_minutes, 10);
        let with = |v: &str| format!("[server]\npublic_base_url = {v:?}\n{GOOD}");
        for (given, want) in [
            ("https://KYC.example.com/", "https://kyc.example.com"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("https://a.example/kyc/", "https://a.example/kyc"),
        ] {
            let c = parse(&with(given), no_env).unwrap();
            assert_eq!(c.server.public_base_url.as_deref(), Some(want), "{given}");
        }
        for bad in [
            "kyc.example.com",
            "ftp://kyc.example.com",
            "https://",
            "https:///path",
            "https://kyc.example.com/?x=1",
            "https://kyc.example.com/#top",
            "https://user@kyc.example.com",
            "https://kyc example.com",
            "https://kyc.example.com/a\"b",
        ] {
            assert!(
                err(&with(bad)).contains("server.public_base_url"),
                "{bad}: {}",
                err(&with(bad))
            );
        }
        assert!(err(&format!("[server]\nhandoff_minutes = 0\n{GOOD}"))
            .contains("server.handoff_minutes"));
        assert!(err(&format!("[server]\nhandoff_minutes = 61\n{GOOD}"))
            .contains("server.handoff_minutes"));
    }

    #[test]
    fn webhook_triggers_and_secure_data_transfer() {
        let c = parse(GOOD, no_env).unwrap();
        assert_eq!(c.projects[0].webhook_triggers, WEBHOOK_TRIGGERS);
        assert!(!c.projects[0].secure_data_transfer);
        let c = parse(
            &format!(
            "{GOOD}webhook_triggers = [\"retry\", \"updated\", \"retry\"]\nsecure_data_transfer = true\n"
            ),
            no_env,
        )
        .unwrap();
        assert_eq!(c.projects[0].webhook_triggers, ["retry", "updated"]);
        assert!(c.projects[0].secure_data_transfer);
        let e = err(&format!("{GOOD}webhook_triggers = [\"complete\"]\n"));
        assert!(
            e.contains("project[0].webhook_triggers") && e.contains("\"complete\""),
            "{e}"
        );
    }

    #[test]
    fn storage_api_and_webhook_settings() {
        let key = "00".repeat(32);
        let text = format!(
            "[server]\nstorage_key = \"{key}\"\n{GOOD}api_key = \"an-api-key-long-enough\"\n\
             webhook_url = \"https://hooks.example/kyc\"\nwebhook_secret_env = \"WH\"\n\
             auto_decision = \"approved\"\nretention_days = 30\n"
        );
        let c = parse(&text, |n| {
            (n == "WH").then(|| "whsec-0123456789abcdef".into())
        })
        .unwrap();
        assert_eq!(c.storage_key, Some([0; 32]));
        assert_eq!(c.server.max_capture_bytes, 10 * 1024 * 1024);
        let p = &c.projects[0];
        assert_eq!(p.webhook_secret.as_deref(), Some("whsec-0123456789abcdef"));
        assert_eq!(p.auto_decision, Some(AutoDecision::Approved));
        assert!(c.project_by_api_key("an-api-key-long-enough").is_some());
        assert!(c.project_by_api_key("an-api-key-long-enougH").is_none());
        assert!(parse(&text, no_env)
            .unwrap_err()
            .to_string()
            .contains("webhook_secret_env"));
        let b64 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert_eq!(parse_storage_key(b64), Some([0; 32]));
        assert!(err(&text.replace(&key, "abcd")).contains("server.storage_key"));
        for (url, ok) in [
            ("http://hooks.example/kyc", false),
            ("http://10.0.0.5:8080/kyc", false),
            ("http://127.0.0.1:9000/kyc", true),
            ("http://localhost/kyc", true),
            ("http://[::1]:9000/kyc", true),
        ] {
            let text = format!(
                "{GOOD}webhook_url = \"{url}\"\nwebhook_secret = \"0123456789abcdef0123\"\n"
            );
            let r = parse(&text, |_| None);
            assert_eq!(r.is_ok(), ok, "{url}: {r:?}");
            if !ok {
                assert!(err(&text).contains("webhook_url"), "{url}");
            }
        }
        assert!(err(&format!("{GOOD}webhook_url = \"https://h.example\"\n"))
            .contains("project[0].webhook_secret"));
        assert!(err(&format!("{GOOD}api_key = \"short\"\n")).contains("project[0].api_key"));
        assert!(err(&format!("{GOOD}retention_days = 0\n")).contains("retention_days"));
        assert!(err(&format!("{GOOD}auto_decision = \"maybe\"\n")).contains("auto_decision"));
        assert!(err("[server]\nmax_session_bytes = 2000\n").contains("max_session_bytes"));
        assert!(err(&format!("{GOOD}frame_complete = \"navigate-top\"\n"))
            .contains("project[0].frame_complete"));
        let c = parse(
            &format!("{GOOD}frame_complete = \"navigate_top\"\n"),
            no_env,
        )
        .unwrap();
        assert_eq!(c.projects[0].frame_complete, FrameComplete::NavigateTop);
        let c = parse(GOOD, no_env).unwrap();
        assert_eq!(c.projects[0].frame_complete, FrameComplete::Notify);
    }

    #[test]
    fn return_authenticated_needs_return_encrypted_and_quiets_the_ecb_return_warning() {
        let c = parse(GOOD, no_env).unwrap();
        assert!(!c.projects[0].return_authenticated, "off by default");
        let e = err(&format!(
            "{GOOD}return_url = \"https://shop.example/r\"\nreturn_authenticated = true\n"
        ));
        assert!(
            e.contains("project[0].return_authenticated") && e.contains("return_encrypted = true"),
            "{e}"
        );
        let ecb = GOOD.replace("\"gcm\"", "\"ecb\"");
        let both = format!(
            "{ecb}return_url = \"https://shop.example/r\"\nreturn_encrypted = true\n\
             return_authenticated = true\n"
        );
        let c = parse(&both, no_env).unwrap();
        assert!(c.projects[0].return_authenticated && c.projects[0].return_encrypted);
        // The link warning stays (ECB links); the Return URL one goes (its value is no link).
        let w = c.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(!w[0].contains("Return URL"), "{w:?}");
        // Without it, the ECB Return URL warning names the option as the fix.
        let w = parse(&both.replace("return_authenticated = true\n", ""), no_env)
            .unwrap()
            .warnings();
        assert!(w[1].contains("return_authenticated = true"), "{w:?}");
    }

    #[test]
    fn ecb_and_plain_loosening_projects_are_warned_about() {
        let c = parse(GOOD, no_env).unwrap();
        assert!(c.warnings().is_empty(), "GCM: {:?}", c.warnings());
        assert!(!c.projects[0].plain_loosening, "off by default");
        let ecb = GOOD.replace("\"gcm\"", "\"ecb\"");
        let w = parse(&ecb, no_env).unwrap().warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("project \"demo\"") && w[0].contains("cut out"),
            "{w:?}"
        );
        assert!(
            w[0].contains("allowedCountries") && w[0].contains("gcm"),
            "{w:?}"
        );
        let w = parse(
            &format!("{ecb}return_url = \"https://shop.example/r\"\nreturn_encrypted = true\n"),
            no_env,
        )
        .unwrap()
        .warnings();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[1].contains("Return URL") && w[1].contains("valid link"),
            "{w:?}"
        );
        let c = parse(&format!("{GOOD}plain_loosening = true\n"), no_env).unwrap();
        assert!(c.projects[0].plain_loosening);
        let w = c.warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("blacklistCountries=false"), "{w:?}");
        let w = parse(
            &format!("{GOOD}plain_loosening = true\nencrypted_only = true\n"),
            no_env,
        )
        .unwrap()
        .warnings();
        assert!(
            w.is_empty(),
            "encryption-only mode reads nothing plain: {w:?}"
        );
    }

    #[test]
    fn fixed_liveness_challenges() {
        assert_eq!(
            parse(GOOD, no_env).unwrap().projects[0].liveness_challenges,
            None
        );
        let c = parse(
            &format!("{GOOD}liveness_challenges = [\"closer\", \"turn_left\"]\n"),
            no_env,
        )
        .unwrap();
        assert_eq!(
            c.projects[0].liveness_challenges,
            Some(vec![Challenge::Closer, Challenge::TurnLeft])
        );
        for bad in [
            "[\"closer\"]",
            "[]",
            "[\"closer\", \"left\"]",
            "[\"closer\", \"closer\"]",
            "[\"centre\", \"closer\", \"back\", \"turn_left\", \"turn_right\"]",
        ] {
            let e = err(&format!("{GOOD}liveness_challenges = {bad}\n"));
            assert!(e.contains("project[0].liveness_challenges"), "{bad}: {e}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(
            normalise_origin("HTTPS://A.example").unwrap(),
            "https://a.example"
        );
        assert_eq!(
            normalise_origin("http://localhost:80").unwrap(),
            "http://localhost"
        );
        assert!(normalise_origin("ftp://a").is_err());
        assert!(normalise_origin("https://*.a.com").is_err());
        assert!(normalise_origin("a.com").is_err());
        assert_eq!(
            normalise_origin("http://[::1]:8080/").as_deref(),
            Ok("http://[::1]:8080")
        );
        assert_eq!(
            normalise_origin("https://[2001:DB8::1]:443").as_deref(),
            Ok("https://[2001:db8::1]")
        );
    }

    /// Found by the config fuzz target (fuzz/seeds/config/crash-origin-control-character): a
    /// control character (or a non-ASCII host, or a second port) was accepted, and a header
    /// value holding it cannot be sent, so the CSP with its frame-ancestors was dropped.
    #[test]
    fn origins_are_header_safe_and_normalise_once() {
        for bad in [
            "https://kyc.example\u{5}",
            "https://kyc.example\t",
            "https://kyc.example\r\nx-evil: 1",
            "https://bücher.example",
            "https://a.example:443:443",
            "https://a.example:",
            "https://a.example:0443",
            "https://a.example:65536",
            "https://a.example:x",
            "https://[::1",
            "https://[not-v6]:80",
            "https://",
            "https://:443",
        ] {
            assert!(normalise_origin(bad).is_err(), "{bad:?}");
        }
        // Through the file (a TOML escape gives the control character).
        for bad in [
            r"https://kyc.example\u0005",
            "https://bücher.example",
            "https://a.example:443:443",
        ] {
            let text = GOOD.replace("http://127.0.0.1:9000", bad);
            assert!(err(&text).contains("project[0].allowed_origins"), "{bad:?}");
        }
        for good in [
            "https://Shop.example:443/",
            "http://127.0.0.1:9000",
            "http://[::1]",
            "https://xn--bcher-kva.example",
            "http://my_host:8080",
        ] {
            let once = normalise_origin(good).unwrap();
            assert!(once.bytes().all(|b| b.is_ascii_graphic()), "{once:?}");
            assert_eq!(normalise_origin(&once).as_deref(), Ok(once.as_str()));
        }
    }
}
