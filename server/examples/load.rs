//! Load proof (issue 16): N concurrent simulated flows over loopback HTTP against one or more
//! running `liveform serve` instances, with the server's verification of every capture on.
//!
//! Each flow does what the form does for a project without active liveness: opens a session
//! (`POST /api/session` with the link's query), chooses a country and a two-sided ID type
//! (`POST /api/session/choice`), uploads the document front, the document back and the selfie
//! (`PUT /api/capture/{id}?slot=…`, ~400 KB camera-sized JPEGs of real scenes that pass the
//! server's checks, made once at start-up and checked here with the server's own `analyse` before
//! anything is sent) and finishes (`POST /api/session/finish`). Afterwards, with `--results-key`,
//! every submission is read back through the results API (`GET /v3/submission`, `GET /v3/image`)
//! and each of its three images compared byte for byte with what was uploaded.
//!
//! ```text
//! cargo run -p liveform-server --example load -- --base http://127.0.0.1:8080 --flows 200 \
//!     --concurrency 16 --pid load --results-key KEY --pids $(pidof liveform) \
//!     --source-ips 127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4
//! ```
//!
//! `scripts/load.sh` builds and starts a server with a suitable config and runs this. Prints
//! flows/s, per request kind the count and p50/p99/max latency, errors (the first few bodies),
//! the server processes' peak RSS (`VmHWM`) and CPU time, and the read-back check; exits non-zero
//! on any error, any server check that failed, or any incomplete submission.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use liveform_core::flow::CaptureSlot;
use liveform_core::launch::crypto::Algorithm;
use liveform_core::vision::DocumentKind;
use liveform_server::decode::Limits;
use liveform_server::media::Media;
use liveform_server::verify::{analyse, Analysis, Job};

#[path = "../tests/common/support.rs"]
mod support;

const SESSION_HEADER: &str = liveform_core::api::SESSION_HEADER;

#[derive(Parser, Debug)]
#[command(
    name = "load",
    about = "Concurrent simulated flows against running liveform servers"
)]
struct Args {
    /// A server's base URL (repeatable): flows are spread round-robin over them.
    #[arg(long = "base", required = true)]
    bases: Vec<String>,
    /// Send each request of a flow to the next base in turn (a flow touches every instance:
    /// proves the instances share sessions and storage).
    #[arg(long)]
    spread_requests: bool,
    /// Number of flows.
    #[arg(long, default_value_t = 20)]
    flows: usize,
    /// Flows in flight at once (default: all of them).
    #[arg(long)]
    concurrency: Option<usize>,
    /// The project id.
    #[arg(long, default_value = "load")]
    pid: String,
    /// The project key: links carry the user id encrypted (`?pid=…&encrypted=…`). Without it,
    /// plain links (`?pid=…&userid=…`).
    #[arg(long)]
    key: Option<String>,
    /// The project's link algorithm (with --key): ecb or gcm.
    #[arg(long, default_value = "ecb", value_parser = parse_algorithm)]
    algorithm: Algorithm,
    /// The project's results API key: read every submission back and compare its images.
    #[arg(long)]
    results_key: Option<String>,
    /// Server process ids to sample (RSS, peak RSS, CPU time) from /proc, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pids: Vec<u32>,
    /// Loopback source addresses the clients bind to, round-robin per flow, comma-separated
    /// (127.0.0.0/8 is all loopback on Linux): per-address rate limits are not what is measured.
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1")]
    source_ips: Vec<IpAddr>,
    /// The issuing country chosen.
    #[arg(long, default_value = "KOR")]
    country: String,
    /// The ID type chosen (one with a back side).
    #[arg(long, default_value = "government_id")]
    id_type: String,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Print the generated images' sizes and the server's verdict on them, then exit.
    #[arg(long)]
    images_only: bool,
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    s.parse()
}

// ------------------------------------------------------------------------------------------------
// Images
// ------------------------------------------------------------------------------------------------

