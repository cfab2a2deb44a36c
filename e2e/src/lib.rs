//! End-to-end test harness: the real `liveform` server binary and the Trunk-built SPA, driven
//! through WebDriver (fantoccini) in Chromium, Firefox ESR or WebKitGTK.
//!
//! * `E2E_BROWSER` = `chromium` (default) | `firefox` | `webkit` picks the engine; WebKit needs an
//!   X display, so run it under `xvfb-run -a`.
//! * `LIVEFORM_BIN` (default `<workspace>/target/debug/liveform`) and `LIVEFORM_DIST` (default
//!   `<workspace>/dist`) locate what is tested.
//! * `E2E_TIMEOUT_SECS` overrides the per-element wait (default 15 s Chromium, 30 s others);
//!   `E2E_TEST_TIMEOUT_SECS` the whole-test limit (default 120 s).
//! * Driver paths: `CHROMEDRIVER`, `GECKODRIVER`, `WEBKITWEBDRIVER`; browser binaries:
//!   `CHROMIUM_BIN`, `FIREFOX_BIN`, `MINIBROWSER_BIN`.
//!
//! Every test gets its own server (own config, own data directory), its own driver process and
//! its own browser session. [`run`] always closes the session and kills the driver and server
//! process groups, also when the test body fails, panics or hangs.

use std::fmt::Write as _;
use std::fs::File;
use std::future::Future;
use std::io::{BufRead as _, BufReader, Read as _};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use liveform_core::launch::crypto::{self, Algorithm};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// What a test body returns; `?` works on harness and fantoccini errors, and plain `assert!`
/// panics are caught as well.
pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The error type of the harness helpers.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn err(msg: impl Into<String>) -> BoxError {
    msg.into().into()
}

// ---------------------------------------------------------------------------------------------
// Fixture: the projects in the test config.
// ---------------------------------------------------------------------------------------------

/// The ECB project.
pub const PID: &str = "e2e";
/// Its display name (shown in the welcome heading).
pub const PROJECT_NAME: &str = "E2E Test Bank";
/// Its key (the key string the integrator encrypts with).
pub const KEY: &str = "e2e-ecb-key-0123456789";
/// The GCM project.
pub const GCM_PID: &str = "e2e-gcm";
/// The GCM project's display name.
pub const GCM_PROJECT_NAME: &str = "E2E GCM Bank";
/// The GCM project's key.
pub const GCM_KEY: &str = "e2e-gcm-key-9876543210";
/// The `sessionStorage` key holding the session token.
pub const SESSION_STORAGE_KEY: &str = "liveform.session";

fn test_config() -> String {
    format!(
        r#"[server]
sessions_per_minute = 1000

[[project]]
pid = "{PID}"
name = "{PROJECT_NAME}"
key = "{KEY}"
algorithm = "ecb"
allowed_origins = []

[[project]]
pid = "{GCM_PID}"
name = "{GCM_PROJECT_NAME}"
key = "{GCM_KEY}"
algorithm = "gcm"
allowed_origins = []
"#
    )
}

/// Percent-encodes a query value (Base64's `+`, `/` and `=` included).
pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The `encrypted` value (not yet percent-encoded) for `json`, as the integrator makes it.
pub fn encrypt(algorithm: Algorithm, key: &str, json: &str) -> String {
    // A fixed IV keeps links deterministic; only GCM uses it.
    crypto::encrypt(algorithm, key, [7u8; crypto::GCM_IV_LEN], json.as_bytes())
}

/// An ECB ciphertext of the e2e project whose last block was altered, still valid Base64 and
/// of the right length, which the server must reject as undecryptable (`LF-40003`): the padding
/// check fails. (Altering a middle block instead gives garbage plaintext, i.e. `LF-40004`.)
pub fn tampered_ecb(json: &str) -> String {
    let good = encrypt(Algorithm::Ecb, KEY, json);
    let body_len = good.trim_end_matches('=').len();
    // Characters inside the last 16-byte block (the last ~22 Base64 chars before padding).
    for back in 3..20 {
        let i = body_len - back;
        for replacement in ['A', 'Q', 'g', 'w', 'Z', '5'] {
            let mut chars: Vec<char> = good.chars().collect();
            if chars[i] == replacement {
                continue;
            }
            chars[i] = replacement;
            let candidate: String = chars.into_iter().collect();
            if matches!(
                crypto::decrypt(Algorithm::Ecb, KEY, &candidate),
                Err(crypto::CryptoError::Decrypt)
            ) {
                return candidate;
            }
        }
    }
    panic!("could not build a tampered ciphertext that fails decryption");
}

