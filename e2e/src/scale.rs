//! Several server instances sharing one PostgreSQL and one S3 store, behind a round-robin
//! proxy on loopback whose address is the form's origin (issue 16; `tests/scale.rs`).
//!
//! * [`Cluster::start`] writes one config for every instance: the fixture config with the proxy
//!   as the origin (`public_base_url`, Return URLs, the second loopback origin), `database_url`
//!   = `$LIVEFORM_TEST_DATABASE_URL` with a fresh schema of its own (`search_path` in the URL's
//!   `options`), and `[server.object_store]` = `$LIVEFORM_TEST_S3_ENDPOINT` /
//!   `$LIVEFORM_TEST_S3_BUCKET` with a fresh key prefix; the same storage key. The instances
//!   start at once on ports chosen up front (so the schema's migrations meet the server's
//!   advisory lock). `scripts/services.sh start` runs the services and writes their settings to
//!   `target/services/env`; without them the tests fail with that hint.
//! * [`Cluster::kill`] SIGKILLs one instance's process group (a crash: nothing is flushed);
//!   [`Cluster::restart`] starts it again on the same port with the same config.
//! * [`Proxy`]: per-request round-robin. It parses HTTP/1.1 minimally (request and status
//!   lines, headers, `Content-Length` / chunked / close-delimited bodies), keeps the browser's
//!   connection alive and opens a fresh backend connection per request (`Connection: close`
//!   towards the instance), so consecutive requests on one browser connection go to different
//!   instances; per-connection balancing would pin a keep-alive connection, i.e. the whole
//!   flow, to one instance. A backend whose connect fails (killed: its port refuses) is skipped
//!   for the next one. A request without a body that gets no response head (the instance died
//!   meanwhile) is retried on the next instance, like a load balancer's "next upstream" for
//!   idempotent requests; any other failure answers `502` (the form retries uploads on 5xx).
//!   A request body that cannot be delivered whole closes the browser's connection after the
//!   response (if the instance still gave one, e.g. an early `413`).
//!   No instance reachable: `502`. Every forwarded request is recorded ([`Proxy::records`]).
//! * [`with_cluster`]: runs a test body against a cluster and appends every instance's output
//!   and the proxy's record to a failure; on success the schema is dropped.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncReadExt as _, AsyncWrite};
use tokio::io::{AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

use crate::{
    config_for_origin, err, http_get, locate_artifacts, register_dir, register_group, tail,
    test_config, unregister_dir, unregister_group, BoxError, Ctx, Server, TestResult,
};

// ---------------------------------------------------------------------------------------------
// The test services.
// ---------------------------------------------------------------------------------------------

/// PostgreSQL and S3 from the environment (`scripts/services.sh start` → `target/services/env`).
#[derive(Debug, Clone)]
pub struct Services {
    /// `postgres://postgres@127.0.0.1:PORT/liveform_test`
    pub database_url: String,
    pub s3_endpoint: String,
    pub s3_bucket: String,
    pub s3_region: String,
}

const SERVICES_HINT: &str = "the scale tests need the test PostgreSQL and S3 servers: run \
     `scripts/services.sh start && source target/services/env` first (scripts/test-e2e.sh does \
     both for the Chromium run)";

impl Services {
    /// From `LIVEFORM_TEST_DATABASE_URL`, `LIVEFORM_TEST_S3_ENDPOINT`, `LIVEFORM_TEST_S3_BUCKET`,
    /// `AWS_REGION` (default `us-east-1`); the instances read `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` themselves, so those must be set too.
    pub fn from_env() -> Result<Services, String> {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let need = |k: &str| get(k).ok_or_else(|| format!("{k} is not set: {SERVICES_HINT}"));
        let services = Services {
            database_url: need("LIVEFORM_TEST_DATABASE_URL")?,
            s3_endpoint: need("LIVEFORM_TEST_S3_ENDPOINT")?,
            s3_bucket: need("LIVEFORM_TEST_S3_BUCKET")?,
            s3_region: get("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
        };
        need("AWS_ACCESS_KEY_ID")?;
        need("AWS_SECRET_ACCESS_KEY")?;
        Ok(services)
    }
}

/// For [`crate::SuiteOptions::requires`]: the services' settings are in the environment.
pub fn require_services() -> Result<(), String> {
    Services::from_env().map(|_| ())
}

/// Runs `sql` on PostgreSQL at `url` (one connection, driven on the current runtime).
async fn pg_batch(url: &str, sql: &str) -> Result<(), BoxError> {
    let (client, connection) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_postgres::connect(url, tokio_postgres::NoTls),
    )
    .await
    .map_err(|_| err(format!("connecting to {url} timed out ({SERVICES_HINT})")))?
    .map_err(|e| err(format!("connecting to {url}: {e} ({SERVICES_HINT})")))?;
    let driver = tokio::spawn(connection);
    let result = client.batch_execute(sql).await;
    drop(client);
    let _ = driver.await;
    result.map_err(|e| err(format!("{sql}: {e}")))
}

/// A fresh name for a schema and an S3 prefix: `e2e_{pid}_{n}_{millis}`.
fn unique_name() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!(
        "e2e_{}_{}_{millis}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

// ---------------------------------------------------------------------------------------------
// The proxy.
// ---------------------------------------------------------------------------------------------

/// One request the [`Proxy`] handled.
#[derive(Debug, Clone)]
pub struct ProxyRecord {
    pub method: String,
    /// The request target without its query.
    pub path: String,
    /// The instance (index into the backends) that answered; `None`: none did (the proxy's 502).
    pub backend: Option<usize>,
    pub status: u16,
}

struct ProxyShared {
    backends: Vec<SocketAddr>,
    next: AtomicUsize,
    records: Mutex<Vec<ProxyRecord>>,
}

impl ProxyShared {
    fn record(&self, method: &str, target: &str, backend: Option<usize>, status: u16) {
        if let Ok(mut r) = self.records.lock() {
            r.push(ProxyRecord {
                method: method.to_owned(),
                path: target.split('?').next().unwrap_or_default().to_owned(),
                backend,
                status,
            });
        }
    }
}

/// A per-request round-robin HTTP/1.1 proxy on `127.0.0.1` (see the module docs), running on a
/// thread and runtime of its own (a test body that blocks does not stall it). Stops on drop.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<ProxyShared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `backends` in turn.
    pub fn start(backends: Vec<SocketAddr>) -> std::io::Result<Proxy> {
        assert!(!backends.is_empty(), "a proxy needs a backend");
        let listener = StdListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(ProxyShared {
            backends,
            next: AtomicUsize::new(0),
            records: Mutex::new(Vec::new()),
        });
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name("e2e-proxy".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        eprintln!("e2e: proxy runtime: {e}");
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("e2e: proxy listener: {e}");
                            return;
                        }
                    };
                    loop {
                        tokio::select! {
                            _ = &mut stopped => break,
                            accepted = listener.accept() => match accepted {
                                Ok((stream, _)) => {
                                    let sh = sh.clone();
                                    tokio::spawn(async move {
                                        let _ = serve_connection(stream, sh).await;
                                    });
                                }
                                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                            },
                        }
                    }
                });
                // Dropping the runtime cuts the connections still open.
            })?;
        Ok(Proxy {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The instances' addresses, in round-robin order.
    pub fn backends(&self) -> &[SocketAddr] {
        &self.shared.backends
    }

    /// Every request so far, in the order their responses started.
    pub fn records(&self) -> Vec<ProxyRecord> {
        self.shared
            .records
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// How many requests each instance answered (all paths), and how many of them were `/api/`.
    pub fn answered(&self) -> Vec<(usize, usize)> {
        let mut per = vec![(0, 0); self.shared.backends.len()];
        for r in self.records() {
            if let Some(i) = r.backend {
                per[i].0 += 1;
                if r.path.starts_with("/api/") {
                    per[i].1 += 1;
                }
            }
        }
        per
    }

    /// The last `n` records, one a line.
    pub fn describe(&self, n: usize) -> String {
        let records = self.records();
        let start = records.len().saturating_sub(n);
        let mut out = format!(
            "--- proxy {} → {:?}: {} requests (last {}) ---\n",
            self.addr,
            self.shared.backends,
            records.len(),
            records.len() - start
        );
        for r in &records[start..] {
            let to = r.backend.map_or("none".to_owned(), |i| format!("#{i}"));
            out.push_str(&format!("{} {} → {to} {}\n", r.method, r.path, r.status));
        }
        out
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A request or response head: the first line and the header fields in order.
struct Head {
    first: String,
    headers: Vec<(String, String)>,
}

/// Headers of one hop only: the proxy speaks keep-alive to the browser and `close` to the
/// instances.
const HOP_BY_HOP: [&str; 3] = ["connection", "keep-alive", "proxy-connection"];

/// Larger heads are refused (the browser's are a few hundred bytes).
const MAX_HEAD: usize = 64 * 1024;

impl Head {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated header `name` lists `token`.
    fn lists(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// The head without the hop-by-hop fields, plus `connection` if given.
    fn to_bytes(&self, connection: Option<&str>) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.first);
        for (k, v) in &self.headers {
            if !HOP_BY_HOP.iter().any(|h| k.eq_ignore_ascii_case(h)) {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
        }
        if let Some(c) = connection {
            out.push_str(&format!("Connection: {c}\r\n"));
        }
        out.push_str("\r\n");
        out.into_bytes()
    }

    /// How the message's body is delimited. `response` = (status, the request's method).
    fn body(&self, response: Option<(u16, &str)>) -> std::io::Result<Body> {
        if let Some((status, method)) = response {
            if method == "HEAD" || (100..200).contains(&status) || status == 204 || status == 304 {
                return Ok(Body::Empty);
            }
        }
        if self.lists("transfer-encoding", "chunked") {
            return Ok(Body::Chunked);
        }
        match self.get("content-length") {
            Some(v) => match v.trim().parse::<u64>() {
                Ok(0) => Ok(Body::Empty),
                Ok(n) => Ok(Body::Length(n)),
                Err(_) => Err(bad_data(format!("bad Content-Length {v:?}"))),
            },
            // A request without either has no body; a response runs until the connection ends.
            None if response.is_some() => Ok(Body::UntilClose),
            None => Ok(Body::Empty),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

fn bad_data(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
}

/// Reads one line (with its line end) into `line`; `Ok(false)` at end of stream.
async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<bool> {
    line.clear();
    let n = (&mut *r)
        .take(MAX_HEAD as u64)
        .read_until(b'\n', line)
        .await?;
    if n > 0 && !line.ends_with(b"\n") {
        return Err(bad_data("line too long or cut off".into()));
    }
    Ok(n > 0)
}

/// Reads a head; `Ok(None)` if the stream ends before its first byte.
async fn read_head<R: AsyncBufRead + Unpin>(r: &mut R) -> std::io::Result<Option<Head>> {
    let mut line = Vec::new();
    // Empty lines before a request line are allowed (RFC 9112, 2.2).
    loop {
        if !read_line(r, &mut line).await? {
            return Ok(None);
        }
        if !line.trim_ascii().is_empty() {
            break;
        }
    }
    let first = String::from_utf8_lossy(line.trim_ascii_end()).into_owned();
    let mut headers = Vec::new();
    let mut size = line.len();
    loop {
        if !read_line(r, &mut line).await? {
            return Err(bad_data("the head was cut off".into()));
        }
        size += line.len();
        if size > MAX_HEAD {
            return Err(bad_data("head too large".into()));
        }
        let text = String::from_utf8_lossy(line.trim_ascii_end()).into_owned();
        if text.is_empty() {
            return Ok(Some(Head { first, headers }));
        }
        let (k, v) = text
            .split_once(':')
            .ok_or_else(|| bad_data(format!("bad header line {text:?}")))?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
}

/// Copies one body delimited by `body` from `src` to `dst`, framing included (chunk sizes and
/// trailers are passed on as they are).
async fn copy_body<R, W>(src: &mut R, dst: &mut W, body: Body) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    match body {
        Body::Empty => {}
        Body::Length(n) => copy_exact(src, dst, n).await?,
        Body::UntilClose => {
            tokio::io::copy_buf(src, dst).await?;
        }
        Body::Chunked => {
            let mut line = Vec::new();
            loop {
                if !read_line(src, &mut line).await? {
                    return Err(bad_data("chunked body cut off".into()));
                }
                dst.write_all(&line).await?;
                let text = String::from_utf8_lossy(&line);
                let size_text = text.split(';').next().unwrap_or_default().trim();
                let size = u64::from_str_radix(size_text, 16)
                    .map_err(|_| bad_data(format!("bad chunk size {size_text:?}")))?;
                if size == 0 {
                    // Trailers, then the empty line.
                    loop {
                        if !read_line(src, &mut line).await? {
                            return Err(bad_data("chunked trailer cut off".into()));
                        }
                        dst.write_all(&line).await?;
                        if line.trim_ascii().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                copy_exact(src, dst, size).await?;
                // The CRLF after the chunk's data.
                if !read_line(src, &mut line).await? {
                    return Err(bad_data("chunked body cut off".into()));
                }
                dst.write_all(&line).await?;
            }
        }
    }
    dst.flush().await
}

async fn copy_exact<R, W>(src: &mut R, dst: &mut W, n: u64) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let copied = tokio::io::copy_buf(&mut (&mut *src).take(n), dst).await?;
    if copied < n {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("body cut off after {copied} of {n} bytes"),
        ));
    }
    Ok(())
}

/// A response of the proxy itself (`502`: no instance answered).
fn proxy_response(status: &str, text: &str, close: bool) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\n{}\r\n{text}",
        text.len(),
        if close { "Connection: close\r\n" } else { "" }
    )
    .into_bytes()
}

/// One browser connection: requests in turn, each to the next instance.
async fn serve_connection(client: TcpStream, sh: Arc<ProxyShared>) -> std::io::Result<()> {
    let _ = client.set_nodelay(true);
    let (client_read, mut cw) = client.into_split();
    let mut cr = BufReader::new(client_read);
    loop {
        let Some(req) = read_head(&mut cr).await? else {
            return Ok(());
        };
        let mut words = req.first.split_whitespace();
        let method = words.next().unwrap_or_default().to_owned();
        let target = words.next().unwrap_or_default().to_owned();
        let version = words.next().unwrap_or_default().to_owned();
        let client_close = req.lists("connection", "close") || version == "HTTP/1.0";
        let req_body = req.body(None)?;
        let retryable = req_body == Body::Empty && matches!(method.as_str(), "GET" | "HEAD");
        let head = req.to_bytes(Some("close"));
        let n = sh.backends.len();
        let first = sh.next.fetch_add(1, Ordering::Relaxed) % n;
        let mut answered = None;
        for k in 0..n {
            let i = (first + k) % n;
            let connect =
                tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(sh.backends[i]));
            let Ok(Ok(backend)) = connect.await else {
                continue; // down (killed): the next one
            };
            let _ = backend.set_nodelay(true);
            let (backend_read, mut bw) = backend.into_split();
            if bw.write_all(&head).await.is_err() {
                continue;
            }
            // (Copying an empty body does nothing.) A body cut off (the instance answered
            // early and closed, or either side died) leaves the browser's connection out of
            // step: whatever the instance still answers, that connection closes afterwards.
            let body_sent = copy_body(&mut cr, &mut bw, req_body).await.is_ok();
            let mut br = BufReader::new(backend_read);
            let head_wait = if body_sent { 3600 } else { 5 };
            let got = tokio::time::timeout(Duration::from_secs(head_wait), read_head(&mut br));
            match got.await {
                Ok(Ok(Some(resp))) => {
                    answered = Some((i, br, bw, resp, body_sent));
                    break;
                }
                // No response head: the instance died meanwhile. Only a body-less GET/HEAD
                // goes to the next one.
                _ if retryable => continue,
                _ => break,
            }
        }
        let Some((i, mut br, _bw, mut resp, body_sent)) = answered else {
            sh.record(&method, &target, None, 502);
            // After a request with a body the browser's connection may be out of step: close it.
            let close = client_close || req_body != Body::Empty;
            cw.write_all(&proxy_response(
                "502 Bad Gateway",
                "e2e proxy: no instance answered\n",
                close,
            ))
            .await?;
            if close {
                let _ = cw.shutdown().await;
                return Ok(());
            }
            continue;
        };
        // Interim responses (100 Continue, 103 Early Hints) pass; then the final one.
        let status = loop {
            let status: u16 = resp
                .first
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad_data(format!("bad status line {:?}", resp.first)))?;
            if (100..200).contains(&status) && status != 101 {
                cw.write_all(&resp.to_bytes(None)).await?;
                resp = read_head(&mut br)
                    .await?
                    .ok_or_else(|| bad_data("no final response".into()))?;
                continue;
            }
            break status;
        };
        sh.record(&method, &target, Some(i), status);
        let resp_body = if status == 101 {
            Body::UntilClose
        } else {
            resp.body(Some((status, &method)))?
        };
        let close = client_close || !body_sent || resp_body == Body::UntilClose;
        cw.write_all(&resp.to_bytes(close.then_some("close")))
            .await?;
        // A body cut off midway ends the browser's connection too (it sees a network error).
        copy_body(&mut br, &mut cw, resp_body).await?;
        if close {
            let _ = cw.shutdown().await;
            return Ok(());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The cluster.
// ---------------------------------------------------------------------------------------------

/// One instance: its fixed port and data directory, and the process while it runs.
struct Instance {
    port: u16,
    data: PathBuf,
    stderr: PathBuf,
    /// Starts so far (1 after [`Cluster::start`]).
    runs: u32,
    server: Option<Server>,
    /// The output of earlier runs (killed).
    earlier: String,
}

/// `instances` servers sharing PostgreSQL (a schema of their own) and S3 (a prefix of their
/// own) behind a [`Proxy`]; see the module docs. Dropping it kills every instance and stops the
/// proxy.
pub struct Cluster {
    // Field order = drop order: the proxy stops, the instances die, then the temp dir goes.
    proxy: Proxy,
    instances: Mutex<Vec<Instance>>,
    bin: PathBuf,
    dist: PathBuf,
    config: PathBuf,
    /// `$LIVEFORM_TEST_DATABASE_URL` (without the schema).
    database_url: String,
    /// The PostgreSQL schema and the S3 key prefix (`{schema}/`).
    pub schema: String,
    tmp: tempfile::TempDir,
}

impl Cluster {
    /// Starts `instances` servers (at once) on PostgreSQL + S3 and the proxy in front of them.
    pub async fn start(instances: usize) -> Result<Cluster, BoxError> {
        assert!(instances > 0, "a cluster needs an instance");
        let services = Services::from_env()?;
        let (bin, dist) = locate_artifacts(true)?;
        let tmp = tempfile::Builder::new()
            .prefix("liveform-e2e-cluster-")
            .tempdir()?;
        register_dir(tmp.path());
        let schema = unique_name();
        pg_batch(&services.database_url, &format!("CREATE SCHEMA {schema}")).await?;
        // The ports are chosen (all held at once, so they differ) before the config is written.
        let ports: Vec<u16> = {
            let held: Vec<StdListener> = (0..instances)
                .map(|_| StdListener::bind("127.0.0.1:0"))
                .collect::<Result<_, _>>()?;
            held.iter()
                .map(|l| l.local_addr().map(|a| a.port()))
                .collect::<Result<_, _>>()?
        };
        let proxy = Proxy::start(
            ports
                .iter()
                .map(|&p| SocketAddr::from(([127, 0, 0, 1], p)))
                .collect(),
        )?;
        let sep = if services.database_url.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!(
            "{}{sep}options=-c%20search_path%3D{schema}",
            services.database_url
        );
        let text = config_for_origin(&test_config(), proxy.addr().port()).replacen(
            "[server]\n",
            &format!("[server]\ndatabase_url = \"{url}\"\ndatabase_pool = 8\n"),
            1,
        );
        let text = format!(
            "{text}\n# e2e/src/scale.rs: the captures of every instance, in one place.\n\
             [server.object_store]\nendpoint = \"{}\"\nbucket = \"{}\"\nregion = \"{}\"\n\
             prefix = \"{schema}/\"\n",
            services.s3_endpoint, services.s3_bucket, services.s3_region
        );
        let config = tmp.path().join("liveform.toml");
        std::fs::write(&config, text)?;
        let cluster = Cluster {
            proxy,
            instances: Mutex::new(
                ports
                    .iter()
                    .enumerate()
                    .map(|(i, &port)| Instance {
                        port,
                        data: tmp.path().join(format!("data-{i}")),
                        stderr: tmp.path().join(format!("instance-{i}.stderr.log")),
                        runs: 0,
                        server: None,
                        earlier: String::new(),
                    })
                    .collect(),
            ),
            bin,
            dist,
            config,
            database_url: services.database_url,
            schema,
            tmp,
        };
        // All at once: they meet on the fresh schema's migrations.
        let mut starting = Vec::new();
        for i in 0..instances {
            starting.push((i, cluster.spawn(i)?));
        }
        for (i, s) in starting {
            cluster.finish_start(i, s).await?;
        }
        Ok(cluster)
    }

    /// Starts instance `i`'s process (not waiting for it).
    fn spawn(&self, i: usize) -> Result<crate::Starting, BoxError> {
        let mut all = self
            .instances
            .lock()
            .map_err(|_| err("instances poisoned"))?;
        let inst = all
            .get_mut(i)
            .ok_or_else(|| err(format!("no instance {i}")))?;
        if inst.server.is_some() {
            return Err(err(format!("instance {i} is running")));
        }
        inst.runs += 1;
        let mut mark = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&inst.stderr)?;
        std::io::Write::write_all(
            &mut mark,
            format!("=== e2e: run {} of instance {i} ===\n", inst.runs).as_bytes(),
        )?;
        let s = Server::spawn(
            &format!("liveform instance {i}"),
            &self.bin,
            &self.dist,
            &self.config,
            inst.port,
            &inst.data,
            &inst.stderr,
        )?;
        register_group(s.guard.pgid());
        Ok(s)
    }

    /// Waits until instance `i` listens and answers `/api/health`.
    async fn finish_start(&self, i: usize, starting: crate::Starting) -> TestResult {
        let pgid = starting.guard.pgid();
        let server = match starting.ready(Duration::from_secs(30)) {
            Ok(s) => s,
            Err(e) => {
                unregister_group(pgid);
                return Err(err(format!("starting instance {i}: {e}")));
            }
        };
        let addr = server.addr;
        let mut logs = None;
        if let Ok(mut all) = self.instances.lock() {
            all[i].server = Some(server);
        }
        match http_get(addr, "/api/health").await {
            Ok((200, b)) if b.contains("ok") => {}
            other => logs = Some(format!("{other:?}")),
        }
        match logs {
            None => Ok(()),
            Some(got) => Err(err(format!(
                "instance {i} /api/health: {got}\n{}",
                self.logs()
            ))),
        }
    }

    /// The proxy's URL, the form's origin: `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.proxy.addr())
    }

    pub fn proxy(&self) -> &Proxy {
        &self.proxy
    }

    /// How many instances there are (running or not).
    pub fn len(&self) -> usize {
        self.proxy.backends().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Instance `i`'s address (fixed across restarts).
    pub fn addr(&self, i: usize) -> SocketAddr {
        self.proxy.backends()[i]
    }

    /// Instance `i`'s own URL (bypassing the proxy).
    pub fn instance_base(&self, i: usize) -> String {
        format!("http://{}", self.addr(i))
    }

    /// Whether instance `i` runs.
    pub fn running(&self, i: usize) -> bool {
        self.instances
            .lock()
            .map(|all| all[i].server.is_some())
            .unwrap_or(false)
    }

    /// SIGKILLs instance `i`'s process group (a crash). Its port refuses connections afterwards,
    /// so the proxy skips it.
    pub fn kill(&self, i: usize) -> TestResult {
        let mut all = self
            .instances
            .lock()
            .map_err(|_| err("instances poisoned"))?;
        let inst = all
            .get_mut(i)
            .ok_or_else(|| err(format!("no instance {i}")))?;
        let mut server = inst
            .server
            .take()
            .ok_or_else(|| err(format!("instance {i} is not running")))?;
        let note = server.guard.kill();
        unregister_group(server.guard.pgid());
        inst.earlier.push_str(&format!(
            "=== instance {i} ({}), run {}: SIGKILLed ===\n{}\n",
            server.addr,
            inst.runs,
            tail(&server.stdout_text(), 40)
        ));
        match note {
            Some(n) => Err(err(n)),
            None => Ok(()),
        }
    }

    /// Starts instance `i` again on the same port with the same config (SIGKILLing it first if
    /// it runs), and waits until it answers.
    pub async fn restart(&self, i: usize) -> TestResult {
        if self.running(i) {
            self.kill(i)?;
        }
        let s = self.spawn(i)?;
        self.finish_start(i, s).await
    }

    /// Every instance's output (earlier runs included) and the proxy's last requests.
    pub fn logs(&self) -> String {
        let mut out = format!(
            "--- cluster: schema and S3 prefix {}, config {} ---\n",
            self.schema,
            self.config.display()
        );
        if let Ok(all) = self.instances.lock() {
            for (i, inst) in all.iter().enumerate() {
                out.push_str(&inst.earlier);
                match &inst.server {
                    Some(s) => out.push_str(&format!(
                        "=== instance {i} ({}), run {} ===\n--- stdout ---\n{}\n",
                        s.addr,
                        inst.runs,
                        tail(&s.stdout_text(), 40)
                    )),
                    None => out.push_str(&format!("=== instance {i}: not running ===\n")),
                }
                out.push_str(&format!(
                    "--- stderr of instance {i} (every run) ---\n{}\n",
                    tail(&crate::read_lossy(&inst.stderr), 60)
                ));
            }
        }
        out.push_str(&self.proxy.describe(80));
        out
    }

    /// Stops every instance, then drops the schema (the S3 prefix stays in the throwaway store).
    pub async fn shutdown(self) -> TestResult {
        let url = self.database_url.clone();
        let schema = self.schema.clone();
        drop(self);
        pg_batch(&url, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let servers: Vec<Server> = self
            .instances
            .lock()
            .map(|mut all| all.iter_mut().filter_map(|i| i.server.take()).collect())
            .unwrap_or_default();
        for mut s in servers {
            if let Some(note) = s.guard.terminate(Duration::from_secs(3)) {
                eprintln!("e2e: {note}");
            }
            unregister_group(s.guard.pgid());
        }
        unregister_dir(self.tmp.path());
    }
}

/// Aborts a spawned task when dropped (a test that times out takes its body along).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `body` with this browser session pointed at a new [`Cluster`] of `instances` (the
/// [`Ctx`]'s base is the proxy). A failure or panic carries every instance's output and the
/// proxy's record; on success the instances stop and the schema is dropped (on failure it stays
/// for a look: its name is in the message).
pub async fn with_cluster<F, Fut>(b: &Ctx, instances: usize, body: F) -> TestResult
where
    F: FnOnce(Ctx, Arc<Cluster>) -> Fut,
    Fut: std::future::Future<Output = TestResult> + Send + 'static,
{
    let t0 = Instant::now();
    let cluster = Arc::new(Cluster::start(instances).await?);
    crate::trace(t0, &format!("cluster of {instances} ready"));
    let ctx = b.with_base(&cluster.base());
    let mut task = AbortOnDrop(tokio::spawn(body(ctx, cluster.clone())));
    let result = match (&mut task.0).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(join) if join.is_panic() => {
            let p = join.into_panic();
            Err(p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "<non-string panic>".into()))
        }
        Err(join) => Err(join.to_string()),
    };
    drop(task);
    match result {
        Ok(()) => match Arc::try_unwrap(cluster) {
            Ok(c) => c.shutdown().await,
            Err(_) => Ok(()),
        },
        Err(msg) => Err(err(format!("{msg}\n{}", cluster.logs()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend answering every request on a connection of its own with a chunked body
    /// `"{id} {method} {path} close={…} body={…}"` (CRLF in the body shown as `|`), then closing (as the server does after
    /// `Connection: close`).
    async fn fake_backend(id: &'static str) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((s, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let (r, mut w) = s.into_split();
                    let mut r = BufReader::new(r);
                    let Ok(Some(head)) = read_head(&mut r).await else {
                        return;
                    };
                    let mut body = Vec::new();
                    let framing = head.body(None).unwrap();
                    copy_body(&mut r, &mut body, framing).await.unwrap();
                    let text = format!(
                        "{id} {} close={} body={}",
                        head.first.rsplit_once(' ').unwrap().0,
                        head.lists("connection", "close"),
                        String::from_utf8_lossy(&body).replace("\r\n", "|")
                    );
                    let (a, b) = text.split_at(text.len() / 2);
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                         {:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                        a.len(),
                        b.len()
                    );
                    let _ = w.write_all(resp.as_bytes()).await;
                    let _ = w.shutdown().await;
                });
            }
        });
        addr
    }

    fn dead_addr() -> SocketAddr {
        // Bound and released: connecting is refused.
        StdListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    }

    /// Sends `request` on `conn` and reads one response: (status, the response's text with
    /// the chunk framing removed, whether the proxy closes).
    async fn exchange(conn: &mut BufReader<TcpStream>, request: &str) -> (u16, String, bool) {
        conn.get_mut().write_all(request.as_bytes()).await.unwrap();
        let head = read_head(conn).await.unwrap().expect("a response");
        let status = head
            .first
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let mut raw = Vec::new();
        let framing = head.body(Some((status, "GET"))).unwrap();
        assert_ne!(framing, Body::UntilClose, "{}", head.first);
        copy_body(conn, &mut raw, framing).await.unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let text = if framing == Body::Chunked {
            // "len\r\ndata\r\n…0\r\n\r\n" → data…
            text.split("\r\n")
                .collect::<Vec<_>>()
                .chunks(2)
                .filter_map(|c| c.get(1).copied())
                .collect()
        } else {
            text
        };
        (status, text, head.lists("connection", "close"))
    }

    #[tokio::test]
    async fn round_robin_per_request_on_one_connection() {
        let a = fake_backend("A").await;
        let b = fake_backend("B").await;
        let proxy = Proxy::start(vec![a, b]).unwrap();
        let mut conn = BufReader::new(TcpStream::connect(proxy.addr()).await.unwrap());
        let mut seen = Vec::new();
        for (i, req) in [
            "GET /one?x=1 HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n",
            "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
            "PUT /three HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            "GET /four HTTP/1.1\r\nHost: h\r\n\r\n",
        ]
        .iter()
        .enumerate()
        {
            let (status, text, close) = exchange(&mut conn, req).await;
            assert_eq!(status, 200, "{text}");
            assert!(!close, "the browser's connection stays open: {text}");
            assert!(text.contains("close=true"), "the instance is asked to close: {text}");
            seen.push(text.chars().next().unwrap());
            if i == 1 {
                assert!(text.ends_with("body=hello"), "{text}");
            }
            if i == 2 {
                // Chunked framing passes as it is.
                assert!(text.ends_with("body=3|abc|0||"), "{text:?}");
            }
        }
        assert_eq!(seen, ['A', 'B', 'A', 'B']);
        let records = proxy.records();
        assert_eq!(records[0].path, "/one");
        assert_eq!(
            records.iter().map(|r| r.backend).collect::<Vec<_>>(),
            [Some(0), Some(1), Some(0), Some(1)]
        );
    }

    #[tokio::test]
    async fn a_dead_instance_is_skipped_and_none_is_a_502() {
        let live = fake_backend("L").await;
        let proxy = Proxy::start(vec![dead_addr(), live]).unwrap();
        let mut conn = BufReader::new(TcpStream::connect(proxy.addr()).await.unwrap());
        for _ in 0..3 {
            let (status, text, _) = exchange(&mut conn, "GET / HTTP/1.1\r\nHost: h\r\n\r\n").await;
            assert_eq!(status, 200);
            assert!(text.starts_with('L'), "{text}");
        }
        assert_eq!(proxy.answered(), [(0, 0), (3, 0)]);

        let proxy = Proxy::start(vec![dead_addr()]).unwrap();
        let mut conn = BufReader::new(TcpStream::connect(proxy.addr()).await.unwrap());
        let (status, text, close) =
            exchange(&mut conn, "GET /api/health HTTP/1.1\r\nHost: h\r\n\r\n").await;
        assert_eq!((status, close), (502, false), "{text}");
        // A body the proxy could not deliver leaves the connection out of step: it closes.
        let (status, _, close) = exchange(
            &mut conn,
            "POST /api/x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi",
        )
        .await;
        assert_eq!((status, close), (502, true));
        assert_eq!(proxy.records()[1].backend, None);
    }
}
