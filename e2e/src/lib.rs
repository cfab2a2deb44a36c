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
//! * `E2E_TRACE=1` prints the timing of each phase (server, driver, session, body, shutdown).
//!
//! Two ways to run bodies (`async fn(Ctx) -> TestResult`):
//! * [`suite`]: the `main` of a `harness = false` test file. One server, one driver and one
//!   browser session for the whole file; each test runs in a fresh tab (empty `sessionStorage`);
//!   a failed test gets its session replaced. Firefox needs ~4.5 s per session, so this is what
//!   keeps the suite fast.
//! * [`run`]: inside an ordinary `#[test]`; its own server, driver and session.
//!
//! Both always close the WebDriver session and then kill the driver's and the server's process
//! groups (browser included), also when a body fails, panics or hangs (`E2E_TEST_TIMEOUT_SECS`).
//! Ctrl-C / SIGTERM / SIGHUP kill the groups and remove the temp dirs; if the test process is
//! SIGKILLed, the driver and server still die (`PR_SET_PDEATHSIG`), the browser may not.
//! A failure prints the URL, the shown screen, the DOM, the browser console (Chromium; Firefox's
//! console goes to the driver log), the driver/browser log and the server's output.

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

pub mod a11y;
pub mod flow;
pub mod scale;
mod sys;
pub use scale::{with_cluster, Cluster, Proxy, ProxyRecord, Services};

/// What a test body returns; `?` works on harness and fantoccini errors, and plain `assert!`
/// panics are caught as well.
pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The error type of the harness helpers.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn trace(t0: Instant, what: &str) {
    if std::env::var_os("E2E_TRACE").is_some() {
        eprintln!("e2e: {:>7.3}s {what}", t0.elapsed().as_secs_f64());
    }
}

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
/// The GCM project's results API key (e2e/fixtures/liveform.toml).
pub const GCM_API_KEY: &str = "e2e-gcm-api-key-1357913579";
/// The policy project (GCM, `blacklist_countries = ["RUS"]`).
pub const POLICY_PID: &str = "e2e-policy";
/// The policy project's display name.
pub const POLICY_PROJECT_NAME: &str = "E2E Policy Bank";
/// The policy project's key.
pub const POLICY_KEY: &str = "e2e-policy-key-1357924680";
/// The Return URL project (ECB, `return_encrypted`, results API key).
pub const RETURN_PID: &str = "e2e-return";
/// The Return URL project's display name.
pub const RETURN_PROJECT_NAME: &str = "E2E Return Bank";
/// The Return URL project's key (also what its `encrypted` Return URL is encrypted with).
pub const RETURN_KEY: &str = "e2e-return-key-2468013579";
/// The Return URL project's results API key.
pub const RETURN_API_KEY: &str = "e2e-return-api-key-9876543210";
/// The active-liveness project (`e2e/tests/selfie.rs`): a fixed challenge sequence, `closer`
/// then `back`, which the `selfie-zoom` feed performs.
pub const LIVE_PID: &str = "e2e-live";
pub const LIVE_PROJECT_NAME: &str = "E2E Liveness Bank";
pub const LIVE_KEY: &str = "e2e-live-key-1122334455";
pub const LIVE_API_KEY: &str = "e2e-live-api-key-5544332211";

/// The accessibility project (`e2e/tests/a11y.rs`): asks for an e-mail, has privacy and terms
/// links and no active-liveness step, so one walk meets every screen up to the result.
pub const A11Y_PID: &str = "e2e-a11y";
pub const A11Y_PROJECT_NAME: &str = "E2E Accessible Bank";
pub const A11Y_KEY: &str = "e2e-a11y-key-5647382910";

/// The path the e2e projects' Return URL points at, on the test server itself (a 404 page).
pub const RETURN_PATH: &str = "/e2e/return";
/// The `sessionStorage` key holding the session token.
pub const SESSION_STORAGE_KEY: &str = "liveform.session";

/// The config file of every test (`e2e/fixtures/liveform.toml`).
pub const TEST_CONFIG: &str = include_str!("../fixtures/liveform.toml");

