//! Side-by-side start-up timing: Liveform's first screen against Onfido's web SDK (issue 20).
//! Run through `scripts/side-by-side.sh`, which fetches the Onfido package and builds this.
//!
//! Every sample is a new WebDriver session (a fresh Chromium profile: cold HTTP and code
//! caches), CPU throttling (`Emulation.setCPUThrottlingRate`) set before the navigation, and
//! times read in the page (`performance.now()`, milliseconds from the navigation start):
//!
//! * Liveform (`liveform demo`, a new GCM demo link per sample): the Start button in the DOM;
//!   then "ready": a frame later, in a task of its own (the main thread is free for input), the
//!   consent box is ticked and the app's handler enables Start.
//! * Onfido (`onfido-sdk-ui`'s UMD bundle `dist/onfido.min.js` and `dist/style.css`, served by
//!   this program on loopback): an inline script right after the bundle's `<script>` records its
//!   end of evaluation, a lower bound of Onfido's first screen (`Onfido.init` is not called).
//! * At the highest throttle only, Liveform after Start (a real WebDriver click; the page's
//!   `click` event's timestamp): the next screen's heading, and with a link that preselects the
//!   country and the ID type, the capture step (its screen, its capture view, the fake camera's
//!   `<video>` playing, the camera primer's button pressed by the page script at once).
//!
//! Usage: side_by_side --onfido-dist DIR [--runs N] [--throttles 1,4] [--no-capture]
//! Environment: LIVEFORM_BIN (default target/debug/liveform), LIVEFORM_DIST (default dist),
//! CHROMEDRIVER, CHROMIUM_BIN (see e2e/README.md).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use fantoccini::ClientBuilder;
use hyper_util::client::legacy::connect::HttpConnector;
use liveform_core::launch::crypto::Algorithm;
use liveform_e2e::{group_alive, http_get, BoxError, Ctx, Driver, Engine, ProcessGuard};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Installed before any page script (CDP `Page.addScriptToEvaluateOnNewDocument`); records
/// `window.__sbs.t[name] = performance.now()` the first time each milestone is seen.
const OBSERVER_JS: &str = r#"
(() => {
  if (window.__sbs) return;
  const t = {};
  const w = window.__sbs = { t, allowed: {}, poked: false };
  const mark = (k, v) => { if (!(k in t)) t[k] = v === undefined ? performance.now() : v; };
  const shown = (e) => !!e && e.isConnected && !e.closest('[hidden]') && e.getClientRects().length > 0;
  const screen = () => {
    for (const s of document.querySelectorAll('[data-testid^="screen-"]')) {
      const id = s.getAttribute('data-testid');
      if (id !== 'screen-loading' && shown(s)) return [id, s];
    }
    return ['', null];
  };
  const check = () => {
    if (document.documentElement.hasAttribute('data-lf-app')) mark('app_ready');
    const err = document.querySelector('[data-testid="error-code"]');
    if (err && err.textContent.trim()) mark('error', err.textContent.trim());
    const start = document.querySelector('[data-testid="consent-start"]');
    if (shown(start)) {
      mark('start_dom');
      if (!w.poked) {
        w.poked = true;
        // The next frame, then a task of its own: the button was painted and the main thread
        // takes input; the app's own handler must then enable Start.
        requestAnimationFrame(() => setTimeout(() => {
          mark('start_painted');
          const box = document.querySelector('[data-testid="consent-checkbox"]');
          if (box && !box.checked) box.click();
          check();
        }, 0));
      }
      if ('start_painted' in t && !start.disabled) mark('start_ready');
    }
    if (!('click' in t)) return;
    const [id, el] = screen();
    if (!el || id === 'screen-welcome') return;
    const h = el.querySelector('h1');
    const headed = !!h && h.textContent.trim() !== '';
    if (headed) { mark('next_heading'); mark('next_screen', id); }
    // Per screen: its heading, the capture view, the camera primer (pressed at once), the
    // camera's <video> playing.
    if (headed) mark(id + ':heading');
    const cap = el.querySelector('[data-testid="capture"]');
    if (cap) {
      mark(id + ':capture_view');
      const phase = cap.getAttribute('data-phase') || '';
      const allow = el.querySelector('[data-testid="camera-allow"]');
      if (phase === 'primer' && shown(allow) && !w.allowed[id]) { w.allowed[id] = true; allow.click(); }
    }
    const v = el.querySelector('[data-testid="camera-video"]');
    if (v && v.videoWidth > 0 && !v.paused && v.readyState >= 2) mark(id + ':video_playing');
  };
  // The face detector's worker (its script's URL names it): created, its "ready" message (model
  // loaded), its first answer to a frame.
  const W = window.Worker;
  if (typeof W === 'function') {
    window.Worker = class extends W {
      constructor(url, opts) {
        super(url, opts);
        if (/face/.test(String(url))) {
          mark('face_worker_created');
          this.addEventListener('message', (e) => {
            const d = e.data || {};
            if (d.ready === true) mark('face_worker_ready');
            else if (typeof d.id === 'number') mark('face_first_result');
          });
        }
      }
    };
  }
  // The page parsed (module scripts run after this), and the first screen's wasm initialised
  // (Trunk's loader fires this event once `init` resolved: the module's `main` has run).
  document.addEventListener('DOMContentLoaded', () => mark('dom_content_loaded'));
  addEventListener('TrunkApplicationStarted', () => mark('wasm_started'));
  new MutationObserver(check).observe(document,
    { subtree: true, childList: true, attributes: true, characterData: true });
  addEventListener('click', (e) => {
    const target = e.target && e.target.closest ? e.target.closest('[data-testid="consent-start"]') : null;
    if (target && e.isTrusted) { mark('click', e.timeStamp); setTimeout(check, 0); }
  }, true);
  // Media events do not bubble (capture phase) and change no DOM.
  for (const ev of ['playing', 'loadeddata', 'resize']) document.addEventListener(ev, check, true);
})();
"#;

