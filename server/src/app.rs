//! The HTTP application: session API, the built SPA, security headers, panic isolation.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine as _;
use liveform_core::api::{
    Choice, CreateSession, ProjectView, SessionView, ThemeView, SESSION_HEADER,
};
use liveform_core::policy::check_choice;
use liveform_core::{ErrorBody, ErrorCode};
use sha2::{Digest, Sha256};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;

use crate::config::{ProjectConfig, ValidConfig};
use crate::sessions::{RateLimiter, Session, SessionStore, TokenLedger};
use crate::store::Store;

/// Current time in Unix seconds (injected so tests can move time).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    })
}

/// The built SPA (Trunk's `dist/`).
pub struct Dist {
    pub dir: PathBuf,
    index_html: String,
    /// CSP hash sources of index.html's inline scripts (Trunk's loader, the no-wasm check).
    script_hashes: Vec<String>,
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
    /// Wrong results-API keys per address (`results_key_guard`).
    pub key_failures: crate::sessions::FailureLimiter,
    pub handoffs: crate::handoff::Handoffs,
    pub clock: Clock,
    /// Milliseconds (liveness frames' arrival); without it, `clock` × 1000 (tests move time in
    /// whole seconds).
    pub ms_clock: Option<Clock>,
    /// The bounded pool that decodes and checks uploaded images (issue 14).
    pub verifier: crate::verify::Verifier,
    pub dist: Option<Dist>,
    pub data_dir: Option<PathBuf>,
    /// Submissions and captures (`None` without `server.storage_key`: no uploads).
    pub store: Option<Arc<Store>>,
    /// Wakes the webhook sender when an event is queued.
    pub webhook_wake: tokio::sync::Notify,
    #[cfg(feature = "fault-injection")]
    pub faults: crate::fault::Faults,
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
        let s = &config.server;
        AppState {
            sessions: SessionStore::new(
                db.clone(),
                i64::from(s.session_idle_minutes) * 60,
                i64::from(s.session_max_minutes) * 60,
            ),
            tokens: TokenLedger::new(db.clone()),
            limiter: RateLimiter::new(db.clone(), s.sessions_per_minute),
            key_failures: crate::sessions::FailureLimiter::new(db.clone(), KEY_FAILURES_PER_MINUTE),
            handoffs: crate::handoff::Handoffs::for_settings(db.clone(), s),
            db,
            instance: new_submission_id().unwrap_or_else(|| format!("pid-{}", std::process::id())),
            clock,
            ms_clock: None,
            verifier: crate::verify::Verifier::new(s.verify_workers),
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
        let s = &self.config.server;
        self.sessions = SessionStore::new(
            db.clone(),
            i64::from(s.session_idle_minutes) * 60,
            i64::from(s.session_max_minutes) * 60,
        );
        self.tokens = TokenLedger::new(db.clone());
        self.limiter = RateLimiter::new(db.clone(), s.sessions_per_minute);
        self.key_failures =
            crate::sessions::FailureLimiter::new(db.clone(), KEY_FAILURES_PER_MINUTE);
        self.handoffs = crate::handoff::Handoffs::for_settings(db.clone(), s);
        self.db = db;
    }

    /// Opens the database (PostgreSQL with `server.database_url`, else SQLite in `data_dir`) and,
    /// when the config has a storage key, the capture store (the object store with
    /// `server.object_store`, else `data_dir/captures`; without a key uploads answer
    /// `503 LF-50005`); removes capture files a crash left without a row.
    pub fn open_store(&mut self, data_dir: &Path) -> Result<(), crate::store::StoreError> {
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
                        .map_err(|e| crate::store::StoreError::Io(std::io::Error::other(e)))?,
                ),
                None => crate::blobs::Blobs::Dir(crate::store::capture_dir_in(data_dir)?),
            };
            let store = Store::with(db, blobs, key)?;
            let n = store.remove_orphans()?;
            if n > 0 {
                eprintln!("liveform: removed {n} capture file(s) left without a record");
            }
            self.store = Some(Arc::new(store));
        }
        Ok(())
    }
}

/// Starts the background tasks (webhook sender, retention); `serve` calls it, tests may.
pub fn spawn_background(state: &Arc<AppState>) {
    tokio::spawn(maintain(state.clone()));
    if state.store.is_some() {
        tokio::spawn(crate::webhooks::run(state.clone()));
        tokio::spawn(crate::retention::run(state.clone()));
    }
}

