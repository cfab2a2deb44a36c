//! What every request can reach ([`AppState`]), its clocks, the built SPA ([`Dist`]), and the two
//! ways async code runs blocking database and storage work: [`db`] and [`blocking`], both on
//! tokio's blocking pool (SQLite and the PostgreSQL client's own runtime block the thread).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use liveform_core::api::{ProjectView, SessionView, ThemeView};
use liveform_core::ErrorCode;
use sha2::{Digest, Sha256};

use crate::config::{ProjectConfig, ValidConfig};
use crate::error::ApiError;
use crate::sessions::{RateLimiter, Session, SessionStore, TokenLedger};
use crate::store::{Store, StoreError};

/// Current time in Unix seconds (injected so tests can move time).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The state as handlers and extractors receive it.
pub type Shared = Arc<AppState>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    })
}

/// The system clock in milliseconds.
pub fn system_ms_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    })
}

/// Clocks (seconds, milliseconds) that follow the database's clock: the local clock plus the
/// offset to the database, measured now and every minute after. Every instance of a deployment
/// then opens and expires sessions, windows and liveness attempts on one time line, whatever
/// each machine's clock says.
pub fn database_clocks(db: Arc<crate::db::Db>) -> (Clock, Clock) {
    use std::sync::atomic::{AtomicI64, Ordering};
    fn local_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
    fn measure(db: &crate::db::Db) -> Option<i64> {
        let before = local_ms();
        let remote = db.now_ms().ok()?;
        let after = local_ms();
        Some(remote - (before + after) / 2)
    }
    let offset = Arc::new(AtomicI64::new(measure(&db).unwrap_or(0)));
    let o = offset.clone();
    let _ = std::thread::Builder::new()
        .name("liveform-clock".into())
        .spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_secs(60));
            if let Some(v) = measure(&db) {
                o.store(v, Ordering::Relaxed);
            }
        });
    let o = offset.clone();
    let ms: Clock = Arc::new(move || local_ms() + o.load(Ordering::Relaxed));
    let secs: Clock = Arc::new(move || (local_ms() + offset.load(Ordering::Relaxed)) / 1000);
    (secs, ms)
}

/// The injected clock in seconds.
pub(crate) fn now(state: &AppState) -> i64 {
    (state.clock)()
}

/// The injected clock in milliseconds (submissions and webhooks keep milliseconds).
pub fn now_ms(state: &AppState) -> i64 {
    match &state.ms_clock {
        Some(c) => c(),
        None => (state.clock)().saturating_mul(1000),
    }
}

/// The built SPA (Trunk's `dist/`).
pub struct Dist {
    pub dir: PathBuf,
    pub(crate) index_html: String,
    /// CSP hash sources of index.html's inline scripts (Trunk's loader, the no-wasm check).
    pub(crate) script_hashes: Vec<String>,
}

impl Dist {
    /// Loads `dir/index.html` and hashes its inline scripts.
    pub fn load(dir: &Path) -> std::io::Result<Dist> {
        let index_html = std::fs::read_to_string(dir.join("index.html"))?;
        let script_hashes = inline_scripts(&index_html)
            .into_iter()
            .map(|s| {
                let digest = Sha256::digest(s.as_bytes());
                format!(
                    "'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                )
            })
            .collect();
        Ok(Dist {
            dir: dir.to_path_buf(),
            index_html,
            script_hashes,
        })
    }
}

/// The contents of `<script>` elements without a `src` attribute.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_and_more = &after[tag_end + 1..];
        let Some(close) = body_and_more.find("</script>") else {
            break;
        };
        if !tag.contains(" src=") && !tag.contains(" src =") {
            out.push(&body_and_more[..close]);
        }
        rest = &body_and_more[close + "</script>".len()..];
    }
    out
}

/// Wrong results-API keys an address may send per minute before it is refused (`429`) until the
/// minute ends: an integrator's mistyped key is corrected long before; a guesser gets 10 a minute.
pub const KEY_FAILURES_PER_MINUTE: u32 = 10;