/// A fixed amount of JavaScript work, run after each sample (best of three): its time shows
/// the throttle held in the page's renderer after the navigation.
const CALIBRATE_JS: &str = "let best = Infinity, x = 0; \
    for (let r = 0; r < 3; r++) { const t = performance.now(); \
      for (let i = 0; i < 2e6; i++) { x += Math.sqrt(i) % 3; } \
      best = Math.min(best, performance.now() - t); } \
    return [best, x > 0];";

fn onfido_page() -> String {
    r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Onfido web SDK 13.8.7 (side-by-side)</title>
<link rel="stylesheet" href="/dist/style.css">
</head><body>
<div id="onfido-mount"></div>
<script src="/dist/onfido.min.js"></script>
<script>window.__sbs = { t: { evaluated: performance.now() },
  ok: typeof window.Onfido === 'object' && typeof window.Onfido.init === 'function' };</script>
</body></html>
"#
    .to_owned()
}

struct Args {
    runs: usize,
    throttles: Vec<f64>,
    capture: bool,
    onfido_dist: PathBuf,
    bin: PathBuf,
    dist: PathBuf,
}

fn usage() -> String {
    "usage: side_by_side --onfido-dist DIR [--runs N (>= 1, default 7)] \
     [--throttles 1,4] [--no-capture]"
        .into()
}

fn parse_args() -> Result<Args, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let from_env = |var: &str, default: PathBuf| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or(default)
    };
    let mut a = Args {
        runs: 7,
        throttles: vec![1.0, 4.0],
        capture: true,
        onfido_dist: PathBuf::new(),
        bin: from_env("LIVEFORM_BIN", root.join("target/debug/liveform")),
        dist: from_env("LIVEFORM_DIST", root.join("dist")),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{arg} needs a value\n{}", usage()))
        };
        match arg.as_str() {
            "--runs" => {
                a.runs = value()?
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(usage)?
            }
            "--throttles" => {
                a.throttles = value()?
                    .split(',')
                    .map(|s| s.trim().parse::<f64>().ok().filter(|r| *r >= 1.0))
                    .collect::<Option<Vec<_>>>()
                    .filter(|v| !v.is_empty())
                    .ok_or_else(usage)?
            }
            "--onfido-dist" => a.onfido_dist = PathBuf::from(value()?),
            "--no-capture" => a.capture = false,
            "-h" | "--help" => return Err(usage()),
            other => return Err(format!("unknown argument {other}\n{}", usage())),
        }
    }
    if !a.onfido_dist.join("onfido.min.js").is_file() {
        return Err(format!(
            "{}/onfido.min.js not found (--onfido-dist: the package's dist/)\n{}",
            a.onfido_dist.display(),
            usage()
        ));
    }
    if !a.bin.is_file() {
        return Err(format!(
            "server binary {} not found (cargo build -p liveform-server, or set LIVEFORM_BIN)",
            a.bin.display()
        ));
    }
    if !a.dist.join("index.html").is_file() {
        return Err(format!(
            "{}/index.html not found (scripts/build-spa.sh, or set LIVEFORM_DIST)",
            a.dist.display()
        ));
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// The Onfido page: a tiny static file server on loopback.
// ---------------------------------------------------------------------------------------------

async fn serve_onfido(dist: PathBuf) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(serve_one(conn, dist.clone()));
        }
    });
    Ok(addr)
}

