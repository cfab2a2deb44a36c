//! Camera feeds: each feed of `scripts/make-feeds.sh` really reaches `getUserMedia` in headless
//! Chromium and shows its still (a 4:4:4 MJPEG would show flat green, silently), and the harness
//! switches browser sessions between feeds ([`Group::with_feed`]). Only needs the server's origin,
//! not the SPA. Firefox and WebKit have synthetic cameras only: there the tests check that frames
//! arrive.
//!
//! How a frame is compared: the page draws the video frame and every reference still into a
//! 160×120 canvas and takes the mean absolute luma difference (MAD, 0–255) to each; the nearest
//! still must be the feed's own, and close.

use base64::Engine as _;
use liveform_e2e::{tests, BoxError, Ctx, Engine, Group, SuiteOptions, TestResult};
use serde_json::{json, Value};

fn main() {
    liveform_e2e::suite_with(
        "feeds",
        &SuiteOptions {
            without_spa: true,
            ..SuiteOptions::default()
        },
        &[
            Group::new(tests![default_camera_is_the_synthetic_pattern]),
            Group::with_feed("card-sharp.mjpeg", tests![card_sharp_feed_shows_the_card]),
            Group::with_feed("card-back.mjpeg", tests![card_back_feed_shows_the_back]),
            Group::with_feed(
                "card-blur.mjpeg",
                tests![card_blur_feed_shows_the_blurred_card],
            ),
            Group::with_feed("card-glare.mjpeg", tests![card_glare_feed_shows_the_glare]),
            Group::with_feed(
                "card-dark.mjpeg",
                tests![card_dark_feed_shows_the_dark_card],
            ),
            Group::with_feed(
                "card-small.mjpeg",
                tests![card_small_feed_shows_the_far_card],
            ),
            Group::with_feed("no-document.mjpeg", tests![no_document_feed_shows_gravel]),
            Group::with_feed("passport.mjpeg", tests![passport_feed_shows_the_passport]),
            Group::with_feed(
                "card-front-back.mjpeg",
                tests![front_back_feed_turns_the_card_over],
            ),
        ],
    );
}

macro_rules! media {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../../core/tests/media/", $name, ".png")).as_slice(),
        )
    };
}

/// The stills the feeds are made of.
const REFS: &[(&str, &[u8])] = &[
    media!("card_640x480"),
    media!("card_back_640x480"),
    media!("card_640x480_blur"),
    media!("card_640x480_glare"),
    media!("card_640x480_dark"),
    media!("card_desk_small_640x480"),
    media!("gravel_640x480"),
    media!("passport_scene_640x480"),
];

/// A frame matches its still when the MAD is below this. Measured (Chromium 156, feeds from
/// `scripts/make-feeds.sh`): 0.67–0.79 to the feed's own still, at least 1.46 to any other (the
/// glare card against the plain one; 12.6 and more for every other pair). A full-range MJPEG
/// gives 4–12 (Chromium decodes feeds as limited range), a 4:4:4 one flat green. The numbers are
/// in the `feeds_report` lines of `cargo test -p liveform-e2e --test feeds -- --nocapture`.
const MAX_MATCH_MAD: f64 = 1.25;

/// Opens the camera on the server's origin, samples frames for `ms` milliseconds every `every`
/// ms, and compares each with the reference stills.
const SAMPLE_JS: &str = r#"
const [refs, opts] = arguments;
return (async () => {
  const W = 160, H = 120;
  const cv = document.createElement('canvas');
  cv.width = W; cv.height = H;
  const cx = cv.getContext('2d', { willReadFrequently: true });
  const grid = (src) => {
    cx.drawImage(src, 0, 0, W, H);
    const d = cx.getImageData(0, 0, W, H).data;
    const g = new Float32Array(W * H);
    let r = 0, gr = 0, b = 0;
    for (let i = 0; i < W * H; i++) {
      r += d[4 * i]; gr += d[4 * i + 1]; b += d[4 * i + 2];
      g[i] = 0.299 * d[4 * i] + 0.587 * d[4 * i + 1] + 0.114 * d[4 * i + 2];
    }
    return { g, mean: [r / (W * H), gr / (W * H), b / (W * H)] };
  };
  const refGrids = {};
  for (const [name, b64] of Object.entries(refs)) {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    refGrids[name] = grid(img).g;
  }
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 640 }, height: { ideal: 480 } },
  });
  const track = stream.getVideoTracks()[0];
  const video = document.createElement('video');
  video.muted = true; video.playsInline = true; video.srcObject = stream;
  await video.play();
  const t0 = performance.now();
  while (video.videoWidth === 0 || video.readyState < 2) {
    if (performance.now() - t0 > 10000) throw new Error('no video frame within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  const first = performance.now() - t0;
  const sample = () => {
    const f = grid(video);
    let best = null, mad = 255, second = 255;
    for (const [n, g] of Object.entries(refGrids)) {
      let s = 0;
      for (let i = 0; i < g.length; i++) s += Math.abs(g[i] - f.g[i]);
      s /= g.length;
      if (s < mad) { second = mad; mad = s; best = n; } else if (s < second) { second = s; }
    }
    return { t: Math.round(performance.now() - t0), best, mad, second, mean: f.mean };
  };
  const samples = [];
  const until = performance.now() + opts.ms;
  do {
    samples.push(sample());
    await new Promise((r) => setTimeout(r, opts.every));
  } while (performance.now() < until);
  // Read the size before stopping: WebKit resets it to 0×0 when the track ends.
  const [width, height] = [video.videoWidth, video.videoHeight];
  track.stop();
  return { label: track.label, width, height, first_frame_ms: Math.round(first), samples };
})();
"#;

