//! Submissions, captures, liveness attempts and the webhook outbox: metadata in the database
//! (`db.rs`: SQLite `<data>/liveform.sqlite3` by default, or PostgreSQL) and capture files
//! (`blobs.rs`: `<data>/captures/<random>.lfc` by default, or an S3-compatible object store), each
//! AES-256-GCM encrypted under the server's storage key (never stored with the data) before it
//! leaves the process: `nonce(12) ‖ ciphertext ‖ tag(16)`, with the file name as associated data
//! so files cannot be swapped between records.
//!
//! Everything here is blocking; the HTTP handlers call it through `spawn_blocking`. Every check
//! and its write run in one transaction that first locks the submission's row (`{lock}`), so two
//! instances cannot both accept a capture over the cap or finish a submission twice.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use liveform_core::api::{CaptureRecord, KycStatus};
use liveform_core::flow::CaptureSlot;
use sha2::{Digest, Sha256};

use crate::args;
use crate::blobs::Blobs;
use crate::db::{Conn, Db, DbError, Row};
use crate::pii::{self, PiiError, Sealer};
use crate::rules;

/// A storage failure (logged with its detail; the person sees `LF-50001`).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    #[error("a capture file failed authentication (wrong storage key or altered file)")]
    Decrypt,
    #[error("personal data: {0}")]
    Pii(#[from] PiiError),
    #[error("no system randomness")]
    Random,
    #[error("stored value out of range: {0}")]
    Corrupt(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(DbError::Sqlite(e))
    }
}

/// Parses a slot name.
pub fn parse_slot(s: &str) -> Option<CaptureSlot> {
    CaptureSlot::from_name(s)
}

/// A submission row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub id: String,
    pub pid: String,
    pub status: KycStatus,
    pub userid: Option<String>,
    pub email: Option<String>,
    pub cf1: Option<String>,
    pub cf2: Option<String>,
    pub cf3: Option<String>,
    pub token: Option<String>,
    pub id_type: Option<String>,
    pub issuing_country: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub submitted_ms: Option<i64>,
    pub decided_ms: Option<i64>,
    pub reviewer: Option<String>,
    pub admin: Option<String>,
    pub comment: Option<String>,
    /// The server's verification summary decided at finish (JSON; `None` before then or v3).
    pub verification: Option<String>,
    /// The person's address as the server saw it when the session opened (schema v6).
    pub ip_address: Option<String>,
    /// Identity fields inserted through `POST /v3/submission` (a JSON object, ARGOS's `data`
    /// names; schema v6).
    pub person: Option<String>,
    /// ARGOS's reject code of a rejection (`commentCode`; schema v6).
    pub comment_code: Option<String>,
    /// `form` or `migration` (`POST /v3/submission`).
    pub origin: String,
    /// The id of the projection the link chose: fields left out of API and webhook output
    /// (schema v8; server/src/projection.rs).
    pub projection: Option<String>,
    /// What the document's MRZ said, as decided at finish (`core::document::DocumentData` JSON;
    /// schema v10), sealed at rest.
    pub ocr: Option<String>,
    /// The keyed blind index of the holder's identity (schema v10): ARGOS's
    /// `duplicated_information` as this server gives it.
    pub identity_ix: Option<String>,
}

/// The decision at finish ([`Store::finish_with`]): the status, the verification summary
/// (JSON) and, when a rule rejected it, ARGOS's `comment` and `commentCode`.
#[derive(Debug, Clone)]
pub struct Decision {
    pub status: KycStatus,
    pub verification: String,
    pub comment: Option<String>,
    pub comment_code: Option<String>,
    /// What the document's MRZ said (`core::document::DocumentData` JSON), stored sealed.
    pub ocr: Option<String>,
    /// The holder's identity key when the MRZ read with valid check digits: stored as the blind
    /// index `identity_ix` only.
    pub holder: Option<String>,
}

impl Decision {
    /// A decision no rule changed.
    pub fn plain(status: KycStatus, verification: String) -> Decision {
        Decision {
            status,
            verification,
            comment: None,
            comment_code: None,
            ocr: None,
            holder: None,
        }
    }
}

/// What a new submission starts with.
#[derive(Debug, Clone, Default)]
pub struct NewSubmission {
    pub id: String,
    pub pid: String,
    pub userid: Option<String>,
    pub email: Option<String>,
    pub cf1: Option<String>,
    pub cf2: Option<String>,
    pub cf3: Option<String>,
    pub token: Option<String>,
    /// The client's address when the session opened.
    pub ip_address: Option<String>,
    /// The id of the projection the link chose (schema v8).
    pub projection: Option<String>,
}

/// A submission inserted through the results API (`POST /v3/submission`, ARGOS's migration
/// insert): decided by the integrator, nothing verified by this server.
#[derive(Debug, Clone)]
pub struct NewMigrated {
    pub base: NewSubmission,
    /// `approved` or `rejected`.
    pub status: KycStatus,
    pub admin: String,
    pub id_type: String,
    pub issuing_country: String,
    /// The identity fields (JSON object), sealed.
    pub person: String,
    /// The verification summary to keep (it says that nothing was verified).
    pub verification: String,
}

/// What a partial delete removes (`DELETE /v3/submission/partial`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partial {
    /// Columns cleared: `userid`, `email`, `cf1`-`cf3`, `ip_address`, `person`, `id_type`,
    /// `issuing_country`, `review` (admin, comment, commentCode).
    pub columns: Vec<&'static str>,
    /// Keys removed from the `person` object (ARGOS `data_fields`).
    pub person_keys: Vec<String>,
    /// Capture slots deleted with their files.
    pub slots: Vec<CaptureSlot>,
}

/// A capture put through the results API (`PUT /v3/submission/image`).
#[derive(Debug, Clone)]
pub struct ApiImage {
    pub record: CaptureRecord,
    pub data: Vec<u8>,
    /// The server's analysis (`verify::Analysis` JSON).
    pub analysis: String,
}

/// Which page of a project's submissions (`GET /v3/submission`): newest first by
/// `(created_ms, id)`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Only submissions after this one in that order (the previous page's last).
    pub after: Option<(i64, String)>,
    /// Created at or after (ms).
    pub start_ms: Option<i64>,
    /// Created at or before (ms).
    pub end_ms: Option<i64>,
}

/// A capture row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCapture {
    pub record: CaptureRecord,
    pub file: String,
    /// When the upload was stored (the server's clock).
    pub created_ms: i64,
    /// The server's analysis of the image (`verify::Analysis` JSON); `None` before v3.
    pub analysis: Option<String>,
    /// `form` (uploaded by the person) or `api` (`PUT /v3/submission/image`).
    pub origin: String,
}

/// The result of [`Store::put_capture`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// Stored now.
    Stored(CaptureRecord),
    /// The same capture id was already stored for this slot (a retry): nothing written.
    Existing(CaptureRecord),
    /// The capture id is stored for another slot.
    IdConflict,
    /// The session's byte cap would be exceeded.
    SessionBytes,
    /// The slot holds the maximum number of captures.
    TooMany,
    /// The submission is finished.
    Finished,
}

/// A stored liveness attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttempt {
    pub attempt: u8,
    /// The server's outcome (before v3: the device's).
    pub passed: bool,
    /// What the device said (`None` before v3).
    pub device_passed: Option<bool>,
    /// The server's check (`core::liveness::verify::AttemptCheck` JSON; `None` before v3).
    pub verification: Option<String>,
    pub hidden_during: bool,
    pub virtual_camera: bool,
    /// The attempt's JSON, as received (with `track.virtual_label` as the server decided it).
    pub record: String,
    pub created_ms: i64,
}

/// A liveness attempt to store.
#[derive(Debug, Clone)]
pub struct NewAttempt {
    pub attempt: u8,
    /// The server's outcome.
    pub passed: bool,
    pub device_passed: bool,
    pub verification: String,
    pub hidden_during: bool,
    pub virtual_camera: bool,
    pub record: String,
}

/// The result of [`Store::add_liveness_attempt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptAdd {
    /// Stored now.
    Stored,
    /// This attempt was stored before with the same record (a retry): nothing written.
    Same,
    /// The number is not the next one (or is taken by another record).
    OutOfOrder { expected: u8 },
    /// An attempt already passed.
    AlreadyPassed,
    /// `max_failed` attempts failed already.
    Exhausted,
    /// The submission is finished (or does not exist).
    Finished,
}

/// One webhook waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub pid: String,
    pub event: String,
    pub body: String,
    pub attempts: i64,
}

/// The database and the capture files.
pub struct Store {
    db: Arc<Db>,
    blobs: Blobs,
    cipher: Aes256Gcm,
    sealer: Arc<Sealer>,
}

/// A submission's sealed columns (`pii.rs`) with the blind index of those looked up.
const SEALED_COLUMNS: [(&str, Option<&str>); 9] = [
    ("userid", Some("userid_ix")),
    ("email", Some("email_ix")),
    ("cf1", None),
    ("cf2", None),
    ("cf3", None),
    ("token", Some("token_ix")),
    ("ip_address", None),
    ("person", None),
    ("ocr", None),
];

/// Drops the sealed MRZ fields kept in the analyses of submission `id`'s captures (the zone's
/// verdict stays): after a partial delete of `ocr`, nothing can show them again.
fn forget_mrz_reads(c: &mut dyn Conn, id: &str) -> Result<(), StoreError> {
    let rows = c.query(
        "SELECT capture_id, analysis FROM captures WHERE submission_id = $1",
        args![id],
    )?;
    for r in rows {
        let Some(text) = r.opt_text("analysis")? else {
            continue;
        };
        let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let Some(m) = v.get_mut("mrz").and_then(|m| m.as_object_mut()) else {
            continue;
        };
        if m.remove("sealed").is_some() {
            c.execute(
                "UPDATE captures SET analysis = $3 WHERE submission_id = $1 AND capture_id = $2",
                args![id, r.text("capture_id")?, v.to_string()],
            )?;
        }
    }
    Ok(())
}

/// Column `col` of a submission row, opened when the row is sealed.
fn personal(sealer: &Sealer, r: &Row, col: &str) -> Result<Option<String>, StoreError> {
    let v = r.opt_text(col)?;
    if r.i64("sealed")? == 0 {
        return Ok(v);
    }
    let id = r.text("id")?;
    v.map(|v| sealer.open(&pii::submission_place(col, &id), &v))
        .transpose()
        .map_err(StoreError::from)
}

/// The sealed value and blind index of `value` for column `col` of submission `id`.
fn seal_column(
    sealer: &Sealer,
    pid: &str,
    id: &str,
    col: &str,
    index: Option<&str>,
    value: Option<&str>,
) -> Result<(Option<String>, Option<String>), StoreError> {
    let Some(v) = value else {
        return Ok((None, None));
    };
    let sealed = sealer.seal(&pii::submission_place(col, id), v)?;
    Ok((Some(sealed), index.map(|_| sealer.index(col, pid, v))))
}