/// Answers one request (`Connection: close`): `/` is the page, `/dist/…` the package's files.
async fn serve_one(mut conn: tokio::net::TcpStream, dist: PathBuf) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 64 * 1024 {
            return;
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .split(['?', '#'])
        .next()
        .unwrap_or("/")
        .to_owned();
    let (status, ctype, body) = if path == "/" || path == "/index.html" {
        (
            "200 OK",
            "text/html; charset=utf-8",
            onfido_page().into_bytes(),
        )
    } else if let Some(rel) = path
        .strip_prefix("/dist/")
        .filter(|r| !r.split('/').any(|s| s.is_empty() || s == "." || s == ".."))
    {
        // A blocking read: small files from the page cache, one request at a time in practice.
        match std::fs::read(dist.join(rel)) {
            Ok(bytes) => ("200 OK", content_type(rel), bytes),
            Err(_) => ("404 Not Found", "text/plain", b"not found".to_vec()),
        }
    } else {
        ("404 Not Found", "text/plain", b"not found".to_vec())
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes()).await;
    let _ = conn.write_all(&body).await;
    let _ = conn.shutdown().await;
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" | "map" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

// ---------------------------------------------------------------------------------------------
// Liveform: `liveform demo` and its GCM project's links.
// ---------------------------------------------------------------------------------------------

/// `liveform demo --addr 127.0.0.1:PORT --dist DIST` (its data under `dir`).
async fn start_demo(
    bin: &Path,
    dist: &Path,
    dir: &Path,
) -> Result<(ProcessGuard, String), BoxError> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = dir.join("demo.log");
    let out = std::fs::File::create(&log)?;
    let mut cmd = Command::new(bin);
    cmd.arg("demo")
        .arg("--addr")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--dist")
        .arg(dist)
        // The demo keeps its data in $TMPDIR/liveform-demo-PID: inside our temp dir.
        .env("TMPDIR", dir)
        .stdout(out.try_clone()?)
        .stderr(out);
    let guard = ProcessGuard::spawn("liveform demo", &mut cmd)
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((200, _)) = http_get(addr, "/api/health").await {
            return Ok((guard, format!("http://{addr}")));
        }
        if !group_alive(guard.pgid()) || Instant::now() >= deadline {
            return Err(format!(
                "liveform demo did not come up on {addr}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The demo's GCM project (`pid`, `key`) from `server/demo.toml`.
fn demo_gcm_project() -> Result<(String, String), BoxError> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/demo.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    for block in text.split("[[project]]").skip(1) {
        let field = |name: &str| {
            block.lines().find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == name).then(|| v.trim().trim_matches('"').to_owned())
            })
        };
        if field("algorithm").as_deref() == Some("gcm") {
            if let (Some(pid), Some(key)) = (field("pid"), field("key")) {
                return Ok((pid, key));
            }
        }
    }
    Err(format!("no GCM project with an inline key in {}", path.display()).into())
}

/// Sessions per minute the demo allows one client address (`sessions_per_minute = 60`), with a
/// margin: the samples are paced to stay under it.
const SESSIONS_PER_MINUTE: usize = 50;

struct Liveform {
    base: String,
    pid: String,
    key: String,
    opened: VecDeque<Instant>,
    serial: u32,
}