/// The three uploads of every flow.
struct Images {
    front: Bytes,
    back: Bytes,
    selfie: Bytes,
}

/// Bilinear resample of `src` (w, h, RGB) to `ow`×`oh`: output pixel (x, y) shows source point
/// (`cx` + (x - ow/2)·`scale`, `cy` + (y - oh/2)·`scale`); outside the source, `fill`.
fn resample(
    src: &(u32, u32, Vec<u8>),
    ow: u32,
    oh: u32,
    cx: f32,
    cy: f32,
    scale: f32,
    fill: [u8; 3],
) -> Vec<u8> {
    let (sw, sh, px) = src;
    let (sw, sh) = (*sw as usize, *sh as usize);
    let mut out = Vec::with_capacity((ow * oh * 3) as usize);
    for y in 0..oh {
        for x in 0..ow {
            let sx = cx + (x as f32 + 0.5 - ow as f32 / 2.0) * scale - 0.5;
            let sy = cy + (y as f32 + 0.5 - oh as f32 / 2.0) * scale - 0.5;
            if sx < 0.0 || sy < 0.0 || sx >= (sw - 1) as f32 || sy >= (sh - 1) as f32 {
                out.extend_from_slice(&fill);
                continue;
            }
            let (x0, y0) = (sx as usize, sy as usize);
            let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
            let at = |xx: usize, yy: usize, c: usize| f32::from(px[(yy * sw + xx) * 3 + c]);
            for c in 0..3 {
                let top = at(x0, y0, c) * (1.0 - fx) + at(x0 + 1, y0, c) * fx;
                let bot = at(x0, y0 + 1, c) * (1.0 - fx) + at(x0 + 1, y0 + 1, c) * fx;
                out.push((top * (1.0 - fy) + bot * fy).round() as u8);
            }
        }
    }
    out
}

/// Adds a camera sensor's grain (uniform ±`amp` grey levels, a fixed pseudo-random sequence):
/// what makes a real photo's JPEG as large as the form's captures are.
fn grain(rgb: &mut [u8], amp: i32) {
    let mut s: u32 = 0x9E37_79B9;
    for v in rgb.iter_mut() {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        let n = (s % (2 * amp as u32 + 1)) as i32 - amp;
        *v = (i32::from(*v) + n).clamp(0, 255) as u8;
    }
}

/// The document front (the 1920×1080 card scene, quality 88: ~410 KB), the back (the card's back
/// in the same scene, 640×480 scaled to 1600×1200, quality 90: ~440 KB) and a 1280×960 selfie
/// (the repo's portrait, the face ~40 % of the height, quality 93: ~400 KB), each with a little
/// sensor grain.
fn make_images() -> Images {
    let card = support::read_png_rgb("../core/tests/media/card_1920x1080.png");
    let mut front = card.2.clone();
    grain(&mut front, 2);
    let front = support::encode_jpeg(&front, card.0, card.1, 88);

    let back_src = support::read_png_rgb("../core/tests/media/card_back_640x480.png");
    let (bw, bh) = (1600, 1200);
    let mut back = resample(
        &back_src,
        bw,
        bh,
        320.0,
        240.0,
        640.0 / bw as f32,
        [0, 0, 0],
    );
    grain(&mut back, 2);
    let back = support::encode_jpeg(&back, bw, bh, 90);

    // BlazeFace finds the portrait's face at x 223-343, y 49-169 (120 px high).
    let portrait = support::read_png_rgb("../face/tests/media/selfie_640x480.png");
    let (sw, sh) = (1280, 960);
    let face = 0.40;
    let scale = 120.0 / (face * sh as f32);
    let cy = 109.0 - (0.45 - 0.5) * sh as f32 * scale;
    let mut selfie = resample(&portrait, sw, sh, 283.0, cy, scale, [0xC8, 0xC3, 0xBE]);
    grain(&mut selfie, 6);
    let selfie = support::encode_jpeg(&selfie, sw, sh, 93);

    Images {
        front: front.into(),
        back: back.into(),
        selfie: selfie.into(),
    }
}