/// Seals submission `id`'s personal columns if they are still clear (a row written before schema
/// v5, or by an older instance during an upgrade); `true` when it did.
fn seal_row(c: &mut dyn Conn, sealer: &Sealer, id: &str) -> Result<bool, StoreError> {
    let Some(r) = c.query_opt(
        "SELECT * FROM submissions WHERE id = $1 AND sealed = 0{lock}",
        args![id],
    )?
    else {
        return Ok(false);
    };
    let pid = r.text("pid")?;
    let mut params: Vec<crate::db::Value> = args![id].to_vec();
    let mut sets = Vec::new();
    for (col, index) in SEALED_COLUMNS {
        let (v, ix) = seal_column(sealer, &pid, id, col, index, r.opt_text(col)?.as_deref())?;
        params.push(v.into());
        sets.push(format!("{col} = ${}", params.len()));
        if let Some(index) = index {
            params.push(ix.into());
            sets.push(format!("{index} = ${}", params.len()));
        }
    }
    let n = c.execute(
        &format!(
            "UPDATE submissions SET {}, sealed = 1 WHERE id = $1 AND sealed = 0",
            sets.join(", ")
        ),
        &params,
    )?;
    Ok(n == 1)
}

fn submission_from_row(sealer: &Sealer, r: &Row) -> Result<Submission, StoreError> {
    let status = r.text("status")?;
    Ok(Submission {
        id: r.text("id")?,
        pid: r.text("pid")?,
        status: KycStatus::parse(&status).unwrap_or(KycStatus::Incomplete),
        userid: personal(sealer, r, "userid")?,
        email: personal(sealer, r, "email")?,
        cf1: personal(sealer, r, "cf1")?,
        cf2: personal(sealer, r, "cf2")?,
        cf3: personal(sealer, r, "cf3")?,
        token: personal(sealer, r, "token")?,
        id_type: r.opt_text("id_type")?,
        issuing_country: r.opt_text("issuing_country")?,
        created_ms: r.i64("created_ms")?,
        updated_ms: r.i64("updated_ms")?,
        submitted_ms: r.opt_i64("submitted_ms")?,
        decided_ms: r.opt_i64("decided_ms")?,
        reviewer: r.opt_text("reviewer")?,
        admin: r.opt_text("admin")?,
        comment: r.opt_text("comment")?,
        verification: r.opt_text("verification")?,
        ip_address: personal(sealer, r, "ip_address")?,
        person: personal(sealer, r, "person")?,
        comment_code: r.opt_text("comment_code")?,
        origin: r.opt_text("origin")?.unwrap_or_else(|| "form".into()),
        projection: r.opt_text("projection")?,
        ocr: personal(sealer, r, "ocr")?,
        identity_ix: r.opt_text("identity_ix")?,
    })
}

fn capture_from_row(r: &Row) -> Result<StoredCapture, DbError> {
    let slot = r.text("slot")?;
    let analysis = r.opt_text("analysis")?;
    Ok(StoredCapture {
        record: CaptureRecord {
            capture_id: r.text("capture_id")?,
            slot: parse_slot(&slot).unwrap_or(CaptureSlot::Liveness),
            content_type: r.text("content_type")?,
            bytes: u64::try_from(r.i64("bytes")?).unwrap_or(0),
            width: r.opt_i64("width")?.and_then(|w| u32::try_from(w).ok()),
            height: r.opt_i64("height")?.and_then(|h| u32::try_from(h).ok()),
            check: analysis
                .as_deref()
                .and_then(crate::verify::Analysis::from_json)
                .and_then(|a| a.capture_check()),
        },
        file: r.text("file")?,
        created_ms: r.i64("created_ms")?,
        analysis,
        origin: r.opt_text("origin")?.unwrap_or_else(|| "form".into()),
    })
}

/// Makes `dir` readable by its owner only (0700).
pub(crate) fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Creates `path` (empty) if missing and makes it the owner's only (0600).
pub(crate) fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// Writes `data` to a new file `path` created 0600 (never readable by others, not even briefly).
pub(crate) fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)
}

/// A submission's status inside a transaction, its row locked until the transaction ends
/// (`None` when there is no such submission).
fn status_of(c: &mut dyn Conn, submission_id: &str) -> Result<Option<String>, DbError> {
    c.query_opt(
        "SELECT status FROM submissions WHERE id = $1{lock}",
        args![submission_id],
    )?
    .map(|r| r.text("status"))
    .transpose()
}

fn random_name() -> Result<String, StoreError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|_| StoreError::Random)?;
    Ok(format!("{}.lfc", hex::encode(b)))
}