impl Liveform {
    /// A fresh link (its own `userid`) of the demo's GCM project; `preselect` = straight to the
    /// document step after Start.
    fn link(&mut self, preselect: bool) -> String {
        self.serial += 1;
        let userid = format!("sbs-{}-{}", std::process::id(), self.serial);
        let json = if preselect {
            format!(
                r#"{{"userid":"{userid}","email":"sbs@example.com","selectedIssuingCountry":"KOR","selectedIdType":"passport"}}"#
            )
        } else {
            format!(r#"{{"userid":"{userid}","email":"sbs@example.com"}}"#)
        };
        let path = liveform_e2e::link(&self.pid, Algorithm::Gcm, &self.key, &json, "&lang=en");
        format!("{}{path}", self.base)
    }

    /// Waits while the last minute already opened `SESSIONS_PER_MINUTE` sessions.
    async fn pace(&mut self) {
        let minute = Duration::from_secs(61);
        while self.opened.front().is_some_and(|t| t.elapsed() > minute) {
            self.opened.pop_front();
        }
        if self.opened.len() >= SESSIONS_PER_MINUTE {
            if let Some(first) = self.opened.front() {
                let wait = minute.saturating_sub(first.elapsed());
                eprintln!("side-by-side: pacing {wait:.0?} (the demo's sessions_per_minute)");
                tokio::time::sleep(wait).await;
            }
            self.opened.pop_front();
        }
        self.opened.push_back(Instant::now());
    }
}

// ---------------------------------------------------------------------------------------------
// Samples.
// ---------------------------------------------------------------------------------------------

/// A new session (fresh profile) with the CPU throttled at `rate` and the observer installed.
async fn session(driver: &Driver, base: &str, rate: f64, observe: bool) -> Result<Ctx, BoxError> {
    let mut builder = ClientBuilder::new(HttpConnector::new());
    builder.capabilities(Engine::Chromium.capabilities_with_feed(None));
    let client = tokio::time::timeout(Duration::from_secs(60), builder.connect(&driver.url))
        .await
        .map_err(|_| "opening a WebDriver session took over 60 s")??;
    let ctx = Ctx {
        client,
        base: base.to_owned(),
        engine: Engine::Chromium,
        timeout: Duration::from_secs(60),
        chromium_feed: None,
    };
    let setup = async {
        ctx.cdp("Emulation.setCPUThrottlingRate", json!({ "rate": rate }))
            .await?;
        if observe {
            ctx.cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": OBSERVER_JS }),
            )
            .await?;
        }
        Ok::<(), BoxError>(())
    };
    if let Err(e) = setup.await {
        let _ = ctx.client.clone().close().await;
        return Err(e);
    }
    Ok(ctx)
}