/// The server's own verdict on each image (`verify::analyse`, as its workers run it): every one
/// must pass, or the load would not exercise the path of genuine captures.
fn check_images(img: &Images) -> Result<(), String> {
    let limits = Limits::DEFAULT;
    let job = |slot, document| Job {
        slot,
        media: Media::Jpeg,
        document,
        device_issues: None,
        // The images' quality only (the server reads a zone where the session's document has
        // one; this check does not need it).
        mrz: None,
    };
    let mut bad = Vec::new();
    for (name, slot, doc, data) in [
        (
            "document_front",
            CaptureSlot::DocumentFront,
            Some(DocumentKind::Id1),
            &img.front,
        ),
        (
            "document_back",
            CaptureSlot::DocumentBack,
            Some(DocumentKind::Id1),
            &img.back,
        ),
        ("selfie", CaptureSlot::Selfie, None, &img.selfie),
    ] {
        let t = Instant::now();
        let a = analyse(&job(slot, doc), data, &limits);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let (ok, what) = match &a {
            Ok(Analysis::Document(d)) => (
                d.ok,
                format!(
                    "{}x{} found={} issues={:?} sharpness={} coverage={}",
                    d.width, d.height, d.found, d.issues, d.metrics.sharpness, d.metrics.coverage
                ),
            ),
            Ok(Analysis::Selfie(s)) => (
                s.check.ok,
                format!(
                    "{}x{} faces={} issues={:?} sharpness={} brightness={}",
                    s.width, s.height, s.check.faces, s.check.issues, s.sharpness, s.brightness
                ),
            ),
            other => (false, format!("{other:?}")),
        };
        println!(
            "image {name:<15} {:>7} bytes ({:.0} KB), server check {} in {ms:.0} ms: {what}",
            data.len(),
            data.len() as f64 / 1000.0,
            if ok { "ok" } else { "FAILED" },
        );
        if !ok {
            bad.push(name);
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("the server's check fails {bad:?}"))
    }
}

// ------------------------------------------------------------------------------------------------
// Flows
// ------------------------------------------------------------------------------------------------

/// The request kinds timed, in flow order.
const KINDS: [&str; 6] = [
    "session",
    "choice",
    "document_front",
    "document_back",
    "selfie",
    "finish",
];

#[derive(Default)]
struct Record {
    /// Latencies (ms) per kind.
    lat: BTreeMap<&'static str, Vec<f64>>,
    /// (flow, kind, what happened).
    errors: Vec<(usize, &'static str, String)>,
    /// Uploads the server stored but flagged (`check.ok` false).
    flagged: Vec<(usize, &'static str, String)>,
    /// (flow, submission id) of finished flows.
    finished: Vec<(usize, String)>,
}

struct Ctx {
    args: Args,
    /// One client per source address.
    clients: Vec<reqwest::Client>,
    images: Images,
    run: String,
    rec: Mutex<Record>,
}

impl Ctx {
    /// The base for request `k` of flow `i`.
    fn base(&self, i: usize, k: usize) -> &str {
        let n = self.args.bases.len();
        let j = if self.args.spread_requests { i + k } else { i };
        self.args.bases[j % n].trim_end_matches('/')
    }

    fn client(&self, i: usize) -> &reqwest::Client {
        &self.clients[i % self.clients.len()]
    }

    fn link_query(&self, i: usize) -> Result<String, String> {
        let userid = format!("{}-{i}", self.run);
        match &self.args.key {
            None => Ok(form_urlencoded::Serializer::new(String::new())
                .append_pair("pid", &self.args.pid)
                .append_pair("userid", &userid)
                .finish()),
            Some(key) => {
                let json = serde_json::json!({ "userid": userid }).to_string();
                let ct = liveform_server::link::encrypt(self.args.algorithm, key, &json)
                    .map_err(|e| e.to_string())?;
                let link = liveform_server::link::build_link("http://x", &self.args.pid, &ct);
                Ok(link
                    .split_once('?')
                    .map(|(_, q)| q.to_owned())
                    .unwrap_or(link))
            }
        }
    }
}

/// One timed request: (status, body) or a transport error; its latency recorded under `kind`.
async fn timed(
    ctx: &Ctx,
    kind: &'static str,
    req: reqwest::RequestBuilder,
) -> Result<(u16, Bytes), String> {
    let t = Instant::now();
    let res = async {
        let r = req.send().await?;
        let status = r.status().as_u16();
        let body = r.bytes().await?;
        Ok::<_, reqwest::Error>((status, body))
    }
    .await;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    ctx.rec
        .lock()
        .unwrap()
        .lat
        .entry(kind)
        .or_default()
        .push(ms);
    res.map_err(|e| transport(&e))
}

/// A transport error with its causes (reqwest's own message names only the URL).
fn transport(e: &reqwest::Error) -> String {
    let mut out = format!("transport: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        out.push_str(&format!(": {s}"));
        src = s.source();
    }
    out
}

/// `expect` (the 2xx wanted) or an error naming the status and the body.
fn want(r: Result<(u16, Bytes), String>, expect: u16) -> Result<Bytes, String> {
    let (status, body) = r?;
    if status == expect {
        Ok(body)
    } else {
        let text = String::from_utf8_lossy(&body);
        let text: String = text.chars().take(400).collect();
        Err(format!("HTTP {status} (want {expect}): {text}"))
    }
}

fn json(body: &[u8]) -> Result<serde_json::Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("not JSON ({e})"))
}