/// Every minute: removes expired sessions (their tokens and handoff codes go with them) and
/// ended rate-limit windows. Idempotent deletes, so every instance may run it.
async fn maintain(state: Arc<AppState>) {
    loop {
        let now = (state.clock)();
        let st = state.clone();
        let res = tokio::task::spawn_blocking(move || {
            let sessions = st.sessions.sweep(now);
            let windows = crate::sessions::sweep_rate_counts(&st.db, now);
            (sessions, windows)
        })
        .await;
        if let Ok((Err(code), _)) = &res {
            eprintln!("liveform: session sweep failed: {}", code.id());
        }
        if let Ok((_, Err(e))) = &res {
            eprintln!("liveform: rate-limit sweep failed: {e}");
        }
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
}

pub(crate) type Shared = Arc<AppState>;

/// A refused request: a catalogue code, an English detail, maybe a Retry-After.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    pub retry_after: Option<i64>,
    /// With `LF-30009`: the missing capture slots.
    pub missing: Vec<liveform_core::flow::CaptureSlot>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError {
            code,
            detail: detail.into(),
            retry_after: None,
            missing: Vec::new(),
        }
    }
}

impl From<liveform_core::LaunchError> for ApiError {
    fn from(e: liveform_core::LaunchError) -> Self {
        ApiError::new(e.code, e.detail)
    }
}

/// A short random reference to quote to support; logged with the detail.
pub fn reference() -> String {
    let mut b = [0u8; 6];
    // No entropy means no reference, never a failure.
    let _ = getrandom::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn error_response(code: ErrorCode, detail: String, retry_after: Option<i64>) -> Response {
    error_body_response(ErrorBody::new(code, detail), code, retry_after)
}

fn error_body_response(mut body: ErrorBody, code: ErrorCode, retry_after: Option<i64>) -> Response {
    let r = reference();
    eprintln!("liveform: ref={r} {} {}", code.id(), body.detail);
    body.reference = Some(r);
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let kept = body.clone();
    let mut resp = (status, Json(body)).into_response();
    // The form's routes answer without the detail (`redact_detail`); it stays in the log.
    resp.extensions_mut().insert(kept);
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(secs) = retry_after {
        if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
            h.insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = ErrorBody::new(self.code, self.detail);
        body.missing = self.missing;
        error_body_response(body, self.code, self.retry_after)
    }
}

/// What the browser's routes (`/api/…`) answer for a refusal: the code, the message key, the
/// reference and a generic detail. The specific detail (a decryption or parse error, which check
/// refused) went to the log under the reference: in the browser it would be an oracle on the
/// link's plaintext and a guide for scripted clients. The integrators' `/v3` API keeps it.
async fn redact_detail(mut resp: Response) -> Response {
    let Some(mut body) = resp.extensions_mut().remove::<ErrorBody>() else {
        return resp;
    };
    body.detail = format!(
        "{}: see the error catalogue (docs/errors.md); quote the reference to support",
        body.code
    );
    let Ok(json) = serde_json::to_vec(&body) else {
        return resp;
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json))
}

/// Wrong results-API keys an address may send per minute before it is refused (`429`) until the
/// minute ends: an integrator's mistyped key is corrected long before; a guesser gets 10 a minute.
pub const KEY_FAILURES_PER_MINUTE: u32 = 10;

/// The results API's guard against key guessing: an address over its wrong keys for the minute
/// gets `429 LF-20002` (with `Retry-After`) before its key is compared; every `403 LF-70002`
/// counts.
async fn results_key_guard(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let ip = rate_key(client_ip(&state, req.headers(), peer));
    let now = (state.clock)();
    let blocked = match db(&state, move |s| s.key_failures.blocked(ip, now)).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    if let Err(wait) = blocked {
        return ApiError {
            retry_after: Some(wait),
            ..ApiError::new(
                ErrorCode::RateLimited,
                format!("too many wrong API keys from {ip}"),
            )
        }
        .into_response();
    }
    let resp = next.run(req).await;
    if resp.status() == StatusCode::FORBIDDEN
        && resp
            .extensions()
            .get::<ErrorBody>()
            .is_some_and(|b| b.code == ErrorCode::ApiKeyWrong.id())
    {
        let _ = db(&state, move |s| s.key_failures.failed(ip, now)).await;
    }
    resp
}