/// Polls the page's `window.__sbs.t` until it has every key of `keys` (an error screen or
/// `limit` ends it).
async fn wait_marks(ctx: &Ctx, keys: &[&str], limit: Duration) -> Result<Value, BoxError> {
    let deadline = Instant::now() + limit;
    loop {
        let t = ctx
            .js("return window.__sbs ? window.__sbs.t : null;", vec![])
            .await?;
        if keys.iter().all(|k| t.get(*k).is_some()) {
            return Ok(t);
        }
        if let Some(code) = t.get("error") {
            return Err(format!("the page shows error {code} (marks {t})").into());
        }
        if Instant::now() >= deadline {
            let page = ctx
                .js(
                    "return [location.href, document.documentElement.outerHTML.slice(0, 3000)];",
                    vec![],
                )
                .await
                .unwrap_or(Value::Null);
            return Err(
                format!("no {keys:?} within {limit:?} (marks so far: {t}); page: {page}").into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn mark(t: &Value, key: &str) -> Result<f64, BoxError> {
    t.get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("no number for {key} in {t}").into())
}

/// Where the first screen's time goes, from the page's resource timing: the JS glue and the
/// wasm received, the session request sent (the first screen is running) and answered, and the
/// app module (loaded behind the welcome) received.
const BREAKDOWN_JS: &str = r#"
const r = performance.getEntriesByType('resource');
const one = (re, k) => { const e = r.find((x) => re.test(x.name)); return e ? e[k] : null; };
return [
  one(/liveform-welcome-[0-9a-f]+\.js/, 'responseEnd'),
  one(/liveform-welcome-[0-9a-f]+_bg\.wasm/, 'responseEnd'),
  one(/liveform-app\.js/, 'responseEnd'),
  one(/liveform-app_bg\.wasm/, 'responseEnd'),
  one(/\/api\/session(\?|$)/, 'startTime'),
  one(/\/api\/session(\?|$)/, 'responseEnd'),
];
"#;

/// The first screen's milestones before Start (see [`BREAKDOWN_JS`]).
async fn breakdown(ctx: &Ctx) -> Result<Sample, BoxError> {
    let v = ctx.js(BREAKDOWN_JS, vec![]).await?;
    let names = [
        "liveform: first-screen JS received",
        "liveform: first-screen wasm received",
        "liveform: app module JS received (behind the welcome)",
        "liveform: app module wasm received (behind the welcome)",
        "liveform: session request sent",
        "liveform: session answered",
    ];
    Ok(names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| v[i].as_f64().map(|ms| ((*n).to_owned(), ms)))
        .collect())
}

async fn calibrate(ctx: &Ctx) -> Result<f64, BoxError> {
    let v = ctx.js(CALIBRATE_JS, vec![]).await?;
    Ok(v[0].as_f64().unwrap_or(f64::NAN))
}

/// What one sample measured: (name, ms) pairs.
type Sample = Vec<(String, f64)>;

async fn onfido_sample(driver: &Driver, base: &str, rate: f64) -> Result<Sample, BoxError> {
    let ctx = session(driver, base, rate, false).await?;
    let result = async {
        ctx.client.goto(&format!("{base}/")).await?;
        let t = wait_marks(&ctx, &["evaluated"], Duration::from_secs(120)).await?;
        let ok = ctx.js("return window.__sbs.ok;", vec![]).await?;
        if ok != Value::Bool(true) {
            return Err("window.Onfido.init is missing after the bundle ran".into());
        }
        Ok(vec![
            (ONFIDO_EVALUATED.to_owned(), mark(&t, "evaluated")?),
            (CALIBRATION.to_owned(), calibrate(&ctx).await?),
        ])
    }
    .await;
    let _ = ctx.client.close().await;
    result
}

const LF_DOM: &str = "liveform: Start in the DOM";
const LF_READY: &str = "liveform: Start ready";
const ONFIDO_EVALUATED: &str = "onfido: bundle evaluated";
const CALIBRATION: &str = "calibration";

/// What a Liveform sample walks after its first screen.
#[derive(Clone, Copy, PartialEq)]
enum After {
    /// Nothing.
    Nothing,
    /// Start (a real click) as soon as it is ready, then the next screen.
    Start,
    /// Start once the app module has mounted behind the welcome (a person who reads the screen
    /// first), then the next screen.
    StartAfterReading,
    /// A link straight to the document step (a passport: one side): Start, the capture step,
    /// its capture by the shutter, then the selfie step.
    Capture,
}

/// Liveform's first screen, then what `after` says.
async fn liveform_sample(
    driver: &Driver,
    lf: &mut Liveform,
    rate: f64,
    after: After,
) -> Result<Sample, BoxError> {
    let url = lf.link(after == After::Capture);
    lf.pace().await;
    let ctx = session(driver, &lf.base, rate, true).await?;
    let result = async {
        ctx.client.goto(&url).await?;
        let t = wait_marks(&ctx, &["start_ready"], Duration::from_secs(120)).await?;
        let mut out: Sample = vec![
            (LF_DOM.to_owned(), mark(&t, "start_dom")?),
            (LF_READY.to_owned(), mark(&t, "start_ready")?),
        ];
        if after != After::Capture {
            for (key, name) in [
                (
                    "dom_content_loaded",
                    "liveform: page parsed (DOMContentLoaded)",
                ),
                (
                    "wasm_started",
                    "liveform: first-screen wasm started (main ran)",
                ),
            ] {
                if let Some(ms) = t.get(key).and_then(Value::as_f64) {
                    out.push((name.to_owned(), ms));
                }
            }
        }
        if after != After::Capture && after != After::StartAfterReading {
            out.extend(breakdown(&ctx).await?);
        }
        if after == After::StartAfterReading {
            wait_marks(&ctx, &["app_ready"], Duration::from_secs(60)).await?;
        }
        if after == After::Nothing {
            out.push((CALIBRATION.to_owned(), calibrate(&ctx).await?));
            return Ok(out);
        }
        ctx.testid("consent-start").await?.click().await?;
        let t = wait_marks(&ctx, &["click", "next_heading"], Duration::from_secs(60)).await?;
        let click = mark(&t, "click")?;
        let next = t["next_screen"].as_str().unwrap_or("?").to_owned();
        if after == After::StartAfterReading {
            out.push((
                format!("Start -> next heading ({next}), app module ready"),
                mark(&t, "next_heading")? - click,
            ));
            return Ok(out);
        }
        if after == After::Start {
            out.push((
                format!("Start -> next heading ({next})"),
                mark(&t, "next_heading")? - click,
            ));
            out.push((CALIBRATION.to_owned(), calibrate(&ctx).await?));
            return Ok(out);
        }
        let doc = "screen-document-front";
        if next != doc {
            return Err(format!("Start led to {next}, not {doc}").into());
        }
        let keys = [
            format!("{doc}:heading"),
            format!("{doc}:capture_view"),
            format!("{doc}:video_playing"),
        ];
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let t = wait_marks(&ctx, &keys, Duration::from_secs(60)).await?;
        out.push((
            "Start -> capture heading".into(),
            mark(&t, keys[0])? - click,
        ));
        out.push(("Start -> capture view".into(), mark(&t, keys[1])? - click));
        out.push((
            "Start -> camera video playing".into(),
            mark(&t, keys[2])? - click,
        ));
        // The document by the shutter (offered after a few seconds without a document in
        // view), "Use this photo", stored: the selfie step.
        ctx.capture_with_shutter(doc, "screen-selfie", "").await?;
        let selfie = "screen-selfie";
        let keys = [
            format!("{selfie}:heading"),
            format!("{selfie}:video_playing"),
            "face_worker_ready".to_owned(),
            "face_first_result".to_owned(),
        ];
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let t = wait_marks(&ctx, &keys, Duration::from_secs(60)).await?;
        let shown = mark(&t, keys[0])?;
        if let Ok(created) = mark(&t, "face_worker_created") {
            out.push((
                "selfie heading -> face worker created".into(),
                created - shown,
            ));
        }
        out.push((
            "selfie heading -> video playing".into(),
            mark(&t, keys[1])? - shown,
        ));
        out.push((
            "selfie heading -> face worker ready".into(),
            mark(&t, keys[2])? - shown,
        ));
        out.push((
            "selfie heading -> first face result".into(),
            mark(&t, keys[3])? - shown,
        ));
        out.push((CALIBRATION.to_owned(), calibrate(&ctx).await?));
        Ok(out)
    }
    .await;
    let _ = ctx.client.close().await;
    result
}

/// Tries per sample: a failed one (a browser that did not start, a stray error) is retried,
/// and said so, before the run fails.
const ATTEMPTS: u32 = 3;

fn report_retry(form: &str, attempt: u32, e: &BoxError) {
    let msg = e.to_string();
    let cut: String = msg.chars().take(3000).collect();
    eprintln!("side-by-side: a {form} sample failed (try {attempt} of {ATTEMPTS}): {cut}");
}

/// [`liveform_sample`], retried.
async fn ours(
    driver: &Driver,
    lf: &mut Liveform,
    rate: f64,
    after: After,
) -> Result<Sample, BoxError> {
    let mut attempt = 1;
    loop {
        match liveform_sample(driver, lf, rate, after).await {
            Ok(s) => return Ok(s),
            Err(e) if attempt < ATTEMPTS => report_retry("liveform", attempt, &e),
            Err(e) => return Err(e),
        }
        attempt += 1;
    }
}

/// [`onfido_sample`], retried.
async fn theirs(driver: &Driver, base: &str, rate: f64) -> Result<Sample, BoxError> {
    let mut attempt = 1;
    loop {
        match onfido_sample(driver, base, rate).await {
            Ok(s) => return Ok(s),
            Err(e) if attempt < ATTEMPTS => report_retry("onfido", attempt, &e),
            Err(e) => return Err(e),
        }
        attempt += 1;
    }
}

/// One line of a sample's numbers (ms).
fn brief(sample: &Sample) -> String {
    sample
        .iter()
        .map(|(n, ms)| format!("{n} {ms:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------
// Statistics and the table.
// ---------------------------------------------------------------------------------------------

fn stats(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    (median, s[0], s[n - 1])
}

/// Rows: (throttle, measure, values).
type Rows = Vec<(f64, String, Vec<f64>)>;

fn add(rows: &mut Rows, rate: f64, sample: Sample) {
    for (name, ms) in sample {
        match rows.iter_mut().find(|(r, n, _)| *r == rate && *n == name) {
            Some((_, _, v)) => v.push(ms),
            None => rows.push((rate, name, vec![ms])),
        }
    }
}

fn median_of(rows: &Rows, rate: f64, name: &str) -> Option<f64> {
    rows.iter()
        .find(|(r, n, _)| *r == rate && n == name)
        .map(|(_, _, v)| stats(v).0)
}

fn print_table(rows: &Rows) {
    println!();
    println!(
        "side-by-side: Chromium headless, a fresh profile per sample; ms on the page's clock \
         (first screen: from the navigation start)"
    );
    println!(
        "{:<8} {:<8} {:<42} {:>8} {:>8} {:>8} {:>3}",
        "engine", "throttle", "measure", "median", "min", "max", "n"
    );
    let mut sorted: Vec<&(f64, String, Vec<f64>)> = rows.iter().collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (rate, name, v) in sorted {
        let (med, min, max) = stats(v);
        println!(
            "{:<8} {:<8} {:<42} {:>8.1} {:>8.1} {:>8.1} {:>3}",
            "chromium",
            format!("{rate}x"),
            name,
            med,
            min,
            max,
            v.len()
        );
    }
}

/// Renames the sample's calibration row after the form it ran in.
fn tag_calibration(mut sample: Sample, form: &str) -> Sample {
    for (n, _) in sample.iter_mut().filter(|(n, _)| n == CALIBRATION) {
        *n = format!("calibration: fixed JS loop ({form} tab)");
    }
    sample
}

// ---------------------------------------------------------------------------------------------

async fn run(args: Args) -> Result<(), BoxError> {
    let tmp = tempfile::Builder::new()
        .prefix("liveform-side-by-side-")
        .tempdir()?;
    let onfido = format!("http://{}", serve_onfido(args.onfido_dist.clone()).await?);
    let (_demo, base) = start_demo(&args.bin, &args.dist, tmp.path()).await?;
    let (pid, key) = demo_gcm_project()?;
    let mut lf = Liveform {
        base,
        pid,
        key,
        opened: VecDeque::new(),
        serial: 0,
    };
    let driver = Driver::start(Engine::Chromium, tmp.path()).await?;
    eprintln!(
        "side-by-side: liveform demo at {}, onfido page at {onfido}/, {} runs at {:?}x",
        lf.base, args.runs, args.throttles
    );
    let top = args.throttles.iter().copied().fold(1.0, f64::max);
    let mut rows: Rows = Vec::new();
    for &rate in &args.throttles {
        let after = if rate == top {
            After::Start
        } else {
            After::Nothing
        };
        for i in 0..args.runs {
            // Alternate which form goes first.
            let (ours, theirs) = if i % 2 == 0 {
                let a = ours(&driver, &mut lf, rate, after).await?;
                (a, theirs(&driver, &onfido, rate).await?)
            } else {
                let b = theirs(&driver, &onfido, rate).await?;
                (ours(&driver, &mut lf, rate, after).await?, b)
            };
            eprintln!(
                "side-by-side: {rate}x #{}: {} | {}",
                i + 1,
                brief(&ours),
                brief(&theirs)
            );
            add(&mut rows, rate, tag_calibration(ours, "liveform"));
            add(&mut rows, rate, tag_calibration(theirs, "onfido"));
        }
    }
    // At the highest throttle, Start also after the person has read the welcome (the app module
    // mounted behind it): the wait a reader sees, beside the worst case of an immediate click.
    for i in 0..args.runs {
        let s = ours(&driver, &mut lf, top, After::StartAfterReading).await?;
        eprintln!("side-by-side: {top}x reading #{}: {}", i + 1, brief(&s));
        let s = s
            .into_iter()
            .filter(|(n, _)| n.starts_with("Start ->"))
            .collect();
        add(&mut rows, top, s);
    }
    if args.capture {
        for i in 0..args.runs {
            let s = ours(&driver, &mut lf, top, After::Capture).await?;
            eprintln!("side-by-side: {top}x capture #{}: {}", i + 1, brief(&s));
            // The first screen's rows come from the paired runs above only.
            let s = s
                .into_iter()
                .filter(|(n, _)| n.starts_with("Start ->") || n.starts_with("selfie"))
                .collect();
            add(&mut rows, top, s);
        }
    }
    print_table(&rows);
    println!();
    for &rate in &args.throttles {
        if let (Some(ours), Some(theirs)) = (
            median_of(&rows, rate, LF_READY),
            median_of(&rows, rate, ONFIDO_EVALUATED),
        ) {
            println!(
                "ratio at {rate}x: liveform Start ready / onfido bundle evaluated = {:.2} \
                 ({ours:.0} ms / {theirs:.0} ms, medians)",
                ours / theirs
            );
        }
    }
    drop(driver);
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("side_by_side: {msg}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("side_by_side: tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = rt.block_on(run(args));
    drop(rt);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("side_by_side: failed: {e}");
            ExitCode::FAILURE
        }
    }
}