struct Sample {
    t: f64,
    best: String,
    mad: f64,
    second: f64,
    mean: [f64; 3],
}

struct Seen {
    label: String,
    width: u64,
    height: u64,
    first_frame_ms: f64,
    samples: Vec<Sample>,
}

fn field<'a>(v: &'a Value, k: &str) -> Result<&'a Value, BoxError> {
    v.get(k).ok_or_else(|| format!("no {k:?} in {v}").into())
}

fn num(v: &Value, k: &str) -> Result<f64, BoxError> {
    field(v, k)?
        .as_f64()
        .ok_or_else(|| format!("{k:?} is not a number in {v}").into())
}

async fn sample(b: &Ctx, ms: u64, every: u64) -> Result<Seen, BoxError> {
    // A page of the server's origin: without dist/, `/` is a plain-text 503 (a 404 without a
    // body shows chrome-error://, and Firefox's JSON viewer for /api/health cannot decode images).
    b.open("/").await?;
    // Only Chromium's frames are compared (Firefox and WebKit have synthetic cameras).
    let refs: serde_json::Map<String, Value> = REFS
        .iter()
        .filter(|_| b.engine == Engine::Chromium)
        .map(|(n, bytes)| {
            (
                (*n).to_owned(),
                json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
            )
        })
        .collect();
    let v = b
        .js(
            SAMPLE_JS,
            vec![Value::Object(refs), json!({ "ms": ms, "every": every })],
        )
        .await?;
    let mut samples = Vec::new();
    for s in field(&v, "samples")?
        .as_array()
        .ok_or("samples: not an array")?
    {
        let mean = field(s, "mean")?
            .as_array()
            .ok_or("mean: not an array")?
            .iter()
            .map(|x| x.as_f64().unwrap_or(f64::NAN))
            .collect::<Vec<_>>();
        samples.push(Sample {
            t: num(s, "t")?,
            best: field(s, "best")?.as_str().unwrap_or_default().to_owned(),
            mad: num(s, "mad")?,
            second: num(s, "second")?,
            mean: [mean[0], mean[1], mean[2]],
        });
    }
    Ok(Seen {
        label: field(&v, "label")?.as_str().unwrap_or_default().to_owned(),
        // WebKitWebDriver returns whole numbers as floats (640.0).
        width: num(&v, "width")? as u64,
        height: num(&v, "height")? as u64,
        first_frame_ms: num(&v, "first_frame_ms")?,
        samples,
    })
}

fn frames_arrived(seen: &Seen) {
    assert!(
        seen.width > 0 && seen.height > 0 && !seen.samples.is_empty(),
        "no frames: track {:?}, video {}x{}, {} samples",
        seen.label,
        seen.width,
        seen.height,
        seen.samples.len()
    );
}

/// Chromium's synthetic pattern and a 4:4:4 MJPEG both read as flat green.
fn is_flat_green(mean: [f64; 3]) -> bool {
    mean[1] > 100.0 && mean[0] < 40.0 && mean[2] < 40.0
}