// ---------------------------------------------------------------------------------------------
// Engines.
// ---------------------------------------------------------------------------------------------

/// The browser engine under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Chromium,
    Firefox,
    Webkit,
}

fn env_path(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

fn home() -> PathBuf {
    env_path("HOME", "/root")
}

impl Engine {
    /// From `E2E_BROWSER` (default Chromium). Panics on an unknown value.
    pub fn from_env() -> Engine {
        match std::env::var("E2E_BROWSER")
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "chromium" | "chrome" => Engine::Chromium,
            "firefox" | "gecko" => Engine::Firefox,
            "webkit" | "webkitgtk" | "safari" => Engine::Webkit,
            other => panic!("E2E_BROWSER={other:?}: expected chromium, firefox or webkit"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
            Engine::Webkit => "webkit",
        }
    }

    /// The default wait for an element (Firefox and WebKit start and run wasm more slowly).
    pub fn default_timeout(self) -> Duration {
        let secs = std::env::var("E2E_TIMEOUT_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(match self {
                Engine::Chromium => 15,
                Engine::Firefox | Engine::Webkit => 30,
            });
        Duration::from_secs(secs)
    }

    fn driver(self) -> PathBuf {
        match self {
            Engine::Chromium => env_path("CHROMEDRIVER", "/usr/bin/chromedriver"),
            Engine::Firefox => std::env::var_os("GECKODRIVER")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    let cargo = home().join(".cargo/bin/geckodriver");
                    if cargo.exists() {
                        cargo
                    } else {
                        PathBuf::from("/usr/bin/geckodriver")
                    }
                }),
            Engine::Webkit => env_path("WEBKITWEBDRIVER", "/usr/bin/WebKitWebDriver"),
        }
    }

    fn browser(self) -> PathBuf {
        match self {
            Engine::Chromium => env_path("CHROMIUM_BIN", "/usr/bin/chromium"),
            Engine::Firefox => env_path("FIREFOX_BIN", "/usr/bin/firefox-esr"),
            Engine::Webkit => env_path(
                "MINIBROWSER_BIN",
                "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
            ),
        }
    }

    fn driver_args(self, port: u16) -> Vec<String> {
        match self {
            Engine::Chromium => vec![format!("--port={port}")],
            Engine::Firefox => vec![
                "--host".into(),
                "127.0.0.1".into(),
                "--port".into(),
                port.to_string(),
            ],
            Engine::Webkit => vec![format!("--port={port}")],
        }
    }

    fn capabilities(self) -> Capabilities {
        let browser = self.browser().display().to_string();
        let caps = match self {
            Engine::Chromium => json!({
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": browser,
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        "--disable-quic", "--use-fake-device-for-media-stream",
                        "--use-fake-ui-for-media-stream",
                    ],
                },
                // Lets a failing test print the page's console (see `browser_console`).
                "goog:loggingPrefs": { "browser": "ALL" },
            }),
            Engine::Firefox => json!({
                "browserName": "firefox",
                "moz:firefoxOptions": {
                    "binary": browser,
                    "args": ["-headless"],
                    "prefs": {
                        "media.navigator.streams.fake": true,
                        "media.navigator.permission.disabled": true,
                        // Page console -> Firefox stdout -> the driver log printed on failure.
                        "devtools.console.stdout.content": true,
                    },
                },
            }),
            Engine::Webkit => json!({
                "browserName": "MiniBrowser",
                "webkitgtk:browserOptions": {
                    "binary": browser,
                    "args": [
                        "--automation",
                        "--enable-media-stream=true",
                        "--enable-mock-capture-devices=true",
                    ],
                },
            }),
        };
        match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn check_installed(self) -> Result<(), String> {
        let driver = self.driver();
        let browser = self.browser();
        let hint = match self {
            Engine::Chromium => "apt-get install -y chromium chromium-driver",
            Engine::Firefox => "apt-get install -y firefox-esr && cargo install geckodriver",
            Engine::Webkit => "apt-get install -y webkit2gtk-driver xvfb",
        };
        for p in [&driver, &browser] {
            if !p.exists() {
                return Err(format!(
                    "E2E_BROWSER={}: {} not found (install with `{hint}`, or set the path env var)",
                    self.name(),
                    p.display()
                ));
            }
        }
        if self == Engine::Webkit
            && std::env::var_os("DISPLAY").is_none()
            && std::env::var_os("WAYLAND_DISPLAY").is_none()
        {
            return Err(
                "E2E_BROWSER=webkit needs a display (MiniBrowser has no headless mode): \
                        run the tests under `xvfb-run -a cargo test -p liveform-e2e`"
                    .into(),
            );
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Processes.
// ---------------------------------------------------------------------------------------------

/// A child process started in its own process group; dropping it terminates the whole group
/// (SIGTERM, a short grace period, then SIGKILL) and reaps the child.
pub struct ProcessGuard {
    name: String,
    child: Option<Child>,
    pgid: i32,
}

impl ProcessGuard {
    fn spawn(name: &str, cmd: &mut Command) -> std::io::Result<ProcessGuard> {
        cmd.process_group(0).stdin(Stdio::null());
        // If the test process dies without unwinding (SIGKILL, abort), take the child along.
        // SAFETY: prctl is async-signal-safe and the closure allocates nothing.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        let pgid = child.id() as i32;
        Ok(ProcessGuard {
            name: name.to_owned(),
            child: Some(child),
            pgid,
        })
    }

    /// The exit status, if the process already exited.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Whether any process of the group is still alive.
    pub fn group_alive(&self) -> bool {
        // SAFETY: kill with signal 0 only checks for existence.
        unsafe { libc::kill(-self.pgid, 0) == 0 }
    }

    /// Terminates the group and reaps the leader. Returns a note if something had to be
    /// SIGKILLed or survived.
    pub fn terminate(&mut self, grace: Duration) -> Option<String> {
        let mut child = self.child.take()?;
        // SAFETY: signalling our own child's process group.
        unsafe { libc::kill(-self.pgid, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        let mut note = None;
        loop {
            let leader_gone = matches!(child.try_wait(), Ok(Some(_)));
            if leader_gone && !self.group_alive() {
                break;
            }
            if Instant::now() >= deadline {
                note = Some(format!(
                    "{} (pgid {}) did not exit within {grace:?} of SIGTERM; SIGKILLed",
                    self.name, self.pgid
                ));
                // SAFETY: as above.
                unsafe { libc::kill(-self.pgid, libc::SIGKILL) };
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = child.wait();
        if self.group_alive() {
            std::thread::sleep(Duration::from_millis(200));
            if self.group_alive() {
                return Some(format!(
                    "{} (pgid {}): processes survived SIGKILL",
                    self.name, self.pgid
                ));
            }
        }
        note
    }
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        if let Some(note) = self.terminate(Duration::from_secs(3)) {
            eprintln!("e2e: {note}");
        }
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}

fn read_lossy(path: &Path) -> String {
    let mut buf = Vec::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// A minimal HTTP/1.1 GET on loopback: (status, body). Used for readiness probes.
pub async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {text:?}")))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// The `liveform serve` process.
pub struct Server {
    pub addr: SocketAddr,
    stdout: Arc<Mutex<String>>,
    stderr_path: PathBuf,
    guard: ProcessGuard,
}

impl Server {
    fn start(bin: &Path, dist: &Path, dir: &Path) -> Result<Server, BoxError> {
        let config = dir.join("liveform.toml");
        std::fs::write(&config, test_config())?;
        let data = dir.join("data");
        let stderr_path = dir.join("server.stderr.log");
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--dist")
            .arg(dist)
            .arg("--data")
            .arg(&data)
            .stdout(Stdio::piped())
            .stderr(File::create(&stderr_path)?);
        let mut guard = ProcessGuard::spawn("liveform server", &mut cmd)
            .map_err(|e| err(format!("cannot start {}: {e}", bin.display())))?;
        let stdout_pipe = guard
            .child
            .as_mut()
            .and_then(|c| c.stdout.take())
            .ok_or_else(|| err("no server stdout"))?;
        let stdout = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        {
            let stdout = stdout.clone();
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stdout_pipe).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        if let (Some(t), Ok(a)) = (tx.take(), rest.trim().parse::<SocketAddr>()) {
                            let _ = t.send(a);
                        }
                    }
                    if let Ok(mut s) = stdout.lock() {
                        s.push_str(&line);
                        s.push('\n');
                    }
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(a) => a,
            Err(_) => {
                let status = guard.exited();
                let out = stdout.lock().map(|s| s.clone()).unwrap_or_default();
                return Err(err(format!(
                    "the server did not print its address (exit status {status:?})\n\
                     stdout:\n{out}\nstderr:\n{}",
                    read_lossy(&stderr_path)
                )));
            }
        };
        Ok(Server {
            addr,
            stdout,
            stderr_path,
            guard,
        })
    }

    fn logs(&self) -> String {
        let out = self.stdout.lock().map(|s| s.clone()).unwrap_or_default();
        format!(
            "--- server stdout ---\n{}\n--- server stderr ---\n{}",
            tail(&out, 40),
            tail(&read_lossy(&self.stderr_path), 40)
        )
    }
}

/// The WebDriver process (chromedriver, geckodriver or WebKitWebDriver).
pub struct Driver {
    pub url: String,
    log_path: PathBuf,
    guard: ProcessGuard,
}

impl Driver {
    async fn start(engine: Engine, dir: &Path) -> Result<Driver, BoxError> {
        let port = free_port()?;
        let log_path = dir.join("driver.log");
        let log = File::create(&log_path)?;
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp)?;
        let program = engine.driver();
        let mut cmd = Command::new(&program);
        cmd.args(engine.driver_args(port))
            // Browser profiles land in the test's temp dir, which is removed afterwards.
            .env("TMPDIR", &tmp)
            .stdout(log.try_clone()?)
            .stderr(log);
        let mut guard = ProcessGuard::spawn(engine.name(), &mut cmd)
            .map_err(|e| err(format!("cannot start {}: {e}", program.display())))?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok((200, _)) = http_get(addr, "/status").await {
                break;
            }
            if let Some(status) = guard.exited() {
                return Err(err(format!(
                    "{} exited early ({status}):\n{}",
                    program.display(),
                    tail(&read_lossy(&log_path), 30)
                )));
            }
            if Instant::now() >= deadline {
                return Err(err(format!(
                    "{} did not answer GET /status on port {port} within 20 s:\n{}",
                    program.display(),
                    tail(&read_lossy(&log_path), 30)
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Driver {
            url: format!("http://{addr}"),
            log_path,
            guard,
        })
    }

    fn logs(&self) -> String {
        format!(
            "--- driver/browser log ---\n{}",
            tail(&read_lossy(&self.log_path), 60)
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The per-test context.
// ---------------------------------------------------------------------------------------------

/// What a test body gets: the browser session and the server's base URL.
#[derive(Clone)]
pub struct Ctx {
    pub client: Client,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub engine: Engine,
    /// The default element wait.
    pub timeout: Duration,
}

/// What [`Ctx::wait_screen`] found.
#[derive(Debug, Clone)]
pub struct ScreenInfo {
    /// The `data-testid` of the screen, e.g. `screen-welcome`.
    pub screen: String,
    /// `[data-testid="error-code"]`'s text, if present.
    pub error_code: Option<String>,
    /// `[data-testid="error-title"]`'s text, if present.
    pub error_title: Option<String>,
}

const SCREEN_PROBE_JS: &str = r#"
const el = document.querySelector('[data-testid^="screen-"]:not([data-testid="screen-loading"])');
const text = (sel) => { const e = document.querySelector(sel); return e ? e.textContent.trim() : null; };
return {
  screen: el ? el.getAttribute('data-testid') : null,
  loading: !!document.querySelector('[data-testid="screen-loading"]'),
  error_code: text('[data-testid="error-code"]'),
  error_title: text('[data-testid="error-title"]'),
};
"#;

impl Ctx {
    /// The absolute URL of `path_and_query` on the server.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base, path_and_query)
    }

    /// Navigates to `path_and_query` on the server.
    pub async fn open(&self, path_and_query: &str) -> Result<(), BoxError> {
        self.client.goto(&self.url(path_and_query)).await?;
        Ok(())
    }

    /// A link of the ECB project carrying `json` encrypted, plus `extra` query text
    /// (e.g. `"&lang=en"`).
    pub fn ecb_link(&self, json: &str, extra: &str) -> String {
        format!(
            "/?pid={PID}&encrypted={}{extra}",
            urlencode(&encrypt(Algorithm::Ecb, KEY, json))
        )
    }

    /// Waits for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> Result<Element, BoxError> {
        self.wait_for_within(css, self.timeout).await
    }

    /// Waits up to `timeout` for an element matching `css`.
    pub async fn wait_for_within(&self, css: &str, timeout: Duration) -> Result<Element, BoxError> {
        match self
            .client
            .wait()
            .at_most(timeout)
            .every(Duration::from_millis(100))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => Ok(e),
            Err(e) => Err(err(format!(
                "no element {css:?} after {timeout:?} ({e}); screen: {}",
                self.describe_screen().await
            ))),
        }
    }

    /// Finds the element with `data-testid` = `id` (waiting for it).
    pub async fn testid(&self, id: &str) -> Result<Element, BoxError> {
        self.wait_for(&format!("[data-testid=\"{id}\"]")).await
    }

    /// The trimmed text of the element with `data-testid` = `id` (waiting for it).
    pub async fn testid_text(&self, id: &str) -> Result<String, BoxError> {
        Ok(self.testid(id).await?.text().await?.trim().to_owned())
    }

    /// Polls `cond` (every 100 ms) until it returns true or the default timeout passes.
    pub async fn wait_until<F, Fut>(&self, what: &str, mut cond: F) -> Result<(), BoxError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<bool, BoxError>>,
    {
        let deadline = Instant::now() + self.timeout;
        loop {
            if cond().await? {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(err(format!(
                    "timed out after {:?} waiting until {what}",
                    self.timeout
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn probe_screen(&self) -> Result<(Option<ScreenInfo>, bool), BoxError> {
        let v = self.client.execute(SCREEN_PROBE_JS, vec![]).await?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let loading = v.get("loading").and_then(Value::as_bool).unwrap_or(false);
        Ok((
            s("screen").map(|screen| ScreenInfo {
                screen,
                error_code: s("error_code"),
                error_title: s("error_title"),
            }),
            loading,
        ))
    }

    async fn describe_screen(&self) -> String {
        match self.probe_screen().await {
            Ok((Some(info), _)) => format!("{info:?}"),
            Ok((None, true)) => "still screen-loading".into(),
            Ok((None, false)) => "no [data-testid^=screen-] element at all".into(),
            Err(e) => format!("cannot probe the page: {e}"),
        }
    }

    /// Waits until a screen other than `screen-loading` is shown and returns it, without judging
    /// which one it is.
    pub async fn settled_screen(&self) -> Result<ScreenInfo, BoxError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let (found, loading) = self.probe_screen().await?;
            if let Some(info) = found {
                return Ok(info);
            }
            if Instant::now() >= deadline {
                return Err(err(format!(
                    "no screen after {:?} ({})",
                    self.timeout,
                    if loading {
                        "still screen-loading"
                    } else {
                        "no [data-testid^=screen-] element at all: did the wasm start?"
                    }
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for the screen `[data-testid=expected]`. Fails early (with the error code) if a
    /// different screen stays up for a second.
    pub async fn wait_screen(&self, expected: &str) -> Result<Element, BoxError> {
        let deadline = Instant::now() + self.timeout;
        let mut wrong_since: Option<Instant> = None;
        loop {
            let (found, loading) = self.probe_screen().await?;
            match found {
                Some(info) if info.screen == expected => {
                    return Ok(self
                        .client
                        .find(Locator::Css(&format!("[data-testid=\"{expected}\"]")))
                        .await?)
                }
                Some(info) => {
                    let since = *wrong_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > Duration::from_secs(1) {
                        return Err(err(format!(
                            "expected {expected}, but the page shows {info:?} (url {})",
                            self.current_url().await
                        )));
                    }
                }
                None => wrong_since = None,
            }
            if Instant::now() >= deadline {
                return Err(err(format!(
                    "no {expected} after {:?} ({}; url {})",
                    self.timeout,
                    if loading {
                        "still screen-loading"
                    } else {
                        "no [data-testid^=screen-] element at all: did the wasm start?"
                    },
                    self.current_url().await
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn current_url(&self) -> String {
        match self.client.current_url().await {
            Ok(u) => u.to_string(),
            Err(e) => format!("<unknown: {e}>"),
        }
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Result<Value, BoxError> {
        Ok(self.client.execute(script, args).await?)
    }

    async fn js_string(&self, script: &str) -> Result<String, BoxError> {
        match self.js(script, vec![]).await? {
            Value::String(s) => Ok(s),
            other => Err(err(format!("{script}: expected a string, got {other}"))),
        }
    }

    /// `window.location.search`.
    pub async fn location_search(&self) -> Result<String, BoxError> {
        self.js_string("return window.location.search;").await
    }

    /// `document.documentElement.lang`.
    pub async fn html_lang(&self) -> Result<String, BoxError> {
        self.js_string("return document.documentElement.lang;")
            .await
    }

    /// `sessionStorage.getItem(key)`.
    pub async fn session_storage(&self, key: &str) -> Result<Option<String>, BoxError> {
        match self
            .js(
                "return window.sessionStorage.getItem(arguments[0]);",
                vec![json!(key)],
            )
            .await?
        {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            other => Err(err(format!("sessionStorage[{key}]: unexpected {other}"))),
        }
    }

    /// `document.body.innerText`, trimmed.
    pub async fn body_text(&self) -> Result<String, BoxError> {
        Ok(self
            .js_string("return document.body ? document.body.innerText : '';")
            .await?
            .trim()
            .to_owned())
    }

    /// Everything useful after a failure: URL, screen, DOM, console.
    async fn diagnostics(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "--- page ---\nurl: {}", self.current_url().await);
        let _ = writeln!(out, "screen: {}", self.describe_screen().await);
        match self
            .js("return document.documentElement.outerHTML;", vec![])
            .await
        {
            Ok(Value::String(html)) => {
                let cut: String = html.chars().take(4000).collect();
                let _ = writeln!(out, "DOM ({} chars):\n{cut}", html.len());
            }
            Ok(other) => {
                let _ = writeln!(out, "DOM: {other}");
            }
            Err(e) => {
                let _ = writeln!(out, "DOM: unavailable ({e})");
            }
        }
        if self.engine == Engine::Chromium {
            match self.client.issue_cmd(ChromeBrowserLog).await {
                Ok(Value::Array(entries)) => {
                    let _ = writeln!(out, "--- browser console ---");
                    for e in entries {
                        let _ = writeln!(
                            out,
                            "{} {}",
                            e.get("level").and_then(Value::as_str).unwrap_or("?"),
                            e.get("message").and_then(Value::as_str).unwrap_or("")
                        );
                    }
                }
                Ok(other) => {
                    let _ = writeln!(out, "console: {other}");
                }
                Err(e) => {
                    let _ = writeln!(out, "console: unavailable ({e})");
                }
            }
        }
        out
    }
}

/// chromedriver's legacy log endpoint (`goog:loggingPrefs` must ask for browser logs).
#[derive(Debug)]
struct ChromeBrowserLog;

impl WebDriverCompatibleCommand for ChromeBrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or("")))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Running a test.
// ---------------------------------------------------------------------------------------------

/// Where the server binary and the SPA are, checked up front.
fn locate_artifacts(require_dist: bool) -> Result<(PathBuf, PathBuf), String> {
    let root = workspace_root();
    let bin = std::env::var_os("LIVEFORM_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/debug/liveform"));
    let dist = std::env::var_os("LIVEFORM_DIST")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("dist"));
    if !bin.is_file() {
        return Err(format!(
            "the server binary {} does not exist: run `cargo build -p liveform-server` first \
             (or set LIVEFORM_BIN)",
            bin.display()
        ));
    }
    if require_dist && !dist.join("index.html").is_file() {
        return Err(format!(
            "the SPA is not built ({} is missing): run `scripts/build-spa.sh` first \
             (or set LIVEFORM_DIST)",
            dist.join("index.html").display()
        ));
    }
    Ok((bin, dist))
}

/// Runs `body` against a fresh server (with the built SPA) in the engine from `E2E_BROWSER`.
/// Always closes the session and kills the driver and server, then reports the body's failure
/// (with page, console, driver and server logs).
pub fn run<F, Fut>(body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = TestResult> + Send + 'static,
{
    run_inner(true, body)
}

/// Like [`run`], but does not need the SPA (`/` answers 503): for checking the harness itself.
pub fn run_without_spa<F, Fut>(body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = TestResult> + Send + 'static,
{
    run_inner(false, body)
}

/// The driver's and server's process group ids of the running test, for harness self-checks.
#[derive(Debug, Clone, Copy)]
pub struct Pgids {
    pub driver: i32,
    pub server: i32,
}

tokio::task_local! {
    static PGIDS: Pgids;
}

/// The process groups of the current test (inside a [`run`] body only).
pub fn current_pgids() -> Option<Pgids> {
    PGIDS.try_with(|p| *p).ok()
}

/// Whether any process of group `pgid` is alive.
pub fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

fn run_inner<F, Fut>(require_dist: bool, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = TestResult> + Send + 'static,
{
    let engine = Engine::from_env();
    if let Err(msg) = engine.check_installed() {
        panic!("{msg}");
    }
    let (bin, dist) = match locate_artifacts(require_dist) {
        Ok(x) => x,
        Err(msg) => panic!("{msg}"),
    };
    let dist = if require_dist {
        dist
    } else {
        PathBuf::from("/nonexistent-liveform-dist")
    };
    let test_timeout = Duration::from_secs(
        std::env::var("E2E_TEST_TIMEOUT_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(120),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let tmp = tempfile::Builder::new()
        .prefix("liveform-e2e-")
        .tempdir()
        .expect("temp dir");

    // Declared before the runtime work so that, whatever happens below, the guards drop (and
    // kill their process groups) before the temp dir is removed.
    let mut server: Option<Server> = None;
    let mut driver: Option<Driver> = None;

    let outcome: Result<(), String> = rt.block_on(async {
        server = Some(
            Server::start(&bin, &dist, tmp.path())
                .map_err(|e| format!("starting the server: {e}"))?,
        );
        let srv = server.as_ref().expect("server");
        match http_get(srv.addr, "/api/health").await {
            Ok((200, b)) if b.contains("ok") => {}
            other => return Err(format!("server /api/health: {other:?}\n{}", srv.logs())),
        }
        driver = Some(
            Driver::start(engine, tmp.path())
                .await
                .map_err(|e| format!("starting the WebDriver: {e}"))?,
        );
        let drv = driver.as_ref().expect("driver");
        let connect = ClientBuilder::new(HttpConnector::new())
            .capabilities(engine.capabilities())
            .connect(&drv.url)
            .await;
        let client = match connect {
            Ok(c) => c,
            Err(e) => {
                return Err(format!(
                    "cannot open a {} WebDriver session: {e}\n{}",
                    engine.name(),
                    drv.logs()
                ))
            }
        };
        let ctx = Ctx {
            client: client.clone(),
            base: format!("http://{}", srv.addr),
            engine,
            timeout: engine.default_timeout(),
        };
        let pgids = Pgids {
            driver: drv.guard.pgid,
            server: srv.guard.pgid,
        };
        let fut = PGIDS.scope(pgids, body(ctx.clone()));
        let mut task = tokio::spawn(fut);
        let result = match tokio::time::timeout(test_timeout, &mut task).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(format!("test failed: {e}")),
            Ok(Err(join)) if join.is_panic() => {
                let p = join.into_panic();
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "<non-string panic>".into());
                Err(format!("test panicked: {msg}"))
            }
            Ok(Err(join)) => Err(format!("test task failed: {join}")),
            Err(_) => {
                task.abort();
                Err(format!("test timed out after {test_timeout:?}"))
            }
        };
        let result = match result {
            Ok(()) => Ok(()),
            Err(msg) => {
                let diag = tokio::time::timeout(Duration::from_secs(20), ctx.diagnostics())
                    .await
                    .unwrap_or_else(|_| "(diagnostics timed out)".into());
                Err(format!("{msg}\n{diag}"))
            }
        };
        drop(ctx);
        // Close the session (quits the browser) before the driver is killed.
        match tokio::time::timeout(Duration::from_secs(30), client.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("e2e: closing the WebDriver session: {e}"),
            Err(_) => eprintln!("e2e: closing the WebDriver session timed out"),
        }
        result
    });

    // Logs must be read before the temp dir goes away.
    let logs = match &outcome {
        Ok(()) => String::new(),
        Err(_) => format!(
            "{}\n{}",
            driver.as_ref().map(Driver::logs).unwrap_or_default(),
            server.as_ref().map(Server::logs).unwrap_or_default()
        ),
    };
    // Stop the runtime (fantoccini's session task) before killing processes.
    drop(rt);
    let mut notes = Vec::new();
    if let Some(mut d) = driver.take() {
        notes.extend(d.guard.terminate(Duration::from_secs(5)));
    }
    if let Some(mut s) = server.take() {
        notes.extend(s.guard.terminate(Duration::from_secs(3)));
    }
    drop(tmp);
    for n in &notes {
        eprintln!("e2e: {n}");
    }
    if let Err(msg) = outcome {
        panic!("[{}] {msg}\n{logs}", engine.name());
    }
}