/// One flow; the first failure ends it (recorded).
async fn flow(ctx: &Ctx, i: usize) {
    if let Err((kind, e)) = flow_steps(ctx, i).await {
        ctx.rec.lock().unwrap().errors.push((i, kind, e));
    }
}

async fn flow_steps(ctx: &Ctx, i: usize) -> Result<(), (&'static str, String)> {
    let c = ctx.client(i);
    let mut k = 0;
    let mut next_base = || {
        let b = ctx.base(i, k).to_owned();
        k += 1;
        b
    };

    let kind = "session";
    let query = ctx.link_query(i).map_err(|e| (kind, e))?;
    let body = serde_json::json!({ "query": query }).to_string();
    let r = timed(
        ctx,
        kind,
        c.post(format!("{}/api/session", next_base()))
            .header("content-type", "application/json")
            .body(body),
    )
    .await;
    let view = want(r, 201).and_then(|b| json(&b)).map_err(|e| (kind, e))?;
    let token = view["token"]
        .as_str()
        .ok_or((kind, "no token in the session".to_owned()))?
        .to_owned();

    let kind = "choice";
    let body = serde_json::json!({ "country": ctx.args.country, "id_type": ctx.args.id_type });
    let r = timed(
        ctx,
        kind,
        c.post(format!("{}/api/session/choice", next_base()))
            .header(SESSION_HEADER, &token)
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
    .await;
    want(r, 204).map_err(|e| (kind, e))?;

    for (kind, data) in [
        ("document_front", &ctx.images.front),
        ("document_back", &ctx.images.back),
        ("selfie", &ctx.images.selfie),
    ] {
        let device = if kind == "selfie" { "" } else { "&device=ok" };
        let url = format!(
            "{}/api/capture/{}-{i}-{kind}?slot={kind}{device}",
            next_base(),
            ctx.run
        );
        let r = timed(
            ctx,
            kind,
            c.put(url)
                .header(SESSION_HEADER, &token)
                .header("content-type", "image/jpeg")
                .body(data.clone()),
        )
        .await;
        let rec = want(r, 201).and_then(|b| json(&b)).map_err(|e| (kind, e))?;
        if rec["bytes"].as_u64() != Some(data.len() as u64) {
            return Err((
                kind,
                format!("stored {} bytes of {}", rec["bytes"], data.len()),
            ));
        }
        if rec["check"]["ok"] != serde_json::Value::Bool(true) {
            ctx.rec
                .lock()
                .unwrap()
                .flagged
                .push((i, kind, rec["check"].to_string()));
        }
    }

    let kind = "finish";
    let r = timed(
        ctx,
        kind,
        c.post(format!("{}/api/session/finish", next_base()))
            .header(SESSION_HEADER, &token)
            .header("content-type", "application/json"),
    )
    .await;
    let done = want(r, 200).and_then(|b| json(&b)).map_err(|e| (kind, e))?;
    let id = done["submission_id"]
        .as_str()
        .ok_or((kind, format!("no submission_id: {done}")))?
        .to_owned();
    ctx.rec.lock().unwrap().finished.push((i, id));
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Read-back through the results API
// ------------------------------------------------------------------------------------------------

/// Reads submission `id` (flow `i`) back, from another instance than the one its flow opened on
/// when there are several: finished, its three images there and byte-identical, the server's
/// checks passed. `Err` says what is wrong.
async fn read_back(ctx: &Ctx, key: &str, i: usize, id: &str) -> Result<(), String> {
    let c = ctx.client(i);
    let base = ctx.base(i + 1, 0);
    let t = Instant::now();
    let r = c
        .get(format!("{base}/v3/submission"))
        .query(&[("submission_id", id)])
        .header("x-api-key", key)
        .send()
        .await
        .map_err(|e| transport(&e))?;
    let status = r.status().as_u16();
    let body = r.bytes().await.map_err(|e| transport(&e))?;
    ctx.rec
        .lock()
        .unwrap()
        .lat
        .entry("v3_submission")
        .or_default()
        .push(t.elapsed().as_secs_f64() * 1000.0);
    let v = want(Ok((status, body)), 200).and_then(|b| json(&b))?;
    let item = &v["Items"][0];
    if v["count"] != 1 || item["submission_id"] != id {
        return Err(format!("not found: {v}"));
    }
    if item["data"]["userid"] != format!("{}-{i}", ctx.run).as_str() {
        return Err(format!("another person's data: {}", item["data"]));
    }
    let result = item["kyc"]["result"].as_str().unwrap_or("");
    if result == "incomplete" || result.is_empty() {
        return Err(format!("status {result:?}: not finished"));
    }
    if item["verification"]["passed"] != serde_json::Value::Bool(true) {
        return Err(format!(
            "the server's checks did not pass: {}",
            item["verification"]["reasons"]
        ));
    }
    for (ty, want_bytes) in [
        ("idImage", &ctx.images.front),
        ("idBackImage", &ctx.images.back),
        ("selfieImage", &ctx.images.selfie),
    ] {
        if item["image"][ty].is_null() {
            return Err(format!("no {ty}"));
        }
        let t = Instant::now();
        let r = c
            .get(format!("{base}/v3/image"))
            .query(&[("submission_id", id), ("type", ty)])
            .header("x-api-key", key)
            .send()
            .await
            .map_err(|e| transport(&e))?;
        let status = r.status().as_u16();
        let body = r.bytes().await.map_err(|e| transport(&e))?;
        ctx.rec
            .lock()
            .unwrap()
            .lat
            .entry("v3_image")
            .or_default()
            .push(t.elapsed().as_secs_f64() * 1000.0);
        let got = want(Ok((status, body)), 200).map_err(|e| format!("{ty}: {e}"))?;
        if got != *want_bytes {
            return Err(format!(
                "{ty}: {} bytes differ from the {} uploaded",
                got.len(),
                want_bytes.len()
            ));
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Server processes
// ------------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Default)]
struct ProcSample {
    rss_kib: u64,
    hwm_kib: u64,
    threads: u64,
    /// utime + stime, clock ticks.
    cpu_ticks: u64,
}

fn sample(pid: u32) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command's closing parenthesis: state is field 3; utime 14, stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |n: usize| {
        f.get(n - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Some(ProcSample {
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
        threads: field("Threads:"),
        cpu_ticks: ticks(14) + ticks(15),
    })
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    #[allow(unsafe_code)]
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

struct ProcWatch {
    start: ProcSample,
    max_rss_kib: u64,
    max_threads: u64,
    last: ProcSample,
}

// ------------------------------------------------------------------------------------------------

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match rt.block_on(run(args)) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let t = Instant::now();
    let images = make_images();
    println!("load: images made in {:.1} s", t.elapsed().as_secs_f64());
    check_images(&images)?;
    if args.images_only {
        return Ok(true);
    }
    if args.flows == 0 {
        return Err("--flows must be at least 1".into());
    }
    let concurrency = args.concurrency.unwrap_or(args.flows).clamp(1, args.flows);
    let clients = args
        .source_ips
        .iter()
        .map(|ip| {
            reqwest::Client::builder()
                .local_address(*ip)
                .timeout(Duration::from_secs(args.timeout))
                // reqwest sets TCP_USER_TIMEOUT = 30 s by default, which aborts an upload whose
                // body the server has not read for 30 s (zero window) with ETIMEDOUT. Browsers set
                // no such limit: a slow server shows as latency (and --timeout), as for the form.
                .tcp_user_timeout(None)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| format!("client on {ip}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let run = format!(
        "load-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    let ctx = Arc::new(Ctx {
        args,
        clients,
        images,
        run,
        rec: Mutex::default(),
    });
    let a = &ctx.args;
    println!(
        "load: {} flows, {} at once, over {} base(s) {:?}{}, from {} source address(es), project {} ({} links), {} {}",
        a.flows,
        concurrency,
        a.bases.len(),
        a.bases,
        if a.spread_requests { " (every request to the next base)" } else { "" },
        a.source_ips.len(),
        a.pid,
        if a.key.is_some() { "encrypted" } else { "plain" },
        a.country,
        a.id_type,
    );

    // Sample the servers every 100 ms while the flows run.
    let pids = ctx.args.pids.clone();
    let watches: Arc<Mutex<Vec<(u32, ProcWatch)>>> = Arc::new(Mutex::new(
        pids.iter()
            .filter_map(|&p| {
                sample(p).map(|s| {
                    (
                        p,
                        ProcWatch {
                            start: s,
                            max_rss_kib: s.rss_kib,
                            max_threads: s.threads,
                            last: s,
                        },
                    )
                })
            })
            .collect(),
    ));
    if watches.lock().unwrap().len() != pids.len() {
        return Err(format!("cannot read /proc for every pid of {pids:?}"));
    }
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (watches, sampling) = (watches.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                for (pid, w) in watches.lock().unwrap().iter_mut() {
                    if let Some(s) = sample(*pid) {
                        w.max_rss_kib = w.max_rss_kib.max(s.rss_kib);
                        w.max_threads = w.max_threads.max(s.threads);
                        w.last = s;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let next = Arc::new(AtomicUsize::new(0));
    let wall = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (ctx, next) = (ctx.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= ctx.args.flows {
                        break;
                    }
                    flow(&ctx, i).await;
                }
            })
        })
        .collect();
    for w in workers {
        w.await.map_err(|e| format!("worker: {e}"))?;
    }
    let wall_s = wall.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    for (pid, w) in watches.lock().unwrap().iter_mut() {
        if let Some(s) = sample(*pid) {
            w.max_rss_kib = w.max_rss_kib.max(s.rss_kib);
            w.last = s;
        }
    }

    // Read every submission back.
    let finished = ctx.rec.lock().unwrap().finished.clone();
    let mut incomplete: Vec<(usize, String)> = Vec::new();
    let mut read_back_s = 0.0;
    if let Some(key) = ctx.args.results_key.clone() {
        let t = Instant::now();
        let queue = Arc::new(Mutex::new(finished.clone()));
        let bad = Arc::new(Mutex::new(Vec::new()));
        let readers: Vec<_> = (0..concurrency.min(8))
            .map(|_| {
                let (ctx, queue, bad, key) = (ctx.clone(), queue.clone(), bad.clone(), key.clone());
                tokio::spawn(async move {
                    loop {
                        let Some((i, id)) = queue.lock().unwrap().pop() else {
                            break;
                        };
                        if let Err(e) = read_back(&ctx, &key, i, &id).await {
                            bad.lock().unwrap().push((i, format!("{id}: {e}")));
                        }
                    }
                })
            })
            .collect();
        for r in readers {
            r.await.map_err(|e| format!("reader: {e}"))?;
        }
        read_back_s = t.elapsed().as_secs_f64();
        incomplete = std::mem::take(&mut *bad.lock().unwrap());
    }

    // Report.
    let rec = ctx.rec.lock().unwrap();
    let n = ctx.args.flows;
    println!();
    println!(
        "flows {n}, finished {}, wall {wall_s:.2} s, {:.2} flows/s (concurrency {concurrency})",
        finished.len(),
        finished.len() as f64 / wall_s
    );
    println!(
        "{:<16} {:>6} {:>9} {:>9} {:>9} {:>9}",
        "request", "count", "p50 ms", "p99 ms", "max ms", "mean ms"
    );
    let extra = ["v3_submission", "v3_image"];
    for kind in KINDS.iter().chain(extra.iter()) {
        let Some(v) = rec.lat.get(kind) else { continue };
        let mut v = v.clone();
        v.sort_by(f64::total_cmp);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        println!(
            "{:<16} {:>6} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            kind,
            v.len(),
            percentile(&v, 50.0),
            percentile(&v, 99.0),
            v.last().copied().unwrap_or(0.0),
            mean
        );
    }
    let uploaded = (ctx.images.front.len() + ctx.images.back.len() + ctx.images.selfie.len())
        as f64
        * finished.len() as f64;
    println!(
        "uploaded {:.1} MB of captures ({:.1} MB/s)",
        uploaded / 1e6,
        uploaded / 1e6 / wall_s
    );
    println!("errors {}", rec.errors.len());
    for (i, kind, e) in rec.errors.iter().take(5) {
        println!("  flow {i} {kind}: {e}");
    }
    if !rec.flagged.is_empty() {
        println!(
            "uploads the server flagged (stored, check not ok): {}",
            rec.flagged.len()
        );
        for (i, kind, e) in rec.flagged.iter().take(5) {
            println!("  flow {i} {kind}: {e}");
        }
    }
    let tck = clock_ticks();
    for (pid, w) in watches.lock().unwrap().iter() {
        let cpu = (w.last.cpu_ticks - w.start.cpu_ticks) as f64 / tck;
        println!(
            "server pid {pid}: peak RSS (VmHWM) {:.1} MiB, RSS {:.1} MiB before / max sampled {:.1} MiB / {:.1} MiB after, \
             threads max {}, CPU {cpu:.1} s ({:.0} ms per flow, {:.0} % of one core over the run)",
            w.last.hwm_kib as f64 / 1024.0,
            w.start.rss_kib as f64 / 1024.0,
            w.max_rss_kib as f64 / 1024.0,
            w.last.rss_kib as f64 / 1024.0,
            w.max_threads,
            cpu * 1000.0 / finished.len().max(1) as f64,
            cpu * 100.0 / wall_s,
        );
    }
    let complete = if ctx.args.results_key.is_some() {
        let ok = finished.len() - incomplete.len();
        println!(
            "read-back: {ok}/{n} submissions complete with 3 captures each (byte-identical, server checks passed; {read_back_s:.1} s)"
        );
        for (i, e) in incomplete.iter().take(5) {
            println!("  flow {i}: {e}");
        }
        ok == n
    } else {
        println!("read-back: skipped (no --results-key)");
        finished.len() == n
    };
    let pass = rec.errors.is_empty() && rec.flagged.is_empty() && complete;
    println!("load: {}", if pass { "PASS" } else { "FAIL" });
    Ok(pass)
}