fn test_config() -> String {
    for (pid, name, key) in [
        (PID, PROJECT_NAME, KEY),
        (GCM_PID, GCM_PROJECT_NAME, GCM_KEY),
        (POLICY_PID, POLICY_PROJECT_NAME, POLICY_KEY),
        (RETURN_PID, RETURN_PROJECT_NAME, RETURN_KEY),
        (LIVE_PID, LIVE_PROJECT_NAME, LIVE_KEY),
        (A11Y_PID, A11Y_PROJECT_NAME, A11Y_KEY),
    ] {
        for line in [
            format!("pid = \"{pid}\""),
            format!("name = \"{name}\""),
            format!("key = \"{key}\""),
        ] {
            assert!(
                TEST_CONFIG.lines().any(|l| l.trim() == line),
                "e2e/fixtures/liveform.toml lacks `{line}` (keep it in sync with src/lib.rs)"
            );
        }
    }
    assert!(
        TEST_CONFIG.contains(&format!("api_key = \"{RETURN_API_KEY}\"")),
        "e2e/fixtures/liveform.toml lacks the return project's api_key"
    );
    TEST_CONFIG.to_owned()
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

/// A link of project `pid` carrying `json` encrypted with `key`, plus `extra` query text
/// (e.g. `"&lang=en"`).
pub fn link(pid: &str, algorithm: Algorithm, key: &str, json: &str, extra: &str) -> String {
    format!(
        "/?pid={pid}&encrypted={}{extra}",
        urlencode(&encrypt(algorithm, key, json))
    )
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
        Engine::try_from_env().unwrap_or_else(|e| panic!("{e}"))
    }

    /// From `E2E_BROWSER` (default Chromium).
    pub fn try_from_env() -> Result<Engine, String> {
        match std::env::var("E2E_BROWSER")
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "chromium" | "chrome" => Ok(Engine::Chromium),
            "firefox" | "gecko" => Ok(Engine::Firefox),
            "webkit" | "webkitgtk" | "safari" => Ok(Engine::Webkit),
            other => Err(format!(
                "E2E_BROWSER={other:?}: expected chromium, firefox or webkit"
            )),
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
                    let cargo_home = std::env::var_os("CARGO_HOME")
                        .filter(|v| !v.is_empty())
                        .map(PathBuf::from)
                        .unwrap_or_else(|| home().join(".cargo"));
                    let cargo = cargo_home.join("bin/geckodriver");
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

    /// The session capabilities; in Chromium, `chromium_feed` (an absolute path to a `.mjpeg` or
    /// `.y4m` file) replaces the synthetic fake camera. Firefox and WebKit ignore it.
    pub fn capabilities_with_feed(self, chromium_feed: Option<&Path>) -> Capabilities {
        let browser = self.browser().display().to_string();
        let caps = match self {
            Engine::Chromium => {
                let mut args = vec![
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--disable-quic",
                    "--use-fake-device-for-media-stream",
                    "--use-fake-ui-for-media-stream",
                ]
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>();
                if let Some(feed) = chromium_feed {
                    args.push(format!(
                        "--use-file-for-fake-video-capture={}",
                        feed.display()
                    ));
                }
                json!({
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": browser, "args": args },
                    // Lets a failing test print the page's console (see `browser_console`).
                    "goog:loggingPrefs": { "browser": "ALL" },
                })
            }
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
    /// Starts `cmd` in a process group of its own (stdin closed), killed with this process.
    pub fn spawn(name: &str, cmd: &mut Command) -> std::io::Result<ProcessGuard> {
        cmd.process_group(0).stdin(Stdio::null());
        // If the test process dies without unwinding (SIGKILL, abort), take the child along.
        sys::kill_with_parent(cmd);
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
        group_alive(self.pgid)
    }

    /// The process group id (= the leader's pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// SIGKILLs the whole group at once (no grace: a crash) and reaps the leader. Returns a note
    /// if a process of the group is still alive half a second later.
    pub fn kill(&mut self) -> Option<String> {
        let mut child = self.child.take()?;
        sys::signal_group(self.pgid, libc::SIGKILL);
        let _ = child.wait();
        let deadline = Instant::now() + Duration::from_millis(500);
        while self.group_alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let left = group_members(self.pgid);
        (!left.is_empty()).then(|| {
            format!(
                "{} (pgid {}): processes survived SIGKILL: {left:?}",
                self.name, self.pgid
            )
        })
    }

    /// Terminates the group and reaps the leader. Returns a note if something had to be
    /// SIGKILLed or survived.
    pub fn terminate(&mut self, grace: Duration) -> Option<String> {
        let mut child = self.child.take()?;
        sys::signal_group(self.pgid, libc::SIGTERM);
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
                sys::signal_group(self.pgid, libc::SIGKILL);
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = child.wait();
        if self.group_alive() {
            std::thread::sleep(Duration::from_millis(200));
            let left = group_members(self.pgid);
            if !left.is_empty() {
                return Some(format!(
                    "{} (pgid {}): processes survived SIGKILL: {left:?}",
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

/// The webhook receiver of this test process (one for all its servers): the fixture's
/// `webhook_url = "http://127.0.0.1:9/e2e/hook"` is pointed at it. Every JSON body it was sent,
/// in arrival order; it answers `200` to everything.
fn webhook_receiver() -> &'static (u16, Arc<Mutex<Vec<Value>>>) {
    static R: std::sync::OnceLock<(u16, Arc<Mutex<Vec<Value>>>)> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        let got: Arc<Mutex<Vec<Value>>> = Arc::default();
        let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
            return (9, got);
        };
        let port = listener.local_addr().map_or(9, |a| a.port());
        let sink = got.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let sink = sink.clone();
                std::thread::spawn(move || receive_webhook(conn, &sink));
            }
        });
        (port, got)
    })
}

/// Reads one HTTP/1.1 request (head, then `content-length` bytes), keeps its JSON body, answers
/// `200` and closes.
fn receive_webhook(mut conn: std::net::TcpStream, sink: &Mutex<Vec<Value>>) {
    use std::io::Write as _;
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let end = buf.len().min(head_end + len);
    if let Ok(v) = serde_json::from_slice::<Value>(&buf[head_end..end]) {
        sink.lock().unwrap_or_else(|e| e.into_inner()).push(v);
    }
    let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
}

/// The webhooks this test process's servers sent so far (see the fixture's `e2e-live` project).
pub fn webhooks_received() -> Vec<Value> {
    webhook_receiver()
        .1
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
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

/// A minimal HTTP/1.1 GET on loopback: (status, body). Used for readiness probes; gives up
/// after 5 s. (Drivers may keep the connection open despite `Connection: close`, so the body is
/// read by `Content-Length`.)
pub async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    tokio::time::timeout(Duration::from_secs(5), http_get_inner(addr, path))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "HTTP GET timed out"))?
}

async fn http_get_inner(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    http_inner(addr, "GET", path, &[], None).await
}

/// A minimal HTTP/1.1 request on loopback with extra `headers` and an optional JSON body:
/// (status, body); gives up after 5 s.
pub async fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: Option<&str>,
) -> std::io::Result<(u16, String)> {
    tokio::time::timeout(
        Duration::from_secs(5),
        http_inner(addr, method, path, headers, json),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "HTTP request timed out"))?
}

/// A minimal HTTP/1.1 POST of a JSON body on loopback: (status, body); gives up after 5 s.
pub async fn http_post_json(
    addr: SocketAddr,
    path: &str,
    json: &str,
) -> std::io::Result<(u16, String)> {
    tokio::time::timeout(
        Duration::from_secs(5),
        http_inner(addr, "POST", path, &[], Some(json)),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "HTTP POST timed out"))?
}