/// Everything a request can reach.
pub struct AppState {
    pub config: ValidConfig,
    /// The metadata database (sessions, limits, submissions…): SQLite or PostgreSQL.
    pub db: Arc<crate::db::Db>,
    /// This process's random id (the holder of leases on periodic jobs).
    pub instance: String,
    pub sessions: SessionStore,
    pub tokens: TokenLedger,
    pub limiter: RateLimiter,
    /// New sessions and handoff claims per minute across every address and instance.
    pub global_limiter: RateLimiter,
    /// Wrong results-API keys per address (`routes::results::key_guard`).
    pub key_failures: crate::sessions::FailureLimiter,
    pub handoffs: crate::handoff::Handoffs,
    pub clock: Clock,
    /// Milliseconds (liveness frames' arrival); without it, `clock` × 1000 (tests move time in
    /// whole seconds).
    pub ms_clock: Option<Clock>,
    /// The bounded pool that decodes and checks uploaded images (issue 14).
    pub verifier: crate::verify::Verifier,
    /// `/embed/example.html` (the host kit's example page) is served, framing only these origins
    /// (this server's own loopback addresses); `None` (the default, production): 404.
    /// `liveform demo` and `liveform serve --example-host-page` (end-to-end tests) set it.
    pub example_host_page: Option<Vec<String>>,
    /// Uploads streaming on this instance (per-session count, bytes held against the budget).
    pub uploads: Arc<crate::uploads::InFlight>,
    pub dist: Option<Dist>,
    pub data_dir: Option<PathBuf>,
    /// Submissions and captures (`None` without `server.storage_key`: no uploads).
    pub store: Option<Arc<Store>>,
    /// Wakes the webhook sender when an event is queued.
    pub webhook_wake: tokio::sync::Notify,
    #[cfg(feature = "fault-injection")]
    pub faults: crate::fault::Faults,
}

/// The database-backed parts of the state. With a storage key, what they keep of a person
/// (session data, tokens, addresses) is sealed or kept as keyed blind indexes (`pii.rs`).
struct DbParts {
    sessions: SessionStore,
    tokens: TokenLedger,
    limiter: RateLimiter,
    global_limiter: RateLimiter,
    key_failures: crate::sessions::FailureLimiter,
    handoffs: crate::handoff::Handoffs,
}

impl DbParts {
    fn on(config: &ValidConfig, db: &Arc<crate::db::Db>) -> DbParts {
        let s = &config.server;
        let sealer = config
            .storage_key
            .as_ref()
            .map(|k| Arc::new(crate::pii::Sealer::new(k)));
        DbParts {
            sessions: SessionStore::new(
                db.clone(),
                i64::from(s.session_idle_minutes) * 60,
                i64::from(s.session_max_minutes) * 60,
            )
            .sealed(sealer.clone()),
            tokens: TokenLedger::new(db.clone()).sealed(sealer.clone()),
            limiter: RateLimiter::new(db.clone(), s.sessions_per_minute).sealed(sealer.clone()),
            global_limiter: RateLimiter::of_kind(db.clone(), "all", s.sessions_per_minute_total),
            key_failures: crate::sessions::FailureLimiter::new(db.clone(), KEY_FAILURES_PER_MINUTE)
                .sealed(sealer),
            handoffs: crate::handoff::Handoffs::for_settings(db.clone(), s),
        }
    }
}

impl AppState {
    /// A state on a private in-memory SQLite database (tests; `serve` then calls `open_store`).
    pub fn new(config: ValidConfig, dist: Option<Dist>, clock: Clock) -> Self {
        // An in-memory database has no file, network or input to fail on.
        #[allow(clippy::expect_used)]
        let db = crate::db::Db::open_memory().expect("in-memory SQLite");
        Self::with_db(config, dist, clock, Arc::new(db))
    }

    /// A state on `db`.
    pub fn with_db(
        config: ValidConfig,
        dist: Option<Dist>,
        clock: Clock,
        db: Arc<crate::db::Db>,
    ) -> Self {
        let parts = DbParts::on(&config, &db);
        let s = &config.server;
        AppState {
            sessions: parts.sessions,
            tokens: parts.tokens,
            limiter: parts.limiter,
            global_limiter: parts.global_limiter,
            key_failures: parts.key_failures,
            handoffs: parts.handoffs,
            db,
            instance: new_submission_id().unwrap_or_else(|| format!("pid-{}", std::process::id())),
            clock,
            ms_clock: None,
            verifier: crate::verify::Verifier::new(s.verify_workers),
            example_host_page: None,
            uploads: crate::uploads::InFlight::new(s.upload_budget_mb.saturating_mul(1024 * 1024)),
            dist,
            data_dir: None,
            store: None,
            webhook_wake: tokio::sync::Notify::new(),
            #[cfg(feature = "fault-injection")]
            faults: Default::default(),
            config,
        }
    }