/// The router with every layer; `extra` routes (tests) get the same layers.
pub fn router(state: Shared, extra: Router<Shared>) -> Router {
    let api = Router::new()
        .route("/api/session", get(get_session).post(create_session))
        .route("/api/session/choice", post(post_choice))
        .route("/api/session/captures", get(crate::uploads::list_captures))
        .route("/api/session/finish", post(crate::uploads::finish))
        .route("/api/session/leave", post(crate::uploads::leave))
        .route(
            liveform_core::api::LIVENESS_PATH,
            post(crate::liveness::post_liveness),
        )
        .route(
            liveform_core::api::LIVENESS_OPEN_PATH,
            post(crate::liveness::open_attempt),
        )
        .route(
            "/api/handoff",
            get(crate::handoff::get_handoff).post(crate::handoff::post_handoff),
        )
        .route(
            "/api/handoff/claim",
            axum::routing::post(crate::handoff::post_claim),
        )
        .route(
            "/api/health",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .layer(RequestBodyLimitLayer::new(64 * 1024))
        .layer(middleware::map_response(redact_detail));
    #[cfg(feature = "fault-injection")]
    let api = api.route(crate::fault::PATH, post(crate::fault::arm));
    // Captures stream their own bodies with their own limits (uploads.rs); no buffering layer.
    let captures = Router::new()
        .route(
            "/api/capture/{capture_id}",
            put(crate::uploads::put_capture).delete(crate::uploads::delete_capture),
        )
        .layer(middleware::map_response(redact_detail));
    // The integrators' results API (results.rs).
    let results = Router::new()
        .route(
            "/v3/submission",
            get(crate::results::get_submission).delete(crate::results::delete_submission),
        )
        .route("/v3/submission/review", post(crate::results::post_review))
        .route(
            "/v3/submission/partial",
            axum::routing::delete(crate::results::delete_partial),
        )
        .route("/v3/image", get(crate::results::get_image))
        .layer(RequestBodyLimitLayer::new(64 * 1024))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            results_key_guard,
        ));
    let mut app = Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(api)
        .merge(captures)
        .merge(results)
        .merge(extra);
    if let Some(d) = &state.dist {
        let files = ServeDir::new(&d.dir)
            .precompressed_br()
            .precompressed_gzip()
            .append_index_html_on_directories(false);
        app = app.fallback_service(files);
    }
    app.layer(middleware::from_fn_with_state(
        state.clone(),
        security_headers,
    ))
    .layer(CatchPanicLayer::custom(
        |_panic: Box<dyn std::any::Any + Send>| {
            error_response(
                ErrorCode::Internal,
                "a request handler panicked; the server keeps serving".into(),
                None,
            )
        },
    ))
    .with_state(state)
}