/// Which submissions a results-API query selects.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    Id(&'a str),
    Userid(&'a str),
    Email(&'a str),
    /// The document holder (`core::document::DocumentData::identity_key`), through the blind
    /// index `identity_ix` (schema v10).
    Holder(&'a str),
}

/// Capture files younger than this are never taken for orphans: another instance may be
/// between writing one and inserting its row.
const ORPHAN_MIN_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

impl Store {
    /// Opens (creating if needed) the default store in `data_dir`: SQLite and a capture
    /// directory, applying pending migrations.
    pub fn open(data_dir: &Path, key: &[u8; 32]) -> Result<Store, StoreError> {
        let db = Arc::new(open_sqlite_in(data_dir)?);
        Store::with(db, Blobs::Dir(capture_dir_in(data_dir)?), key)
    }

    /// A store on `db` with captures in `blobs`; personal data still in clear (written before
    /// schema v5) is sealed now.
    pub fn with(db: Arc<Db>, blobs: Blobs, key: &[u8; 32]) -> Result<Store, StoreError> {
        let store = Store {
            db,
            blobs,
            cipher: Aes256Gcm::new(key.into()),
            sealer: Arc::new(Sealer::new(key)),
        };
        let n = store.seal_clear_rows()?;
        if n > 0 {
            store.db.checkpoint()?;
            tracing::info!(
                rows = n,
                "sealed personal data stored in clear before schema v5"
            );
        }
        Ok(store)
    }

    /// The personal-data sealer (`pii.rs`) of this store's key.
    pub fn sealer(&self) -> &Arc<Sealer> {
        &self.sealer
    }

    /// Seals what is still in clear: submissions' personal columns, webhook bodies and session
    /// data (each rewritten only if unchanged meanwhile, so instances starting together agree);
    /// how many rows.
    pub fn seal_clear_rows(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        loop {
            let ids: Vec<String> = self.tx(|c| {
                Ok(
                    c.query("SELECT id FROM submissions WHERE sealed = 0 LIMIT 200", &[])?
                        .iter()
                        .map(|r| r.text("id"))
                        .collect::<Result<_, _>>()?,
                )
            })?;
            if ids.is_empty() {
                break;
            }
            for id in &ids {
                if self.tx(|c| seal_row(c, &self.sealer, id))? {
                    n += 1;
                }
            }
        }
        let bodies = self.tx(|c| {
            Ok(c.query(
                "SELECT id, pid, submission_id, event, body FROM outbox WHERE body LIKE '{%'",
                &[],
            )?)
        })?;
        for r in bodies {
            let place = pii::outbox_place(
                &r.text("pid")?,
                &r.text("submission_id")?,
                &r.text("event")?,
            );
            let body = r.text("body")?;
            let sealed = self.sealer.seal(&place, &body)?;
            n += self.tx(|c| {
                Ok(c.execute(
                    "UPDATE outbox SET body = $2 WHERE id = $1 AND body = $3",
                    args![r.i64("id")?, sealed, &body],
                )?)
            })? as usize;
        }
        let sessions =
            self.tx(|c| Ok(c.query("SELECT id, data FROM sessions WHERE data LIKE '{%'", &[])?))?;
        for r in sessions {
            let id = r.text("id")?;
            let data = r.text("data")?;
            let sealed = self.sealer.seal(&pii::session_place(&id), &data)?;
            n += self.tx(|c| {
                Ok(c.execute(
                    "UPDATE sessions SET data = $2 WHERE id = $1 AND data = $3",
                    args![&id, sealed, &data],
                )?)
            })? as usize;
        }
        Ok(n)
    }

    pub fn db(&self) -> &Arc<Db> {
        &self.db
    }

    pub fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    fn tx<T>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.db.tx(f)
    }

    /// The capture files' directory (`None` with an object store).
    pub fn capture_dir(&self) -> Option<&Path> {
        self.blobs.dir()
    }

    /// The schema version applied.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.db.schema_version()?)
    }

    /// Creates the submission unless it exists; `true` when created now.
    pub fn ensure_submission(&self, s: &NewSubmission, now_ms: i64) -> Result<bool, StoreError> {
        let seal = |col: &str, index: Option<&str>, v: &Option<String>| {
            seal_column(&self.sealer, &s.pid, &s.id, col, index, v.as_deref())
        };
        let (userid, userid_ix) = seal("userid", Some("userid_ix"), &s.userid)?;
        let (email, email_ix) = seal("email", Some("email_ix"), &s.email)?;
        let (cf1, _) = seal("cf1", None, &s.cf1)?;
        let (cf2, _) = seal("cf2", None, &s.cf2)?;
        let (cf3, _) = seal("cf3", None, &s.cf3)?;
        let (token, token_ix) = seal("token", Some("token_ix"), &s.token)?;
        let (ip, _) = seal("ip_address", None, &s.ip_address)?;
        let n = self.tx(|c| {
            Ok(c.execute(
                "INSERT INTO submissions
                   (id, pid, status, userid, email, cf1, cf2, cf3, token, created_ms, updated_ms,
                    sealed, userid_ix, email_ix, token_ix, ip_address, projection)
                 VALUES ($1, $2, 'incomplete', $3, $4, $5, $6, $7, $8, $9, $9, 1, $10, $11, $12,
                         $13, $14)
                 ON CONFLICT (id) DO NOTHING",
                args![
                    &s.id,
                    &s.pid,
                    userid,
                    email,
                    cf1,
                    cf2,
                    cf3,
                    token,
                    now_ms,
                    userid_ix,
                    email_ix,
                    token_ix,
                    ip,
                    s.projection.as_deref()
                ],
            )?)
        })?;
        Ok(n == 1)
    }

    /// Inserts a decided submission from the results API (`POST /v3/submission`); `false` when
    /// the id is taken.
    pub fn insert_migrated(&self, m: &NewMigrated, now_ms: i64) -> Result<bool, StoreError> {
        let s = &m.base;
        let seal = |col: &str, index: Option<&str>, v: Option<&str>| {
            seal_column(&self.sealer, &s.pid, &s.id, col, index, v)
        };
        let (userid, userid_ix) = seal("userid", Some("userid_ix"), s.userid.as_deref())?;
        let (email, email_ix) = seal("email", Some("email_ix"), s.email.as_deref())?;
        let (cf1, _) = seal("cf1", None, s.cf1.as_deref())?;
        let (cf2, _) = seal("cf2", None, s.cf2.as_deref())?;
        let (cf3, _) = seal("cf3", None, s.cf3.as_deref())?;
        let (ip, _) = seal("ip_address", None, s.ip_address.as_deref())?;
        let (person, _) = seal("person", None, Some(&m.person))?;
        let n = self.tx(|c| {
            Ok(c.execute(
                "INSERT INTO submissions
                   (id, pid, status, userid, email, cf1, cf2, cf3, created_ms, updated_ms,
                    submitted_ms, decided_ms, sealed, userid_ix, email_ix, ip_address, person,
                    id_type, issuing_country, admin, reviewer, verification, origin)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9, $9, 1, $10, $11, $12, $13,
                         $14, $15, $16, 'agent', $17, 'migration')
                 ON CONFLICT (id) DO NOTHING",
                args![
                    &s.id,
                    &s.pid,
                    m.status.as_str(),
                    userid,
                    email,
                    cf1,
                    cf2,
                    cf3,
                    now_ms,
                    userid_ix,
                    email_ix,
                    ip,
                    person,
                    &m.id_type,
                    &m.issuing_country,
                    &m.admin,
                    &m.verification
                ],
            )?)
        })?;
        Ok(n == 1)
    }

    /// A page of project `pid`'s submissions, newest first by `(created_ms, id)`, optionally
    /// only those matching `by`, at most `limit`.
    /// The SQL condition finding `by` in project `pid`, its values appended to `params`.
    /// Personal values are found by their blind index (a row still in clear, written by an older
    /// instance during an upgrade, by its clear column).
    fn lookup_cond(&self, pid: &str, by: Lookup<'_>, params: &mut Vec<crate::db::Value>) -> String {
        let mut push = |v: crate::db::Value| {
            params.push(v);
            params.len()
        };
        match by {
            Lookup::Id(v) => {
                let i = push(v.into());
                format!("id = ${i}")
            }
            Lookup::Userid(v) => {
                let i = push(self.sealer.index("userid", pid, v).into());
                let j = push(v.into());
                format!("(userid_ix = ${i} OR (sealed = 0 AND userid = ${j}))")
            }
            Lookup::Email(v) => {
                let i = push(self.sealer.index("email", pid, v).into());
                let j = push(v.into());
                format!("(email_ix = ${i} OR (sealed = 0 AND email = ${j}))")
            }
            Lookup::Holder(v) => {
                let i = push(self.sealer.index("holder", pid, v).into());
                format!("identity_ix = ${i}")
            }
        }
    }

    pub fn find_page(
        &self,
        pid: &str,
        by: Option<Lookup<'_>>,
        page: &Page,
        limit: u32,
    ) -> Result<Vec<Submission>, StoreError> {
        let mut params: Vec<crate::db::Value> = args![pid, limit].to_vec();
        let mut conds: Vec<String> = vec!["pid = $1".into()];
        let push = |params: &mut Vec<crate::db::Value>, v: crate::db::Value| {
            params.push(v);
            params.len()
        };
        if let Some(by) = by {
            conds.push(self.lookup_cond(pid, by, &mut params));
        }
        if let Some((ms, id)) = &page.after {
            let i = push(&mut params, (*ms).into());
            let j = push(&mut params, id.into());
            conds.push(format!(
                "(created_ms < ${i} OR (created_ms = ${i} AND id < ${j}))"
            ));
        }
        if let Some(ms) = page.start_ms {
            let i = push(&mut params, ms.into());
            conds.push(format!("created_ms >= ${i}"));
        }
        if let Some(ms) = page.end_ms {
            let i = push(&mut params, ms.into());
            conds.push(format!("created_ms <= ${i}"));
        }
        self.tx(|c| {
            let rows = c.query(
                &format!(
                    "SELECT * FROM submissions WHERE {}
                     ORDER BY created_ms DESC, id DESC LIMIT $2",
                    conds.join(" AND ")
                ),
                &params,
            )?;
            rows.iter()
                .map(|r| submission_from_row(&self.sealer, r))
                .collect::<Result<_, _>>()
        })
    }

    pub fn submission(&self, id: &str) -> Result<Option<Submission>, StoreError> {
        self.tx(|c| {
            c.query_opt("SELECT * FROM submissions WHERE id = $1", args![id])?
                .map(|r| submission_from_row(&self.sealer, &r))
                .transpose()
        })
    }

    /// A project's submissions matching `by`, newest first, at most `limit`.
    pub fn find(
        &self,
        pid: &str,
        by: Lookup<'_>,
        limit: u32,
    ) -> Result<Vec<Submission>, StoreError> {
        self.find_page(pid, Some(by), &Page::default(), limit)
    }

    pub fn captures(&self, submission_id: &str) -> Result<Vec<StoredCapture>, StoreError> {
        self.tx(|c| captures_in(c, submission_id))
    }

    pub fn capture(
        &self,
        submission_id: &str,
        capture_id: &str,
    ) -> Result<Option<StoredCapture>, StoreError> {
        self.tx(|c| {
            Ok(c.query_opt(
                "SELECT * FROM captures WHERE submission_id = $1 AND capture_id = $2",
                args![submission_id, capture_id],
            )?
            .map(|r| capture_from_row(&r))
            .transpose()?)
        })
    }

    /// Bytes stored for the submission.
    pub fn stored_bytes(&self, submission_id: &str) -> Result<u64, StoreError> {
        let n = self.tx(|c| Ok(bytes_of(c, submission_id)?))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn encrypt(&self, name: &str, data: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|_| StoreError::Random)?;
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: data,
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Decrypt)?;
        let mut out = Vec::with_capacity(12 + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Reads and decrypts a capture file.
    pub fn read_file(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let raw = self.blobs.get(name)?;
        if raw.len() < 12 + 16 {
            return Err(StoreError::Decrypt);
        }
        let (nonce, ct) = raw.split_at(12);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Decrypt)
    }

    fn remove_files(&self, names: &[String]) {
        for n in names {
            if let Err(e) = self.blobs.delete(n) {
                tracing::warn!(file = %n, error = %e, "cannot remove capture file");
            }
        }
    }

    /// Stores a capture (encrypted), idempotent by `(submission, capture id)`. A document or
    /// selfie capture replaces the slot's previous one (a retake); liveness keeps up to
    /// `max_in_slot` captures. Checks and the insert run in one transaction; the file is written
    /// before the row and removed again if the row is refused.
    #[allow(clippy::too_many_arguments)]
    pub fn put_capture(
        &self,
        submission_id: &str,
        record: &CaptureRecord,
        data: &[u8],
        analysis: Option<&str>,
        max_session_bytes: u64,
        max_in_slot: usize,
        now_ms: i64,
    ) -> Result<PutOutcome, StoreError> {
        let name = random_name()?;
        let sealed = self.encrypt(&name, data)?;
        self.blobs.put(&name, sealed)?;
        let outcome = self.tx(|c| {
            insert_capture(
                c,
                submission_id,
                record,
                data,
                analysis,
                &name,
                max_session_bytes,
                max_in_slot,
                now_ms,
            )
        });
        match &outcome {
            Ok((PutOutcome::Stored(_), replaced)) => self.remove_files(replaced),
            _ => self.remove_files(std::slice::from_ref(&name)),
        }
        outcome.map(|(o, _)| o)
    }

    /// The submission's liveness attempts, in order.
    pub fn liveness_attempts(&self, submission_id: &str) -> Result<Vec<StoredAttempt>, StoreError> {
        self.tx(|c| attempts_in(c, submission_id))
    }

    /// Finishes an incomplete submission atomically with its decision: `decide` sees the captures
    /// and attempts as they are inside the transaction (no upload, retake or delete can land
    /// between the check and the update) and returns the status and the server's verification
    /// summary (JSON, kept with the submission), or `None` to refuse (something is missing).
    /// `Ok(None)` when `decide` refused, `Ok(Some(false))` when the submission was not incomplete
    /// (unchanged), `Ok(Some(true))` when finished now.
    ///
    /// It also announces the submission's registered token as used up: with
    /// `used_token` and a decided status, the token's row in the
    /// project's pool (same blind index as the submission's `token_ix`), unless already
    /// announced, is marked `expired_notified` and `body(token)` queued in the outbox, in the
    /// finish's own transaction: ARGOS's `token_expired` with `expired_condition: "count"`, sent
    /// once across instances and restarts, and never again by the time-based sweep
    /// ([`Store::announce_expired_tokens`] skips marked rows) until the token is registered again.
    #[allow(clippy::too_many_arguments)]
    pub fn finish_with(
        &self,
        id: &str,
        email: Option<&str>,
        id_type: Option<&str>,
        country: Option<&str>,
        now_ms: i64,
        identity: &[Lookup<'_>],
        used_token: Option<UsedToken<'_>>,
        decide: impl FnOnce(&[StoredCapture], &[StoredAttempt], &[rules::Prior]) -> Option<Decision>,
    ) -> Result<Option<bool>, StoreError> {
        self.tx(|c| {
            if status_of(c, id)?.as_deref() != Some("incomplete") {
                return Ok(Some(false));
            }
            // The e-mail asked for at the end is sealed like the rest of the row.
            seal_row(c, &self.sealer, id)?;
            let pid = c
                .query_one("SELECT pid FROM submissions WHERE id = $1", args![id])?
                .text("pid")?;
            let (email, email_ix) =
                seal_column(&self.sealer, &pid, id, "email", Some("email_ix"), email)?;
            let caps = captures_in(c, id)?;
            let attempts = attempts_in(c, id)?;
            // The same identity's earlier submissions, for the rules (server/src/rules.rs): any
            // submission matching one of `identity`'s lookups (the document holder, the link's
            // userid or e-mail).
            let priors = if identity.is_empty() {
                Vec::new()
            } else {
                // One finish per identity at a time: two finishing together must not both see
                // "no approved submission" (SQLite runs one transaction at a time). The locks are
                // taken in one order, so two finishes cannot wait on each other.
                if self.db.backend() == crate::db::Backend::Postgres {
                    let mut keys: Vec<String> = identity
                        .iter()
                        .map(|by| match by {
                            Lookup::Id(v) => format!("id/{v}"),
                            Lookup::Userid(v) => self.sealer.index("userid", &pid, v),
                            Lookup::Email(v) => self.sealer.index("email", &pid, v),
                            Lookup::Holder(v) => self.sealer.index("holder", &pid, v),
                        })
                        .collect();
                    keys.sort();
                    for key in keys {
                        c.execute(
                            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                            args![key],
                        )?;
                    }
                }
                let mut params: Vec<crate::db::Value> = args![pid.as_str(), id].to_vec();
                let conds: Vec<String> = identity
                    .iter()
                    .map(|by| self.lookup_cond(&pid, *by, &mut params))
                    .collect();
                c.query(
                    &format!(
                        "SELECT status, decided_ms, reviewer, comment_code FROM submissions
                         WHERE pid = $1 AND id <> $2 AND ({})",
                        conds.join(" OR ")
                    ),
                    &params,
                )?
                .iter()
                .map(|r| {
                    let by_rule = r.opt_text("reviewer")?.as_deref() == Some("system")
                        && r.opt_text("comment_code")?
                            .as_deref()
                            .is_some_and(rules::is_rule_code);
                    Ok(rules::Prior {
                        status: KycStatus::parse(&r.text("status")?)
                            .unwrap_or(KycStatus::Incomplete),
                        decided_ms: r.opt_i64("decided_ms")?,
                        by_rule,
                    })
                })
                .collect::<Result<Vec<_>, DbError>>()?
            };
            let Some(d) = decide(&caps, &attempts, &priors) else {
                return Ok(None);
            };
            let status = d.status;
            let decided = (status != KycStatus::Pending).then_some(now_ms);
            let (ocr, _) = seal_column(&self.sealer, &pid, id, "ocr", None, d.ocr.as_deref())?;
            let identity_ix = d
                .holder
                .as_deref()
                .map(|k| self.sealer.index("holder", &pid, k));
            let reviewer = decided.map(|_| "system");
            let n = c.execute(
                "UPDATE submissions SET status = $2, id_type = $4,
                     issuing_country = $5, submitted_ms = $6, updated_ms = $6, decided_ms = $7,
                     reviewer = $8, verification = $9,
                     email_ix = CASE WHEN email IS NULL THEN $10 ELSE email_ix END,
                     email = COALESCE(email, $3),
                     comment = COALESCE($11, comment), comment_code = COALESCE($12, comment_code),
                     ocr = $13, identity_ix = $14
                 WHERE id = $1 AND status = 'incomplete'",
                args![
                    id,
                    status.as_str(),
                    email,
                    id_type,
                    country,
                    now_ms,
                    decided,
                    reviewer,
                    d.verification,
                    email_ix,
                    d.comment,
                    d.comment_code,
                    ocr,
                    identity_ix
                ],
            )?;
            if let Some(u) = used_token.filter(|_| n == 1 && status != KycStatus::Incomplete) {
                self.announce_used_token(c, &pid, id, u.event, now_ms, u.body)?;
            }
            Ok(Some(n == 1))
        })
    }

    /// Inside a finish's transaction: marks the pool row of submission `id`'s token (if it is
    /// registered in `pid` and not announced yet) and queues `body(token)` as `event`.
    fn announce_used_token(
        &self,
        c: &mut dyn Conn,
        pid: &str,
        id: &str,
        event: &str,
        now_ms: i64,
        body: &dyn Fn(&str) -> String,
    ) -> Result<(), StoreError> {
        let rows = c.query(
            "UPDATE token_pool SET expired_notified = 1
             WHERE pid = $1 AND expired_notified = 0
               AND token_ix = (SELECT token_ix FROM submissions WHERE id = $2)
             RETURNING token_ix, token",
            args![pid, id],
        )?;
        for r in &rows {
            self.queue_token_event(c, pid, r, event, now_ms, |token| Ok(body(token)))?;
        }
        Ok(())
    }

    /// Queues `body(token)` as a project-level `event` (no submission) for a `token_pool` row
    /// returned by an `UPDATE … RETURNING token_ix, token` that just marked it announced: the
    /// token opened from its seal, the body sealed for the outbox (both `token_expired` kinds).
    fn queue_token_event(
        &self,
        c: &mut dyn Conn,
        pid: &str,
        row: &Row,
        event: &str,
        now_ms: i64,
        body: impl FnOnce(&str) -> Result<String, StoreError>,
    ) -> Result<(), StoreError> {
        let ix = row.text("token_ix")?;
        let token = self
            .sealer
            .open(&crate::sessions::pool_place(pid, &ix), &row.text("token")?)?;
        let sealed = self
            .sealer
            .seal(&pii::outbox_place(pid, "", event), &body(&token)?)?;
        c.execute(
            "INSERT INTO outbox (pid, submission_id, event, body, next_ms, created_ms)
             VALUES ($1, '', $2, $3, $4, $4)",
            args![pid, event, sealed, now_ms],
        )?;
        Ok(())
    }

    /// The verification summary kept when the submission was finished (JSON).
    pub fn finished_verification(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.tx(|c| {
            Ok(c.query_opt(
                "SELECT verification FROM submissions WHERE id = $1",
                args![id],
            )?
            .map(|r| r.opt_text("verification"))
            .transpose()?
            .flatten())
        })
    }
}