    /// Moves every database-backed part (sessions, ledger, limits, handoffs) onto `db`.
    pub fn use_db(&mut self, db: Arc<crate::db::Db>) {
        let parts = DbParts::on(&self.config, &db);
        self.sessions = parts.sessions;
        self.tokens = parts.tokens;
        self.limiter = parts.limiter;
        self.global_limiter = parts.global_limiter;
        self.key_failures = parts.key_failures;
        self.handoffs = parts.handoffs;
        self.db = db;
    }

    /// Opens the database (PostgreSQL with `server.database_url`, else SQLite in `data_dir`) and,
    /// when the config has a storage key, the capture store (the object store with
    /// `server.object_store`, else `data_dir/captures`; without a key uploads answer
    /// `503 LF-50005`); removes capture files a crash left without a row.
    pub fn open_store(&mut self, data_dir: &Path) -> Result<(), StoreError> {
        self.data_dir = Some(data_dir.to_path_buf());
        let db = match &self.config.database_url {
            Some(url) => Arc::new(crate::db::Db::open_postgres(
                url,
                self.config.server.database_pool,
            )?),
            None => Arc::new(crate::store::open_sqlite_in(data_dir)?),
        };
        self.use_db(db.clone());
        if let Some(key) = &self.config.storage_key {
            let blobs = match &self.config.server.object_store {
                Some(o) => crate::blobs::Blobs::S3(
                    crate::blobs::S3Blobs::new(o)
                        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?,
                ),
                None => crate::blobs::Blobs::Dir(crate::store::capture_dir_in(data_dir)?),
            };
            let store = Store::with(db, blobs, key)?;
            let n = store.remove_orphans()?;
            if n > 0 {
                tracing::info!(files = n, "removed capture files left without a record");
            }
            self.store = Some(Arc::new(store));
        }
        Ok(())
    }

    /// The capture store, or `503 LF-50005` without `server.storage_key`.
    pub fn require_store(&self) -> Result<Arc<Store>, ApiError> {
        self.store.clone().ok_or_else(|| {
            ApiError::new(
                ErrorCode::StorageUnavailable,
                "no storage configured (server.storage_key)",
            )
        })
    }

    /// What the browser is told about session `s` of `project`, reached by `token`.
    pub fn session_view(
        &self,
        project: &ProjectConfig,
        token: String,
        s: &Session,
        now: i64,
    ) -> SessionView {
        SessionView {
            token,
            expires_in: self.sessions.expires_in(s, now),
            idle_seconds: self.sessions.idle_secs(),
            project: ProjectView {
                pid: project.pid.clone(),
                name: project.name.clone(),
            },
            lang: s.params.lang.clone(),
            theme: ThemeView::from(liveform_core::theme::palette(
                s.params
                    .main_color
                    .as_deref()
                    .or(project.main_color.as_deref()),
                s.params
                    .inner_color
                    .as_deref()
                    .or(project.inner_color.as_deref()),
            )),
            email_provided: s.params.email.is_some(),
            flow: s.flow.clone(),
            privacy_url: project.privacy_url.clone(),
            terms_url: project.terms_url.clone(),
            choice: s.choice.clone(),
            allow_file_upload: project.allow_file_upload,
            frame_origins: project.allowed_origins.clone(),
            frame_complete: project.frame_complete,
        }
    }
}

/// Runs blocking database work (sessions, limits, the ledger) on the blocking pool, inside the
/// caller's span (its logs keep the request's reference).
pub(crate) async fn db<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&AppState) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let st = state.clone();
    let span = tracing::Span::current();
    crate::db::run(move || span.in_scope(|| f(&st)))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("database task failed: {e}")))
}

/// A storage failure as the person sees it: `500 LF-50001` (the detail goes to the log).
pub(crate) fn storage_failed(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Internal, format!("storage: {e}"))
}

/// Runs blocking storage work (submissions, captures, the outbox) on the blocking pool, inside
/// the caller's span.
pub async fn blocking<T: Send + 'static>(
    store: Arc<Store>,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(|| f(&store)))
        .await
        .map_err(storage_failed)?
        .map_err(storage_failed)
}

/// A submission id: 16 random bytes, lower-case hex (ARGOS ids are opaque strings too).
pub(crate) fn new_submission_id() -> Option<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).ok()?;
    Some(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// 32 random bytes, URL-safe Base64.
pub(crate) fn new_session_token() -> Option<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_inline_scripts_only() {
        let html = r#"<html><script src="/a.js"></script><script type="module">import x;</script>
            <script>if(!window.WebAssembly){}</script></html>"#;
        assert_eq!(
            inline_scripts(html),
            vec!["import x;", "if(!window.WebAssembly){}"]
        );
    }
}