/// `GET /healthz`: the process is alive (for a load balancer's liveness probe; no dependencies).
async fn healthz() -> Response {
    let mut r = Json(serde_json::json!({"status": "ok"})).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET /readyz`: the database and the capture storage answer (`200`), else `503` naming which
/// does not — a load balancer sends no traffic to this instance meanwhile.
async fn readyz(State(state): State<Shared>) -> Response {
    let st = state.clone();
    let (database, storage) = crate::db::run(move || {
        let database = st.db.ping();
        let storage = st.store.as_ref().map(|s| s.blobs().ping());
        (database, storage)
    })
    .await
    .unwrap_or((false, Some(false)));
    let word = |ok: bool| if ok { "ok" } else { "unreachable" };
    let ready = database && storage.unwrap_or(true);
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not ready" },
        "database": word(database),
        "database_backend": match state.db.backend() {
            crate::db::Backend::Sqlite => "sqlite",
            crate::db::Backend::Postgres => "postgres",
        },
        "storage": storage.map_or("not configured", word),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut r = (status, Json(body)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
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

/// The system clock in milliseconds.
pub fn system_ms_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    })
}

/// The address a rate limit counts: an IPv4 address itself; an IPv6 address by its /64 (one
/// subscriber's network: a person holds 2^64 addresses, not one).
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

pub(crate) fn client_ip(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if let Some(h) = &state.config.server.client_ip_header {
        if let Some(ip) = headers
            .get(h.as_str())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
    }
    peer.ip()
}

pub(crate) fn view(
    state: &AppState,
    project: &ProjectConfig,
    token: String,
    s: &Session,
    now: i64,
) -> SessionView {
    SessionView {
        token,
        expires_in: state.sessions.expires_in(s, now),
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

/// The per-address limit shared by opening sessions and claiming handoff codes:
/// `429 LF-20002` with `Retry-After` when `ip` went over it.
pub(crate) async fn rate_limit(
    state: &Shared,
    headers: &HeaderMap,
    peer: SocketAddr,
    now: i64,
    what: &str,
) -> Result<(), ApiError> {
    let ip = rate_key(client_ip(state, headers, peer));
    db(state, move |s| s.limiter.check(ip, now))
        .await?
        .map_err(|wait| ApiError {
            retry_after: Some(wait),
            ..ApiError::new(ErrorCode::RateLimited, format!("too many {what} from {ip}"))
        })
}

/// `POST /api/session {"query": "<raw query>"}`: decrypt, validate, open a session.
async fn create_session(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<CreateSession>, JsonRejection>,
) -> Result<Response, ApiError> {
    let t = now(&state);
    rate_limit(&state, &headers, peer, t, "sessions").await?;
    let Json(req) = body.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    let opened = crate::opening::open_link(&state.config, &req.query, t)?;
    let (project, params, flow) = (opened.project, opened.params, opened.flow);
    if !params.ignored.is_empty() {
        let names: Vec<String> = params
            .ignored
            .iter()
            .map(|i| format!("{}({:?})", i.name, i.reason))
            .collect();
        eprintln!(
            "liveform: pid={} ignored parameters: {}",
            project.pid,
            names.join(" ")
        );
    }
    if let Some(tok) = &params.token {
        let (pid, tok) = (project.pid.clone(), tok.clone());
        db(&state, move |s| s.tokens.use_token(&pid, &tok, t))
            .await?
            .map_err(|code| ApiError::new(code, "private-mode token refused"))?;
    }
    let token = new_session_token()
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "no system randomness"))?;
    let submission_id = new_submission_id()
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "no system randomness"))?;
    let liveness = liveness_sequence(project)
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "no system randomness"))?;
    let session = Session {
        pid: project.pid.clone(),
        params,
        flow,
        choice: None,
        submission_id,
        created: t,
        last_seen: t,
        finished: false,
        liveness,
    };
    let v = view(&state, project, token.clone(), &session, t);
    db(&state, move |s| s.sessions.insert(token, session, t))
        .await?
        .map_err(|code| ApiError::new(code, "cannot store the session"))?;
    let mut resp = (StatusCode::CREATED, Json(v)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `GET /api/session` with the session header: resume (a reload in the same tab).
async fn get_session(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let t = now(&state);
    let token = headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::new(ErrorCode::SessionExpired, "no session header"))?;
    let owned = token.to_owned();
    let s = db(&state, move |s| s.sessions.touch(&owned, t))
        .await?
        .map_err(|code| ApiError::new(code, "unknown or expired session"))?;
    let project = state
        .config
        .project(&s.pid)
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownProject, "project removed"))?;
    let v = view(&state, project, token.to_owned(), &s, t);
    let mut resp = Json(v).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `POST /api/session/choice`: re-checks a country / ID type against the session's offer.
async fn post_choice(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<Choice>, JsonRejection>,
) -> Result<Response, ApiError> {
    let t = now(&state);
    let token = headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::new(ErrorCode::SessionExpired, "no session header"))?
        .to_owned();
    let Json(choice) = body.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
    let owned = token.clone();
    let s = db(&state, move |s| s.sessions.touch(&owned, t))
        .await?
        .map_err(|code| ApiError::new(code, "unknown or expired session"))?;
    check_choice(s.flow.offer(), choice.country, choice.id_type)
        .map_err(|e| ApiError::new(e.code(), e.detail))?;
    // A different country or type makes the document captures stale (the flow clears them too);
    // once finished, the choice is part of the submission and cannot change.
    let changed = s.choice.as_ref().is_some_and(|c| *c != choice);
    if let Some(store) = &state.store {
        let sid = s.submission_id.clone();
        let finished = crate::uploads::blocking(store.clone(), move |st| {
            let row = st.submission(&sid)?;
            let finished = row
                .as_ref()
                .is_some_and(|r| r.status != liveform_core::api::KycStatus::Incomplete);
            if changed && !finished {
                st.delete_partial(
                    &sid,
                    &[],
                    &[
                        liveform_core::flow::CaptureSlot::DocumentFront,
                        liveform_core::flow::CaptureSlot::DocumentBack,
                    ],
                    0,
                )?;
            }
            Ok(finished)
        })
        .await?;
        if finished && s.choice.as_ref() != Some(&choice) {
            return Err(ApiError::new(
                ErrorCode::AlreadySubmitted,
                "the submission is finished",
            ));
        }
    }
    db(&state, move |s| {
        s.sessions.update(&token, t, |s| s.choice = Some(choice))
    })
    .await?
    .map_err(|code| ApiError::new(code, "unknown or expired session"))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The session's liveness challenges: the project's fixed ones, else drawn from 16 random bytes.
fn liveness_sequence(project: &ProjectConfig) -> Option<Vec<liveform_core::liveness::Challenge>> {
    if let Some(fixed) = &project.liveness_challenges {
        return Some(fixed.clone());
    }
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).ok()?;
    Some(liveform_core::liveness::draw(&b))
}

/// A submission id: 16 random bytes, lower-case hex (ARGOS ids are opaque strings too).
fn new_submission_id() -> Option<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).ok()?;
    Some(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Runs blocking database work (sessions, limits, the ledger) off the async threads.
pub(crate) async fn db<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&AppState) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let st = state.clone();
    crate::db::run(move || f(&st))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("database task failed: {e}")))
}

/// 32 random bytes, URL-safe Base64.
pub(crate) fn new_session_token() -> Option<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// `GET /` (any query): the SPA's index.html.
async fn index(State(state): State<Shared>) -> Response {
    match &state.dist {
        Some(d) => {
            let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], d.index_html.clone())
                .into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            r
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The form is not built. Run scripts/build-spa.sh, then start the server with --dist dist.\n",
        )
            .into_response(),
    }
}

/// The project named by the page URL's `pid`, if any.
fn project_of<'a>(state: &'a AppState, query: Option<&str>) -> Option<&'a ProjectConfig> {
    let q = query?;
    let pid = form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "pid")
        .map(|(_, v)| v.into_owned())?;
    state.config.project(&pid)
}

/// Security headers on every response; CSP, frame-ancestors and Permissions-Policy follow the
/// project in the page URL (`pid` stays in the address bar for exactly this reason).
async fn security_headers(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let project = project_of(&state, req.uri().query()).map(|p| p.allowed_origins.clone());
    // API answers set their own Cache-Control (no-store); static files get caching below.
    let is_api = req.uri().path().starts_with("/api/") || req.uri().path().starts_with("/v3/");
    let is_index = req.uri().path() == "/";
    // The host kit's example page (dist/embed/) frames the form: it may frame any http(s) origin.
    let is_embed_example = req.uri().path().starts_with("/embed/");
    let hashed_asset = [".wasm", ".js", ".css"]
        .iter()
        .any(|ext| req.uri().path().ends_with(ext));
    let mut resp: Response<Body> = next.run(req).await;
    let origins = project.unwrap_or_default();
    let ok = resp.status().is_success();
    let h = resp.headers_mut();
    let hashes = state
        .dist
        .as_ref()
        .map(|d| d.script_hashes.join(" "))
        .unwrap_or_default();
    let ancestors = if origins.is_empty() {
        "'self'".to_owned()
    } else {
        format!("'self' {}", origins.join(" "))
    };
    let frames = if is_embed_example {
        "'self' https: http:"
    } else {
        "'self'"
    };
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {hashes}; style-src 'self'; \
         img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; \
         worker-src 'self' blob:; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-src {frames}; frame-ancestors {ancestors}"
    );
    let quoted: Vec<String> = origins.iter().map(|o| format!("\"{o}\"")).collect();
    let allow = if quoted.is_empty() {
        "self".to_owned()
    } else {
        format!("self {}", quoted.join(" "))
    };
    // The example host page delegates the camera to the frame it embeds (its `allow` attribute
    // names the form's origin); a real host page sends `camera=(self "https://form.example")`.
    let allow = if is_embed_example {
        "*".to_owned()
    } else {
        format!("({allow})")
    };
    let pp = format!(
        "camera={allow}, fullscreen={allow}, microphone=(), geolocation=(), payment=(), usb=()"
    );
    let handler_cached = h.contains_key(header::CACHE_CONTROL);
    let mut set = |name: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(name, v);
        }
    };
    set(header::CONTENT_SECURITY_POLICY, &csp);
    set(header::HeaderName::from_static("permissions-policy"), &pp);
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // Served over https (behind its proxy): browsers keep to https for a year.
    if state
        .config
        .server
        .public_base_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    if !is_api && !is_index && ok && !handler_cached {
        // Trunk names its wasm, js and css by content hash: they never change under one name.
        let cache = if hashed_asset {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        set(header::CACHE_CONTROL, cache);
    }
    resp
}

/// Binds and serves until Ctrl-C; `ready` receives the bound address (port 0 picks a free one).
pub async fn serve(
    state: AppState,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let state = Arc::new(state);
    spawn_background(&state);
    let app = router(state, Router::new());
    ready(local);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
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