/// The webhook [`Store::finish_with`] queues for a registered token a decided submission
/// used up: its event and `body(token)`.
#[derive(Clone, Copy)]
pub struct UsedToken<'a> {
    pub event: &'a str,
    pub body: &'a dyn Fn(&str) -> String,
}

/// The columns [`outbox_item`] reads.
const OUTBOX_COLUMNS: &str = "id, pid, submission_id, event, body, attempts";

/// An outbox row ([`OUTBOX_COLUMNS`]), its body opened (a body from before schema v5 is clear).
fn outbox_item(sealer: &Sealer, r: &Row) -> Result<OutboxItem, StoreError> {
    let pid = r.text("pid")?;
    let event = r.text("event")?;
    let body = r.text("body")?;
    let body = if pii::is_sealed(&body) {
        sealer.open(
            &pii::outbox_place(&pid, &r.text("submission_id")?, &event),
            &body,
        )?
    } else {
        body
    };
    Ok(OutboxItem {
        id: r.i64("id")?,
        pid,
        event,
        body,
        attempts: r.i64("attempts")?,
    })
}

/// Deletes submission `id`'s rows (captures, liveness attempts, the submission): how many
/// submissions went (0 or 1) and the capture files to remove once committed.
fn delete_rows(c: &mut dyn Conn, id: &str) -> Result<(u64, Vec<String>), DbError> {
    let files: Vec<String> = c
        .query(
            "SELECT file FROM captures WHERE submission_id = $1",
            args![id],
        )?
        .iter()
        .map(|r| r.text("file"))
        .collect::<Result<_, _>>()?;
    for t in ["captures", "liveness_attempts", "liveness_open"] {
        c.execute(
            &format!("DELETE FROM {t} WHERE submission_id = $1"),
            args![id],
        )?;
    }
    let n = c.execute("DELETE FROM submissions WHERE id = $1", args![id])?;
    Ok((n, files))
}

fn bytes_of(c: &mut dyn Conn, submission_id: &str) -> Result<i64, DbError> {
    c.query_one(
        "SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS n FROM captures WHERE submission_id = $1",
        args![submission_id],
    )?
    .i64("n")
}

#[allow(clippy::too_many_arguments)]
fn insert_capture(
    c: &mut dyn Conn,
    submission_id: &str,
    record: &CaptureRecord,
    data: &[u8],
    analysis: Option<&str>,
    file: &str,
    max_session_bytes: u64,
    max_in_slot: usize,
    now_ms: i64,
) -> Result<(PutOutcome, Vec<String>), StoreError> {
    let status = status_of(c, submission_id)?;
    let existing = c
        .query_opt(
            "SELECT * FROM captures WHERE submission_id = $1 AND capture_id = $2",
            args![submission_id, record.capture_id.as_str()],
        )?
        .map(|r| capture_from_row(&r))
        .transpose()?;
    if let Some(e) = existing {
        return Ok((
            if e.record.slot == record.slot {
                PutOutcome::Existing(e.record)
            } else {
                PutOutcome::IdConflict
            },
            Vec::new(),
        ));
    }
    if status.as_deref() != Some("incomplete") {
        return Ok((PutOutcome::Finished, Vec::new()));
    }
    let slot = record.slot.name();
    let in_slot: Vec<(String, i64)> = c
        .query(
            "SELECT file, bytes FROM captures WHERE submission_id = $1 AND slot = $2",
            args![submission_id, slot],
        )?
        .iter()
        .map(|r| Ok((r.text("file")?, r.i64("bytes")?)))
        .collect::<Result<_, DbError>>()?;
    let replaces = record.slot != CaptureSlot::Liveness;
    if !replaces && in_slot.len() >= max_in_slot {
        return Ok((PutOutcome::TooMany, Vec::new()));
    }
    let total = bytes_of(c, submission_id)?;
    let freed: i64 = if replaces {
        in_slot.iter().map(|(_, b)| *b).sum()
    } else {
        0
    };
    let after = u64::try_from(total - freed).unwrap_or(0) + data.len() as u64;
    if after > max_session_bytes {
        return Ok((PutOutcome::SessionBytes, Vec::new()));
    }
    let replaced: Vec<String> = if replaces {
        c.execute(
            "DELETE FROM captures WHERE submission_id = $1 AND slot = $2",
            args![submission_id, slot],
        )?;
        in_slot.into_iter().map(|(f, _)| f).collect()
    } else {
        Vec::new()
    };
    c.execute(
        "INSERT INTO captures (submission_id, capture_id, slot, content_type, bytes, width,
                               height, sha256, file, created_ms, analysis)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        args![
            submission_id,
            &record.capture_id,
            slot,
            &record.content_type,
            data.len(),
            record.width,
            record.height,
            hex::encode(Sha256::digest(data)),
            file,
            now_ms,
            analysis
        ],
    )?;
    c.execute(
        "UPDATE submissions SET updated_ms = $2 WHERE id = $1",
        args![submission_id, now_ms],
    )?;
    Ok((PutOutcome::Stored(record.clone()), replaced))
}

fn captures_in(c: &mut dyn Conn, submission_id: &str) -> Result<Vec<StoredCapture>, StoreError> {
    Ok(c.query(
        "SELECT * FROM captures WHERE submission_id = $1 ORDER BY created_ms, {seq}",
        args![submission_id],
    )?
    .iter()
    .map(capture_from_row)
    .collect::<Result<_, _>>()?)
}

fn attempts_in(c: &mut dyn Conn, submission_id: &str) -> Result<Vec<StoredAttempt>, StoreError> {
    let rows = c.query(
        "SELECT attempt, passed, hidden_during, virtual_camera, record, created_ms,
                device_passed, verification
         FROM liveness_attempts WHERE submission_id = $1 ORDER BY attempt",
        args![submission_id],
    )?;
    let out: Result<Vec<StoredAttempt>, DbError> = rows
        .iter()
        .map(|r| {
            Ok(StoredAttempt {
                attempt: u8::try_from(r.i64("attempt")?).unwrap_or(0),
                passed: r.bool("passed")?,
                device_passed: r.opt_i64("device_passed")?.map(|v| v != 0),
                verification: r.opt_text("verification")?,
                hidden_during: r.bool("hidden_during")?,
                virtual_camera: r.bool("virtual_camera")?,
                record: r.text("record")?,
                created_ms: r.i64("created_ms")?,
            })
        })
        .collect();
    Ok(out?)
}

/// The capture directory in `data_dir` (created 0700).
pub fn capture_dir_in(data_dir: &Path) -> Result<PathBuf, StoreError> {
    let dir = data_dir.join("captures");
    std::fs::create_dir_all(&dir)?;
    // Data at rest is the server's alone, whatever the umask: directories 0700, the database
    // (SQLite gives its WAL and shared-memory files the database file's mode) and every capture
    // file 0600.
    private_dir(data_dir)?;
    private_dir(&dir)?;
    Ok(dir)
}