async fn http_inner(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(body) = json {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    } else {
        req.push_str("\r\n");
    }
    s.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let status: u16 = head
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| bad("not an HTTP response"))?;
            let len = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            });
            let body_start = end + 4;
            loop {
                let have = buf.len() - body_start;
                if len.is_some_and(|l| have >= l) {
                    break;
                }
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body_end = len.map_or(buf.len(), |l| (body_start + l).min(buf.len()));
            let body = String::from_utf8_lossy(&buf[body_start..body_end]).into_owned();
            return Ok((status, body));
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(bad("connection closed before the headers ended"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The `liveform serve` process.
pub struct Server {
    pub addr: SocketAddr,
    stdout: Arc<Mutex<String>>,
    stderr_path: PathBuf,
    guard: ProcessGuard,
}

/// The fixture config `text` for a form served at `http://127.0.0.1:{port}`: that origin is the
/// handoff links' base (`public_base_url`) and the Return URLs' host, and
/// `http://localhost:{port}` is a second loopback origin that may embed the form in an iframe
/// (see [`Ctx::other_origin`]).
fn config_for_origin(text: &str, port: u16) -> String {
    text.replacen(
        "[server]\n",
        &format!("[server]\npublic_base_url = \"http://127.0.0.1:{port}\"\n"),
        1,
    )
    .replace(
        "return_url = \"http://127.0.0.1:9/e2e/return\"",
        &format!("return_url = \"http://127.0.0.1:{port}{RETURN_PATH}\""),
    )
    .replace(
        "allowed_origins = [] # + other origin",
        &format!("allowed_origins = [\"http://localhost:{port}\"]"),
    )
    .replace(
        "webhook_url = \"http://127.0.0.1:9/e2e/hook\"",
        &format!(
            "webhook_url = \"http://127.0.0.1:{}/e2e/hook\"",
            webhook_receiver().0
        ),
    )
}

/// A server process started but not yet listening (see [`Starting::ready`]).
struct Starting {
    stdout: Arc<Mutex<String>>,
    stderr_path: PathBuf,
    guard: ProcessGuard,
    listening: mpsc::Receiver<SocketAddr>,
}

impl Server {
    fn start(bin: &Path, dist: &Path, dir: &Path) -> Result<Server, BoxError> {
        let config = dir.join("liveform.toml");
        // The port is chosen first so that the config can name the server's own address.
        let port = free_port()?;
        std::fs::write(&config, config_for_origin(&test_config(), port))?;
        Server::spawn(
            "liveform server",
            bin,
            dist,
            &config,
            port,
            &dir.join("data"),
            &dir.join("server.stderr.log"),
        )?
        .ready(Duration::from_secs(20))
    }

    /// Starts `liveform serve` on `127.0.0.1:{port}`; its stderr is appended to `stderr_path`.
    fn spawn(
        name: &str,
        bin: &Path,
        dist: &Path,
        config: &Path,
        port: u16,
        data: &Path,
        stderr_path: &Path,
    ) -> Result<Starting, BoxError> {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(stderr_path)?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .arg("--config")
            .arg(config)
            .arg("--addr")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--dist")
            .arg(dist)
            .arg("--data")
            .arg(data)
            // The host kit's example page (tests/embed.rs); production servers have none.
            .arg("--example-host-page")
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut guard = ProcessGuard::spawn(name, &mut cmd)
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
        Ok(Starting {
            stdout,
            stderr_path: stderr_path.to_path_buf(),
            guard,
            listening: rx,
        })
    }

    /// Everything the server printed to stdout so far.
    fn stdout_text(&self) -> String {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn logs(&self) -> String {
        format!(
            "--- server stdout ---\n{}\n--- server stderr ---\n{}",
            tail(&self.stdout_text(), 40),
            tail(&read_lossy(&self.stderr_path), 40)
        )
    }
}

impl Starting {
    /// Waits (blocking) until the server printed its address.
    fn ready(mut self, timeout: Duration) -> Result<Server, BoxError> {
        match self.listening.recv_timeout(timeout) {
            Ok(addr) => Ok(Server {
                addr,
                stdout: self.stdout,
                stderr_path: self.stderr_path,
                guard: self.guard,
            }),
            Err(_) => {
                let status = self.guard.exited();
                let out = self.stdout.lock().map(|s| s.clone()).unwrap_or_default();
                Err(err(format!(
                    "the server did not print its address within {timeout:?} (exit status \
                     {status:?})\nstdout:\n{out}\nstderr:\n{}",
                    tail(&read_lossy(&self.stderr_path), 40)
                )))
            }
        }
    }
}

/// The WebDriver process (chromedriver, geckodriver or WebKitWebDriver).
pub struct Driver {
    pub url: String,
    log_path: PathBuf,
    guard: ProcessGuard,
}

impl Driver {
    /// Starts `engine`'s WebDriver on a free loopback port (its log and browser profiles under
    /// `dir`) and waits until it answers.
    pub async fn start(engine: Engine, dir: &Path) -> Result<Driver, BoxError> {
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
    /// The camera feed file this session's Chromium was started with (see [`Group`]); always
    /// `None` in Firefox and WebKit, whose fake cameras are synthetic.
    pub chromium_feed: Option<PathBuf>,
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
// Only screens actually shown count (index.html carries a hidden start-up fallback screen).
const shown = (e) => !e.closest('[hidden]') &&
  (typeof e.checkVisibility === 'function' ? e.checkVisibility() : e.getClientRects().length > 0);
const screens = Array.from(document.querySelectorAll('[data-testid^="screen-"]')).filter(shown);
const el = screens.find((e) => e.getAttribute('data-testid') !== 'screen-loading');
const text = (sel) => { const e = document.querySelector(sel); return e ? e.textContent.trim() : null; };
return {
  screen: el ? el.getAttribute('data-testid') : null,
  loading: screens.some((e) => e.getAttribute('data-testid') === 'screen-loading'),
  mounted: document.documentElement.hasAttribute('data-lf-mounted'),
  error_code: text('[data-testid="error-code"]'),
  error_title: text('[data-testid="error-title"]'),
};
"#;

impl Ctx {
    /// The same server under another origin (`http://localhost:PORT`): a host page there is
    /// cross-origin to the form. The e2e project lists it in `allowed_origins`.
    pub fn other_origin(&self) -> String {
        self.base.replacen("127.0.0.1", "localhost", 1)
    }

    /// Arms the server's test-only fault injection (the e2e scripts build it with the
    /// `fault-injection` feature): the next `fail` capture uploads answer `503 LF-50006`, the
    /// `drop` after those lose their connection mid-body. See docs/api.md.
    pub async fn arm_upload_faults(&self, fail: u32, drop: u32) -> TestResult {
        let addr: SocketAddr = self
            .base
            .trim_start_matches("http://")
            .parse()
            .map_err(|e| err(format!("server address {}: {e}", self.base)))?;
        let body = format!(r#"{{"fail_uploads":{fail},"drop_uploads":{drop}}}"#);
        let (status, text) = http_post_json(addr, "/api/__fault", &body).await?;
        if status != 204 {
            return Err(err(format!(
                "POST /api/__fault answered {status} {text}: is the server built with \
                 --features fault-injection?"
            )));
        }
        Ok(())
    }

    /// The same browser session pointed at another server, `base` = `http://HOST:PORT` (e.g. a
    /// [`Cluster`]'s proxy or one of its instances).
    pub fn with_base(&self, base: &str) -> Ctx {
        Ctx {
            base: base.trim_end_matches('/').to_owned(),
            ..self.clone()
        }
    }

    /// The absolute URL of `path_and_query` on the server.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base, path_and_query)
    }

    /// Switches to a new tab and closes the others, so the next test starts with an empty
    /// `sessionStorage`. Falls back to clearing the storage on the server's origin where the
    /// driver cannot open tabs.
    pub async fn fresh_tab(&self) -> Result<(), BoxError> {
        let old = self.client.windows().await?;
        match self.client.new_window(true).await {
            Ok(new) => {
                for w in old {
                    self.client.switch_to_window(w).await?;
                    self.client.close_window().await?;
                }
                self.client.switch_to_window(new.handle).await?;
            }
            Err(e) => {
                if std::env::var_os("E2E_TRACE").is_some() {
                    eprintln!("e2e: no new tab ({e}); clearing storage instead");
                }
                self.open("/e2e-blank-page").await?;
                self.js(
                    "window.sessionStorage.clear(); window.localStorage.clear(); return null;",
                    vec![],
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Navigates to `path_and_query` on the server.
    pub async fn open(&self, path_and_query: &str) -> Result<(), BoxError> {
        self.client.goto(&self.url(path_and_query)).await?;
        Ok(())
    }

    /// A link of the ECB project carrying `json` encrypted, plus `extra` query text
    /// (e.g. `"&lang=en"`).
    pub fn ecb_link(&self, json: &str, extra: &str) -> String {
        link(PID, Algorithm::Ecb, KEY, json, extra)
    }

    /// A link of the GCM project carrying `json` encrypted, plus `extra` query text.
    pub fn gcm_link(&self, json: &str, extra: &str) -> String {
        link(GCM_PID, Algorithm::Gcm, GCM_KEY, json, extra)
    }

    /// A link of the active-liveness project (GCM) carrying `json` encrypted.
    pub fn live_link(&self, json: &str, extra: &str) -> String {
        link(LIVE_PID, Algorithm::Gcm, LIVE_KEY, json, extra)
    }

    /// A link of the Return URL project (ECB) carrying `json` encrypted.
    pub fn return_link(&self, json: &str, extra: &str) -> String {
        link(RETURN_PID, Algorithm::Ecb, RETURN_KEY, json, extra)
    }

    /// The server's socket address.
    pub fn addr(&self) -> Result<SocketAddr, BoxError> {
        self.base
            .trim_start_matches("http://")
            .parse()
            .map_err(|e| err(format!("server address {}: {e}", self.base)))
    }

    /// `GET path` of the results API with `x-api-key`: the JSON answer (must be 200).
    pub async fn results_get(&self, api_key: &str, path: &str) -> Result<Value, BoxError> {
        let (status, body) =
            http_request(self.addr()?, "GET", path, &[("x-api-key", api_key)], None).await?;
        if status != 200 {
            return Err(err(format!("GET {path} answered {status}: {body}")));
        }
        Ok(serde_json::from_str(&body)?)
    }

    /// A link of the accessibility project (GCM, e-mail step) carrying `json` encrypted.
    pub fn a11y_link(&self, json: &str, extra: &str) -> String {
        link(A11Y_PID, Algorithm::Gcm, A11Y_KEY, json, extra)
    }

    /// A link of the policy project (GCM, RUS blacklisted) carrying `json` encrypted.
    pub fn policy_link(&self, json: &str, extra: &str) -> String {
        link(POLICY_PID, Algorithm::Gcm, POLICY_KEY, json, extra)
    }

    /// On the welcome screen: ticks consent, waits for Start to be enabled and clicks it.
    pub async fn accept_consent(&self) -> TestResult {
        self.wait_screen("screen-welcome").await?;
        let checkbox = self.testid("consent-checkbox").await?;
        if !checkbox.is_selected().await? {
            checkbox.click().await?;
        }
        let start = self.testid("consent-start").await?;
        self.wait_until("consent-start is enabled after ticking consent", || {
            let start = start.clone();
            async move { Ok(start.is_enabled().await?) }
        })
        .await?;
        start.click().await?;
        Ok(())
    }

    /// The `attr` values of every element matching `css`, in document order (one script call,
    /// so long lists stay cheap). Elements without the attribute give an empty string.
    pub async fn attr_values(&self, css: &str, attr: &str) -> Result<Vec<String>, BoxError> {
        let v = self
            .js(
                "const sel = arguments[0], name = arguments[1];\
                 return Array.from(document.querySelectorAll(sel))\
                   .map((e) => e.getAttribute(name) || '');",
                vec![json!(css), json!(attr)],
            )
            .await?;
        match v {
            Value::Array(items) => Ok(items
                .into_iter()
                .map(|i| i.as_str().unwrap_or_default().to_owned())
                .collect()),
            other => Err(err(format!(
                "{css} [{attr}]: expected an array, got {other}"
            ))),
        }
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

    /// Polls `get` until it returns `expected`; the error names the last value seen.
    pub async fn wait_value<F, Fut>(&self, what: &str, expected: &str, mut get: F) -> TestResult
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<String, BoxError>>,
    {
        let deadline = Instant::now() + self.timeout;
        loop {
            let got = get().await?;
            if got == expected {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(err(format!(
                    "{what}: expected {expected:?}, still {got:?} after {:?}",
                    self.timeout
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// (the shown screen other than loading, why there is none).
    async fn probe_screen(&self) -> Result<(Option<ScreenInfo>, &'static str), BoxError> {
        let v = self.client.execute(SCREEN_PROBE_JS, vec![]).await?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        let why = if flag("loading") {
            "still screen-loading"
        } else if flag("mounted") {
            "the app mounted but shows no [data-testid^=screen-] element"
        } else {
            "the app never mounted (no data-lf-mounted on <html>): did the wasm start?"
        };
        Ok((
            s("screen").map(|screen| ScreenInfo {
                screen,
                error_code: s("error_code"),
                error_title: s("error_title"),
            }),
            why,
        ))
    }

    async fn describe_screen(&self) -> String {
        match self.probe_screen().await {
            Ok((Some(info), _)) => format!("{info:?}"),
            Ok((None, why)) => why.into(),
            Err(e) => format!("cannot probe the page: {e}"),
        }
    }

    /// Waits until a screen other than `screen-loading` is shown and returns it, without judging
    /// which one it is.
    pub async fn settled_screen(&self) -> Result<ScreenInfo, BoxError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let (found, why) = self.probe_screen().await?;
            if let Some(info) = found {
                return Ok(info);
            }
            if Instant::now() >= deadline {
                return Err(err(format!("no screen after {:?} ({why})", self.timeout)));
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
            let (found, why) = self.probe_screen().await?;
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
                    "no {expected} after {:?} ({why}; url {})",
                    self.timeout,
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
    /// On a capture step: the primer if shown, the live preview with frames, the shutter, the
    /// preview's "Use this photo" (after running `before_confirm`, a script), then `next` (the
    /// flow moves on only once the server stored the still).
    pub async fn capture_with_shutter(
        &self,
        screen: &str,
        next: &str,
        before_confirm: &str,
    ) -> TestResult {
        self.shoot(screen).await?;
        self.confirm_photo(screen, next, before_confirm).await
    }

    /// Starts recording, in this document, every text the page's live regions (`aria-live`,
    /// `role=status|alert`) show, in order and once each ([`Ctx::live_region_texts`]);
    /// idempotent per document.
    pub async fn record_live_regions(&self) -> TestResult {
        self.js(
            "if (!window.__lfLive) { \
               window.__lfLive = []; \
               const seen = () => { \
                 for (const e of document.querySelectorAll('[aria-live], [role=status], [role=alert]')) { \
                   if (e.closest('[hidden]')) continue; \
                   const t = e.textContent.trim(); \
                   if (t && !window.__lfLive.includes(t)) window.__lfLive.push(t); } }; \
               new MutationObserver(seen).observe(document.documentElement, \
                 { subtree: true, childList: true, characterData: true, attributes: true }); \
               seen(); } \
             return null;",
            vec![],
        )
        .await?;
        Ok(())
    }

    /// What [`Ctx::record_live_regions`] has recorded so far.
    pub async fn live_region_texts(&self) -> Result<Vec<String>, BoxError> {
        let v = self.js("return window.__lfLive || [];", vec![]).await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The capture module's phase (`data-phase`: `checking`, `primer`, `live`, `problem`, …), or
    /// empty before it has mounted.
    pub async fn capture_phase(&self) -> Result<String, BoxError> {
        let v = self
            .js(
                "const e = document.querySelector('[data-testid=capture]'); \
                 return e ? e.getAttribute('data-phase') : '';",
                vec![],
            )
            .await?;
        Ok(v.as_str().unwrap_or("").to_owned())
    }

    /// On a capture step: waits until the view is past checking, and returns where it is
    /// (`primer`: it asks before the browser does; `live`).
    pub async fn capture_ready(&self) -> Result<String, BoxError> {
        self.wait_until("the capture view is past checking", || async {
            Ok(matches!(
                self.capture_phase().await?.as_str(),
                "primer" | "live"
            ))
        })
        .await?;
        self.capture_phase().await
    }

    /// On the capture step `screen`: through the primer to the live preview, the shutter, and
    /// the photo's preview on screen.
    pub async fn shoot(&self, screen: &str) -> TestResult {
        self.wait_screen(screen).await?;
        self.capture_ready().await?;
        if let Ok(allow) = self
            .client
            .find(fantoccini::Locator::Css("[data-testid=camera-allow]"))
            .await
        {
            if allow.is_displayed().await.unwrap_or(false) {
                allow.click().await?;
            }
        }
        self.wait_for("[data-testid=capture][data-phase=live]")
            .await?;
        self.wait_until("the preview has frames", || async {
            let v = self
                .js(
                    "const v = document.querySelector('[data-testid=camera-video]'); \
                     return v ? v.videoWidth : 0;",
                    vec![],
                )
                .await?;
            Ok(v.as_u64().unwrap_or(0) > 0)
        })
        .await?;
        // The shutter (on a document step it appears after a few seconds when no document is in
        // view, as with the synthetic camera), then the preview's "Use this photo".
        self.wait_until("the shutter is offered", || async {
            let v = self
                .js(
                    "const s = document.querySelector('[data-testid=shutter]'); \
                     return !!s && !s.hidden && !s.closest('[hidden]');",
                    vec![],
                )
                .await?;
            Ok(v.as_bool().unwrap_or(false))
        })
        .await?;
        self.js(
            "document.querySelector('[data-testid=shutter]').click(); return null;",
            vec![],
        )
        .await?;
        self.wait_until("the photo is previewed", || async {
            let v = self
                .js(
                    "const i = document.querySelector('[data-testid=capture-preview]'); \
                     return !!i && i.complete && i.naturalWidth > 0 && !i.closest('[hidden]');",
                    vec![],
                )
                .await?;
            Ok(v.as_bool().unwrap_or(false))
        })
        .await?;
        Ok(())
    }

    /// On the photo's preview ([`Ctx::shoot`]): runs `before_confirm` (a script), "Use this
    /// photo", and waits until the server stored the still and the flow is on `next`.
    pub async fn confirm_photo(
        &self,
        screen: &str,
        next: &str,
        before_confirm: &str,
    ) -> TestResult {
        self.js(
            &format!(
                "{before_confirm}; \
                 document.querySelector('[data-testid=capture-confirm]').click(); return null;"
            ),
            vec![],
        )
        .await?;
        // Retries (backoff up to 1 + 2 + 4 s under the fault test) keep this screen up meanwhile.
        self.wait_until("the still is stored", || async {
            let v = self
                .js(
                    &format!(
                        "const e = document.querySelector('[data-testid=upload-status]'); \
                         return !document.querySelector('[data-testid={screen}]') || \
                         (!!e && e.getAttribute('data-state') === 'stored');"
                    ),
                    vec![],
                )
                .await?;
            Ok(v.as_bool().unwrap_or(false))
        })
        .await?;
        self.wait_screen(next).await?;
        Ok(())
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Result<Value, BoxError> {
        Ok(self.client.execute(script, args).await?)
    }

    /// Runs a Chrome DevTools Protocol command through chromedriver
    /// (`POST /session/{id}/goog/cdp/execute`), e.g. `Network.emulateNetworkConditions`; its
    /// result. Chromium only.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Result<Value, BoxError> {
        if self.engine != Engine::Chromium {
            return Err(err(format!("{cmd}: CDP is Chromium's")));
        }
        Ok(self
            .client
            .issue_cmd(ChromeCdp {
                cmd: cmd.to_owned(),
                params,
            })
            .await?)
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

    /// `document.documentElement.dir`.
    pub async fn html_dir(&self) -> Result<String, BoxError> {
        self.js_string("return document.documentElement.dir;").await
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

/// chromedriver's CDP pass-through (`goog/cdp/execute`).
#[derive(Debug)]
struct ChromeCdp {
    cmd: String,
    params: Value,
}

impl WebDriverCompatibleCommand for ChromeCdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or("")
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"cmd": self.cmd, "params": self.params}).to_string()),
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
            "the server binary {} does not exist: run `cargo build -p liveform-server \
             --features fault-injection` first \
             (or set LIVEFORM_BIN)",
            bin.display()
        ));
    }
    if !require_dist {
        return Ok((bin, PathBuf::from("/nonexistent-liveform-dist")));
    }
    if !dist.join("index.html").is_file() {
        return Err(format!(
            "the SPA is not built ({} is missing): run `scripts/build-spa.sh` first \
             (or set LIVEFORM_DIST)",
            dist.join("index.html").display()
        ));
    }
    warn_if_stale(&root, &bin, &dist);
    Ok((bin, dist))
}

/// The newest file under `paths` (directories walked; `target`, `node_modules`, `tests` and
/// `tests.rs` skipped: unit tests do not go into the artifacts).
fn newest_file(paths: &[PathBuf]) -> Option<(std::time::SystemTime, PathBuf)> {
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        let skip = p.file_name().is_some_and(|n| {
            ["target", "node_modules", "tests", "tests.rs"]
                .iter()
                .any(|x| n == *x)
        });
        if skip {
            continue;
        }
        if meta.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
        } else if let Ok(m) = meta.modified() {
            if newest.as_ref().is_none_or(|(t, _)| m > *t) {
                newest = Some((m, p));
            }
        }
    }
    newest
}

/// Warns (once per process) when the tested binary or SPA is older than its sources: with
/// several people editing, a stale server answering a newer SPA fails every test with a
/// misleading error page (e.g. `LF-50001` when the session JSON changed shape).
fn warn_if_stale(root: &Path, bin: &Path, dist: &Path) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let checks = [
            (
                bin.to_path_buf(),
                vec!["core/src", "core/data", "server/src"],
                "cargo build -p liveform-server --features fault-injection",
            ),
            (
                dist.join("index.html"),
                vec![
                    "src",
                    "core/src",
                    "locales",
                    "style",
                    "public",
                    "index.html",
                ],
                "scripts/build-spa.sh",
            ),
        ];
        for (artifact, sources, fix) in checks {
            let Ok(built) = std::fs::metadata(&artifact).and_then(|m| m.modified()) else {
                continue;
            };
            let sources: Vec<PathBuf> = sources.iter().map(|s| root.join(s)).collect();
            if let Some((_, newer)) = newest_file(&sources).filter(|(t, _)| *t > built) {
                eprintln!(
                    "e2e: warning: {} is older than {} (run `{fix}`)",
                    artifact.display(),
                    newer.display()
                );
            }
        }
    });
}

fn test_timeout() -> Duration {
    Duration::from_secs(
        std::env::var("E2E_TEST_TIMEOUT_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(120),
    )
}

/// Process groups alive right now, killed by the signal handler (Ctrl-C, SIGTERM, SIGHUP) so
/// that an interrupted run leaves no browser behind.
static LIVE_GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

fn register_group(pgid: i32) {
    install_signal_handler();
    if let Ok(mut g) = LIVE_GROUPS.lock() {
        g.push(pgid);
    }
}

/// Set by the signal handler; the runner then stays quiet while the handler cleans up and exits.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn park_if_interrupted() {
    while INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Temp dirs of running tests, removed by the signal handler.
static LIVE_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn register_dir(dir: &Path) {
    install_signal_handler();
    if let Ok(mut d) = LIVE_DIRS.lock() {
        d.push(dir.to_owned());
    }
}

fn unregister_dir(dir: &Path) {
    if let Ok(mut d) = LIVE_DIRS.lock() {
        d.retain(|p| p != dir);
    }
}

fn unregister_group(pgid: i32) {
    if let Ok(mut g) = LIVE_GROUPS.lock() {
        g.retain(|&p| p != pgid);
    }
}

fn install_signal_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("e2e-signals".into())
            .spawn(|| {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    use tokio::signal::unix::{signal, SignalKind};
                    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
                        signal(SignalKind::interrupt()),
                        signal(SignalKind::terminate()),
                        signal(SignalKind::hangup()),
                    ) else {
                        return;
                    };
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                        _ = hup.recv() => {}
                    }
                    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
                    let groups = LIVE_GROUPS.lock().map(|g| g.clone()).unwrap_or_default();
                    eprintln!("e2e: interrupted; killing process groups {groups:?}");
                    for g in groups {
                        sys::signal_group(g, libc::SIGKILL);
                    }
                    std::thread::sleep(Duration::from_millis(300));
                    for d in LIVE_DIRS.lock().map(|d| d.clone()).unwrap_or_default() {
                        let _ = std::fs::remove_dir_all(d);
                    }
                    std::process::exit(130);
                });
            });
    });
}

/// One server, one driver and (at a time) one browser session.
struct Env {
    engine: Engine,
    // Field order = drop order: the processes die before the temp dir is removed.
    driver: Option<Driver>,
    server: Option<Server>,
    tmp: tempfile::TempDir,
    t0: Instant,
}

impl Env {
    async fn start(require_dist: bool) -> Result<Env, String> {
        let t0 = Instant::now();
        let engine = Engine::try_from_env()?;
        engine.check_installed()?;
        let (bin, dist) = locate_artifacts(require_dist)?;
        let tmp = tempfile::Builder::new()
            .prefix("liveform-e2e-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        register_dir(tmp.path());
        let mut env = Env {
            engine,
            driver: None,
            server: None,
            tmp,
            t0,
        };
        let server = Server::start(&bin, &dist, env.tmp.path())
            .map_err(|e| format!("starting the server: {e}"))?;
        register_group(server.guard.pgid);
        env.server = Some(server);
        let srv = env.server.as_ref().ok_or("no server")?;
        match http_get(srv.addr, "/api/health").await {
            Ok((200, b)) if b.contains("ok") => {}
            other => return Err(format!("server /api/health: {other:?}\n{}", srv.logs())),
        }
        trace(t0, "server ready");
        let driver = Driver::start(engine, env.tmp.path())
            .await
            .map_err(|e| format!("starting the WebDriver: {e}"))?;
        register_group(driver.guard.pgid);
        env.driver = Some(driver);
        trace(t0, "driver ready");
        Ok(env)
    }

    fn base(&self) -> String {
        self.server
            .as_ref()
            .map(|s| format!("http://{}", s.addr))
            .unwrap_or_default()
    }

    fn pgids(&self) -> Pgids {
        Pgids {
            driver: self.driver.as_ref().map_or(0, |d| d.guard.pgid),
            server: self.server.as_ref().map_or(0, |s| s.guard.pgid),
        }
    }

    async fn open_session(&self) -> Result<Ctx, String> {
        self.open_session_with_feed(None).await
    }

    /// A session whose Chromium reads its camera from `chromium_feed` (ignored by the other
    /// engines).
    async fn open_session_with_feed(&self, chromium_feed: Option<&Path>) -> Result<Ctx, String> {
        let chromium_feed = chromium_feed.filter(|_| self.engine == Engine::Chromium);
        let drv = self.driver.as_ref().ok_or("no driver")?;
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(self.engine.capabilities_with_feed(chromium_feed));
        let connect = tokio::time::timeout(Duration::from_secs(90), builder.connect(&drv.url));
        let client = match connect.await {
            Ok(Ok(c)) => c,
            Err(_) => {
                return Err(format!(
                    "opening a {} WebDriver session took over 90 s\n{}",
                    self.engine.name(),
                    drv.logs()
                ))
            }
            Ok(Err(e)) => {
                return Err(format!(
                    "cannot open a {} WebDriver session: {e}\n{}",
                    self.engine.name(),
                    drv.logs()
                ))
            }
        };
        trace(self.t0, "session open");
        Ok(Ctx {
            client,
            base: self.base(),
            engine: self.engine,
            timeout: self.engine.default_timeout(),
            chromium_feed: chromium_feed.map(Path::to_path_buf),
        })
    }

    /// Runs one body; the error carries page diagnostics.
    async fn run_body<Fut>(&self, ctx: &Ctx, fut: Fut) -> Result<(), String>
    where
        Fut: Future<Output = TestResult> + Send + 'static,
    {
        let limit = test_timeout();
        let mut task = tokio::spawn(PGIDS.scope(self.pgids(), fut));
        let result = match tokio::time::timeout(limit, &mut task).await {
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
                Err(format!("test timed out after {limit:?}"))
            }
        };
        trace(self.t0, "body done");
        match result {
            Ok(()) => Ok(()),
            Err(msg) => {
                let diag = tokio::time::timeout(Duration::from_secs(20), ctx.diagnostics())
                    .await
                    .unwrap_or_else(|_| "(diagnostics timed out)".into());
                Err(format!("{msg}\n{diag}"))
            }
        }
    }

    /// Ends the session (the browser quits) before the driver is killed.
    async fn close_session(&self, ctx: Ctx) {
        match tokio::time::timeout(Duration::from_secs(30), ctx.client.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("e2e: closing the WebDriver session: {e}"),
            Err(_) => eprintln!("e2e: closing the WebDriver session timed out"),
        }
        trace(self.t0, "session closed");
    }

    fn logs(&self) -> String {
        format!(
            "{}\n{}",
            self.driver.as_ref().map(Driver::logs).unwrap_or_default(),
            self.server.as_ref().map(Server::logs).unwrap_or_default()
        )
    }

    /// Kills the driver group (browser included) and the server. Returns notes on stragglers.
    fn shutdown(mut self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(mut d) = self.driver.take() {
            notes.extend(d.guard.terminate(Duration::from_secs(5)));
            unregister_group(d.guard.pgid);
        }
        if let Some(mut s) = self.server.take() {
            notes.extend(s.guard.terminate(Duration::from_secs(3)));
            unregister_group(s.guard.pgid);
        }
        trace(self.t0, "processes ended");
        notes
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        unregister_dir(self.tmp.path());
        // Only reached with processes still set when unwinding; ProcessGuard's Drop kills them.
        for pgid in [
            self.driver.as_ref().map(|d| d.guard.pgid),
            self.server.as_ref().map(|s| s.guard.pgid),
        ]
        .into_iter()
        .flatten()
        {
            unregister_group(pgid);
        }
    }
}

/// Runs `body` against a fresh server (with the built SPA) in the engine from `E2E_BROWSER`,
/// in a browser session of its own. Always closes the session and kills the driver and server,
/// then panics with the body's failure (with page, console, driver and server logs).
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

/// The process groups of the current test (inside a [`run`] or [`suite`] body only).
pub fn current_pgids() -> Option<Pgids> {
    PGIDS.try_with(|p| *p).ok()
}

/// Whether any process of group `pgid` is alive (zombies waiting for init to reap them
/// do not count).
pub fn group_alive(pgid: i32) -> bool {
    !group_members(pgid).is_empty()
}

/// The live (non-zombie) processes of group `pgid`: (pid, command name).
pub fn group_members(pgid: i32) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_owned();
        let mut rest = stat[close + 1..].split_whitespace();
        let state = rest.next().unwrap_or("");
        let pgrp = rest.nth(1).and_then(|g| g.parse::<i32>().ok());
        if pgrp == Some(pgid) && state != "Z" && state != "X" {
            out.push((pid, comm));
        }
    }
    out
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn run_inner<F, Fut>(require_dist: bool, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = TestResult> + Send + 'static,
{
    let engine = Engine::from_env();
    let rt = runtime();
    let mut env_slot: Option<Env> = None;
    let outcome: Result<(), String> = rt.block_on(async {
        let env = env_slot.insert(Env::start(require_dist).await?);
        let ctx = env.open_session().await?;
        let result = env.run_body(&ctx, body(ctx.clone())).await;
        env.close_session(ctx).await;
        result
    });
    // Stop fantoccini's session task before the processes go.
    drop(rt);
    let (logs, notes) = match env_slot.take() {
        Some(env) => {
            let logs = if outcome.is_err() {
                env.logs()
            } else {
                String::new()
            };
            (logs, env.shutdown())
        }
        None => (String::new(), Vec::new()),
    };
    park_if_interrupted();
    for n in &notes {
        eprintln!("e2e: {n}");
    }
    if let Err(msg) = outcome {
        panic!("[{}] {msg}\n{logs}", engine.name());
    }
}

// ---------------------------------------------------------------------------------------------
// A suite sharing one server, driver and browser session (`harness = false` test targets).
// ---------------------------------------------------------------------------------------------

/// A boxed test body.
pub type BoxTest = std::pin::Pin<Box<dyn Future<Output = TestResult> + Send + 'static>>;

/// One test of a [`suite`].
pub struct Test {
    pub name: &'static str,
    pub body: fn(Ctx) -> BoxTest,
}

/// `tests![a, b]` lists `async fn a(b: Ctx) -> TestResult` functions for [`suite`].
#[macro_export]
macro_rules! tests {
    ($($name:ident),* $(,)?) => {
        &[$($crate::Test {
            name: stringify!($name),
            body: |ctx| -> $crate::BoxTest { ::std::boxed::Box::pin($name(ctx)) },
        }),*]
    };
}

struct SuiteArgs {
    list: bool,
    exact: bool,
    ignored_only: bool,
    filters: Vec<String>,
    skips: Vec<String>,
}

fn suite_args() -> SuiteArgs {
    let mut a = SuiteArgs {
        list: false,
        exact: false,
        ignored_only: false,
        filters: Vec::new(),
        skips: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--list" => a.list = true,
            "--exact" => a.exact = true,
            "--ignored" => a.ignored_only = true,
            "--skip" => a.skips.extend(args.next()),
            // libtest options taking a value; their values are not filters.
            "--test-threads" | "--format" | "--color" | "--logfile" | "-Z" | "--shuffle-seed" => {
                let _ = args.next();
            }
            s if s.starts_with('-') => {}
            s => a.filters.push(s.to_owned()),
        }
    }
    a
}

/// The `main` of a `harness = false` test target: runs `tests` one after another in one browser
/// session (each in a fresh tab, so `sessionStorage` starts empty) against one server, with
/// libtest-like output, filters (`cargo test -p liveform-e2e -- NAME`), `--list` and `--skip`.
/// After a failed test the session is replaced by a new one. Exits 101 if any test failed.
pub fn suite(target: &str, tests: &[Test]) {
    suite_with(target, &SuiteOptions::default(), &[Group::new(tests)]);
}

/// Options of a [`suite_with`] run.
#[derive(Debug, Clone, Default)]
pub struct SuiteOptions {
    /// Run without the built SPA (`/` answers 503): for tests that only need the server's
    /// origin, e.g. camera checks on `/e2e-blank-page`.
    pub without_spa: bool,
    /// The engines the tests run in (empty: every engine). In another engine each selected
    /// test prints a `skipped` line and the run passes without starting anything.
    pub engines: &'static [Engine],
    /// Checked before anything starts when a test is selected (and the engine is one of
    /// `engines`): an `Err` fails the run with its message, e.g. a missing test service.
    pub requires: Option<fn() -> Result<(), String>>,
}

/// Tests of a [`suite_with`] run that share one browser session, optionally fed a camera file.
pub struct Group<'a> {
    /// Chromium's camera reads this file (`--use-file-for-fake-video-capture`; an MJPEG in 4:2:0
    /// or a Y4M, looped; see `scripts/make-feeds.sh` and [`feed`]). Chromium reads the flag at
    /// launch, so each group with a feed gets its own browser session. Firefox and WebKit ignore
    /// it and keep their synthetic cameras ([`Ctx::chromium_feed`] is then `None`).
    pub chromium_feed: Option<PathBuf>,
    pub tests: &'a [Test],
}

impl<'a> Group<'a> {
    /// Tests with the default fake camera (Chromium's synthetic pattern).
    pub fn new(tests: &'a [Test]) -> Group<'a> {
        Group {
            chromium_feed: None,
            tests,
        }
    }

    /// Tests whose Chromium camera shows the feed `name` of `scripts/make-feeds.sh`
    /// (`card-sharp.mjpeg`, …), located by [`feed`].
    pub fn with_feed(name: &str, tests: &'a [Test]) -> Group<'a> {
        Group {
            chromium_feed: Some(feed(name)),
            tests,
        }
    }
}

/// The path of a camera feed made by `scripts/make-feeds.sh`: `$LIVEFORM_FEEDS/NAME`, by default
/// `<workspace>/target/feeds/NAME` (the script's default output).
pub fn feed(name: &str) -> PathBuf {
    std::env::var_os("LIVEFORM_FEEDS")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/feeds"))
        .join(name)
}

/// Checks a feed file before a session is started with it (Chromium silently falls back to
/// nothing useful on a bad path), and makes the path absolute.
fn check_feed(path: &Path) -> Result<PathBuf, String> {
    let abs = std::fs::canonicalize(path).map_err(|e| {
        format!(
            "camera feed {}: {e} (build the feeds with `scripts/make-feeds.sh`, or set \
             LIVEFORM_FEEDS to their directory)",
            path.display()
        )
    })?;
    if !abs.is_file() {
        return Err(format!("camera feed {} is not a file", abs.display()));
    }
    Ok(abs)
}

/// Like [`suite`], for several groups of tests: each [`Group`] may feed Chromium's camera from
/// a file. Tests run in order; consecutive tests with the same feed share a browser session
/// (fresh tab per test), a different feed starts a new session (about 0.5 s in Chromium).
/// Filters, `--list` and `--skip` apply across groups; test names should be unique.
pub fn suite_with(target: &str, options: &SuiteOptions, groups: &[Group<'_>]) {
    let args = suite_args();
    let total: usize = groups.iter().map(|g| g.tests.len()).sum();
    let selected: Vec<(&Test, Option<&Path>)> = groups
        .iter()
        .flat_map(|g| g.tests.iter().map(|t| (t, g.chromium_feed.as_deref())))
        .filter(|(t, _)| {
            let matches = |f: &String| {
                if args.exact {
                    t.name == f
                } else {
                    t.name.contains(f.as_str())
                }
            };
            (args.filters.is_empty() || args.filters.iter().any(matches))
                && !args.skips.iter().any(|s| t.name.contains(s.as_str()))
        })
        .collect();
    if args.list {
        for (t, _) in &selected {
            println!("{}: test", t.name);
        }
        return;
    }
    let selected = if args.ignored_only {
        Vec::new()
    } else {
        selected
    };
    let engine = match Engine::try_from_env() {
        Ok(e) => e,
        Err(msg) => {
            eprintln!("{target}: {msg}");
            std::process::exit(101);
        }
    };
    println!(
        "\nrunning {} tests ({target}, {})",
        selected.len(),
        engine.name()
    );
    if selected.is_empty() {
        println!(
            "\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; {total} filtered out\n"
        );
        return;
    }
    if !options.engines.is_empty() && !options.engines.contains(&engine) {
        let only: Vec<&str> = options.engines.iter().map(|e| e.name()).collect();
        for (t, _) in &selected {
            println!(
                "test {} ... skipped ({} only; E2E_BROWSER={})",
                t.name,
                only.join(", "),
                engine.name()
            );
        }
        println!(
            "\ntest result: ok. 0 passed; 0 failed; {} ignored; 0 measured; {} filtered out\n",
            selected.len(),
            total - selected.len()
        );
        return;
    }
    if let Some(Err(msg)) = options.requires.map(|check| check()) {
        eprintln!("\n[{}] {target}: {msg}", engine.name());
        println!(
            "\ntest result: FAILED. 0 passed; {} failed; 0 ignored; 0 measured; {} filtered out\n",
            selected.len(),
            total - selected.len()
        );
        std::process::exit(101);
    }
    let started = Instant::now();
    let rt = runtime();
    let mut env_slot: Option<Env> = None;
    let mut failures: Vec<(&str, String)> = Vec::new();
    let setup: Result<(), String> = rt.block_on(async {
        // Feeds are checked up front: a missing file fails the run before any browser starts.
        let mut feeds: Vec<Option<PathBuf>> = Vec::with_capacity(selected.len());
        for (_, f) in &selected {
            feeds.push(match f {
                Some(p) if engine == Engine::Chromium => Some(check_feed(p)?),
                _ => None,
            });
        }
        let env = env_slot.insert(Env::start(!options.without_spa).await?);
        let mut ctx: Option<Ctx> = None;
        for ((t, _), feed) in selected.iter().zip(&feeds) {
            let t_start = Instant::now();
            let c = match ctx.take() {
                Some(c) if c.chromium_feed == *feed => c,
                Some(c) => {
                    env.close_session(c).await;
                    env.open_session_with_feed(feed.as_deref()).await?
                }
                None => env.open_session_with_feed(feed.as_deref()).await?,
            };
            let result = match c.fresh_tab().await {
                Ok(()) => env.run_body(&c, (t.body)(c.clone())).await,
                Err(e) => Err(format!("cannot open a fresh tab: {e}")),
            };
            let secs = t_start.elapsed().as_secs_f64();
            match result {
                _ if INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) => {
                    return Err("interrupted".to_owned());
                }
                Ok(()) => {
                    println!("test {} ... ok ({secs:.1}s)", t.name);
                    ctx = Some(c);
                }
                Err(msg) => {
                    println!("test {} ... FAILED ({secs:.1}s)", t.name);
                    failures.push((t.name, msg));
                    // A failed test may leave the browser in any state: start the next afresh.
                    env.close_session(c).await;
                }
            }
        }
        if let Some(c) = ctx {
            env.close_session(c).await;
        }
        Ok(())
    });
    drop(rt);
    let logs = if setup.is_err() || !failures.is_empty() {
        env_slot.as_ref().map(Env::logs).unwrap_or_default()
    } else {
        String::new()
    };
    let notes = env_slot.take().map(Env::shutdown).unwrap_or_default();
    park_if_interrupted();
    for n in &notes {
        eprintln!("e2e: {n}");
    }
    if let Err(msg) = setup {
        eprintln!(
            "\n[{}] {target}: setup failed: {msg}\n{logs}",
            engine.name()
        );
        std::process::exit(101);
    }
    if !failures.is_empty() {
        println!("\nfailures:\n");
        for (name, msg) in &failures {
            println!("---- {name} [{}] ----\n{msg}\n", engine.name());
        }
        println!("{logs}\n\nfailures:");
        for (name, _) in &failures {
            println!("    {name}");
        }
    }
    let passed = selected.len() - failures.len();
    println!(
        "\ntest result: {}. {passed} passed; {} failed; 0 ignored; 0 measured; {} filtered out; \
         finished in {:.2}s\n",
        if failures.is_empty() { "ok" } else { "FAILED" },
        failures.len(),
        total - selected.len(),
        started.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        std::process::exit(101);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_matches_the_constants() {
        assert!(test_config().contains("sessions_per_minute = 1000"));
    }

    #[test]
    fn tampered_ciphertext_fails_decryption_but_stays_base64() {
        let json = r#"{"userid":"u1","email":"e2e@example.com"}"#;
        let good = encrypt(Algorithm::Ecb, KEY, json);
        let bad = tampered_ecb(json);
        assert_eq!(good.len(), bad.len());
        assert_ne!(good, bad);
        assert!(crypto::decrypt(Algorithm::Ecb, KEY, &good).is_ok());
        assert_eq!(
            crypto::decrypt(Algorithm::Ecb, KEY, &bad),
            Err(crypto::CryptoError::Decrypt)
        );
    }

    #[test]
    fn urlencode_escapes_base64() {
        assert_eq!(urlencode("a+b/c=="), "a%2Bb%2Fc%3D%3D");
    }
}