/// The feed shows `expected` (a key of [`REFS`]) in every sampled frame.
async fn shows(b: Ctx, expected: &str) -> TestResult {
    let seen = sample(&b, 400, 100).await?;
    let Some(feed) = b.chromium_feed.as_deref() else {
        // Firefox / WebKit: synthetic camera; frames arrive, nothing to compare.
        frames_arrived(&seen);
        return Ok(());
    };
    let file = feed
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    println!(
        "feeds_report {file}: label={:?} {}x{} first frame {:.0} ms; {}",
        seen.label,
        seen.width,
        seen.height,
        seen.first_frame_ms,
        seen.samples
            .iter()
            .map(|s| format!(
                "{} mad {:.2} (next {:.2}) rgb [{:.0},{:.0},{:.0}]",
                s.best, s.mad, s.second, s.mean[0], s.mean[1], s.mean[2]
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    // Chromium names the fake device after the file.
    assert!(
        seen.label.contains(file),
        "track label {:?} does not name the feed {file}",
        seen.label
    );
    assert_eq!((seen.width, seen.height), (640, 480), "frame size");
    for s in &seen.samples {
        assert!(
            !is_flat_green(s.mean),
            "{file}: flat green frame (mean rgb {:?}): is the MJPEG 4:2:0 (yuvj420p)?",
            s.mean
        );
        assert_eq!(s.best, expected, "{file} at {} ms: nearest still", s.t);
        assert!(
            s.mad < MAX_MATCH_MAD,
            "{file} at {} ms: MAD {:.2} to {expected} (limit {MAX_MATCH_MAD})",
            s.t,
            s.mad
        );
    }
    Ok(())
}

async fn default_camera_is_the_synthetic_pattern(b: Ctx) -> TestResult {
    let seen = sample(&b, 200, 100).await?;
    frames_arrived(&seen);
    if b.engine == Engine::Chromium {
        println!(
            "feeds_report default camera: label={:?} {}x{} mean rgb {:?}",
            seen.label, seen.width, seen.height, seen.samples[0].mean
        );
        assert!(
            !seen.label.contains(".mjpeg"),
            "the default session must not use a feed file (label {:?})",
            seen.label
        );
        assert!(
            seen.samples.iter().all(|s| s.mad > 3.0 * MAX_MATCH_MAD),
            "the synthetic pattern looks like a reference still"
        );
    }
    Ok(())
}

async fn card_sharp_feed_shows_the_card(b: Ctx) -> TestResult {
    shows(b, "card_640x480").await
}

async fn card_back_feed_shows_the_back(b: Ctx) -> TestResult {
    shows(b, "card_back_640x480").await
}

async fn card_blur_feed_shows_the_blurred_card(b: Ctx) -> TestResult {
    shows(b, "card_640x480_blur").await
}

async fn card_glare_feed_shows_the_glare(b: Ctx) -> TestResult {
    shows(b, "card_640x480_glare").await
}

async fn card_dark_feed_shows_the_dark_card(b: Ctx) -> TestResult {
    shows(b, "card_640x480_dark").await
}

async fn card_small_feed_shows_the_far_card(b: Ctx) -> TestResult {
    shows(b, "card_desk_small_640x480").await
}

async fn no_document_feed_shows_gravel(b: Ctx) -> TestResult {
    shows(b, "gravel_640x480").await
}

async fn passport_feed_shows_the_passport(b: Ctx) -> TestResult {
    shows(b, "passport_scene_640x480").await
}

/// Front 3 s, gravel 1 s, back 4 s, looped: over 9 s every part shows up, in that cyclic order.
async fn front_back_feed_turns_the_card_over(b: Ctx) -> TestResult {
    let ms = if b.chromium_feed.is_some() { 9000 } else { 300 };
    let seen = sample(&b, ms, 100).await?;
    if b.chromium_feed.is_none() {
        frames_arrived(&seen);
        return Ok(());
    }
    // Runs of the same nearest still: (name, first ms, last ms, worst MAD).
    let mut runs: Vec<(String, f64, f64, f64)> = Vec::new();
    for s in &seen.samples {
        assert!(!is_flat_green(s.mean), "flat green frame at {} ms", s.t);
        match runs.last_mut() {
            Some(r) if r.0 == s.best => {
                r.2 = s.t;
                r.3 = r.3.max(s.mad);
            }
            _ => runs.push((s.best.clone(), s.t, s.t, s.mad)),
        }
    }
    println!(
        "feeds_report card-front-back.mjpeg: label={:?} runs: {}",
        seen.label,
        runs.iter()
            .map(|(n, a, z, m)| format!("{n} {a:.0}-{z:.0} ms (worst mad {m:.2})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    const CYCLE: [&str; 3] = ["card_640x480", "gravel_640x480", "card_back_640x480"];
    for (n, a, _, m) in &runs {
        let pos = CYCLE.iter().position(|c| c == n);
        assert!(pos.is_some(), "unexpected still {n} at {a} ms");
        assert!(*m < MAX_MATCH_MAD, "{n} from {a} ms: MAD {m:.2}");
    }
    for w in runs.windows(2) {
        let i = CYCLE.iter().position(|c| *c == w[0].0).unwrap_or(0);
        assert_eq!(
            w[1].0,
            CYCLE[(i + 1) % 3],
            "after {} comes {} at {} ms",
            w[0].0,
            w[1].0,
            w[1].1
        );
    }
    for c in CYCLE {
        assert!(runs.iter().any(|r| r.0 == c), "{c} never shown in 9 s");
    }
    Ok(())
}