/// The SQLite database in `data_dir` (created 0600, the directory 0700), migrated.
pub fn open_sqlite_in(data_dir: &Path) -> Result<Db, StoreError> {
    std::fs::create_dir_all(data_dir)?;
    private_dir(data_dir)?;
    let path = data_dir.join("liveform.sqlite3");
    private_file(&path)?;
    Ok(Db::open_sqlite(&path)?)
}

impl Store {
    /// Stores the next liveness attempt of an incomplete submission, atomically with the checks:
    /// numbered one after the last, none passed yet, fewer than `max_failed` failed.
    pub fn add_liveness_attempt(
        &self,
        submission_id: &str,
        a: &NewAttempt,
        max_failed: u8,
        now_ms: i64,
    ) -> Result<AttemptAdd, StoreError> {
        self.tx(|c| {
            let status = status_of(c, submission_id)?;
            if status.as_deref() != Some("incomplete") {
                return Ok(AttemptAdd::Finished);
            }
            let existing: Vec<(i64, bool, String)> = c
                .query(
                    "SELECT attempt, passed, record FROM liveness_attempts
                     WHERE submission_id = $1 ORDER BY attempt",
                    args![submission_id],
                )?
                .iter()
                .map(|r| Ok((r.i64("attempt")?, r.bool("passed")?, r.text("record")?)))
                .collect::<Result<_, DbError>>()?;
            if let Some((_, _, rec)) = existing.iter().find(|(n, _, _)| *n == i64::from(a.attempt))
            {
                return Ok(if *rec == a.record {
                    AttemptAdd::Same
                } else {
                    AttemptAdd::OutOfOrder {
                        expected: u8::try_from(existing.len() + 1).unwrap_or(u8::MAX),
                    }
                });
            }
            if existing.iter().any(|(_, p, _)| *p) {
                return Ok(AttemptAdd::AlreadyPassed);
            }
            if existing.len() >= usize::from(max_failed) {
                return Ok(AttemptAdd::Exhausted);
            }
            let expected = u8::try_from(existing.len() + 1).unwrap_or(u8::MAX);
            if a.attempt != expected {
                return Ok(AttemptAdd::OutOfOrder { expected });
            }
            c.execute(
                "INSERT INTO liveness_attempts
                   (submission_id, attempt, passed, hidden_during, virtual_camera, record,
                    created_ms, device_passed, verification)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                args![
                    submission_id,
                    a.attempt,
                    a.passed,
                    a.hidden_during,
                    a.virtual_camera,
                    &a.record,
                    now_ms,
                    a.device_passed,
                    &a.verification
                ],
            )?;
            c.execute(
                "DELETE FROM liveness_open WHERE submission_id = $1",
                args![submission_id],
            )?;
            c.execute(
                "UPDATE submissions SET updated_ms = $2 WHERE id = $1",
                args![submission_id, now_ms],
            )?;
            Ok(AttemptAdd::Stored)
        })
    }

    /// Opens liveness attempt `attempt` for an incomplete submission (replacing one opened
    /// before and not recorded). `Ok(None)` when the submission is finished or missing, else
    /// whether this number is opened for the first time.
    pub fn open_attempt(
        &self,
        submission_id: &str,
        attempt_id: &str,
        attempt: u8,
        now_ms: i64,
    ) -> Result<Option<bool>, StoreError> {
        self.tx(|c| {
            if status_of(c, submission_id)?.as_deref() != Some("incomplete") {
                return Ok(None);
            }
            // Under the submission's lock: whether this number was open before (a reload or a
            // second tab reopening it), so that the `retry` webhook goes out once per attempt.
            let before = c
                .query_opt(
                    "SELECT attempt FROM liveness_open WHERE submission_id = $1",
                    args![submission_id],
                )?
                .map(|r| r.i64("attempt"))
                .transpose()?;
            c.execute(
                "INSERT INTO liveness_open (submission_id, attempt_id, attempt, opened_ms)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (submission_id) DO UPDATE
                   SET attempt_id = excluded.attempt_id, attempt = excluded.attempt,
                       opened_ms = excluded.opened_ms",
                args![submission_id, attempt_id, attempt, now_ms],
            )?;
            Ok(Some(before != Some(i64::from(attempt))))
        })
    }

    /// The open liveness attempt: `(attempt id, number, opened at)`.
    pub fn open_attempt_of(
        &self,
        submission_id: &str,
    ) -> Result<Option<(String, u8, i64)>, StoreError> {
        self.tx(|c| {
            let r = c.query_opt(
                "SELECT attempt_id, attempt, opened_ms FROM liveness_open WHERE submission_id = $1",
                args![submission_id],
            )?;
            Ok(match r {
                Some(r) => Some((
                    r.text("attempt_id")?,
                    u8::try_from(r.i64("attempt")?).unwrap_or(0),
                    r.i64("opened_ms")?,
                )),
                None => None,
            })
        })
    }

    /// Removes one capture of an unfinished submission; `Ok(false)` when there is none.
    pub fn delete_capture(
        &self,
        submission_id: &str,
        capture_id: &str,
    ) -> Result<bool, StoreError> {
        let file: Option<String> = self.tx(|c| {
            if status_of(c, submission_id)?.as_deref() != Some("incomplete") {
                return Ok(None);
            }
            let file = c
                .query_opt(
                    "SELECT file FROM captures WHERE submission_id = $1 AND capture_id = $2",
                    args![submission_id, capture_id],
                )?
                .map(|r| r.text("file"))
                .transpose()?;
            if file.is_some() {
                c.execute(
                    "DELETE FROM captures WHERE submission_id = $1 AND capture_id = $2",
                    args![submission_id, capture_id],
                )?;
            }
            Ok(file)
        })?;
        match file {
            Some(f) => {
                self.remove_files(&[f]);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Records a review of a finished submission; `Ok(false)` when it is not finished.
    pub fn review(
        &self,
        id: &str,
        status: KycStatus,
        admin: &str,
        comment: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let from = [KycStatus::Pending, KycStatus::Approved, KycStatus::Rejected];
        Ok(self
            .review_from(id, &from, status, admin, comment, None, now_ms)?
            .is_ok())
    }

    /// Records a review (status, admin, comment and ARGOS's `commentCode`) of submission `id`
    /// if its status is one of `from`, checked and written under its row lock: `Ok(Ok(()))`
    /// when reviewed, `Ok(Err(status))` with the status it has otherwise, `Ok(Err(None))`
    /// when there is no such submission.
    #[allow(clippy::too_many_arguments)]
    pub fn review_from(
        &self,
        id: &str,
        from: &[KycStatus],
        status: KycStatus,
        admin: &str,
        comment: Option<&str>,
        comment_code: Option<&str>,
        now_ms: i64,
    ) -> Result<Result<(), Option<KycStatus>>, StoreError> {
        self.tx(|c| {
            let now = status_of(c, id)?.map(|s| KycStatus::parse(&s));
            let current = match now {
                None => return Ok(Err(None)),
                Some(None) => return Err(StoreError::Corrupt(format!("status of {id}"))),
                Some(Some(s)) => s,
            };
            if !from.contains(&current) {
                return Ok(Err(Some(current)));
            }
            c.execute(
                "UPDATE submissions SET status = $2, admin = $3, comment = $4, reviewer = 'agent',
                     comment_code = $5, decided_ms = $6, updated_ms = $6
                 WHERE id = $1",
                args![id, status.as_str(), admin, comment, comment_code, now_ms],
            )?;
            Ok(Ok(()))
        })
    }

    /// Stores images put through the results API on submission `id` (any status): each
    /// replaces its slot's capture; marked `origin = 'api'`. With `id_type`, the submission's ID
    /// type becomes it. `Ok(false)` when there is no such submission.
    pub fn put_api_images(
        &self,
        id: &str,
        images: &[ApiImage],
        id_type: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut names = Vec::new();
        for img in images {
            let name = random_name()?;
            let sealed = self.encrypt(&name, &img.data)?;
            if let Err(e) = self.blobs.put(&name, sealed) {
                self.remove_files(&names);
                return Err(e.into());
            }
            names.push(name);
        }
        let outcome = self.tx(|c| {
            if status_of(c, id)?.is_none() {
                return Ok(None);
            }
            let mut replaced = Vec::new();
            for (img, file) in images.iter().zip(&names) {
                let slot = img.record.slot.name();
                for r in c.query(
                    "SELECT file FROM captures WHERE submission_id = $1 AND slot = $2",
                    args![id, slot],
                )? {
                    replaced.push(r.text("file")?);
                }
                c.execute(
                    "DELETE FROM captures WHERE submission_id = $1 AND slot = $2",
                    args![id, slot],
                )?;
                c.execute(
                    "INSERT INTO captures (submission_id, capture_id, slot, content_type, bytes,
                                           width, height, sha256, file, created_ms, analysis,
                                           origin)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'api')",
                    args![
                        id,
                        &img.record.capture_id,
                        slot,
                        &img.record.content_type,
                        img.data.len(),
                        img.record.width,
                        img.record.height,
                        hex::encode(Sha256::digest(&img.data)),
                        file.as_str(),
                        now_ms,
                        &img.analysis
                    ],
                )?;
            }
            c.execute(
                "UPDATE submissions SET updated_ms = $2, id_type = COALESCE($3, id_type)
                 WHERE id = $1",
                args![id, now_ms, id_type],
            )?;
            Ok(Some(replaced))
        });
        match outcome {
            Ok(Some(replaced)) => {
                self.remove_files(&replaced);
                Ok(true)
            }
            Ok(None) => {
                self.remove_files(&names);
                Ok(false)
            }
            Err(e) => {
                self.remove_files(&names);
                Err(e)
            }
        }
    }

    /// Deletes a submission, its captures and their files; `Ok(false)` when there is none.
    pub fn delete_submission(&self, id: &str) -> Result<bool, StoreError> {
        let (n, files) = self.tx(|c| Ok(delete_rows(c, id)?))?;
        self.remove_files(&files);
        Ok(n == 1)
    }

    /// Clears personal fields (`userid`, `email`, `cf1`..`cf3`) and deletes the captures of
    /// `slots`; everything else stays.
    pub fn delete_partial(
        &self,
        id: &str,
        fields: &[&str],
        slots: &[CaptureSlot],
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.delete_fields(id, fields, &[], slots, now_ms)
    }

    /// A partial delete ([`Partial`]): columns cleared, keys removed from the identity fields,
    /// captures of slots deleted with their files; `Ok(false)` when there is no such submission.
    pub fn delete_parts(&self, id: &str, p: &Partial, now_ms: i64) -> Result<bool, StoreError> {
        self.delete_fields(id, &p.columns, &p.person_keys, &p.slots, now_ms)
    }

    fn delete_fields(
        &self,
        id: &str,
        fields: &[&str],
        person_keys: &[String],
        slots: &[CaptureSlot],
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let files = self.tx(|c| {
            let Some(row) =
                c.query_opt("SELECT * FROM submissions WHERE id = $1{lock}", args![id])?
            else {
                return Ok(None);
            };
            if !person_keys.is_empty() {
                // The identity fields are one sealed object: opened, the keys taken out,
                // sealed again.
                let sub = submission_from_row(&self.sealer, &row)?;
                if let Some(person) = sub.person {
                    let mut obj: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_str(&person)
                            .map_err(|e| StoreError::Corrupt(format!("person: {e}")))?;
                    for k in person_keys {
                        obj.remove(k);
                    }
                    let json = serde_json::Value::Object(obj).to_string();
                    let (sealed, _) =
                        seal_column(&self.sealer, &sub.pid, id, "person", None, Some(&json))?;
                    c.execute(
                        "UPDATE submissions SET person = $2, updated_ms = $3 WHERE id = $1",
                        args![id, sealed, now_ms],
                    )?;
                }
            }
            for f in fields {
                // A value goes with its blind index.
                let cols = match *f {
                    "userid" => "userid = NULL, userid_ix = NULL",
                    "email" => "email = NULL, email_ix = NULL",
                    "cf1" => "cf1 = NULL",
                    "cf2" => "cf2 = NULL",
                    "cf3" => "cf3 = NULL",
                    "ip_address" => "ip_address = NULL",
                    "person" => "person = NULL",
                    "ocr" => "ocr = NULL, identity_ix = NULL",
                    "id_type" => "id_type = NULL",
                    "issuing_country" => "issuing_country = NULL",
                    "review" => "admin = NULL, comment = NULL, comment_code = NULL",
                    other => return Err(StoreError::Corrupt(format!("field {other}"))),
                };
                c.execute(
                    &format!("UPDATE submissions SET {cols}, updated_ms = $2 WHERE id = $1"),
                    args![id, now_ms],
                )?;
                if *f == "ocr" {
                    forget_mrz_reads(c, id)?;
                }
            }
            let mut files: Vec<String> = Vec::new();
            for s in slots {
                for r in c.query(
                    "SELECT file FROM captures WHERE submission_id = $1 AND slot = $2",
                    args![id, s.name()],
                )? {
                    files.push(r.text("file")?);
                }
                c.execute(
                    "DELETE FROM captures WHERE submission_id = $1 AND slot = $2",
                    args![id, s.name()],
                )?;
            }
            Ok(Some(files))
        })?;
        match files {
            Some(files) => {
                self.remove_files(&files);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Incomplete submissions (every project) untouched since before `cutoff_ms`, oldest first,
    /// at most `limit`.
    pub fn incomplete_before(
        &self,
        cutoff_ms: i64,
        limit: u32,
    ) -> Result<Vec<Submission>, StoreError> {
        self.tx(|c| {
            c.query(
                "SELECT * FROM submissions WHERE status = 'incomplete' AND updated_ms < $1
                 ORDER BY updated_ms LIMIT $2",
                args![cutoff_ms, limit],
            )?
            .iter()
            .map(|r| submission_from_row(&self.sealer, r))
            .collect::<Result<_, _>>()
        })
    }

    /// Deletes submission `id` with its captures if it is still incomplete and untouched since
    /// before `cutoff_ms` (checked under its row lock: a finish in between wins).
    pub fn delete_stale_incomplete(&self, id: &str, cutoff_ms: i64) -> Result<bool, StoreError> {
        let files = self.tx(|c| {
            let row = c.query_opt(
                "SELECT status, updated_ms FROM submissions WHERE id = $1{lock}",
                args![id],
            )?;
            let stale = match &row {
                Some(r) => r.text("status")? == "incomplete" && r.i64("updated_ms")? < cutoff_ms,
                None => false,
            };
            if !stale {
                return Ok(None);
            }
            let (_, files) = delete_rows(c, id)?;
            Ok(Some(files))
        })?;
        match files {
            Some(f) => {
                self.remove_files(&f);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Submissions of `pid` created before `cutoff_ms` (for retention).
    pub fn created_before(&self, pid: &str, cutoff_ms: i64) -> Result<Vec<Submission>, StoreError> {
        self.tx(|c| {
            c.query(
                "SELECT * FROM submissions WHERE pid = $1 AND created_ms < $2 ORDER BY created_ms",
                args![pid, cutoff_ms],
            )?
            .iter()
            .map(|r| submission_from_row(&self.sealer, r))
            .collect::<Result<_, _>>()
        })
    }

    /// Capture files no row names and older than an hour (a crash between write and insert
    /// left them; younger ones may be another instance's upload in progress).
    pub fn orphan_files(&self) -> Result<Vec<String>, StoreError> {
        self.orphans_older_than(ORPHAN_MIN_AGE)
    }

    fn orphans_older_than(&self, age: std::time::Duration) -> Result<Vec<String>, StoreError> {
        let listed = self.blobs.list()?;
        let known: std::collections::HashSet<String> = self.tx(|c| {
            Ok(c.query("SELECT file FROM captures", &[])?
                .iter()
                .map(|r| r.text("file"))
                .collect::<Result<_, _>>()?)
        })?;
        let now = std::time::SystemTime::now();
        Ok(listed
            .into_iter()
            .filter(|(name, modified)| {
                !known.contains(name) && now.duration_since(*modified).unwrap_or_default() >= age
            })
            .map(|(name, _)| name)
            .collect())
    }

    /// Every capture file no row names, whatever its age (tests).
    pub fn unreferenced_files(&self) -> Result<Vec<String>, StoreError> {
        self.orphans_older_than(std::time::Duration::ZERO)
    }

    /// Removes capture files no row names.
    pub fn remove_orphans(&self) -> Result<usize, StoreError> {
        let o = self.orphan_files()?;
        self.remove_files(&o);
        Ok(o.len())
    }

    // --- webhook outbox ---------------------------------------------------------------------

    pub fn enqueue(
        &self,
        pid: &str,
        submission_id: &str,
        event: &str,
        body: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        // The body names the person (userid, e-mail, custom fields): sealed until it is sent.
        let body = self
            .sealer
            .seal(&pii::outbox_place(pid, submission_id, event), body)?;
        self.tx(|c| {
            c.execute(
                "INSERT INTO outbox (pid, submission_id, event, body, next_ms, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $5)",
                args![pid, submission_id, event, body, now_ms],
            )?;
            Ok(())
        })
    }

    /// Queues one webhook per registered token of `pid` registered at or before `cutoff_ms` (so
    /// past its expiry) and not announced yet, marking them in the same transaction: each expiry
    /// is announced once across instances and restarts (a token already announced by a finish's
    /// `count` webhook, [`Store::finish_with`], is skipped). `body(token, registered_ms)`
    /// writes the webhook. How many.
    pub fn announce_expired_tokens(
        &self,
        pid: &str,
        event: &str,
        cutoff_ms: i64,
        now_ms: i64,
        body: impl Fn(&str, i64) -> String,
    ) -> Result<usize, StoreError> {
        self.tx(|c| {
            let rows = c.query(
                "UPDATE token_pool SET expired_notified = 1
                 WHERE pid = $1 AND updated_ms <= $2 AND expired_notified = 0
                 RETURNING token_ix, token, updated_ms",
                args![pid, cutoff_ms],
            )?;
            for r in &rows {
                self.queue_token_event(c, pid, r, event, now_ms, |token| {
                    Ok(body(token, r.i64("updated_ms")?))
                })?;
            }
            Ok(rows.len())
        })
    }

    /// Claims the deliveries due at `now_ms`, oldest first: each is pushed `lease_ms` into the
    /// future in the same statement, so no other instance (or sender) takes it meanwhile; a
    /// sender that dies before reporting leaves it to be retried when the lease ends.
    pub fn claim_due(
        &self,
        now_ms: i64,
        limit: u32,
        lease_ms: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.claim_due_except(now_ms, limit, lease_ms, &[])
    }

    /// [`Store::claim_due`] leaving out the projects in `busy` (their endpoint already has as many
    /// deliveries in flight as it may).
    pub fn claim_due_except(
        &self,
        now_ms: i64,
        limit: u32,
        lease_ms: i64,
        busy: &[String],
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let skip_locked = match self.db.backend() {
            crate::db::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            crate::db::Backend::Sqlite => "",
        };
        let not_busy: String = (0..busy.len())
            .map(|i| format!(" AND pid <> ${}", i + 4))
            .collect();
        let mut params: Vec<crate::db::Value> = args![now_ms, limit, now_ms + lease_ms].to_vec();
        params.extend(busy.iter().map(crate::db::Value::from));
        self.tx(|c| {
            let rows = c.query(
                &format!(
                    "UPDATE outbox SET next_ms = $3
                     WHERE id IN (SELECT id FROM outbox WHERE dead = 0 AND next_ms <= $1{not_busy}
                                  ORDER BY next_ms, id LIMIT $2{skip_locked})
                     RETURNING {OUTBOX_COLUMNS}"
                ),
                &params,
            )?;
            let mut items: Vec<OutboxItem> = rows
                .iter()
                .map(|r| outbox_item(&self.sealer, r))
                .collect::<Result<_, _>>()?;
            items.sort_by_key(|i| i.id);
            Ok(items)
        })
    }

    /// Deliveries due at `now_ms`, oldest first (without claiming them).
    pub fn due(&self, now_ms: i64, limit: u32) -> Result<Vec<OutboxItem>, StoreError> {
        self.tx(|c| {
            c.query(
                &format!(
                    "SELECT {OUTBOX_COLUMNS} FROM outbox
                     WHERE dead = 0 AND next_ms <= $1 ORDER BY next_ms, id LIMIT $2"
                ),
                args![now_ms, limit],
            )?
            .iter()
            .map(|r| outbox_item(&self.sealer, r))
            .collect::<Result<_, _>>()
        })
    }

    /// The earliest pending delivery time.
    pub fn next_due(&self) -> Result<Option<i64>, StoreError> {
        self.tx(|c| {
            Ok(c.query_one(
                "SELECT CAST(MIN(next_ms) AS BIGINT) AS m FROM outbox WHERE dead = 0",
                &[],
            )?
            .opt_i64("m")?)
        })
    }

    pub fn delivered(&self, id: i64) -> Result<(), StoreError> {
        self.tx(|c| {
            c.execute("DELETE FROM outbox WHERE id = $1", args![id])?;
            Ok(())
        })
    }

    /// Records a failed attempt: retry at `next_ms`, or give up (`dead`).
    pub fn failed(&self, id: i64, next_ms: Option<i64>, error: &str) -> Result<(), StoreError> {
        self.tx(|c| {
            c.execute(
                "UPDATE outbox SET attempts = attempts + 1,
                     next_ms = COALESCE(CAST($2 AS BIGINT), next_ms),
                     dead = CASE WHEN CAST($2 AS BIGINT) IS NULL THEN 1 ELSE 0 END,
                     last_error = $3
                 WHERE id = $1",
                args![id, next_ms, error],
            )?;
            Ok(())
        })
    }

    /// Pending and dead deliveries (for tests and `liveform` diagnostics).
    pub fn outbox_counts(&self) -> Result<(i64, i64), StoreError> {
        self.tx(|c| {
            let r = c.query_one(
                "SELECT CAST(COALESCE(SUM(CASE WHEN dead = 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS live,
                        CAST(COALESCE(SUM(CASE WHEN dead = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS dead
                 FROM outbox",
                &[],
            )?;
            Ok((r.i64("live")?, r.i64("dead")?))
        })
    }

    /// Drops undeliverable webhooks older than `cutoff_ms`.
    pub fn purge_dead(&self, cutoff_ms: i64) -> Result<usize, StoreError> {
        self.tx(|c| {
            let n = c.execute(
                "DELETE FROM outbox WHERE dead = 1 AND created_ms < $1",
                args![cutoff_ms],
            )?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }
}

/// Free bytes for unprivileged users on the file system holding `path`.
#[allow(unsafe_code)]
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt as _;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `st` points to writable memory of the
    // right type; statvfs initialises it when it returns 0.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: rc == 0, so statvfs filled the struct.
    let st = unsafe { st.assume_init() };
    #[allow(clippy::unnecessary_cast)]
    Ok((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_store(tag: &str) -> (Store, PathBuf) {
        let dir = std::env::temp_dir().join(format!("lf-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        (Store::open(&dir, &[7; 32]).unwrap(), dir)
    }

    fn rec(id: &str, slot: CaptureSlot) -> CaptureRecord {
        CaptureRecord {
            check: None,
            capture_id: id.into(),
            slot,
            content_type: "image/png".into(),
            bytes: 4,
            width: Some(10),
            height: Some(10),
        }
    }

    #[test]
    fn data_at_rest_is_the_owners_only_whatever_the_umask() {
        use std::os::unix::fs::PermissionsExt as _;
        // SAFETY: umask only changes this process's file-creation mask.
        #[allow(unsafe_code)]
        let old = unsafe { libc::umask(0o002) };
        let (s, dir) = temp_store("perm");
        s.ensure_submission(
            &NewSubmission {
                id: "sub".into(),
                pid: "p".into(),
                ..Default::default()
            },
            1,
        )
        .unwrap();
        s.put_capture(
            "sub",
            &rec("c", CaptureSlot::Selfie),
            b"img",
            None,
            1000,
            16,
            2,
        )
        .unwrap();
        #[allow(unsafe_code)]
        // SAFETY: as above, restoring the previous mask.
        unsafe {
            libc::umask(old);
        }
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("captures")), 0o700);
        for e in std::fs::read_dir(&dir)
            .unwrap()
            .chain(std::fs::read_dir(dir.join("captures")).unwrap())
        {
            let p = e.unwrap().path();
            if p.is_file() {
                assert_eq!(mode(&p), 0o600, "{}", p.display());
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_v2_database_migrates_and_drops_unverified_attempts_of_unfinished_submissions() {
        let dir = std::env::temp_dir().join(format!("lf-store-v2-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("captures")).unwrap();
        {
            // What the previous release wrote: schema v2, device-judged attempts.
            let c = rusqlite::Connection::open(dir.join("liveform.sqlite3")).unwrap();
            c.execute_batch(
                "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL);",
            )
            .unwrap();
            for (v, sql) in [
                (1, include_str!("../migrations/sqlite/0001_init.sql")),
                (2, include_str!("../migrations/sqlite/0002_liveness.sql")),
            ] {
                c.execute_batch(sql).unwrap();
                c.execute("INSERT INTO schema_version VALUES (?1, 0)", [v])
                    .unwrap();
            }
            for (id, status) in [("open", "incomplete"), ("done", "pending")] {
                c.execute(
                    "INSERT INTO submissions (id, pid, status, created_ms, updated_ms)
                     VALUES (?1, 'p', ?2, 1, 1)",
                    [id, status],
                )
                .unwrap();
                c.execute(
                    "INSERT INTO liveness_attempts VALUES (?1, 1, 1, 0, 0, '{}', 1)",
                    [id],
                )
                .unwrap();
                c.execute(
                    "INSERT INTO captures (submission_id, capture_id, slot, content_type, bytes,
                        sha256, file, created_ms) VALUES (?1, 's', 'selfie', 'image/jpeg', 3, 'x', ?1, 1)",
                    [id],
                )
                .unwrap();
            }
        }
        let s = Store::open(&dir, &[7; 32]).unwrap();
        assert_eq!(s.schema_version().unwrap(), crate::db::SCHEMA_VERSION);
        // The unfinished submission's device-judged pass is gone: the person runs the check again.
        assert!(s.liveness_attempts("open").unwrap().is_empty());
        // The finished one keeps its attempt, shown without a verification.
        let kept = s.liveness_attempts("done").unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(
            (kept[0].device_passed, kept[0].verification.as_deref()),
            (None, None)
        );
        // Captures are kept, unchecked.
        let caps = s.captures("done").unwrap();
        assert_eq!(
            (
                caps.len(),
                caps[0].analysis.as_deref(),
                caps[0].record.check.as_ref()
            ),
            (1, None, None)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_v3_data_directory_opens_and_serves_its_submissions() {
        // What the previous release (schema v3, sessions in memory) left: a finished submission
        // with an encrypted capture. The new code migrates it in place and serves it.
        let key = [9; 32];
        let (writer, wdir) = temp_store("v3-writer");
        drop(writer);
        let writer = Store::open(&wdir, &key).unwrap();
        writer
            .ensure_submission(
                &NewSubmission {
                    id: "w".into(),
                    pid: "p".into(),
                    ..Default::default()
                },
                1,
            )
            .unwrap();
        writer
            .put_capture(
                "w",
                &rec("c", CaptureSlot::Selfie),
                b"v3 image",
                None,
                1000,
                16,
                2,
            )
            .unwrap();
        let file = writer.capture("w", "c").unwrap().unwrap().file;
        let dir = std::env::temp_dir().join(format!("lf-store-v3-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("captures")).unwrap();
        std::fs::copy(
            wdir.join("captures").join(&file),
            dir.join("captures").join(&file),
        )
        .unwrap();
        {
            let c = rusqlite::Connection::open(dir.join("liveform.sqlite3")).unwrap();
            c.execute_batch(
                "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL);",
            )
            .unwrap();
            for (v, sql) in [
                (1, include_str!("../migrations/sqlite/0001_init.sql")),
                (2, include_str!("../migrations/sqlite/0002_liveness.sql")),
                (
                    3,
                    include_str!("../migrations/sqlite/0003_verification.sql"),
                ),
            ] {
                c.execute_batch(sql).unwrap();
                c.execute("INSERT INTO schema_version VALUES (?1, 0)", [v])
                    .unwrap();
            }
            c.execute(
                "INSERT INTO submissions (id, pid, status, userid, created_ms, updated_ms,
                    submitted_ms, verification) VALUES ('old', 'p', 'pending', 'u-3', 1, 2, 2, '{}')",
                [],
            )
            .unwrap();
            c.execute(
                "INSERT INTO captures (submission_id, capture_id, slot, content_type, bytes,
                    sha256, file, created_ms) VALUES ('old', 'c', 'selfie', 'image/jpeg', 8, 'x', ?1, 1)",
                [&file],
            )
            .unwrap();
        }
        let s = Store::open(&dir, &key).unwrap();
        assert_eq!(s.schema_version().unwrap(), crate::db::SCHEMA_VERSION);
        let row = s.submission("old").unwrap().unwrap();
        assert_eq!(
            (row.status, row.userid.as_deref()),
            (KycStatus::Pending, Some("u-3"))
        );
        let caps = s.captures("old").unwrap();
        assert_eq!(caps.len(), 1);
        assert_eq!(s.read_file(&caps[0].file).unwrap(), b"v3 image");
        // Its personal data was sealed on opening (schema v5) and is still found by its userid.
        let raw = s
            .db()
            .tx(|c| {
                c.query_one(
                    "SELECT userid, sealed FROM submissions WHERE id = 'old'",
                    &[],
                )
                .and_then(|r| Ok((r.text("userid")?, r.i64("sealed")?)))
            })
            .unwrap();
        assert!(
            !raw.0.contains("u-3") && crate::pii::is_sealed(&raw.0),
            "{raw:?}"
        );
        assert_eq!(raw.1, 1);
        // Nor is the clear value left behind in the file's free space or its log.
        let mut bytes = std::fs::read(dir.join("liveform.sqlite3")).unwrap();
        bytes.extend(std::fs::read(dir.join("liveform.sqlite3-wal")).unwrap_or_default());
        assert!(!String::from_utf8_lossy(&bytes).contains("u-3"));
        let found = s.find("p", Lookup::Userid("u-3"), 10).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "old");
        // The new tables exist (sessions start empty: the old release kept them in memory).
        let n = s
            .db()
            .tx(|c| {
                c.query_one("SELECT COUNT(*) AS n FROM sessions", &[])?
                    .i64("n")
            })
            .unwrap();
        assert_eq!(n, 0);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&wdir);
    }

    #[test]
    fn migrations_apply_once_and_files_are_encrypted() {
        let (s, dir) = temp_store("mig");
        assert_eq!(s.schema_version().unwrap(), crate::db::SCHEMA_VERSION);
        drop(s);
        let s = Store::open(&dir, &[7; 32]).unwrap();
        assert_eq!(s.schema_version().unwrap(), crate::db::SCHEMA_VERSION);
        let sub = NewSubmission {
            id: "sub1".into(),
            pid: "p".into(),
            ..Default::default()
        };
        assert!(s.ensure_submission(&sub, 1).unwrap());
        assert!(!s.ensure_submission(&sub, 2).unwrap());
        let data = b"secret image bytes";
        let o = s
            .put_capture(
                "sub1",
                &rec("c1", CaptureSlot::Selfie),
                data,
                None,
                1000,
                16,
                3,
            )
            .unwrap();
        assert!(matches!(o, PutOutcome::Stored(_)));
        let again = s
            .put_capture(
                "sub1",
                &rec("c1", CaptureSlot::Selfie),
                data,
                None,
                1000,
                16,
                3,
            )
            .unwrap();
        assert!(matches!(again, PutOutcome::Existing(_)));
        assert_eq!(
            s.put_capture(
                "sub1",
                &rec("c1", CaptureSlot::Liveness),
                data,
                None,
                1000,
                16,
                3
            )
            .unwrap(),
            PutOutcome::IdConflict
        );
        let files: Vec<_> = std::fs::read_dir(s.capture_dir().unwrap())
            .unwrap()
            .collect();
        assert_eq!(files.len(), 1, "stored once");
        let c = s.capture("sub1", "c1").unwrap().unwrap();
        let raw = std::fs::read(s.capture_dir().unwrap().join(&c.file)).unwrap();
        assert!(!raw.windows(data.len()).any(|w| w == data), "not in clear");
        assert_eq!(s.read_file(&c.file).unwrap(), data);
        // Wrong key: authentication fails.
        let other = Store::open(&dir, &[8; 32]).unwrap();
        assert!(matches!(other.read_file(&c.file), Err(StoreError::Decrypt)));
        // A retake replaces the slot's capture and its file.
        s.put_capture(
            "sub1",
            &rec("c2", CaptureSlot::Selfie),
            b"new",
            None,
            1000,
            16,
            4,
        )
        .unwrap();
        assert_eq!(s.captures("sub1").unwrap().len(), 1);
        assert_eq!(
            std::fs::read_dir(s.capture_dir().unwrap()).unwrap().count(),
            1
        );
        assert_eq!(s.unreferenced_files().unwrap().len(), 0);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Every personal value in the row and the outbox is sealed; lookups and partial deletes go
    /// through the blind indexes (issue 15, finding 6).
    #[test]
    fn personal_data_is_sealed_and_found_by_blind_index() {
        let (s, dir) = temp_store("sealed");
        let sub = NewSubmission {
            id: "s1".into(),
            pid: "p".into(),
            userid: Some("user-4711".into()),
            email: None,
            cf1: Some("custom-one".into()),
            cf2: Some("custom-two".into()),
            cf3: Some("custom-three".into()),
            token: Some("tok-secret".into()),
            ip_address: Some("203.0.113.99".into()),
            projection: None,
        };
        s.ensure_submission(&sub, 1).unwrap();
        // The e-mail asked for at the end is sealed too.
        let done = s
            .finish_with(
                "s1",
                Some("jo@example.com"),
                None,
                None,
                2,
                &[],
                None,
                |_, _, _| Some(Decision::plain(KycStatus::Pending, "{}".into())),
            )
            .unwrap();
        assert_eq!(done, Some(true));
        s.enqueue("p", "s1", "submit", r#"{"email":"jo@example.com"}"#, 3)
            .unwrap();
        let clear = [
            "user-4711",
            "jo@example.com",
            "custom-one",
            "custom-two",
            "custom-three",
            "tok-secret",
            "203.0.113.99",
        ];
        let dump = s
            .db()
            .tx(|c| {
                let mut all = String::new();
                for r in c.query("SELECT * FROM submissions", &[])? {
                    for col in [
                        "userid",
                        "email",
                        "cf1",
                        "cf2",
                        "cf3",
                        "token",
                        "email_ix",
                        "ip_address",
                    ] {
                        all.push_str(&r.opt_text(col)?.unwrap_or_default());
                    }
                }
                for r in c.query("SELECT body FROM outbox", &[])? {
                    all.push_str(&r.text("body")?);
                }
                Ok::<_, DbError>(all)
            })
            .unwrap();
        for v in clear {
            assert!(!dump.contains(v), "{v} stored in clear");
        }
        // The file itself (and its WAL) holds none of them either.
        let mut bytes = std::fs::read(dir.join("liveform.sqlite3")).unwrap();
        bytes.extend(std::fs::read(dir.join("liveform.sqlite3-wal")).unwrap_or_default());
        let text = String::from_utf8_lossy(&bytes);
        for v in clear {
            assert!(!text.contains(v), "{v} in the database file");
        }
        // Reads open them; lookups find them by blind index, only in their project.
        let row = s.submission("s1").unwrap().unwrap();
        assert_eq!(row.userid.as_deref(), Some("user-4711"));
        assert_eq!(row.email.as_deref(), Some("jo@example.com"));
        assert_eq!(row.cf3.as_deref(), Some("custom-three"));
        assert_eq!(row.token.as_deref(), Some("tok-secret"));
        assert_eq!(row.ip_address.as_deref(), Some("203.0.113.99"));
        assert_eq!(
            s.find("p", Lookup::Userid("user-4711"), 5).unwrap().len(),
            1
        );
        assert_eq!(
            s.find("p", Lookup::Email("jo@example.com"), 5)
                .unwrap()
                .len(),
            1
        );
        assert!(s
            .find("q", Lookup::Email("jo@example.com"), 5)
            .unwrap()
            .is_empty());
        assert!(s
            .find("p", Lookup::Email("JO@example.com"), 5)
            .unwrap()
            .is_empty());
        let due = s.due(10, 10).unwrap();
        assert_eq!(due[0].body, r#"{"email":"jo@example.com"}"#);
        // A value moved to another row does not open there.
        s.ensure_submission(
            &NewSubmission {
                id: "s2".into(),
                pid: "p".into(),
                ..Default::default()
            },
            4,
        )
        .unwrap();
        s.db()
            .tx(|c| {
                c.execute(
                    "UPDATE submissions SET userid = (SELECT userid FROM submissions WHERE id = 's1')
                     WHERE id = 's2'",
                    &[],
                )
            })
            .unwrap();
        assert!(matches!(
            s.submission("s2"),
            Err(StoreError::Pii(crate::pii::PiiError::Open))
        ));
        // A partial delete takes the index with the value.
        s.delete_partial("s1", &["email", "userid"], &[], 5)
            .unwrap();
        assert!(s
            .find("p", Lookup::Email("jo@example.com"), 5)
            .unwrap()
            .is_empty());
        assert!(s
            .find("p", Lookup::Userid("user-4711"), 5)
            .unwrap()
            .is_empty());
        let ix = s
            .db()
            .tx(|c| {
                c.query_one(
                    "SELECT email_ix, userid_ix FROM submissions WHERE id = 's1'",
                    &[],
                )
                .and_then(|r| Ok((r.opt_text("email_ix")?, r.opt_text("userid_ix")?)))
            })
            .unwrap();
        assert_eq!(ix, (None, None));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn caps_and_finish() {
        let (s, dir) = temp_store("caps");
        let sub = NewSubmission {
            id: "s".into(),
            pid: "p".into(),
            ..Default::default()
        };
        s.ensure_submission(&sub, 1).unwrap();
        for i in 0..2 {
            let o = s
                .put_capture(
                    "s",
                    &rec(&format!("l{i}"), CaptureSlot::Liveness),
                    b"0123",
                    None,
                    100,
                    2,
                    1,
                )
                .unwrap();
            assert!(matches!(o, PutOutcome::Stored(_)));
        }
        assert_eq!(
            s.put_capture(
                "s",
                &rec("l2", CaptureSlot::Liveness),
                b"0123",
                None,
                100,
                2,
                1
            )
            .unwrap(),
            PutOutcome::TooMany
        );
        assert_eq!(
            s.put_capture(
                "s",
                &rec("big", CaptureSlot::Selfie),
                &[0; 93],
                None,
                100,
                2,
                1
            )
            .unwrap(),
            PutOutcome::SessionBytes
        );
        let pending = |_: &[StoredCapture], _: &[StoredAttempt], _: &[rules::Prior]| {
            Some(Decision::plain(KycStatus::Pending, "{}".to_owned()))
        };
        assert_eq!(
            s.finish_with("s", None, None, None, 5, &[], None, pending)
                .unwrap(),
            Some(true)
        );
        assert_eq!(
            s.finish_with("s", None, None, None, 6, &[], None, pending)
                .unwrap(),
            Some(false)
        );
        assert_eq!(
            s.put_capture(
                "s",
                &rec("late", CaptureSlot::Selfie),
                b"1",
                None,
                100,
                2,
                7
            )
            .unwrap(),
            PutOutcome::Finished
        );
        assert_eq!(
            s.unreferenced_files().unwrap().len(),
            0,
            "refused files removed"
        );
        assert!(s
            .review("s", KycStatus::Approved, "admin@x", None, 8)
            .unwrap());
        let row = s.submission("s").unwrap().unwrap();
        assert_eq!(row.status, KycStatus::Approved);
        assert_eq!(row.reviewer.as_deref(), Some("agent"));
        assert!(s.delete_submission("s").unwrap());
        assert_eq!(
            std::fs::read_dir(s.capture_dir().unwrap()).unwrap().count(),
            0
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn liveness_attempts_in_order_until_passed_or_exhausted() {
        let (s, dir) = temp_store("live");
        let sub = NewSubmission {
            id: "s".into(),
            pid: "p".into(),
            ..Default::default()
        };
        let att = |n: u8, passed: bool| NewAttempt {
            device_passed: passed,
            verification: "{}".into(),
            attempt: n,
            passed,
            hidden_during: false,
            virtual_camera: false,
            record: format!("{{\"attempt\":{n}}}"),
        };
        assert_eq!(
            s.add_liveness_attempt("s", &att(1, false), 3, 1).unwrap(),
            AttemptAdd::Finished,
            "no submission"
        );
        s.ensure_submission(&sub, 1).unwrap();
        assert_eq!(
            s.add_liveness_attempt("s", &att(2, false), 3, 1).unwrap(),
            AttemptAdd::OutOfOrder { expected: 1 }
        );
        for n in 1..=3 {
            assert_eq!(
                s.add_liveness_attempt("s", &att(n, false), 3, 2).unwrap(),
                AttemptAdd::Stored
            );
        }
        assert_eq!(
            s.add_liveness_attempt("s", &att(3, false), 3, 3).unwrap(),
            AttemptAdd::Same
        );
        let mut other = att(3, true);
        other.record = "{}".into();
        assert_eq!(
            s.add_liveness_attempt("s", &other, 3, 3).unwrap(),
            AttemptAdd::OutOfOrder { expected: 4 }
        );
        assert_eq!(
            s.add_liveness_attempt("s", &att(4, true), 3, 3).unwrap(),
            AttemptAdd::Exhausted
        );
        assert_eq!(s.liveness_attempts("s").unwrap().len(), 3);
        assert!(s.delete_submission("s").unwrap());
        assert!(s.liveness_attempts("s").unwrap().is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn claims_leave_out_busy_projects() {
        let (s, dir) = temp_store("claim");
        for i in 0..3 {
            s.enqueue("slow", &format!("s{i}"), "submit", "{}", 10)
                .unwrap();
        }
        s.enqueue("fast", "f", "submit", "{}", 10).unwrap();
        let first = s.claim_due(10, 2, 1000).unwrap();
        assert_eq!(
            first.iter().map(|i| i.pid.as_str()).collect::<Vec<_>>(),
            ["slow", "slow"]
        );
        let next = s
            .claim_due_except(10, 2, 1000, &["slow".to_owned()])
            .unwrap();
        assert_eq!(
            next.iter().map(|i| i.pid.as_str()).collect::<Vec<_>>(),
            ["fast"]
        );
        assert!(
            s.claim_due(10, 5, 1000).unwrap().len() == 1,
            "the third slow one"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn outbox_retries_and_dies() {
        let (s, dir) = temp_store("outbox");
        s.enqueue("p", "sub", "submit", "{}", 10).unwrap();
        assert_eq!(s.due(9, 10).unwrap().len(), 0);
        let d = s.due(10, 10).unwrap();
        assert_eq!(d.len(), 1);
        s.failed(d[0].id, Some(50), "503").unwrap();
        assert_eq!(s.due(49, 10).unwrap().len(), 0);
        assert_eq!(s.due(50, 10).unwrap()[0].attempts, 1);
        s.failed(d[0].id, None, "gave up").unwrap();
        assert_eq!(s.outbox_counts().unwrap(), (0, 1));
        assert_eq!(s.purge_dead(11).unwrap(), 1);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn free_space_is_reported() {
        assert!(free_bytes(&std::env::temp_dir()).unwrap() > 0);
        assert!(free_bytes(Path::new("/nonexistent/liveform")).is_err());
    }
}
